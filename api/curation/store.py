"""The living directory's tables: editors' corrections, verifications, added sites, referents, the audit log,
and what became of each report. Beside the store's own tables, on the same database (SQLite or PostgreSQL).

Corrections are kept as the current value of one field of one site, with the official value the editor saw
(`official_before`): the export for the build is one JSON file (ingest/sources/corrections.py reads it).
Every write adds its audit rows in the same transaction. Referents' names live only here, never in the index,
the audit log (which records a referent's id only) or the logs.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from api.store import Clock, TablesOnFirstUse, UTCDateTime

FORMAT_VERSION = 1
Action = Literal[
    "correct", "revert", "verify", "add_site", "update_site", "add_referent", "remove_referent", "fix_report",
    "dismiss_report",
]
Outcome = Literal["fixed", "dismissed"]

metadata = MetaData()

site_corrections = Table(
    "site_corrections",
    metadata,
    Column("structure_id", String(200), primary_key=True),
    Column("field", String(32), primary_key=True),
    Column("value", JSON, nullable=True),
    Column("official_before", JSON, nullable=True),
    Column("organisation", String(200), nullable=False),
    Column("editor", String(320), nullable=False),
    Column("edited_at", UTCDateTime, nullable=False),
    Column("edited_on", Date, nullable=False),
)

site_verifications = Table(
    "site_verifications",
    metadata,
    Column("structure_id", String(200), primary_key=True),
    Column("organisation", String(200), nullable=False),
    Column("editor", String(320), nullable=False),
    Column("verified_on", Date, nullable=False),
)

editor_sites = Table(
    "editor_sites",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("network", String(64), nullable=False),
    Column("department", String(8), nullable=True),
    Column("data", JSON, nullable=False),
    Column("organisation", String(200), nullable=False),
    Column("editor", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_on", Date, nullable=False),
)

referents = Table(
    "site_referents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("structure_id", String(200), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("role", String(200), nullable=False),
    Column("phone", String(32), nullable=True),
    Column("email", String(320), nullable=True),
    Column("topics", Text, nullable=True),
    Column("consent_on", Date, nullable=False),
    Column("organisation", String(200), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "curation_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("editor", String(320), nullable=False),
    Column("organisation", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("structure_id", String(200), nullable=True, index=True),
    Column("field", String(32), nullable=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("reason", Text, nullable=True),
)

# One row per report of the widget or Teams that named a field, then what an editor decided about it.
report_details = Table(
    "report_details",
    metadata,
    Column("feedback_id", Integer, primary_key=True, autoincrement=False),
    Column("field", String(32), nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("reason", Text, nullable=True),
    Column("organisation", String(200), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
)


@dataclass(frozen=True)
class StoredCorrection:
    structure_id: str
    field: str
    value: Any
    official_before: Any
    organisation: str
    editor: str
    edited_at: datetime
    edited_on: date


@dataclass(frozen=True)
class EditorSiteRow:
    id: str
    network: str
    department: str | None
    data: dict[str, Any]
    organisation: str
    edited_on: date


@dataclass(frozen=True)
class Referent:
    id: int
    structure_id: str
    name: str
    role: str
    phone: str | None
    email: str | None
    topics: str | None
    consent_on: date
    organisation: str


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    editor: str
    organisation: str
    action: str
    structure_id: str | None
    field: str | None
    before: Any
    after: Any
    reason: str | None


@dataclass(frozen=True)
class ReportDetail:
    feedback_id: int
    field: str | None
    outcome: str | None
    reason: str | None
    organisation: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class Change:
    """One field of one site set to `value` over the official `official_before` (None `value`: back to official)."""

    field: str
    value: Any
    official_before: Any
    revert: bool = False


class CurationStore:
    """One short transaction per call; every write and its audit rows commit together."""

    def __init__(self, engine: Engine, clock: Clock, today: Any) -> None:
        self._engine = engine
        self._clock = clock
        self._today = today
        self._tables = TablesOnFirstUse(metadata, engine)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        self._tables.ensure()
        with self._engine.begin() as connection:
            yield connection

    def _insert(self, table: Table) -> Any:
        return (postgresql if self._engine.dialect.name == "postgresql" else sqlite).insert(table)

    def _audit(self, tx: Connection, editor: str, organisation: str, action: Action, structure_id: str | None,
               field: str | None = None, before: Any = None, after: Any = None, reason: str | None = None) -> None:
        tx.execute(insert(audit_log).values(
            at=self._clock(), editor=editor, organisation=organisation, action=action, structure_id=structure_id,
            field=field, before=before, after=after, reason=reason,
        ))

    # --- corrections ------------------------------------------------------------------------------------------

    def corrections(self, structure_id: str | None = None) -> list[StoredCorrection]:
        query = select(site_corrections).order_by(site_corrections.c.structure_id, site_corrections.c.field)
        if structure_id is not None:
            query = query.where(site_corrections.c.structure_id == structure_id)
        with self._tx() as tx:
            return [_correction(r._mapping) for r in tx.execute(query)]

    def apply(self, editor: str, organisation: str, structure_id: str, changes: Iterable[Change]) -> int:
        """Record the changes of one site; returns how many fields actually changed (each one audited)."""
        now, today, changed = self._clock(), self._today(), 0
        with self._tx() as tx:
            current = {
                r.field: r for r in tx.execute(
                    select(site_corrections).where(site_corrections.c.structure_id == structure_id)
                )
            }
            for change in changes:
                previous = current.get(change.field)
                before = previous.value if previous is not None else change.official_before
                key = (site_corrections.c.structure_id == structure_id) & (site_corrections.c.field == change.field)
                if change.revert:
                    if previous is None:
                        continue
                    tx.execute(delete(site_corrections).where(key))
                    self._audit(tx, editor, organisation, "revert", structure_id, change.field, before,
                                change.official_before)
                    changed += 1
                    continue
                if previous is None and change.value == change.official_before:
                    continue  # the official value kept as it is: nothing to record
                if previous is not None and previous.value == change.value:
                    continue
                values = {
                    "value": change.value,
                    # The official value the editor saw first stays the reference for conflicts.
                    "official_before": previous.official_before if previous is not None else change.official_before,
                    "organisation": organisation, "editor": editor, "edited_at": now, "edited_on": today,
                }
                statement = self._insert(site_corrections).values(
                    structure_id=structure_id, field=change.field, **values
                )
                tx.execute(statement.on_conflict_do_update(index_elements=["structure_id", "field"], set_=values))
                self._audit(tx, editor, organisation, "correct", structure_id, change.field, before, change.value)
                changed += 1
        return changed

    def acknowledge(self, editor: str, organisation: str, structure_id: str, field: str, official_now: Any,
                    keep: bool) -> None:
        """An editor settles a conflict: keep their value over the new official one, or take the official one."""
        with self._tx() as tx:
            key = (site_corrections.c.structure_id == structure_id) & (site_corrections.c.field == field)
            row = tx.execute(select(site_corrections).where(key)).first()
            if row is None:
                return
            if keep:
                tx.execute(site_corrections.update().where(key).values(
                    official_before=official_now, organisation=organisation, editor=editor,
                    edited_at=self._clock(), edited_on=self._today(),
                ))
                self._audit(tx, editor, organisation, "correct", structure_id, field, row.value, row.value,
                            "conflit : valeur de la structure maintenue")
            else:
                tx.execute(delete(site_corrections).where(key))
                self._audit(tx, editor, organisation, "revert", structure_id, field, row.value, official_now,
                            "conflit : valeur officielle reprise")

    def verify(self, editor: str, organisation: str, structure_id: str) -> None:
        """"Rien à changer": the site was checked today."""
        values = {"organisation": organisation, "editor": editor, "verified_on": self._today()}
        with self._tx() as tx:
            statement = self._insert(site_verifications).values(structure_id=structure_id, **values)
            tx.execute(statement.on_conflict_do_update(index_elements=["structure_id"], set_=values))
            self._audit(tx, editor, organisation, "verify", structure_id)

    # --- sites added by editors -------------------------------------------------------------------------------

    def add_site(self, editor: str, organisation: str, network: str, department: str | None,
                 data: dict[str, Any]) -> str:
        site_id = "editeurs-" + secrets.token_hex(5)
        with self._tx() as tx:
            tx.execute(insert(editor_sites).values(
                id=site_id, network=network, department=department, data=data, organisation=organisation,
                editor=editor, created_at=self._clock(), edited_on=self._today(),
            ))
            self._audit(tx, editor, organisation, "add_site", site_id, None, None, data)
        return site_id

    def update_site(self, editor: str, organisation: str, site_id: str, department: str | None,
                    data: dict[str, Any]) -> bool:
        with self._tx() as tx:
            row = tx.execute(select(editor_sites).where(editor_sites.c.id == site_id)).first()
            if row is None:
                return False
            if dict(row.data) == data:
                return True
            tx.execute(editor_sites.update().where(editor_sites.c.id == site_id).values(
                data=data, department=department, organisation=organisation, editor=editor, edited_on=self._today(),
            ))
            self._audit(tx, editor, organisation, "update_site", site_id, None, dict(row.data), data)
        return True

    def editor_sites(self) -> list[EditorSiteRow]:
        with self._tx() as tx:
            rows = tx.execute(select(editor_sites).order_by(editor_sites.c.id)).all()
        return [
            EditorSiteRow(r.id, r.network, r.department, dict(r.data), r.organisation, r.edited_on) for r in rows
        ]

    # --- referents --------------------------------------------------------------------------------------------

    def add_referent(self, editor: str, organisation: str, structure_id: str, *, name: str, role: str,
                     phone: str | None, email: str | None, topics: str | None, consent_on: date) -> int:
        with self._tx() as tx:
            referent_id = tx.execute(insert(referents).values(
                structure_id=structure_id, name=name, role=role, phone=phone, email=email, topics=topics,
                consent_on=consent_on, organisation=organisation, added_at=self._clock(),
            ).returning(referents.c.id)).scalar_one()
            # The audit names the referent by id only: a name in the log would outlive its removal.
            self._audit(tx, editor, organisation, "add_referent", structure_id, None, None,
                        {"referent": int(referent_id), "consent_on": consent_on.isoformat()})
        return int(referent_id)

    def remove_referent(self, editor: str, organisation: str, referent_id: int) -> Referent | None:
        """Erase the referent's row for good (no soft delete: their name must not stay anywhere)."""
        with self._tx() as tx:
            row = tx.execute(select(referents).where(referents.c.id == referent_id)).first()
            if row is None:
                return None
            tx.execute(delete(referents).where(referents.c.id == referent_id))
            self._audit(tx, editor, organisation, "remove_referent", row.structure_id, None,
                        {"referent": referent_id}, None)
        return _referent(row._mapping)

    def referent(self, referent_id: int) -> Referent | None:
        with self._tx() as tx:
            row = tx.execute(select(referents).where(referents.c.id == referent_id)).first()
        return _referent(row._mapping) if row is not None else None

    def referents(self, structure_ids: Iterable[str]) -> dict[str, list[Referent]]:
        ids = sorted(set(structure_ids))
        if not ids:
            return {}
        with self._tx() as tx:
            rows = tx.execute(
                select(referents).where(referents.c.structure_id.in_(ids)).order_by(referents.c.id)
            ).all()
        found: dict[str, list[Referent]] = {}
        for row in rows:
            found.setdefault(row.structure_id, []).append(_referent(row._mapping))
        return found

    # --- reports ----------------------------------------------------------------------------------------------

    def note_report_field(self, feedback_id: int, field: str) -> None:
        with self._tx() as tx:
            tx.execute(insert(report_details).values(feedback_id=feedback_id, field=field))

    def report_details(self, feedback_ids: Iterable[int]) -> dict[int, ReportDetail]:
        ids = sorted(set(feedback_ids))
        if not ids:
            return {}
        with self._tx() as tx:
            rows = tx.execute(select(report_details).where(report_details.c.feedback_id.in_(ids))).all()
        return {int(r.feedback_id): _detail(r._mapping) for r in rows}

    def decide_report(self, editor: str, organisation: str, feedback_id: int, structure_id: str | None,
                      outcome: Outcome, reason: str) -> None:
        values = {"outcome": outcome, "reason": reason, "organisation": organisation, "decided_at": self._clock()}
        with self._tx() as tx:
            statement = self._insert(report_details).values(feedback_id=feedback_id, field=None, **values)
            tx.execute(statement.on_conflict_do_update(index_elements=["feedback_id"], set_=values))
            action: Action = "fix_report" if outcome == "fixed" else "dismiss_report"
            self._audit(tx, editor, organisation, action, structure_id, None, {"report": feedback_id}, None, reason)

    # --- history and export -----------------------------------------------------------------------------------

    def history(self, structure_ids: Iterable[str] | None = None, limit: int = 200) -> list[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if structure_ids is not None:
            query = query.where(audit_log.c.structure_id.in_(sorted(set(structure_ids))))
        with self._tx() as tx:
            return [_audit(r._mapping) for r in tx.execute(query)]

    def snapshot(self) -> dict[str, Any]:
        """The corrections file the build reads (format version 1), in a stable order."""
        with self._tx() as tx:
            corrections = tx.execute(
                select(site_corrections).order_by(site_corrections.c.structure_id, site_corrections.c.field)
            ).all()
            verifications = tx.execute(select(site_verifications).order_by(site_verifications.c.structure_id)).all()
            sites = tx.execute(select(editor_sites).order_by(editor_sites.c.id)).all()
        return {
            "version": FORMAT_VERSION,
            "exported_at": self._clock().isoformat(timespec="seconds"),
            "corrections": [
                {"structure_id": r.structure_id, "field": r.field, "value": r.value,
                 "official_before": r.official_before, "organisation": r.organisation,
                 "on": r.edited_on.isoformat()}
                for r in corrections
            ],
            "verifications": [
                {"structure_id": r.structure_id, "organisation": r.organisation, "on": r.verified_on.isoformat()}
                for r in verifications
            ],
            "sites": [
                {**dict(r.data), "id": r.id, "network": r.network, "organisation": r.organisation,
                 "on": r.edited_on.isoformat()}
                for r in sites
            ],
        }


def _correction(row: Any) -> StoredCorrection:
    return StoredCorrection(
        structure_id=row["structure_id"], field=row["field"], value=row["value"],
        official_before=row["official_before"], organisation=row["organisation"], editor=row["editor"],
        edited_at=row["edited_at"], edited_on=row["edited_on"],
    )


def _referent(row: Any) -> Referent:
    return Referent(
        id=int(row["id"]), structure_id=row["structure_id"], name=row["name"], role=row["role"],
        phone=row["phone"], email=row["email"], topics=row["topics"], consent_on=row["consent_on"],
        organisation=row["organisation"],
    )


def _audit(row: Any) -> AuditEntry:
    return AuditEntry(
        id=int(row["id"]), at=row["at"], editor=row["editor"], organisation=row["organisation"],
        action=row["action"], structure_id=row["structure_id"], field=row["field"], before=row["before"],
        after=row["after"], reason=row["reason"],
    )


def _detail(row: Any) -> ReportDetail:
    return ReportDetail(
        feedback_id=int(row["feedback_id"]), field=row["field"], outcome=row["outcome"], reason=row["reason"],
        organisation=row["organisation"], decided_at=row["decided_at"],
    )
