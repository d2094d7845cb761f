"""What the Teams face remembers beside the store, in the API's database (SQLite or PostgreSQL, through the
store's engine), with no text: which conversation turn each answer sent belongs to, and where the welcome card
was sent.

Teams' feedback invoke names only the answer's activity id (`replyToId`): `teams_replies` maps it back to its
turn, and its rows go after REPLY_RETENTION, long after the conversation itself expired. Teams announces an
install twice (installationUpdate and conversationUpdate, in either order, possibly at once): `teams_welcomes`
holds one row per conversation welcomed, taken atomically by its primary key, dropped when the app is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, ColumnElement, Integer, MetaData, String, Table, delete, insert, select
from sqlalchemy.exc import IntegrityError

from api.store import Store, TablesOnFirstUse, UTCDateTime

REPLY_RETENTION = timedelta(days=30)

metadata = MetaData()

teams_replies = Table(
    "teams_replies",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("activity_id", String(200), primary_key=True),
    Column("turn", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
)

teams_welcomes = Table(
    "teams_welcomes",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)


@dataclass(frozen=True)
class SentAnswer:
    conversation_id: str
    turn: int


class ReplyLog:
    """Thread-safe, one short transaction per call (call it from a worker thread)."""

    def __init__(self, store: Store) -> None:
        self._engine = store.engine
        self._tables = TablesOnFirstUse(metadata, store.engine)

    def remember(self, conversation_id: str, activity_id: str, turn: int) -> None:
        self._tables.ensure()
        now = datetime.now(UTC)
        with self._engine.begin() as tx:
            tx.execute(delete(teams_replies).where(teams_replies.c.created_at < now - REPLY_RETENTION))
            # Ids are the connector's; should one come back, the latest answer takes it.
            tx.execute(delete(teams_replies).where(*self._key(conversation_id, activity_id)))
            tx.execute(
                insert(teams_replies).values(
                    conversation_id=conversation_id, activity_id=activity_id[:200], turn=turn, created_at=now
                )
            )

    def find(self, conversation_id: str, activity_id: str) -> SentAnswer | None:
        self._tables.ensure()
        with self._engine.begin() as tx:
            row = tx.execute(select(teams_replies.c.turn).where(*self._key(conversation_id, activity_id))).first()
        return SentAnswer(conversation_id, int(row.turn)) if row is not None else None

    @staticmethod
    def _key(conversation_id: str, activity_id: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return (
            teams_replies.c.conversation_id == conversation_id,
            teams_replies.c.activity_id == activity_id[:200],
        )


class WelcomeLog:
    """Thread-safe, one short transaction per call (call it from a worker thread)."""

    def __init__(self, store: Store) -> None:
        self._engine = store.engine
        self._tables = TablesOnFirstUse(metadata, store.engine)

    def claim(self, conversation_id: str) -> bool:
        """True once per install of the app in a conversation: the caller sends the welcome."""
        self._tables.ensure()
        try:
            with self._engine.begin() as tx:
                tx.execute(insert(teams_welcomes).values(conversation_id=conversation_id, created_at=datetime.now(UTC)))
        except IntegrityError:
            return False
        return True

    def forget(self, conversation_id: str) -> None:
        """The app was removed: installed again, it welcomes again."""
        self._tables.ensure()
        with self._engine.begin() as tx:
            tx.execute(delete(teams_welcomes).where(teams_welcomes.c.conversation_id == conversation_id))
