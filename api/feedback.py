"""Counsellors' feedback, stored the same way from every face, and its effect on referrals.

A "contact_errone" report demotes the structure (after the other sites of its network, with a warning)
until an admin resolves the report.
"""

from __future__ import annotations

from dataclasses import replace

from api import messages
from api.errors import ApiError, ErrorCode
from api.store import Feedback, FeedbackKind, Rating, Store
from assistant.referral import Referral, StructureResult
from knowledge.index import KnowledgeIndex

# Results without a local site carry their network's id with this prefix (assistant/ranking.py).
NETWORK_RESULT_PREFIX = "network:"


def record_feedback(
    store: Store,
    index: KnowledgeIndex | None,
    *,
    conversation_id: str,
    turn: int,
    rating: Rating,
    kind: FeedbackKind | None = None,
    reason: str | None = None,
    structure_id: str | None = None,
    channel: str = "widget",
) -> Feedback:
    """Check and store one opinion; the widget route and the Teams bot both call this.

    An expired conversation still takes feedback (the counsellor may answer late); a live one must have
    reached the turn named. Raises ApiError with a French detail when the feedback cannot be taken.
    """
    if kind == "contact_errone" and not structure_id:
        raise ApiError(ErrorCode.STRUCTURE_REQUIRED, messages.STRUCTURE_REQUIRED)
    if structure_id is not None and index is not None and not _known(index, structure_id):
        raise ApiError(ErrorCode.UNKNOWN_STRUCTURE, messages.UNKNOWN_STRUCTURE.format(value=structure_id[:80]))
    turns = store.turns(conversation_id)
    if turns is not None and turn > turns:
        raise ApiError(ErrorCode.TURN_AHEAD, messages.TURN_AHEAD.format(turns=turns))
    return store.add_feedback(
        conversation_id=conversation_id,
        turn=turn,
        rating=rating,
        kind=kind,
        reason=reason,
        structure_id=structure_id,
        channel=channel,
    )


def _known(index: KnowledgeIndex, result_id: str) -> bool:
    """A directory site, or a network-level result ("network:<id>", shown when no local site is known)."""
    if result_id in index.structures:
        return True
    network = result_id.removeprefix(NETWORK_RESULT_PREFIX)
    return any(n == network for n in index.networks)


def demote_reported(referral: Referral, reported: frozenset[str]) -> Referral:
    """Move each reported structure after the other structures of its network, and say why.

    Each network keeps the positions it had in the list; within them, reported sites come last.
    """
    if not any(s.id in reported for s in referral.structures):
        return referral
    positions: dict[str, list[int]] = {}
    for position, result in enumerate(referral.structures):
        positions.setdefault(result.network, []).append(position)
    ordered: list[StructureResult | None] = [None] * len(referral.structures)
    for slots in positions.values():
        members = [referral.structures[i] for i in slots]
        fine = [s for s in members if s.id not in reported]
        flagged = [_flagged(s) for s in members if s.id in reported]
        for slot, result in zip(slots, [*fine, *flagged], strict=True):
            ordered[slot] = result
    return replace(referral, structures=tuple(s for s in ordered if s is not None))


def _flagged(result: StructureResult) -> StructureResult:
    return replace(result, reasons=(*result.reasons, messages.CONTACT_REPORTED))
