"""Subscriptions to the « Quoi de neuf » digest, without accounts: an e-mail address and its chosen departments and
networks, nothing else (RGPD); pending until the link sent to the address is followed, deleted, not flagged, on
unsubscribing. Kept in the API's database through the store's engine, in a table of its own."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy.engine import Engine

from api.store import Store, TablesOnFirstUse, UTCDateTime

# A subscription never confirmed is forgotten after this long.
PENDING_RETENTION = timedelta(days=7)

metadata = MetaData()

digest_subscriptions = Table(
    "digest_subscriptions",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("email", String(320), nullable=False, index=True),
    Column("departments", Text, nullable=False),
    Column("networks", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=True),
)


@dataclass(frozen=True)
class Subscription:
    token: str
    email: str
    departments: tuple[str, ...]
    networks: tuple[str, ...]
    confirmed: bool


class Subscriptions:
    """Thread-safe, one short transaction per call (call it from a worker thread)."""

    def __init__(self, store: Store) -> None:
        self._engine: Engine = store.engine
        self._tables = TablesOnFirstUse(metadata, store.engine)

    def subscribe(self, email: str, departments: Sequence[str], networks: Sequence[str]) -> Subscription:
        """A pending subscription; the same address asking again replaces its pending or confirmed choices only
        once the new link is followed (the old subscription keeps running until then)."""
        self._tables.ensure()
        now = datetime.now(UTC)
        token = secrets.token_urlsafe(32)
        with self._engine.begin() as tx:
            tx.execute(delete(digest_subscriptions).where(
                digest_subscriptions.c.email == email,
                digest_subscriptions.c.confirmed_at.is_(None),
            ))
            tx.execute(delete(digest_subscriptions).where(
                digest_subscriptions.c.confirmed_at.is_(None),
                digest_subscriptions.c.created_at < now - PENDING_RETENTION,
            ))
            tx.execute(insert(digest_subscriptions).values(
                token=token, email=email, departments=json.dumps(sorted(set(departments))),
                networks=json.dumps(sorted(set(networks))), created_at=now, confirmed_at=None,
            ))
        return Subscription(token, email, tuple(sorted(set(departments))), tuple(sorted(set(networks))), False)

    def confirm(self, token: str) -> Subscription | None:
        """Confirm a pending subscription (its address's older one ends); None for an unknown or expired link."""
        self._tables.ensure()
        now = datetime.now(UTC)
        with self._engine.begin() as tx:
            row = tx.execute(select(digest_subscriptions).where(digest_subscriptions.c.token == token)).first()
            if row is None or (row.confirmed_at is None and row.created_at < now - PENDING_RETENTION):
                return None
            if row.confirmed_at is None:
                tx.execute(delete(digest_subscriptions).where(
                    digest_subscriptions.c.email == row.email, digest_subscriptions.c.token != token
                ))
                tx.execute(update(digest_subscriptions).where(digest_subscriptions.c.token == token)
                           .values(confirmed_at=now))
        return Subscription(row.token, row.email, tuple(json.loads(row.departments)), tuple(json.loads(row.networks)),
                            True)

    def unsubscribe(self, token: str) -> bool:
        """Delete the subscription of this link, address included; False when there is none (already gone)."""
        self._tables.ensure()
        with self._engine.begin() as tx:
            return bool(tx.execute(delete(digest_subscriptions).where(digest_subscriptions.c.token == token)).rowcount)

    def confirmed(self) -> list[Subscription]:
        self._tables.ensure()
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(digest_subscriptions).where(digest_subscriptions.c.confirmed_at.is_not(None))
                .order_by(digest_subscriptions.c.email)
            ).all()
        return [Subscription(r.token, r.email, tuple(json.loads(r.departments)), tuple(json.loads(r.networks)), True)
                for r in rows]
