"""A referral as Teams shows it: the answer with numbered citations, the AI label, the feedback buttons and one
Adaptive Card per structure; the clarifying question's options as quick replies (suggested actions).

Teams drops suggested actions from a message that has attachments, so when the answer carries cards the
quick replies follow in a second, short message; without cards they ride on the answer itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.models.account import Account
from microsoft_teams.api.models.attachment import AttachmentLayout
from microsoft_teams.api.models.card import CardAction, CardActionType
from microsoft_teams.api.models.entity import CitationAppearance
from microsoft_teams.api.models.suggested_actions import SuggestedActions

from api.teams import messages
from api.teams.cards import french_date, structure_card
from assistant.referral import Clarification, Referral, SourceRef, StructureResult
from knowledge.model import Network

MAX_CARDS = 6
# Teams refuses a message with more than 20 citations; its name and abstract have length limits too.
MAX_CITATIONS = 20
NAME_MAX = 80
ABSTRACT_MAX = 160


@dataclass(frozen=True)
class Reply:
    """`answer` is the turn's answer (the feedback buttons are on it); `follow_up` holds the quick replies."""

    answer: MessageActivityInput
    follow_up: MessageActivityInput | None


def compose(referral: Referral, networks: Mapping[str, Network], user: Account) -> Reply:
    sources = referral.sources[:MAX_CITATIONS]
    positions = {source.id: n for n, source in enumerate(sources, start=1)}
    shown = referral.structures[:MAX_CARDS]

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

    clarification = referral.clarification
    quick_replies_on_answer = clarification is not None and not shown
    if clarification is not None and quick_replies_on_answer:
        paragraphs.append(_choices(clarification))

    answer = MessageActivityInput(text="\n\n".join(paragraphs), text_format="markdown")
    for result in shown:
        answer.add_card(structure_card(result, networks.get(result.network)))
    if shown:
        answer.with_attachment_layout(AttachmentLayout.LIST)
    abstracts = _abstracts(referral.structures)
    for source in sources:
        answer.add_citation(positions[source.id], _appearance(source, abstracts.get(source.id)))
    answer.add_ai_generated()
    answer.add_feedback()

    follow_up: MessageActivityInput | None = None
    if clarification is not None:
        quick_replies = _quick_replies(clarification, user)
        if quick_replies_on_answer:
            answer.with_suggested_actions(quick_replies)
        else:
            follow_up = MessageActivityInput(text=_choices(clarification)).with_suggested_actions(quick_replies)
    return Reply(answer, follow_up)


def _positions(result: StructureResult, positions: Mapping[str, int]) -> list[int]:
    numbers: list[int] = []
    for excerpt in result.excerpts:
        number = positions.get(excerpt.source_id)
        if number is not None and number not in numbers:
            numbers.append(number)
    return numbers


def _bullet(result: StructureResult, network: Network | None, numbers: list[int]) -> str:
    name = _plain(result.name)
    label = f"- **{name}** ({network.short_name})" if network else f"- **{name}**"
    markers = "".join(f"[{n}]" for n in numbers)
    return f"{label} {markers}" if markers else label


def _plain(text: str) -> str:
    """Markdown that would break the line: emphasis marks, and brackets that read as citations."""
    return text.replace("*", "").replace("[", "(").replace("]", ")")


def _choices(clarification: Clarification) -> str:
    return messages.CHOOSE.format(options=" · ".join(clarification.options))


def _quick_replies(clarification: Clarification, user: Account) -> SuggestedActions:
    # Teams shows the first three; all of them are also listed in the text.
    return SuggestedActions(
        to=[user.id],
        actions=[
            CardAction(type=CardActionType.IM_BACK, title=option, value=option) for option in clarification.options
        ],
    )


def _abstracts(structures: tuple[StructureResult, ...]) -> dict[str, str]:
    """The first excerpt shown from each source: what the citation pop-up quotes."""
    found: dict[str, str] = {}
    for result in structures:
        for excerpt in result.excerpts:
            found.setdefault(excerpt.source_id, excerpt.text)
    return found


def _appearance(source: SourceRef, excerpt: str | None) -> CitationAppearance:
    return CitationAppearance(
        name=_clip(source.title, NAME_MAX),
        abstract=_clip(excerpt or source.title, ABSTRACT_MAX),
        url=source.url,
        keywords=[messages.UP_TO_DATE.format(date=french_date(source.as_of))] if source.as_of else None,
    )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
