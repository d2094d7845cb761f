"""From a counsellor's message to a Case: age, status, needs, flags, place; tolerant of typos and abbreviations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from assistant.context import mask_other_senses, reading_at, says_business_project
from assistant.lexicon import (
    ABBREVIATIONS,
    ADD_MARKERS,
    CRAFT_ACTIVITIES,
    CRAFT_EXPANSION,
    CRAFT_TRADES,
    DIPLOMA_WORDS,
    FARMING_WORDS,
    FLAG_WORDS,
    LEFT_SCHOOL_BECOMES,
    NEED_WORDS,
    NETWORK_MENTIONS,
    OFF_TOPIC_DOMAINS,
    REPLACE_MARKERS,
    STATUS_WORDS,
)
from knowledge.lexical import fold
from knowledge.territory import Commune, Territory

_AGE = re.compile(r"(?<![\d+])(\d{1,2})\s?(?:ans|an|a|yo)\b")
# "depuis 2 ans", "il y a 3 ans", "10 ans d'expérience" are durations, not ages.
_DURATION_BEFORE = re.compile(r"(depuis|pendant|il y a|y a|plus de|moins de|durant|environ|apres|sur)\s*$")
_DURATION_AFTER = re.compile(r"^\s*(d experience|de metier|d anciennete|de carriere|de vie active|de maison|dans)")
# "elle est secrétaire depuis 15 ans": a trade held for years, said without the word "salariée".
_EMPLOYED_FOR = re.compile(r" (est|travaille comme|bosse comme|en tant que|fait) [a-z]+ depuis \d+ (ans|an|mois) ")
_TOKEN = re.compile(r"[a-z0-9+]+")


@dataclass(frozen=True)
class Case:
    """What is known of the person being helped, after one or several turns."""

    age: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    status: str | None = None
    # A status the person has left ("ancien cadre", "a quitté le lycée"): it says where they come from.
    former_status: str | None = None
    needs: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    # The trade's sector when it decides who accompanies a business project: "artisanat" or "agriculture".
    sector: str | None = None
    commune: Commune | None = None
    department: str | None = None
    place_candidates: tuple[Commune, ...] = ()
    # The topic no SPRO network handles that the message is about (lexicon OFF_TOPIC_DOMAINS), if any.
    off_topic: str | None = None
    networks_named: tuple[str, ...] = ()

    @property
    def out_of_scope(self) -> bool:
        return self.off_topic is not None

    @property
    def youth(self) -> bool:
        """Young person by age or by the words used ("jeune", "mineur"...)."""
        return (self.age is not None and self.age <= 25) or (self.age_max is not None and self.age_max <= 25)


@dataclass(frozen=True)
class Understanding:
    """One message, understood: the slots it sets, and the text left once the place is removed."""

    case: Case
    topic: str
    expansions: tuple[str, ...]
    replaces_needs: bool
    adds_needs: bool


class Reader:
    """Parses messages; built once (it indexes the trigger vocabulary for typo tolerance)."""

    def __init__(self, territory: Territory) -> None:
        self._territory = territory
        self._single_words: dict[str, tuple[str, str]] = {}
        for kind, table in (("status", STATUS_WORDS), ("need", NEED_WORDS), ("flag", FLAG_WORDS)):
            for code, words in table.items():
                for word in words:
                    if " " not in word and len(word) >= 7:
                        self._single_words.setdefault(word, (kind, code))
        self._fuzzy_vocab = list(self._single_words)

    def read(self, message: str) -> Understanding:
        folded = fold(message)
        resolution = self._territory.find(message)
        topic_folded = folded
        if resolution.matched:
            topic_folded = topic_folded.replace(fold(resolution.matched), " ")
        words = " " + " ".join(_TOKEN.findall(topic_folded.replace("'", " ").replace("’", " "))) + " "
        # Senses are masked before the typo correction (which could turn "médecine" into "médecin") and after it.
        corrected = mask_other_senses(self._corrected(mask_other_senses(words)))

        age, age_min, age_max = _age(words)
        status, former_status = _statuses(corrected)
        if status is None and former_status in LEFT_SCHOOL_BECOMES and not any(
            f" {w} " in corrected for w in DIPLOMA_WORDS
        ):
            status = LEFT_SCHOOL_BECOMES[former_status]
        # The words of a status say the status only: "demandeur d'emploi" is not also a need for a job.
        needs = _all_matches(corrected, NEED_WORDS, outside=_spans(corrected, STATUS_WORDS))
        if "creation_entreprise" not in needs and says_business_project(corrected):
            needs = (*needs, "creation_entreprise")
        flags = _all_matches(corrected, FLAG_WORDS, skip_negated=True)
        if status is None and _EMPLOYED_FOR.search(corrected):
            status = "salarie"
        if _job_seeker_abbreviation(message):
            status = status if status not in (None, "demandeur_emploi") else "demandeur_emploi"
        if re.search(r" (th|rqth) ", corrected) and "handicap" not in flags:
            flags = (*flags, "handicap")
        if age is not None and age >= 50 and "senior" not in flags:
            flags = (*flags, "senior")
        if status is None and age is not None and age <= 15:
            status = "collegien"
        if status is None and "neet" in flags:
            status = "decrocheur"

        commune = resolution.commune
        department = resolution.department
        candidates = resolution.communes if resolution.ambiguous else ()
        expansions = tuple(
            ABBREVIATIONS[t] for t in dict.fromkeys(corrected.split()) if t in ABBREVIATIONS and t not in ("de",)
        )
        if _job_seeker_abbreviation(message):
            expansions = (*expansions, ABBREVIATIONS["de"])
        craft = any(f" {trade} " in corrected for trade in (*CRAFT_TRADES, *CRAFT_ACTIVITIES))
        if craft:
            expansions = (*expansions, CRAFT_EXPANSION)
        sector = "artisanat" if craft else (
            "agriculture" if status == "agriculteur" or any(f" {w} " in corrected for w in FARMING_WORDS) else None
        )
        named = tuple(w for w in NETWORK_MENTIONS if f" {w} " in corrected)
        off_topic = next(
            (domain for domain, topic_words in OFF_TOPIC_DOMAINS.items()
             if any(f" {w} " in corrected for w in topic_words)),
            None,
        )
        # A status alone does not bring an off-topic question into scope ("ma fille a de la fièvre").
        if needs or flags or named:
            off_topic = None
        topic = re.sub(r"\s+", " ", _strip_place_words(message, resolution.matched)).strip()
        case = Case(
            age=age,
            age_min=age_min,
            age_max=age_max,
            status=status,
            former_status=former_status if former_status != status else None,
            needs=needs,
            flags=tuple(dict.fromkeys(flags)),
            sector=sector,
            commune=commune,
            department=department,
            place_candidates=candidates,
            off_topic=off_topic,
            networks_named=named,
        )
        return Understanding(
            case=case,
            topic=topic,
            expansions=expansions,
            replaces_needs=any(f" {m} " in words for m in REPLACE_MARKERS),
            adds_needs=any(f" {m} " in words for m in ADD_MARKERS),
        )

    def _corrected(self, words: str) -> str:
        """Replace long misspelt words by the trigger word they are closest to ("reconvertion")."""
        out = []
        for token in words.split():
            if len(token) >= 7 and token not in self._single_words and not token.isdigit():
                best = process.extractOne(token, self._fuzzy_vocab, scorer=fuzz.ratio, score_cutoff=88)
                if best is not None:
                    out.append(best[0])
                    continue
            out.append(token)
        return " " + " ".join(out) + " "


def _age(words: str) -> tuple[int | None, int | None, int | None]:
    """Exact age when stated, else the bounds implied by "mineur", "jeune majeure", "jeune"."""
    for match in _AGE.finditer(words):
        value = int(match.group(1))
        if _DURATION_BEFORE.search(words[: match.start()]) or _DURATION_AFTER.search(words[match.end() :]):
            continue
        if 12 <= value <= 75:
            return value, value, value
    if any(w in words for w in (" mineur ", " mineure ", " mineurs ", " mna ")):
        return None, 15, 17
    if any(w in words for w in (" jeune majeur ", " jeune majeure ", " vient d avoir 18 ", " jeunes majeurs ")):
        return None, 18, 21
    if any(w in words for w in (" majeur ", " majeure ")):
        return None, 18, None
    if any(w in words for w in (" jeune ", " jeunes ", " ado ", " adolescent ", " adolescente ", " jeun ")):
        return None, 15, 25
    return None, None, None


def _occurrences(words: str, table: dict[str, tuple[str, ...]]) -> list[tuple[int, int, str, str]]:
    """Every (position, -length, code, trigger) of the table's triggers in `words`, in reading order."""
    found = []
    for code, triggers in table.items():
        for trigger in triggers:
            start = words.find(f" {trigger} ")
            while start >= 0:
                found.append((start, -len(trigger), code, trigger))
                start = words.find(f" {trigger} ", start + 1)
    return sorted(found)


def _statuses(words: str) -> tuple[str | None, str | None]:
    """The current status (the first said of the present: the counsellor states it up front) and the first
    former one ("ancien cadre", "a quitté le lycée"); a denied status ("non cadre") is neither."""
    current: str | None = None
    former: str | None = None
    for position, _, code, trigger in _occurrences(words, STATUS_WORDS):
        reading = reading_at(words, position, trigger)
        if reading == "current" and current is None:
            current = code
        elif reading == "former" and former is None:
            former = code
    return current, former


def _spans(words: str, table: dict[str, tuple[str, ...]]) -> tuple[tuple[int, int], ...]:
    """Where the table's triggers stand in `words` (start and end offsets)."""
    return tuple((position, position + len(trigger) + 1) for position, _, _, trigger in _occurrences(words, table))


def _all_matches(
    words: str,
    table: dict[str, tuple[str, ...]],
    *,
    skip_negated: bool = False,
    outside: tuple[tuple[int, int], ...] = (),
) -> tuple[str, ...]:
    """Codes in order of first mention; with `skip_negated`, a mention under a negation does not count, and
    a mention within one of the `outside` spans (another trigger's words) does not count either."""
    first: dict[str, int] = {}
    denied: list[tuple[int, int]] = []  # "pas en situation de handicap": its inner "handicap" is denied too
    for position, _, code, trigger in _occurrences(words, table):
        end = position + len(trigger) + 1
        if any(start <= position and end <= stop for start, stop in (*outside, *denied)):
            continue
        if skip_negated and reading_at(words, position, trigger) == "negated":
            denied.append((position, end))
            continue
        first.setdefault(code, position)
    return tuple(sorted(first, key=lambda code: first[code]))


def _job_seeker_abbreviation(message: str) -> bool:
    """"DE" / "DELD" typed in capitals is the job-seeker abbreviation; lower-case "de" is the preposition."""
    return bool(re.search(r"(?<![\w'’])(DE|DELD|DENA)(?![\w'’])", message))


def _strip_place_words(message: str, matched: str | None) -> str:
    """The message without the place: place names would pull in unrelated passages that mention them."""
    if not matched:
        return message
    cue = r"(\b(a|à|au|aux|sur|vers|secteur( de)?|pres de|près de|dans le|dans la|en)\s+)?"
    pattern = re.compile(cue + re.escape(matched), re.IGNORECASE)
    return pattern.sub(" ", message)
