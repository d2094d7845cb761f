"""Token buckets per client: in the process for one process, in the store's database when several serve.

A client is a network address (the peer, or what a trusted proxy says, see `SPRO_TRUSTED_PROXIES`) for the
HTTP API, and a Teams user for `/api/messages` (after its token is validated). `limits` and `pyrate-limiter`
were weighed and not taken: `limits` has no SQL storage (memory, Redis, Memcached, MongoDB...), and
`pyrate-limiter`'s SQLite and PostgreSQL buckets keep one row per request with drivers and pools of their own;
one row per client in the store (SQLite or PostgreSQL, the same SQLAlchemy engine), updated by one atomic
upsert, is what several workers or replicas need here.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Boolean, Column, Connection, Double, Engine, MetaData, String, Table, bindparam, case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.store import Store
from knowledge.settings import Settings

log = logging.getLogger(__name__)


class Limiter(Protocol):
    """`take` one request from `key`'s bucket: 0 when allowed, else the seconds to wait."""

    def prepare(self) -> None:
        """Create what the limiter keeps (a table), at start-up."""

    async def take(self, key: str) -> float: ...


class Unlimited:
    """SPRO_RATE_LIMIT_PER_MINUTE=0."""

    def prepare(self) -> None:
        return None

    async def take(self, key: str) -> float:
        return 0.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class MemoryLimiter:
    """One process's buckets: `per_minute` requests a minute, bursts up to that many; cheap, on the loop."""

    MAX_CLIENTS = 10_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def prepare(self) -> None:
        return None

    async def take(self, key: str) -> float:
        return self.take_now(key, self._clock())

    def take_now(self, key: str, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.MAX_CLIENTS:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled completely carries no information.
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.capacity]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.MAX_CLIENTS:
            self._buckets.clear()


metadata = MetaData()

buckets = Table(
    "rate_limit_buckets",
    metadata,
    # A digest of the client key: no address or Teams id is written to the database.
    Column("key", String(64), primary_key=True),
    Column("tokens", Double, nullable=False),
    # Wall-clock seconds (time.time): processes and replicas share no monotonic clock.
    Column("updated", Double, nullable=False),
    Column("allowed", Boolean, nullable=False),
)


class DatabaseLimiter:
    """The same buckets in the store's database, seen by every worker and replica; one upsert per request,
    in a worker thread. A database fault lets the request through (logged): the limit is a guard, not a gate."""

    PRUNE_EVERY = 60.0

    def __init__(self, engine: Engine, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._lock = threading.Lock()
        self._pruned_at = 0.0
        self._failed_at = float("-inf")

    def prepare(self) -> None:
        metadata.create_all(self._engine)

    async def take(self, key: str) -> float:
        return await run_in_threadpool(self.take_now, key)

    def take_now(self, key: str) -> float:
        now = self._clock()
        try:
            with self._engine.begin() as tx:
                tokens, allowed = tx.execute(self._statement(), {"key": _digest(key), "now": now}).one()
                self._prune(tx, now)
        except SQLAlchemyError:
            if now - self._failed_at > 60:
                log.exception("rate limit store unavailable: requests are let through")
            self._failed_at = now
            return 0.0
        return 0.0 if allowed else (1.0 - float(tokens)) / self.rate

    def _statement(self) -> Any:
        now = bindparam("now", type_=Double)
        cap = self.capacity
        elapsed = case((now > buckets.c.updated, now - buckets.c.updated), else_=0.0)
        refilled = buckets.c.tokens + elapsed * self.rate
        level = case((refilled > cap, cap), else_=refilled)
        statement = self._insert(buckets).values(key=bindparam("key"), tokens=cap - 1.0, updated=now, allowed=True)
        return statement.on_conflict_do_update(
            index_elements=[buckets.c.key],
            set_={
                # Every right-hand side reads the row as it was: one atomic read-refill-take.
                "tokens": case((level >= 1.0, level - 1.0), else_=level),
                "updated": case((now > buckets.c.updated, now), else_=buckets.c.updated),
                "allowed": level >= 1.0,
            },
        ).returning(buckets.c.tokens, buckets.c.allowed)

    def _prune(self, tx: Connection, now: float) -> None:
        """Drop the buckets that have refilled (idle for over a minute): nothing is kept longer than needed."""
        with self._lock:
            if now - self._pruned_at < self.PRUNE_EVERY:
                return
            self._pruned_at = now
        idle = 60.0 + 60.0  # a full refill takes a minute; a margin for clocks a little apart
        tx.execute(delete(buckets).where(buckets.c.updated < now - idle))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def build_limiter(settings: Settings, store: Store) -> Limiter:
    """The limiter the settings ask for; 'auto' shares the buckets when the store is PostgreSQL (replicas)."""
    per_minute = settings.rate_limit_per_minute
    if per_minute <= 0:
        return Unlimited()
    kind = settings.rate_limit_store
    if kind == "auto":
        kind = "database" if store.dialect == "postgresql" else "memory"
    if kind == "database":
        return DatabaseLimiter(store.engine, per_minute)
    return MemoryLimiter(per_minute)
