"""The living directory's rules: who may change which site, what a form's changes are, the review queue.

Every method takes the signed-in editor and the served index version; access is checked here, once, before
anything is read or written: an unknown site is a 404, a site of another network or department a 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import select

from api import messages
from api.curation import validation
from api.curation.publish import Publisher, write_snapshot
from api.curation.sites import (
    FIELDS,
    OFFER_HEADING,
    UNVERIFIED_AFTER_DAYS,
    ConflictView,
    FieldView,
    field_views,
    official_values,
)
from api.curation.store import AuditEntry, Change, CurationStore, EditorSiteRow, Outcome, Referent
from api.editors.identity import Editor
from api.errors import ApiError, ErrorCode
from api.reindex import Reindexer
from api.runtime import Served
from api.store import Store, feedback
from assistant.ranking import freshness
from ingest.sources.corrections import corrections_file
from knowledge.index import KnowledgeIndex
from knowledge.model import WEEKDAYS, Contact, DayHours, Section, ServedTerritory, Structure
from knowledge.referentials import NETWORK_IDS, NetworkId
from knowledge.settings import Settings
from knowledge.territory import Territory

PARIS = ZoneInfo("Europe/Paris")
REPORT_KINDS = ("contact_errone", "non_pertinent")
QUEUE_LIMIT = 200
ADDED_SITE_LACKS = ("hours", "status")


def paris_today() -> date:
    return datetime.now(PARIS).date()


@dataclass(frozen=True)
class SiteView:
    site: Structure
    organisation: str
    fields: list[FieldView]
    conflicts: list[ConflictView]
    referents: list[Referent]
    closed: bool
    added: bool  # added by an editor, not in the official data
    pending: bool  # changes stored and not yet in the served version


@dataclass(frozen=True)
class ReportItem:
    feedback_id: int
    site: Structure
    kind: str
    field: str | None
    reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class StaleItem:
    site: Structure
    freshest: date | None


@dataclass(frozen=True)
class Queue:
    reports: list[ReportItem]
    conflicts: list[tuple[Structure, ConflictView]]
    unverified: list[StaleItem]
    unverified_total: int


class Curation:
    def __init__(self, settings: Settings, store: Store, reindexer: Reindexer, territory: Territory | None = None,
                 today: Any = paris_today) -> None:
        self.settings = settings
        self.store = store
        self.rooms = CurationStore(store.engine, lambda: datetime.now(UTC), today)
        self._today = today
        self._territory = territory
        self.file: Path = corrections_file(settings.data_dir)
        self.publisher = Publisher(self.export, reindexer, store)

    @property
    def territory(self) -> Territory:
        if self._territory is None:
            self._territory = Territory.load()
        return self._territory

    def export(self) -> None:
        write_snapshot(self.file, self.rooms.snapshot())

    # --- reading ----------------------------------------------------------------------------------------------

    def _find(self, served: Served, structure_id: str) -> tuple[Structure, bool, bool]:
        """(site, closed, added); an unknown id is a 404."""
        index = served.runtime.index
        site = index.structures.get(structure_id)
        if site is not None:
            return site, False, structure_id in {s.id for s in self.rooms.editor_sites()}
        if structure_id in index.withdrawn:
            return index.withdrawn[structure_id], True, False
        for row in self.rooms.editor_sites():
            if row.id == structure_id:
                return _site_of_row(row, self.territory), False, True
        raise ApiError(ErrorCode.UNKNOWN_STRUCTURE, messages.UNKNOWN_STRUCTURE.format(value=structure_id[:80]))

    def _allowed(self, editor: Editor, site: Structure) -> str:
        organisation = editor.organisation_for(site.network, site.department)  # None: no grant covers the site
        if organisation is None:
            raise ApiError(ErrorCode.EDITOR_FORBIDDEN, messages.EDITOR_FORBIDDEN)
        return organisation

    def sites(self, editor: Editor, served: Served, text: str | None = None,
              department: str | None = None) -> list[Structure]:
        index = served.runtime.index
        wanted = (text or "").casefold().strip()
        found = [
            s for s in [*index.structures.values(), *index.withdrawn.values()]
            if editor.can_edit(s.network, s.department)
            and (department is None or s.department == department)
            and (not wanted or wanted in f"{s.name} {s.commune or ''} {s.postcode or ''}".casefold())
        ]
        return sorted(found, key=lambda s: (s.department or "", s.name))

    def site(self, editor: Editor, served: Served, structure_id: str) -> SiteView:
        site, closed, added = self._find(served, structure_id)
        organisation = self._allowed(editor, site)
        index = served.runtime.index
        overridden: dict[str, Any] = {o.field: o.official for o in index.overridden.get(site.id, ())}
        stored = self.rooms.corrections(site.id)
        conflicts = [
            ConflictView(c.field, FIELDS.get(c.field, c.field), c.official_before, c.official_now, c.value,
                         c.organisation)
            for c in index.conflicts.get(site.id, ())
        ]
        if closed:  # a closed site's other corrections wait, unapplied, until it reopens
            pending = not any(c.field == "status" and c.value == "closed" for c in stored)
        else:
            served_values = official_values(site)
            pending = {c.field for c in stored} != set(overridden) or any(
                not _same(c.field, served_values.get(c.field), c.value) for c in stored if c.field != "status"
            )
        views = field_views(site, overridden, stored)
        if added:  # the corrections file v1 gives an added site neither opening hours nor a state
            views = [v for v in views if v.field not in ADDED_SITE_LACKS]
        return SiteView(
            site=site, organisation=organisation, fields=views,
            conflicts=conflicts, referents=self.rooms.referents([site.id]).get(site.id, []), closed=closed,
            added=added, pending=pending,
        )

    # --- writing ----------------------------------------------------------------------------------------------

    def save(self, editor: Editor, served: Served, structure_id: str, form: Mapping[str, str]) -> int:
        """Apply a site's form; raises validation.Invalid (nothing written) on the first refused field."""
        view = self.site(editor, served, structure_id)
        values = {v.field: v for v in view.fields}
        changes: list[Change] = []
        for name in values:
            current = values[name]
            if _form_strings(name, current.value) == _submitted(name, form):
                continue  # untouched: never re-validate an official value the form merely shows
            new = self._parse(name, form)
            if _same(name, new, current.value):
                continue
            if _same(name, new, current.official):
                if current.corrected:
                    changes.append(Change(name, None, current.official, revert=True))
                continue
            changes.append(Change(name, new, current.official))
        status = next((c.value for c in changes if c.field == "status"), "open")
        moved_address = any(c.field == "address" for c in changes) or values["address"].corrected
        if status == "moved" and not moved_address:
            raise validation.Invalid("address", "indiquez la nouvelle adresse du site qui a déménagé")
        if view.added:
            return self._save_added(editor, view, changes)
        changed = self.rooms.apply(editor.email, view.organisation, view.site.id, changes)
        if changed:
            self.publisher.request()
        return changed

    def _save_added(self, editor: Editor, view: SiteView, changes: list[Change]) -> int:
        row = next(r for r in self.rooms.editor_sites() if r.id == view.site.id)
        data = dict(row.data)
        for change in changes:
            data.update(_site_data_of(change.field, None if change.revert else change.value))
        department = _department_of(data.get("commune_insee"), self.territory) or row.department
        self.rooms.update_site(editor.email, view.organisation, row.id, department, data)
        self.publisher.request()
        return len(changes)

    def _parse(self, name: str, form: Mapping[str, str]) -> Any:
        if name == "phone":
            return validation.phone("phone", form.get("phone"))
        if name == "email":
            return validation.email("email", form.get("email"))
        if name == "website":
            return validation.web_url("website", form.get("website"))
        if name == "address":
            street = validation.plain_text("address", form.get("address"))
            postcode = validation.postcode("postcode", form.get("postcode"))
            insee = validation.commune("commune_insee", form.get("commune_insee"), self.territory,
                                       required=bool(street or postcode))
            if not (street or postcode or insee):
                return None
            commune = self.territory.commune(insee) if insee else None
            return {"address": street, "postcode": postcode, "commune_insee": insee,
                    "commune": commune.name if commune else None}
        if name == "hours":
            days = validation.hours("hours", {d: form.get(f"hours_{d}", "") for d in WEEKDAYS})
            return [{"day": d, "hours": h} for d, h in days]
        if name == "served_communes":
            return list(validation.communes("served_communes", form.get("served_communes"), self.territory))
        if name == "offer":
            return validation.plain_text("offer", form.get("offer"), max_length=validation.OFFER_MAX)
        if name == "status":
            status = (form.get("status") or "open").strip()
            if status not in ("open", "moved", "closed"):
                raise validation.Invalid("status", "état inconnu")
            return status
        raise validation.Invalid(name, "champ inconnu")

    def verify(self, editor: Editor, served: Served, structure_id: str) -> None:
        view = self.site(editor, served, structure_id)
        self.rooms.verify(editor.email, view.organisation, view.site.id)
        self.publisher.request()

    def settle(self, editor: Editor, served: Served, structure_id: str, field: str, keep: bool) -> None:
        view = self.site(editor, served, structure_id)
        conflict = next((c for c in view.conflicts if c.field == field), None)
        if conflict is None:
            raise validation.Invalid("field", "aucun conflit sur ce champ")
        self.rooms.acknowledge(editor.email, view.organisation, view.site.id, field, conflict.official_now, keep)
        self.publisher.request()

    def add_site(self, editor: Editor, form: Mapping[str, str]) -> str:
        network = (form.get("network") or "").strip()
        if network not in NETWORK_IDS:
            raise validation.Invalid("network", "réseau inconnu")
        name = validation.plain_text("name", form.get("name"), required=True)
        address = self._parse("address", form)
        if address is None:
            raise validation.Invalid("commune_insee", "la commune du site est obligatoire")
        department = _department_of(address["commune_insee"], self.territory)
        if not editor.can_edit(network, department):
            raise ApiError(ErrorCode.EDITOR_FORBIDDEN, messages.EDITOR_FORBIDDEN)
        organisation = editor.organisation_for(network, department) or ""
        data: dict[str, Any] = {"name": name}
        for field in ("phone", "email", "website", "served_communes", "offer"):
            data.update(_site_data_of(field, self._parse(field, form)))
        data.update(_site_data_of("address", address))
        site_id = self.rooms.add_site(editor.email, organisation, network, department, data)
        self.publisher.request()
        return site_id

    def add_referent(self, editor: Editor, served: Served, structure_id: str, form: Mapping[str, str]) -> int:
        view = self.site(editor, served, structure_id)
        name = validation.plain_text("referent_name", form.get("referent_name"), required=True, max_length=120)
        role = validation.plain_text("referent_role", form.get("referent_role"), required=True, max_length=120)
        phone = validation.phone("referent_phone", form.get("referent_phone"))
        email = validation.email("referent_email", form.get("referent_email"))
        if phone is None and email is None:
            raise validation.Invalid("referent_phone", "un téléphone ou un courriel professionnel est obligatoire")
        topics = validation.plain_text("referent_topics", form.get("referent_topics"), max_length=300)
        consent = validation.consent_date("referent_consent", form.get("referent_consent"), self._today())
        if form.get("referent_agreed") != "oui":
            raise validation.Invalid("referent_agreed", "confirmez que la personne a donné son accord")
        assert name is not None and role is not None
        return self.rooms.add_referent(
            editor.email, view.organisation, view.site.id, name=name, role=role, phone=phone, email=email,
            topics=topics, consent_on=consent,
        )

    def remove_referent(self, editor: Editor, served: Served, referent_id: int) -> str:
        referent = self.rooms.referent(referent_id)
        if referent is None:
            raise ApiError(ErrorCode.UNKNOWN_REFERENT, messages.UNKNOWN_REFERENT)
        view = self.site(editor, served, referent.structure_id)
        self.rooms.remove_referent(editor.email, view.organisation, referent_id)
        return view.site.id

    # --- the queue --------------------------------------------------------------------------------------------

    def queue(self, editor: Editor, served: Served) -> Queue:
        index = served.runtime.index
        with self.store.engine.connect() as connection:
            rows = connection.execute(
                select(feedback.c.id, feedback.c.kind, feedback.c.reason, feedback.c.structure_id,
                       feedback.c.created_at)
                .where(feedback.c.resolved_at.is_(None), feedback.c.kind.in_(REPORT_KINDS),
                       feedback.c.structure_id.is_not(None))
                .order_by(feedback.c.id)
            ).all()
        reports: list[ReportItem] = []
        for row in rows:
            site = index.structures.get(row.structure_id)
            if site is None or not editor.can_edit(site.network, site.department):
                continue
            reports.append(ReportItem(int(row.id), site, row.kind, None, row.reason, row.created_at))
        details = self.rooms.report_details(r.feedback_id for r in reports)
        reports = [
            ReportItem(r.feedback_id, r.site, r.kind, details[r.feedback_id].field if r.feedback_id in details
                       else None, r.reason, r.created_at)
            for r in reports[:QUEUE_LIMIT]
        ]
        conflicts = []
        for conflict in (c for per_site in index.conflicts.values() for c in per_site):
            site = index.structures.get(conflict.structure_id) or index.withdrawn.get(conflict.structure_id)
            if site is not None and editor.can_edit(site.network, site.department):
                conflicts.append((site, ConflictView(
                    conflict.field, FIELDS.get(conflict.field, conflict.field), conflict.official_before,
                    conflict.official_now, conflict.value, conflict.organisation)))
        limit = self._today() - timedelta(days=UNVERIFIED_AFTER_DAYS)
        stale = [
            StaleItem(s, _freshest_day(s, index)) for s in index.structures.values()
            if s.reception and editor.can_edit(s.network, s.department)
            and ((day := _freshest_day(s, index)) is None or day < limit)
        ]
        stale.sort(key=lambda item: (item.freshest or date.min, item.site.name))
        return Queue(reports, conflicts, stale[:50], len(stale))

    def decide(self, editor: Editor, served: Served, feedback_id: int, outcome: str, reason: str | None) -> None:
        item = self.store.get_feedback(feedback_id)
        if item is None or item.kind not in REPORT_KINDS or item.structure_id is None:
            raise ApiError(ErrorCode.UNKNOWN_FEEDBACK, messages.UNKNOWN_FEEDBACK.format(value=feedback_id))
        site = served.runtime.index.structures.get(item.structure_id)
        if site is None:
            raise ApiError(ErrorCode.UNKNOWN_STRUCTURE, messages.UNKNOWN_STRUCTURE.format(value=item.structure_id))
        organisation = self._allowed(editor, site)
        if outcome not in ("fixed", "dismissed"):
            raise validation.Invalid("outcome", "choisissez « corrigé » ou « écarté »")
        text = validation.plain_text("reason", reason, required=True, max_length=300)
        assert text is not None
        decided: Outcome = "fixed" if outcome == "fixed" else "dismissed"
        self.rooms.decide_report(editor.email, organisation, feedback_id, site.id, decided, text)
        self.store.resolve_feedback(feedback_id)
        if decided == "fixed" and item.kind == "contact_errone":
            # The contact was checked and put right: earlier reports no longer mark it for counsellors.
            self.store.review_contact(site.id, "cleared")

    def history(self, editor: Editor, served: Served) -> list[AuditEntry]:
        ids = [s.id for s in self.sites(editor, served)]
        ids += [r.id for r in self.rooms.editor_sites() if editor.can_edit(r.network, r.department)]
        return self.rooms.history(ids)


def _freshest_day(site: Structure, index: KnowledgeIndex) -> date | None:
    """The day of the site's freshest information, as the answers' "vérifié le" / "à jour au" give it."""
    found = freshness(site, index)
    return date.fromisoformat(found.on) if found is not None else None


def _submitted(name: str, form: Mapping[str, str]) -> tuple[str, ...]:
    if name == "address":
        return tuple((form.get(k) or "").strip() for k in ("address", "postcode", "commune_insee"))
    if name == "hours":
        return tuple((form.get(f"hours_{d}") or "").strip() for d in WEEKDAYS)
    if name == "served_communes":
        return (" ".join((form.get(name) or "").replace(",", " ").split()),)
    if name == "status":
        return ((form.get(name) or "open").strip(),)
    return ((form.get(name) or "").strip(),)


def _form_strings(name: str, value: Any) -> tuple[str, ...]:
    """What the form shows for a value, in the shape `_submitted` reads it back."""
    if name == "address":
        value = value or {}
        return tuple(str(value.get(k) or "") for k in ("address", "postcode", "commune_insee"))
    if name == "hours":
        per_day = {h["day"]: h["hours"] for h in value or []}
        return tuple(per_day.get(d, "") for d in WEEKDAYS)
    if name == "served_communes":
        return (" ".join(value or []),)
    if name == "status":
        return (str(value or "open"),)
    return (str(value or "").strip(),)


def form_value(name: str, value: Any) -> dict[str, str]:
    """The inputs of a field, by input name, for the page."""
    strings = _form_strings(name, value)
    if name == "address":
        return dict(zip(("address", "postcode", "commune_insee"), strings, strict=True))
    if name == "hours":
        return {f"hours_{d}": s for d, s in zip(WEEKDAYS, strings, strict=True)}
    return {name: strings[0]}


def _same(name: str, a: Any, b: Any) -> bool:
    if name == "phone":
        return "".join(ch for ch in str(a or "") if ch.isdigit()) == "".join(ch for ch in str(b or "") if ch.isdigit())
    if name in ("email", "website"):
        return str(a or "").strip().lower() == str(b or "").strip().lower()
    if name == "address":
        a, b = a or {}, b or {}
        return all(str(a.get(k) or "") == str(b.get(k) or "") for k in ("address", "postcode", "commune_insee"))
    return bool(a == b or (not a and not b))


def _department_of(insee: str | None, territory: Territory) -> str | None:
    commune = territory.commune(insee) if insee else None
    return commune.department if commune else None


def _site_data_of(field: str, value: Any) -> dict[str, Any]:
    """An added site's data keys (the `sites` entries of the corrections file) for one form field."""
    if field == "address":
        value = value or {}
        return {k: value.get(k) for k in ("address", "postcode", "commune_insee", "commune")}
    if field == "hours":
        return {"hours": value or []}
    if field == "served_communes":
        return {"served_communes": value or []}
    if field == "status":
        return {}
    return {field: value}


def _site_of_row(row: EditorSiteRow, territory: Territory) -> Structure:
    """An added site not yet in the served version, as a record (for its page)."""
    data = row.data
    name = str(data.get("name") or row.id)
    contact = Contact(
        label=name, phone=data.get("phone"), email=data.get("email"), url=data.get("website"),
        address=data.get("address"), postcode=data.get("postcode"), commune=data.get("commune"),
        department=row.department, hours=tuple(DayHours(**h) for h in data.get("hours") or []),
        source_id=f"editeurs:{row.id}", as_of=row.edited_on,
    )
    offer = (Section(heading=OFFER_HEADING, text=data["offer"]),) if data.get("offer") else ()
    return Structure(
        id=row.id, name=name, network=cast(NetworkId, row.network), address=data.get("address"),
        postcode=data.get("postcode"),
        commune_insee=data.get("commune_insee"), commune=data.get("commune"), department=row.department,
        serves=ServedTerritory(communes=tuple(data.get("served_communes") or ())), contacts=(contact,),
        offer=offer, source_id=f"editeurs:{row.id}",
    )
