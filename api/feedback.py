"""Counsellors' feedback, stored the same way from every face, checked against what the server showed.

A report counts only on a turn this server answered and, for a structure, only when that turn showed it; it
goes to the admins' queue (`GET /api/admin/feedback`) and never changes what anyone else sees. Its reason is
reduced to words of the knowledge base (assistant/vocabulary.py) and erased with its conversation.
"""

from __future__ import annotations

from api import messages
from api.errors import ApiError, ErrorCode
from api.runtime import Served
from api.store import Feedback, FeedbackKind, Rating, Store
from knowledge.index import KnowledgeIndex

# Results without a local site carry their network's id with this prefix (assistant/ranking.py).
NETWORK_RESULT_PREFIX = "network:"


def record_feedback(
    store: Store,
    served: Served | None,
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

    An expired conversation still takes feedback for 30 days (the counsellor may answer late), without its
    reason: the conversation is gone, and its words with it. Raises ApiError with a French detail when the
    feedback cannot be taken.
    """
    if kind == "contact_errone" and not structure_id:
        raise ApiError(ErrorCode.STRUCTURE_REQUIRED, messages.STRUCTURE_REQUIRED)
    index = served.runtime.index if served is not None else None
    if structure_id is not None and index is not None and not _known(index, structure_id):
        raise ApiError(ErrorCode.UNKNOWN_STRUCTURE, messages.UNKNOWN_STRUCTURE.format(value=structure_id[:80]))
    shown = store.shown(conversation_id, turn)
    if shown is None:
        last = store.last_turn(conversation_id)
        if last is not None and turn > last:
            raise ApiError(ErrorCode.TURN_AHEAD, messages.TURN_AHEAD.format(turns=last))
        raise ApiError(ErrorCode.UNKNOWN_CONVERSATION, messages.UNKNOWN_CONVERSATION)
    if structure_id is not None and structure_id not in shown:
        raise ApiError(ErrorCode.STRUCTURE_NOT_SHOWN, messages.STRUCTURE_NOT_SHOWN.format(value=structure_id[:80]))
    return store.add_feedback(
        conversation_id=conversation_id,
        turn=turn,
        rating=rating,
        kind=kind,
        reason=_stored_reason(store, served, conversation_id, reason),
        structure_id=structure_id,
        channel=channel,
    )


def _stored_reason(store: Store, served: Served | None, conversation_id: str, reason: str | None) -> str | None:
    """The words of the base in the reason, while the conversation lives; nothing without the allow-list."""
    if reason is None or served is None or store.turns(conversation_id) is None:
        return None
    return served.assistant.vocabulary.kept(reason) or None


def _known(index: KnowledgeIndex, result_id: str) -> bool:
    """A directory site, or a network-level result ("network:<id>", shown when no local site is known)."""
    if result_id in index.structures:
        return True
    network = result_id.removeprefix(NETWORK_RESULT_PREFIX)
    return any(n == network for n in index.networks)
