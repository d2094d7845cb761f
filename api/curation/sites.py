"""A site as an editor sees it: each editable field's current value, the official value under it, its conflicts.

Pure: reads a served index's records and the stored corrections, writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from knowledge.model import Structure

# The fields an editor may change, in the order of the form, with their French labels.
FIELDS: dict[str, str] = {
    "phone": "Téléphone",
    "email": "Courriel",
    "website": "Site internet",
    "address": "Adresse",
    "hours": "Horaires",
    "served_communes": "Communes desservies",
    "offer": "Offre du site",
    "status": "État du site",
}
OFFER_HEADING = "Offre du site"
STATUS_LABELS = {"open": "ouvert", "moved": "a déménagé", "closed": "fermé"}
# A site whose freshest information is older than this is listed in the queue, to be verified.
UNVERIFIED_AFTER_DAYS = 365


def official_values(site: Structure) -> dict[str, Any]:
    """The JSON value of each editable field, as the served record has it (the contract of the corrections file)."""
    contact = site.contacts[0] if site.contacts else None
    offer = next((s.text for s in site.offer if s.heading == OFFER_HEADING), None)
    address = None
    if site.address or site.commune_insee:
        address = {
            "address": site.address, "postcode": site.postcode, "commune_insee": site.commune_insee,
            "commune": site.commune,
        }
    return {
        "phone": contact.phone if contact else None,
        "email": contact.email if contact else None,
        "website": contact.url if contact else None,
        "address": address,
        "hours": [{"day": h.day, "hours": h.hours} for h in contact.hours] if contact else [],
        "served_communes": list(site.serves.communes),
        "offer": offer,
        "status": "open",
    }


@dataclass(frozen=True)
class FieldView:
    field: str
    label: str
    value: Any
    official: Any
    corrected: bool
    by: str | None = None
    on: date | None = None


@dataclass(frozen=True)
class ConflictView:
    field: str
    label: str
    official_before: Any
    official_now: Any
    value: Any
    organisation: str


def field_views(site: Structure, overridden: Mapping[str, Any], corrections: Iterable[Any]) -> list[FieldView]:
    """`overridden`: field -> the official value now under a correction applied by the served build;
    `corrections`: the stored ones (newer than the served build when a re-index is under way)."""
    served = official_values(site)
    stored = {c.field: c for c in corrections}
    views = []
    for name, label in FIELDS.items():
        official = overridden.get(name, served[name])
        correction = stored.get(name)
        if correction is None:
            views.append(FieldView(name, label, official, official, False))
        else:
            views.append(FieldView(name, label, correction.value, official, True, correction.organisation,
                                   correction.edited_on))
    return views


def display(field: str, value: Any) -> str:
    """A field's value in French, as the editors' pages show it."""
    if value is None or value == [] or value == "":
        return "(vide)"
    if field == "address" and isinstance(value, dict):
        return ", ".join(str(value[k]) for k in ("address", "postcode", "commune") if value.get(k)) or "(vide)"
    if field == "hours" and isinstance(value, list):
        return " ; ".join(f"{h.get('day')} : {h.get('hours')}" for h in value if isinstance(h, dict))
    if field == "served_communes" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field == "status":
        return STATUS_LABELS.get(str(value), str(value))
    return str(value)
