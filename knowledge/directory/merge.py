"""One site, many sources: records of the same site become one Structure, the freshest value of each field
winning, each field keeping the source and date it came from.

Two records are the same site when they share an id, share a cross-source identifier (a SAFIR code, a UNML
code), or belong to the same network in the same commune and are each other's only candidate there, or
clearly the same by name or address. Two records of one source are never merged: the source says they are
two sites.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from rapidfuzz import fuzz

from knowledge.model import Contact, DirectoryField, FieldOrigin, Section, Source, Structure, contact_label
from knowledge.territory import fold

# rapidfuzz token_set_ratio above which two names (or addresses) in the same commune are the same site.
SAME_SITE_SIMILARITY = 85
# Words every site name of a network shares: they make any two names look alike.
_GENERIC = frozenset(
    """
    mission locale missions locales pour l insertion professionnelle et sociale des jeunes ans de la le les du
    d en point information jeunesse bureau centre info jeunes france services espace maison cio ml mlj pij bij
    antenne agence site permanence
    """.split()
)


@dataclass(frozen=True)
class MergedSite:
    """A site built from several records: which ones, for the build report."""

    id: str
    name: str
    members: tuple[str, ...]


def merge_sites(
    structures: Sequence[Structure], sources: Mapping[str, Source]
) -> tuple[list[Structure], list[MergedSite]]:
    """The structures with every site seen in several records merged into one, in first-seen order."""
    groups = _group(structures)
    merged: list[Structure] = []
    report: list[MergedSite] = []
    for members in groups:
        records = [structures[i] for i in members]
        unique = list({r.id: r for r in records}.values())
        if len(unique) == 1:
            merged.append(_freshest_copy(records))
            continue
        site = _merge(unique, sources)
        merged.append(site)
        report.append(MergedSite(site.id, site.name, tuple(r.id for r in unique)))
    return merged, report


def _freshest_copy(records: list[Structure]) -> Structure:
    """The same id loaded twice (the embedded copy and the raw file): the one with the freshest contact."""
    return max(records, key=lambda r: max(r.contacts[0].dates(), default=date.min) if r.contacts else date.min)


def _group(structures: Sequence[Structure]) -> list[list[int]]:
    parent = list(range(len(structures)))
    group_sources: dict[int, set[str]] = {i: {s.source_id} for i, s in enumerate(structures)}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int, same_id: bool = False) -> None:
        ra, rb = find(a), find(b)
        if ra == rb:
            return
        # Never two records of one source in one site (except the very same record seen twice).
        if not same_id and group_sources[ra] & group_sources[rb]:
            return
        parent[rb] = ra
        group_sources[ra] |= group_sources.pop(rb)

    # The same id first (one record loaded twice), then shared codes, then same commune.
    first_of: dict[str, int] = {}
    for i, site in enumerate(structures):
        union(first_of.setdefault(site.id, i), i, same_id=True)
    by_code: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in first_of.values():
        for identifier in structures[i].identifiers:
            by_code[(structures[i].network, identifier)].append(i)
    for indices in by_code.values():
        for other in indices[1:]:
            union(indices[0], other)

    by_place: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in first_of.values():
        site = structures[i]
        if site.commune_insee:
            by_place[(site.network, site.commune_insee)].append(i)
    for indices in by_place.values():
        by_source: dict[str, list[int]] = defaultdict(list)
        for i in indices:
            by_source[structures[i].source_id].append(i)
        names = sorted(by_source)
        for a_pos, a_source in enumerate(names):
            for b_source in names[a_pos + 1 :]:
                for a, b in _pairs(by_source[a_source], by_source[b_source], structures):
                    union(a, b)

    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(structures)):
        groups[find(i)].append(i)
    return sorted(groups.values(), key=lambda members: members[0])


def _pairs(left: list[int], right: list[int], structures: Sequence[Structure]) -> list[tuple[int, int]]:
    """Records of two sources in one commune that are the same site."""
    if len(left) == 1 and len(right) == 1:
        return [(left[0], right[0])]
    pairs: list[tuple[int, int]] = []
    taken: set[int] = set()
    for a in left:
        scored = sorted(((_similarity(structures[a], structures[b]), b) for b in right if b not in taken), reverse=True)
        if scored and scored[0][0] >= SAME_SITE_SIMILARITY and (len(scored) == 1 or scored[1][0] < scored[0][0]):
            pairs.append((a, scored[0][1]))
            taken.add(scored[0][1])
    return pairs


def _similarity(a: Structure, b: Structure) -> float:
    names = fuzz.token_set_ratio(_distinctive(a.name), _distinctive(b.name))
    addresses = fuzz.token_set_ratio(fold(a.address or ""), fold(b.address or "")) if a.address and b.address else 0
    phones = 100.0 if _phone(a) and _phone(a) == _phone(b) else 0.0
    return max(names, addresses, phones)


def _distinctive(name: str) -> str:
    return " ".join(w for w in re.split(r"[^\w]+", fold(name)) if w and w not in _GENERIC)


def _phone(site: Structure) -> str | None:
    return site.contacts[0].phone if site.contacts else None


@dataclass(frozen=True)
class _Candidate:
    value: Any
    as_of: date | None
    source_id: str


def _field_date(record: Structure, field: DirectoryField) -> tuple[date | None, str]:
    contact = record.contacts[0] if record.contacts else None
    if contact is None:
        return None, record.source_id
    for origin in contact.origins:
        if origin.field == field:
            return origin.as_of, origin.source_id
    return contact.as_of, contact.source_id


_EXTRACTORS: dict[DirectoryField, Callable[[Structure, Contact | None], Any]] = {
    "name": lambda s, c: s.name,
    # An address counts only with its commune code: it places the site on the territory.
    "address": lambda s, c: (
        (s.address, s.postcode, s.commune, s.commune_insee, s.department) if s.commune_insee else None
    ),
    "phone": lambda s, c: (c.phone, c.phone_note) if c is not None and c.phone else None,
    "email": lambda s, c: (c.email, c.email_possibly_personal) if c is not None and c.email else None,
    "website": lambda s, c: c.url if c is not None and c.url else None,
    "hours": lambda s, c: c.hours if c is not None and c.hours else None,
    "coordinates": lambda s, c: (s.latitude, s.longitude) if s.latitude is not None else None,
    "served_area": lambda s, c: s.serves if (s.serves.communes or s.serves.epcis or s.serves.departments) else None,
}


def _best(records: list[Structure], field: DirectoryField) -> _Candidate | None:
    best: _Candidate | None = None
    for record in records:  # primary first: it wins ties
        value = _EXTRACTORS[field](record, record.contacts[0] if record.contacts else None)
        if value is None:
            continue
        as_of, source_id = _field_date(record, field)
        if best is None or (as_of is not None and (best.as_of is None or as_of > best.as_of)):
            best = _Candidate(value, as_of, source_id)
    return best


def _merge(records: list[Structure], sources: Mapping[str, Source]) -> Structure:
    # The id stays that of the oldest source, so that adding a fresher source never renames a known site.
    def age(record: Structure) -> tuple[date, str]:
        source = sources.get(record.source_id)
        return (source.as_of if source and source.as_of else date.max), record.id

    records = sorted(records, key=age)
    primary = records[0]
    chosen = {field: _best(records, field) for field in _EXTRACTORS}
    origins = tuple(
        FieldOrigin(field=field, source_id=candidate.source_id, as_of=candidate.as_of)
        for field, candidate in chosen.items()
        if candidate is not None
    )
    name = chosen["name"].value if chosen["name"] else primary.name
    street, postcode, commune, insee, department = (
        chosen["address"].value
        if chosen["address"]
        else (primary.address, primary.postcode, primary.commune, primary.commune_insee, primary.department)
    )
    phone, phone_note = chosen["phone"].value if chosen["phone"] else (None, None)
    email, personal = chosen["email"].value if chosen["email"] else (None, False)
    latitude, longitude = chosen["coordinates"].value if chosen["coordinates"] else (None, None)
    freshest = max(
        (c for c in chosen.values() if c is not None and c.as_of is not None),
        key=lambda c: c.as_of or date.min,
        default=None,
    )
    contact = Contact(
        label=contact_label(name, phone, phone_note),
        phone=phone,
        phone_note=phone_note,
        email=email,
        email_possibly_personal=personal,
        address=street,
        postcode=postcode,
        commune=commune,
        department=department,
        url=chosen["website"].value if chosen["website"] else None,
        hours=chosen["hours"].value if chosen["hours"] else (),
        source_id=freshest.source_id if freshest else primary.source_id,
        as_of=freshest.as_of if freshest else None,
        origins=origins,
    )
    extra_contacts = tuple(c for r in records for c in r.contacts[1:])
    offer: dict[tuple[str, str], Section] = {}
    for record in records:
        for section in record.offer:
            offer.setdefault((section.heading, section.text), section)
    return Structure(
        id=primary.id,
        name=name,
        network=primary.network,
        typology=next((r.typology for r in records if r.typology), None),
        address=street,
        postcode=postcode,
        commune_insee=insee,
        commune=commune,
        department=department,
        serves=chosen["served_area"].value if chosen["served_area"] else primary.serves,
        latitude=latitude,
        longitude=longitude,
        reception=all(r.reception for r in records),
        identifiers=tuple(dict.fromkeys(i for r in records for i in r.identifiers)),
        contacts=(contact, *extra_contacts),
        offer=tuple(offer.values()),
        source_id=primary.source_id,
        sources=tuple(dict.fromkeys(s for r in records for s in (r.source_id, *r.sources))),
    )
