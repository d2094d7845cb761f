"""What changed between two index versions: dispositifs and offers added, removed or rewritten (with the changed
passages), sites opened, closed or whose contact changed. A pure diff over records; the changelog of every
published version is kept beside the index (`changes/`), so that the digest of a period outlives pruned versions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from knowledge.model import Contact, Dispositif, Network, Section, Structure

Kind = Literal["network", "dispositif", "structure"]
Change = Literal["added", "removed", "rewritten", "contact_changed"]
# Contact fields a counsellor reads; a change of any of them is a "contact_changed".
CONTACT_FIELDS = ("phone", "email", "address", "postcode", "commune", "url", "hours")
CHANGELOG_DIR = "changes"


@dataclass(frozen=True)
class PassageChange:
    """One section of a sheet: its text before and after (empty when it was added or removed)."""

    heading: str
    before: str
    after: str


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Entry:
    """One record that changed, with what a digest needs to place it: its network(s) and department(s)."""

    kind: Kind
    record_id: str
    title: str
    change: Change
    networks: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    passages: tuple[PassageChange, ...] = ()
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class ChangeSet:
    """The changes a version brought, against the version it replaced (None for the first one)."""

    version: str
    previous: str | None
    published_at: datetime
    entries: tuple[Entry, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        data = asdict(self)
        data["published_at"] = self.published_at.isoformat()
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> ChangeSet:
        data = json.loads(text)
        return cls(
            version=data["version"],
            previous=data["previous"],
            published_at=datetime.fromisoformat(data["published_at"]),
            entries=tuple(_entry(e) for e in data["entries"]),
        )


def diff(
    before_networks: Sequence[Network],
    before_dispositifs: Sequence[Dispositif],
    before_structures: Sequence[Structure],
    after_networks: Sequence[Network],
    after_dispositifs: Sequence[Dispositif],
    after_structures: Sequence[Structure],
) -> tuple[Entry, ...]:
    """Every record added, removed or changed, networks and dispositifs first, then sites, in a stable order."""
    return (
        *_sheets("network", before_networks, after_networks),
        *_sheets("dispositif", before_dispositifs, after_dispositifs),
        *_sites(before_structures, after_structures),
    )


Sheet = Network | Dispositif


def _sheets(kind: Kind, before: Sequence[Sheet], after: Sequence[Sheet]) -> Iterator[Entry]:
    old = {r.id: r for r in before}
    new = {r.id: r for r in after}
    for record_id in sorted(old.keys() | new.keys()):
        was, now = old.get(record_id), new.get(record_id)
        record = now or was
        assert record is not None
        title = record.title if isinstance(record, Dispositif) else record.name
        networks = tuple(record.operators) if isinstance(record, Dispositif) else (record.id,)
        if was is None or now is None:
            change: Change = "added" if was is None else "removed"
            yield Entry(kind, record_id, title, change, networks, passages=_passages((), record.sections)
                        if was is None else ())
            continue
        summary = () if was.summary == now.summary else (PassageChange("Résumé", was.summary, now.summary),)
        passages = (*summary, *_passages(was.sections, now.sections))
        if passages:
            yield Entry(kind, record_id, title, "rewritten", networks, passages=passages)


def _passages(before: Iterable[Section], after: Iterable[Section]) -> tuple[PassageChange, ...]:
    """The sections whose text differs, matched by heading (a renamed section is one removed, one added)."""
    old = {s.heading: s.text for s in before}
    new = {s.heading: s.text for s in after}
    headings = [*new, *(h for h in old if h not in new)]
    return tuple(
        PassageChange(h, old.get(h, ""), new.get(h, "")) for h in headings if old.get(h, "") != new.get(h, "")
    )


def _sites(before: Sequence[Structure], after: Sequence[Structure]) -> Iterator[Entry]:
    old = {s.id: s for s in before}
    new = {s.id: s for s in after}
    for site_id in sorted(old.keys() | new.keys()):
        was, now = old.get(site_id), new.get(site_id)
        site = now or was
        assert site is not None
        departments = (site.department,) if site.department else ()
        if was is None or now is None:
            yield Entry("structure", site_id, site.name, "added" if was is None else "removed", (site.network,),
                        departments)
            continue
        fields = _contact_changes(was.contacts, now.contacts)
        if was.address != now.address:
            fields = (FieldChange("address", was.address or "", now.address or ""), *fields)
        offer = _passages(was.offer, now.offer)
        if fields:
            yield Entry("structure", site_id, site.name, "contact_changed", (site.network,), departments,
                        passages=offer, fields=fields)
        elif offer:
            yield Entry("structure", site_id, site.name, "rewritten", (site.network,), departments, passages=offer)


def _contact_changes(before: Sequence[Contact], after: Sequence[Contact]) -> tuple[FieldChange, ...]:
    """Fields of the site's contacts, compared in order (the first contact is the site's own)."""
    changes: list[FieldChange] = []
    for position in range(max(len(before), len(after))):
        was = before[position] if position < len(before) else None
        now = after[position] if position < len(after) else None
        for name in CONTACT_FIELDS:
            old, new = _shown(was, name), _shown(now, name)
            if old != new:
                changes.append(FieldChange(name, old, new))
    return tuple(changes)


def _shown(contact: Contact | None, name: str) -> str:
    if contact is None:
        return ""
    value = getattr(contact, name)
    if name == "hours":
        return " ; ".join(f"{h.day} : {h.hours}" for h in value)
    return str(value or "")


def _entry(data: dict[str, Any]) -> Entry:
    return Entry(
        kind=data["kind"],
        record_id=data["record_id"],
        title=data["title"],
        change=data["change"],
        networks=tuple(data["networks"]),
        departments=tuple(data["departments"]),
        passages=tuple(PassageChange(**p) for p in data["passages"]),
        fields=tuple(FieldChange(**f) for f in data["fields"]),
    )


def write_changes(root: Path, changes: ChangeSet) -> Path:
    """Keep a version's changes under `root/changes/` (never pruned with the versions)."""
    directory = root / CHANGELOG_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{changes.version}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(changes.to_json(), encoding="utf-8")
    tmp.replace(path)
    return path


def read_changes(root: Path) -> list[ChangeSet]:
    """The changelog of every published version, oldest first."""
    directory = root / CHANGELOG_DIR
    if not directory.is_dir():
        return []
    sets = [ChangeSet.from_json(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]
    return sorted(sets, key=lambda s: s.published_at)


@dataclass(frozen=True)
class Digest:
    """The changes of a period, grouped as counsellors read them: by network, and the sites by department."""

    since: datetime
    until: datetime
    by_network: tuple[tuple[str, tuple[Entry, ...]], ...]
    by_department: tuple[tuple[str, tuple[Entry, ...]], ...]

    @property
    def empty(self) -> bool:
        return not self.by_network


def digest(
    changesets: Iterable[ChangeSet],
    since: datetime,
    until: datetime,
    *,
    departments: Iterable[str] = (),
    networks: Iterable[str] = (),
) -> Digest:
    """The entries of the versions published in [since, until), the latest change of each record kept; a site
    outside the chosen departments, or a record of none of the chosen networks, is left out."""
    wanted_departments, wanted_networks = frozenset(departments), frozenset(networks)
    sets = [c for c in changesets if since <= c.published_at < until]
    latest: dict[tuple[str, str], Entry] = {}
    for changes in sorted(sets, key=lambda c: c.published_at):
        for entry in changes.entries:
            latest.pop((entry.kind, entry.record_id), None)
            latest[(entry.kind, entry.record_id)] = entry
    kept = [
        e for e in latest.values()
        if (not wanted_networks or wanted_networks & set(e.networks))
        and (not wanted_departments or e.kind != "structure" or wanted_departments & set(e.departments))
    ]
    by_network: dict[str, list[Entry]] = {}
    by_department: dict[str, list[Entry]] = {}
    for entry in kept:
        by_network.setdefault(entry.networks[0] if entry.networks else "", []).append(entry)
        for department in entry.departments:
            by_department.setdefault(department, []).append(entry)
    return Digest(
        since=since,
        until=until,
        by_network=tuple((n, tuple(by_network[n])) for n in sorted(by_network)),
        by_department=tuple((d, tuple(by_department[d])) for d in sorted(by_department)),
    )
