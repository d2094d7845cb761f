"""The editors' grants admins manage, kept in the API's database through the store's engine, in a table of its own
(created on first use). No personal data beyond the professional address or domain a grant names."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, UniqueConstraint, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from api.editors.identity import Grant, domain_of, grant_matches
from api.store import Store, TablesOnFirstUse, UTCDateTime

metadata = MetaData()

editor_grants = Table(
    "editor_grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("match", String(320), nullable=False, index=True),
    Column("network", String(64), nullable=False),
    Column("departments", JSON, nullable=False),
    Column("organisation", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("match", "network", name="uq_editor_grants_match_network"),
)


class GrantExists(Exception):
    """A grant for this address or domain and this network exists already (one per pair: change it by removing
    it and adding the new one)."""

    def __init__(self, match: str, network: str) -> None:
        super().__init__(f"grant exists for network {network}")
        self.match = match
        self.network = network


class GrantStore:
    """Thread-safe, one short transaction per call (call it from a worker thread)."""

    def __init__(self, store: Store) -> None:
        self._engine: Engine = store.engine
        self._tables = TablesOnFirstUse(metadata, store.engine)

    def add(self, match: str, network: str, departments: Sequence[str], organisation: str) -> Grant:
        """Raises GrantExists for a second grant of the same (match, network); `match` is kept lowercased."""
        self._tables.ensure()
        match = match.strip().lower()
        kept = sorted(set(departments))
        now = datetime.now(UTC)
        try:
            with self._engine.begin() as tx:
                result = tx.execute(insert(editor_grants).values(
                    match=match, network=network, departments=kept, organisation=organisation, created_at=now,
                ))
                grant_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        except IntegrityError as exc:
            raise GrantExists(match, network) from exc
        assert isinstance(grant_id, int)
        return Grant(grant_id, match, network, tuple(kept), organisation, now)

    def remove(self, grant_id: int) -> bool:
        self._tables.ensure()
        with self._engine.begin() as tx:
            return bool(tx.execute(delete(editor_grants).where(editor_grants.c.id == grant_id)).rowcount)

    def list(self) -> builtins.list[Grant]:
        self._tables.ensure()
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(editor_grants).order_by(editor_grants.c.network, editor_grants.c.match, editor_grants.c.id)
            ).all()
        return [_grant(row._mapping) for row in rows]

    def for_email(self, email: str) -> tuple[Grant, ...]:
        """The grants of this exact address and of its exact domain, oldest first."""
        domain = domain_of(email)
        if domain is None:
            return ()
        self._tables.ensure()
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(editor_grants)
                .where(editor_grants.c.match.in_([email.strip().lower(), domain]))
                .order_by(editor_grants.c.id)
            ).all()
        grants = (_grant(row._mapping) for row in rows)
        return tuple(grant for grant in grants if grant_matches(grant, email))


def _grant(row: Any) -> Grant:
    return Grant(
        id=int(row["id"]),
        match=str(row["match"]),
        network=str(row["network"]),
        departments=tuple(str(code) for code in row["departments"]),
        organisation=str(row["organisation"]),
        created_at=row["created_at"],
    )
