"""One turn of a conversation as every face runs it: the widget's /api/chat and the Teams bot alike."""

from __future__ import annotations

from dataclasses import dataclass

from api.runtime import Served
from api.schemas import is_conversation_id
from api.store import Store
from assistant.dialogue import TurnContext
from assistant.referral import Referral


@dataclass(frozen=True)
class Exchange:
    """A referral and the turn number it answers (feedback names the turn)."""

    referral: Referral
    turn: int


def converse(
    served: Served, store: Store, message: str, conversation_id: str | None, context: TurnContext | None = None
) -> Exchange:
    """Run one turn; an unknown, expired or malformed id starts a new conversation with a new id.

    The ids of the structures shown are recorded with the turn: a report is taken only on what was shown.
    Blocking (encoding, retrieval, database): call it from a worker thread, never on the event loop.
    """
    previous = store.load(conversation_id) if conversation_id and is_conversation_id(conversation_id) else None
    known = conversation_id if previous is not None else None
    referral = served.assistant.turn(message, known, context)
    turn = (previous.turns if previous is not None else 0) + 1
    understood = referral.understood
    store.finish_turn(referral.conversation_id, turn, (s.id for s in referral.structures), understood.department,
                      understood.needs, referral.confident)
    return Exchange(referral, turn)


def search(served: Served, query: str, context: TurnContext | None, age: int | None) -> Referral:
    """A stateless referral: nothing of it is stored."""
    return served.assistant.search(query, context, age)
