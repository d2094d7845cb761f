"""The API's database: conversations, feedback, re-index jobs, question stats (SQLite or PostgreSQL).

SQLAlchemy Core, one code path for both engines. Conversations hold the assistant's ConversationState only
(codes and words of the knowledge base, never the text of a message), and expire; each turn records which
structures it showed (ids only), so that a report can be checked; feedback reasons are allow-listed words that
are erased with their conversation; question stats are counters per day, department and need. On SQLite, erased
rows are overwritten (`secure_delete`) and the write-ahead log is emptied after every erasure, so that deleted
text survives neither in the database's pages nor in `-wal`.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeDecorator

from assistant.dialogue import ConversationState

log = logging.getLogger(__name__)

Rating = Literal["up", "down"]
FeedbackKind = Literal["contact_errone", "non_pertinent", "autre"]
JobStatus = Literal["queued", "running", "succeeded", "failed"]
FeedbackFilter = Literal["open", "resolved", "all"]
# An admin's verdict on a reported contact: wrong ("confirmed"), or checked and right ("cleared").
ContactReview = Literal["confirmed", "cleared"]
# What the faces show of a structure's contact: "none" (no open report), "pending" (fewer independent reports
# than the threshold, not shown as reported), "reported" (several independent reports, not reviewed yet),
# "confirmed" (an admin confirmed it is wrong).
ReportStatus = Literal["none", "pending", "reported", "confirmed"]

# Job ids as create_job makes them: anything else is unknown without asking the database.
JOB_ID = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$")

# How long the structures shown by each turn are kept, to check a report sent after the conversation expired
# (ids only: no text, no case).
SHOWN_RETENTION = timedelta(days=30)

# The stats row counting each question once, whatever its needs; other rows count a question once per need.
ALL_NEEDS = "*"
NO_DEPARTMENT = ""


class TablesOnFirstUse:
    """Tables of a face or a room beside the store's own (Teams replies, digest subscriptions), created the first
    time they are needed: the store creates its own tables and knows nothing of theirs."""

    def __init__(self, metadata: MetaData, engine: Engine) -> None:
        self._metadata = metadata
        self._engine = engine
        self._ready = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        with self._lock:
            if self._ready:
                return
            try:
                self._metadata.create_all(self._engine)
            except DBAPIError:
                time.sleep(0.5)  # another worker was creating them at the same moment
                self._metadata.create_all(self._engine)
            self._ready = True


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the engine keeps (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("turns", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

conversation_turns = Table(
    "conversation_turns",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("turn", Integer, primary_key=True, autoincrement=False),
    Column("structures", JSON, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(200), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("rating", String(8), nullable=False),
    Column("kind", String(32), nullable=True),
    Column("reason", Text, nullable=True),
    Column("structure_id", String(200), nullable=True, index=True),
    Column("channel", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
)

# One row per reviewed structure: the latest verdict. Reports sent after a "cleared" verdict count anew.
contact_reviews = Table(
    "contact_reviews",
    metadata,
    Column("structure_id", String(200), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("reviewed_at", UTCDateTime, nullable=False),
)

reindex_jobs = Table(
    "reindex_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("force", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("stage", String(200), nullable=True),
    Column("stage_total", Integer, nullable=False, default=0),
    Column("stage_done", Integer, nullable=False, default=0),
    Column("version", String(200), nullable=True),
    Column("published", Boolean, nullable=False, default=False),
    Column("counts", JSON, nullable=False),
    Column("problems", JSON, nullable=False),
    Column("error", Text, nullable=True),
)

question_stats = Table(
    "question_stats",
    metadata,
    Column("day", Date, primary_key=True),
    Column("department", String(8), primary_key=True),
    Column("need", String(64), primary_key=True),
    Column("questions", Integer, nullable=False),
    Column("unconfident", Integer, nullable=False),
)


@dataclass(frozen=True)
class Feedback:
    """One counsellor's opinion on one turn of a conversation."""

    id: int
    conversation_id: str
    turn: int
    rating: Rating
    kind: FeedbackKind | None
    reason: str | None
    structure_id: str | None
    channel: str
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class ReindexJob:
    """A re-index run as the admin sees it: where it stands and what it found."""

    id: str
    status: JobStatus
    force: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    stage: str | None
    stage_total: int
    stage_done: int
    version: str | None
    published: bool
    counts: dict[str, Any]
    problems: dict[str, list[str]]
    error: str | None


@dataclass(frozen=True)
class DayStats:
    day: date
    questions: int
    unconfident: int


@dataclass(frozen=True)
class NeedCount:
    need: str
    questions: int


@dataclass(frozen=True)
class QuestionStats:
    """Aggregated counters: per day, and the top needs per department."""

    days: list[DayStats]
    needs_per_department: dict[str, list[NeedCount]] = field(default_factory=dict)

    @property
    def questions(self) -> int:
        return sum(d.questions for d in self.days)

    @property
    def unconfident(self) -> int:
        return sum(d.unconfident for d in self.days)


Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class StoreUnreadable(Exception):
    """The store's database is damaged (a truncated or overwritten SQLite file): the message says what to do."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"La base de conversations et d'avis ({where}) est illisible : fichier endommagé ou qui n'est pas "
            "une base SQLite. Le service ne démarre pas pour ne rien écraser. Pour repartir : arrêtez le service, "
            "mettez le fichier de côté (avec ses fichiers -wal et -shm), par exemple en le renommant spro.db.abime, "
            "puis redémarrez : une base neuve est créée (les conversations en cours et les avis non traités du "
            "fichier mis de côté ne sont pas repris ; l'index n'est pas touché). Voir README, « Reprise »."
        )


def _unreadable(error: DBAPIError) -> bool:
    # SQLite says "file is not a database" (SQLITE_NOTADB) or "database disk image is malformed" (SQLITE_CORRUPT).
    text = str(error.orig).lower()
    return "file is not a database" in text or "malformed" in text


class Store:
    """Thread-safe (one short transaction per call); implements the assistant's ConversationStore."""

    def __init__(self, url: str, *, conversation_ttl: int, clock: Clock = _utcnow) -> None:
        self._engine = _engine(url)
        self._ttl = timedelta(seconds=conversation_ttl)
        self._clock = clock
        self._schema_lock = threading.Lock()
        self._writers: AbstractContextManager[Any] = (
            threading.Lock() if self._engine.dialect.name == "sqlite" else nullcontext()
        )

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def create_schema(self) -> None:
        """Create the missing tables; a second attempt covers two workers creating them at the same time.

        Raises StoreUnreadable (French message, with the recovery) when the database file is not one.
        """
        with self._schema_lock:
            try:
                try:
                    metadata.create_all(self._engine)
                except DBAPIError as error:
                    if _unreadable(error):
                        raise
                    time.sleep(0.5)
                    metadata.create_all(self._engine)
            except DBAPIError as error:
                if _unreadable(error):
                    raise StoreUnreadable(self._engine.url.render_as_string(hide_password=True)) from error
                raise

    def dispose(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._engine.begin() as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A transaction that writes. SQLite lets one writer in at a time and makes the others sleep and retry
        with growing pauses (its busy handler, up to 100 ms a try): eight threads writing a turn each waited
        660 ms at p95 for 20 ms of work (docs/BENCHMARKS.md, /api/chat tail). The writers of this process
        queue on a lock instead, and SQLite sees one at a time; PostgreSQL locks rows, not the database."""
        with self._writers:
            with self._engine.begin() as connection:
                yield connection

    # --- conversations (the assistant's ConversationStore protocol) ----------------------------------------

    def load(self, conversation_id: str) -> ConversationState | None:
        """The state, or None when unknown or expired (an expired one is deleted on the spot)."""
        now = self._clock()
        with self._tx() as tx:
            row = tx.execute(
                select(conversations.c.state, conversations.c.expires_at).where(conversations.c.id == conversation_id)
            ).first()
            if row is None:
                return None
            if row.expires_at <= now:
                tx.execute(delete(conversations).where(conversations.c.id == conversation_id))
                return None
        return ConversationState.from_dict(dict(row.state))

    def save(self, conversation_id: str, state: ConversationState) -> None:
        now = self._clock()
        values = {
            "state": state.to_dict(),
            "turns": state.turns,
            "updated_at": now,
            "expires_at": now + self._ttl,
        }
        with self._write() as tx:
            statement = self._insert(conversations).values(id=conversation_id, created_at=now, **values)
            tx.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))

    def turns(self, conversation_id: str) -> int | None:
        """How many turns a live conversation has had; None when unknown or expired."""
        state = self.load(conversation_id)
        return state.turns if state is not None else None

    def delete_conversation(self, conversation_id: str) -> bool:
        """Erase a conversation now: its state, what its turns showed, the reasons of its feedback."""
        with self._write() as tx:
            result = tx.execute(delete(conversations).where(conversations.c.id == conversation_id))
            tx.execute(delete(conversation_turns).where(conversation_turns.c.conversation_id == conversation_id))
            tx.execute(
                update(feedback)
                .where(feedback.c.conversation_id == conversation_id, feedback.c.reason.is_not(None))
                .values(reason=None)
            )
        self._forget_erased()
        return bool(result.rowcount)

    def purge_expired(self) -> int:
        """Erase expired conversations, the reasons of feedback on any conversation no longer live, and the
        records of shown structures older than SHOWN_RETENTION."""
        now = self._clock()
        with self._write() as tx:
            result = tx.execute(delete(conversations).where(conversations.c.expires_at <= now))
            tx.execute(delete(conversation_turns).where(conversation_turns.c.expires_at <= now))
            live = select(conversations.c.id)
            tx.execute(
                update(feedback)
                .where(feedback.c.reason.is_not(None), feedback.c.conversation_id.not_in(live))
                .values(reason=None)
            )
        self._forget_erased()
        return int(result.rowcount or 0)

    def _forget_erased(self) -> None:
        """SQLite: copy the write-ahead log into the database and empty it, so erased rows leave no trace in
        `-wal` (`secure_delete` already zeroes them in the database's pages). A reader holding the log makes
        the checkpoint partial: the next erasure or upkeep round completes it."""
        if self.dialect != "sqlite":
            return
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        if busy is not None and busy[0]:
            log.info("write-ahead log busy: checkpoint left for the next erasure")

    # --- what each turn showed (checks reports) ------------------------------------------------------------

    def record_turn(self, conversation_id: str, turn: int, structure_ids: Iterable[str]) -> None:
        """Note the ids of the structures a turn showed (no text); a reset conversation's turn is replaced."""
        with self._write() as tx:
            self._record_turn(tx, conversation_id, turn, structure_ids)

    def finish_turn(
        self, conversation_id: str, turn: int, structure_ids: Iterable[str], department: str | None,
        needs: Iterable[str], confident: bool,
    ) -> None:
        """What a turn showed and its count in the stats, in one transaction: one commit (one fsync) instead of
        two on every /api/chat turn."""
        with self._write() as tx:
            self._record_turn(tx, conversation_id, turn, structure_ids)
            self._count_question(tx, department, needs, confident)

    def _record_turn(self, tx: Connection, conversation_id: str, turn: int, structure_ids: Iterable[str]) -> None:
        values = {"structures": list(structure_ids), "expires_at": self._clock() + self._ttl + SHOWN_RETENTION}
        statement = self._insert(conversation_turns).values(conversation_id=conversation_id, turn=turn, **values)
        tx.execute(statement.on_conflict_do_update(index_elements=["conversation_id", "turn"], set_=values))

    def shown(self, conversation_id: str, turn: int) -> list[str] | None:
        """The structure ids a turn showed; None when this server never answered that turn."""
        with self._tx() as tx:
            row = tx.execute(
                select(conversation_turns.c.structures).where(
                    conversation_turns.c.conversation_id == conversation_id,
                    conversation_turns.c.turn == turn,
                    conversation_turns.c.expires_at > self._clock(),
                )
            ).first()
        return [str(s) for s in row.structures] if row is not None else None

    def last_turn(self, conversation_id: str) -> int | None:
        """The last turn this server answered in a conversation (live or recently expired); None if none."""
        with self._tx() as tx:
            value = tx.execute(
                select(func.max(conversation_turns.c.turn)).where(
                    conversation_turns.c.conversation_id == conversation_id,
                    conversation_turns.c.expires_at > self._clock(),
                )
            ).scalar_one()
        return int(value) if value is not None else None

    def conversation_count(self) -> int:
        with self._tx() as tx:
            return int(tx.execute(select(func.count()).select_from(conversations)).scalar_one())

    # --- feedback ---------------------------------------------------------------------------------------------

    def add_feedback(
        self,
        *,
        conversation_id: str,
        turn: int,
        rating: Rating,
        kind: FeedbackKind | None,
        reason: str | None,
        structure_id: str | None,
        channel: str,
    ) -> Feedback:
        values = {
            "conversation_id": conversation_id,
            "turn": turn,
            "rating": rating,
            "kind": kind,
            "reason": reason,
            "structure_id": structure_id,
            "channel": channel,
            "created_at": self._clock(),
            "resolved_at": None,
        }
        with self._write() as tx:
            new_id = tx.execute(insert(feedback).values(**values).returning(feedback.c.id)).scalar_one()
            row = tx.execute(select(feedback).where(feedback.c.id == new_id)).one()
        return _feedback(row._mapping)

    def get_feedback(self, feedback_id: int) -> Feedback | None:
        with self._tx() as tx:
            row = tx.execute(select(feedback).where(feedback.c.id == feedback_id)).first()
        return _feedback(row._mapping) if row is not None else None

    def list_feedback(self, which: FeedbackFilter, limit: int, offset: int) -> tuple[list[Feedback], int]:
        condition = {
            "open": feedback.c.resolved_at.is_(None),
            "resolved": feedback.c.resolved_at.is_not(None),
            "all": None,
        }[which]
        query = select(feedback).order_by(feedback.c.id.desc()).limit(limit).offset(offset)
        count = select(func.count()).select_from(feedback)
        if condition is not None:
            query, count = query.where(condition), count.where(condition)
        with self._tx() as tx:
            rows = tx.execute(query).all()
            total = int(tx.execute(count).scalar_one())
        return [_feedback(r._mapping) for r in rows], total

    def resolve_feedback(self, feedback_id: int) -> Feedback | None:
        with self._write() as tx:
            tx.execute(
                update(feedback)
                .where(feedback.c.id == feedback_id, feedback.c.resolved_at.is_(None))
                .values(resolved_at=self._clock())
            )
            row = tx.execute(select(feedback).where(feedback.c.id == feedback_id)).first()
        return _feedback(row._mapping) if row is not None else None

    # --- reported contacts ------------------------------------------------------------------------------------

    def review_contact(self, structure_id: str, status: ContactReview) -> None:
        """Record an admin's verdict on a structure's contact (the review itself is the living directory's)."""
        values = {"status": status, "reviewed_at": self._clock()}
        with self._write() as tx:
            statement = self._insert(contact_reviews).values(structure_id=structure_id, **values)
            tx.execute(statement.on_conflict_do_update(index_elements=["structure_id"], set_=values))

    def contact_reports(self, structure_ids: Iterable[str], threshold: int) -> dict[str, ReportStatus]:
        """Each structure's report status; one anonymous click never marks a contact as wrong for everyone.

        Reports count once per conversation (a counsellor clicking twice, or on two turns, is one report), only
        while open (an admin who resolves them has dealt with them) and only after the latest "cleared" review.
        Structures with nothing to say are left out (status "none").
        """
        ids = sorted(set(structure_ids))
        if not ids:
            return {}
        with self._tx() as tx:
            reviews = {
                row.structure_id: (row.status, row.reviewed_at)
                for row in tx.execute(
                    select(contact_reviews).where(contact_reviews.c.structure_id.in_(ids))
                )
            }
            reports = tx.execute(
                select(feedback.c.structure_id, feedback.c.conversation_id, feedback.c.created_at).where(
                    feedback.c.kind == "contact_errone",
                    feedback.c.resolved_at.is_(None),
                    feedback.c.structure_id.in_(ids),
                )
            ).all()
        reporters: dict[str, set[str]] = {}
        for row in reports:
            review = reviews.get(row.structure_id)
            if review is not None and review[0] == "cleared" and row.created_at <= review[1]:
                continue
            reporters.setdefault(str(row.structure_id), set()).add(str(row.conversation_id))
        statuses: dict[str, ReportStatus] = {}
        for structure_id in ids:
            review = reviews.get(structure_id)
            count = len(reporters.get(structure_id, ()))
            if review is not None and review[0] == "confirmed":
                statuses[structure_id] = "confirmed"
            elif count >= threshold:
                statuses[structure_id] = "reported"
            elif count:
                statuses[structure_id] = "pending"
        return statuses

    # --- re-index jobs ----------------------------------------------------------------------------------------

    def create_job(self, force: bool) -> ReindexJob:
        job_id = self._clock().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(4)
        with self._write() as tx:
            tx.execute(
                insert(reindex_jobs).values(
                    id=job_id, status="queued", force=force, created_at=self._clock(),
                    stage_total=0, stage_done=0, published=False, counts={}, problems={},
                )
            )
        job = self.job(job_id)
        assert job is not None
        return job

    def update_job(self, job_id: str, **values: Any) -> None:
        with self._write() as tx:
            tx.execute(update(reindex_jobs).where(reindex_jobs.c.id == job_id).values(**values))

    def advance_job(self, job_id: str, done: int) -> None:
        with self._write() as tx:
            tx.execute(
                update(reindex_jobs)
                .where(reindex_jobs.c.id == job_id)
                .values(stage_done=reindex_jobs.c.stage_done + done)
            )

    def job(self, job_id: str) -> ReindexJob | None:
        if JOB_ID.fullmatch(job_id) is None:
            return None
        with self._tx() as tx:
            row = tx.execute(select(reindex_jobs).where(reindex_jobs.c.id == job_id)).first()
        return _job(row._mapping) if row is not None else None

    def fail_unfinished_jobs(self, reason: str) -> int:
        """Mark failed every job still queued or running (at start, when no build holds the index lock: their
        process died, a SIGKILL or a crash, and they would otherwise stay "running" forever)."""
        with self._write() as tx:
            result = tx.execute(
                update(reindex_jobs)
                .where(reindex_jobs.c.status.in_(("queued", "running")))
                .values(status="failed", error=reason, finished_at=self._clock())
            )
        return int(result.rowcount or 0)

    def fail_job(self, job_id: str, reason: str) -> None:
        """Mark a job failed unless it already finished (used when the process stops under it)."""
        with self._write() as tx:
            tx.execute(
                update(reindex_jobs)
                .where(reindex_jobs.c.id == job_id, reindex_jobs.c.status.in_(("queued", "running")))
                .values(status="failed", error=reason, finished_at=self._clock())
            )

    # --- question stats ---------------------------------------------------------------------------------------

    def count_question(self, department: str | None, needs: Iterable[str], confident: bool) -> None:
        """Add one question to today's counters: once in total, once per need; no text is kept."""
        with self._write() as tx:
            self._count_question(tx, department, needs, confident)

    def _count_question(self, tx: Connection, department: str | None, needs: Iterable[str], confident: bool) -> None:
        day = self._clock().date()
        unconfident = 0 if confident else 1
        for need in [ALL_NEEDS, *dict.fromkeys(needs)]:
            statement = self._insert(question_stats).values(
                day=day, department=department or NO_DEPARTMENT, need=need[:64], questions=1, unconfident=unconfident,
            )
            tx.execute(
                statement.on_conflict_do_update(
                    index_elements=["day", "department", "need"],
                    set_={
                        "questions": question_stats.c.questions + 1,
                        "unconfident": question_stats.c.unconfident + unconfident,
                    },
                )
            )

    def question_stats(self, days: int, top: int = 5) -> QuestionStats:
        since = self._clock().date() - timedelta(days=days - 1)
        with self._tx() as tx:
            per_day = tx.execute(
                select(
                    question_stats.c.day,
                    func.sum(question_stats.c.questions).label("questions"),
                    func.sum(question_stats.c.unconfident).label("unconfident"),
                )
                .where(question_stats.c.day >= since, question_stats.c.need == ALL_NEEDS)
                .group_by(question_stats.c.day)
                .order_by(question_stats.c.day)
            ).all()
            per_need = tx.execute(
                select(
                    question_stats.c.department,
                    question_stats.c.need,
                    func.sum(question_stats.c.questions).label("questions"),
                )
                .where(question_stats.c.day >= since, question_stats.c.need != ALL_NEEDS)
                .group_by(question_stats.c.department, question_stats.c.need)
            ).all()
        needs: dict[str, list[NeedCount]] = {}
        for row in sorted(per_need, key=lambda r: (r.department, -int(r.questions), r.need)):
            ranked = needs.setdefault(str(row.department), [])
            if len(ranked) < top:
                ranked.append(NeedCount(str(row.need), int(row.questions)))
        return QuestionStats(
            days=[DayStats(r.day, int(r.questions), int(r.unconfident)) for r in per_day],
            needs_per_department=needs,
        )

    def _insert(self, table: Table) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL do)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)


def _engine(url: str) -> Engine:
    # hide_parameters: a database error logged with its traceback must not print a stored state.
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            # A fresh clone has no data folder yet: `spro serve` opens the store before anything else creates it.
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while a turn writes; the busy timeout queues writers instead of failing them;
    # secure_delete zeroes erased rows in the pages, where the bytes would otherwise stay until reused.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _feedback(row: Any) -> Feedback:
    return Feedback(
        id=int(row["id"]),
        conversation_id=row["conversation_id"],
        turn=int(row["turn"]),
        rating=row["rating"],
        kind=row["kind"],
        reason=row["reason"],
        structure_id=row["structure_id"],
        channel=row["channel"],
        created_at=row["created_at"],
        resolved_at=row["resolved_at"],
    )


def _job(row: Any) -> ReindexJob:
    return ReindexJob(
        id=row["id"],
        status=row["status"],
        force=bool(row["force"]),
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        stage=row["stage"],
        stage_total=int(row["stage_total"]),
        stage_done=int(row["stage_done"]),
        version=row["version"],
        published=bool(row["published"]),
        counts=dict(row["counts"] or {}),
        problems={str(k): list(v) for k, v in (row["problems"] or {}).items()},
        error=row["error"],
    )
