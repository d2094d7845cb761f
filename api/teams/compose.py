"""A referral as Teams shows it, in one message: the answer with numbered citations, the AI label, the feedback
buttons, one Adaptive Card per structure, then the case card (what was understood, the question that matters
most as an Input.ChoiceSet, "Corriger la situation"). The ChoiceSet replaces quick replies, which Teams shows
only in personal chats, only three of them, and drops from a message with cards.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.models.attachment import AttachmentLayout
from microsoft_teams.api.models.entity import CitationAppearance

from api.curation.store import Referent
from api.teams import messages
from api.teams.cards import as_of_text, network_label, structure_card
from api.teams.forms import case_card, understood_facts
from assistant.referral import Excerpt, Referral, SourceRef, StructureResult
from knowledge.model import Network

MAX_CARDS = 6
# Teams refuses a message with more than 20 citations; its name and abstract have length limits too.
MAX_CITATIONS = 20
NAME_MAX = 80
ABSTRACT_MAX = 160
# Teams refuses a bot message over about 100 KB (the whole activity, counted in UTF-16) and advises staying
# within 80 KB: past it, the last structure cards give way to the "… et N autre(s) structure(s)" line.
MESSAGE_BUDGET = 80_000


# "Mots-clés : a, b, c": the search words of a sheet, never a reason to quote it.
_KEYWORD_LIST = re.compile(r"^\W*mots?[- ]cl[ée]s?\s*:", re.IGNORECASE)


def compose(
    referral: Referral, networks: Mapping[str, Network], turn: int,
    referents: Mapping[str, Sequence[Referent]] | None = None,
) -> MessageActivityInput:
    """`turn` is the conversation turn this answers: the cards' reports name it; `referents` per structure id."""
    cards = min(MAX_CARDS, len(referral.structures))
    answer = _message(referral, networks, turn, cards, referents or {})
    while cards > 0 and message_size(answer) > MESSAGE_BUDGET:
        cards -= 1
        answer = _message(referral, networks, turn, cards, referents or {})
    return answer


def message_size(activity: MessageActivityInput) -> int:
    """The activity's size as Teams counts it against its limit: its JSON, in UTF-16."""
    payload = activity.model_dump(mode="json", by_alias=True, exclude_none=True)
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-16-le"))


def _message(
    referral: Referral, networks: Mapping[str, Network], turn: int, cards: int,
    referents: Mapping[str, Sequence[Referent]],
) -> MessageActivityInput:
    sources = referral.sources[:MAX_CITATIONS]
    positions = {source.id: n for n, source in enumerate(sources, start=1)}
    shown = referral.structures[:cards]

    paragraphs = [referral.reply]
    cited: set[int] = set()
    if shown:
        lines = []
        for result in shown:
            numbers = _positions(result, positions)
            cited.update(numbers)
            lines.append(_bullet(result, networks.get(result.network), numbers))
        paragraphs.append("\n".join(lines))
        if len(referral.structures) > len(shown):
            paragraphs.append(messages.MORE_STRUCTURES.format(count=len(referral.structures) - len(shown)))
    uncited = [n for n in positions.values() if n not in cited]
    if uncited:
        paragraphs.append(messages.OTHER_SOURCES.format(markers=" ".join(f"[{n}]" for n in uncited)))

    answer = MessageActivityInput(text="\n\n".join(paragraphs), text_format="markdown")
    for result in shown:
        answer.add_card(structure_card(result, networks.get(result.network), turn, referents.get(result.id, ())))
    if referral.clarification is not None or shown or understood_facts(referral.understood):
        answer.add_card(case_card(referral.understood, referral.clarification))
    if answer.attachments:
        answer.with_attachment_layout(AttachmentLayout.LIST)
    abstracts = _abstracts(referral.structures)
    for source in sources:
        answer.add_citation(positions[source.id], _appearance(source, abstracts.get(source.id)))
    answer.add_ai_generated()
    answer.add_feedback()
    return answer


def _positions(result: StructureResult, positions: Mapping[str, int]) -> list[int]:
    numbers: list[int] = []
    for excerpt in result.excerpts:
        number = positions.get(excerpt.source_id)
        if number is not None and number not in numbers:
            numbers.append(number)
    return numbers


def _bullet(result: StructureResult, network: Network | None, numbers: list[int]) -> str:
    name = _plain(result.name)
    label = f"- **{name}**"
    if network is not None and network_label(result, network) is not None:
        label += f" ({network.short_name})"  # "France Travail (France Travail)" never
    markers = "".join(f"[{n}]" for n in numbers)
    return f"{label} {markers}" if markers else label


def _plain(text: str) -> str:
    """Markdown that would break the line: emphasis marks, and brackets that read as citations."""
    return text.replace("*", "").replace("[", "(").replace("]", ")")


def _abstracts(structures: tuple[StructureResult, ...]) -> dict[str, str]:
    """The first excerpt shown from each source that says something (not its keyword list): what the citation
    pop-up quotes; a source with none is quoted by its title."""
    found: dict[str, str] = {}
    for result in structures:
        for excerpt in result.excerpts:
            if not is_keyword_list(excerpt):
                found.setdefault(excerpt.source_id, excerpt.text)
    return found


def is_keyword_list(excerpt: Excerpt) -> bool:
    return bool(_KEYWORD_LIST.match(excerpt.text))


def _appearance(source: SourceRef, excerpt: str | None) -> CitationAppearance:
    return CitationAppearance(
        name=_clip(source.title, NAME_MAX),
        abstract=_clip(excerpt or source.title, ABSTRACT_MAX),
        url=source.url,
        keywords=[as_of_text(source.as_of, capital=True)] if source.as_of else None,
    )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
