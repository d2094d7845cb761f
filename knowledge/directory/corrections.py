"""The structures' own corrections, a layer above the official data: applied at every build, so that they
survive each re-import, and compared with what the editor saw, so that an official change under a
correction is shown to the editors as a conflict instead of being silently hidden.

The values follow the corrections file (`ingest/sources/corrections.py`): `phone`, `email`, `website` a
string or null; `address` a Place or null (null removes the street address, the commune stays); `hours` a
list of DayHours; `served_communes` a list of INSEE codes, the whole served area (the official EPCIs and
departments go); `offer` the text of the site's "Offre du site" section; `status` "open", "closed" (the site
leaves the answers) or "moved" (only with an address correction, which carries the new place). Contact fields
change the site's first contact, each with a FieldOrigin naming the editors' source and date.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TypeAlias

from pydantic import Field, JsonValue, TypeAdapter, ValidationError, ValidationInfo, field_validator

from knowledge.model import (
    WEEKDAYS,
    Contact,
    DayHours,
    DirectoryField,
    FieldOrigin,
    Record,
    Section,
    ServedTerritory,
    Source,
    Structure,
    Verified,
    contact_label,
)
from knowledge.referentials import DEPARTMENTS, NetworkId
from knowledge.territory import fold

CorrectedField = Literal["phone", "email", "website", "address", "hours", "served_communes", "offer", "status"]
# "site": the corrected site is no longer in the official data (official_now is then null).
ConflictField = Literal[CorrectedField, "site"]
SiteStatus = Literal["open", "closed", "moved"]

# The heading of the section an editor writes in Structure.offer; the official sections are kept.
OFFER_HEADING = "Offre du site"
EDITORS_PREFIX = "editeurs:"

_INSEE = re.compile(r"\d[\dAB]\d{3}")
_POSTCODE = re.compile(r"\d{5}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_ORIGIN_OF: dict[CorrectedField, DirectoryField] = {
    "phone": "phone",
    "email": "email",
    "website": "website",
    "address": "address",
    "hours": "hours",
    "served_communes": "served_area",
}


class Place(Record):
    """Where a site stands, as an editor gives it; the commune places it on the territory."""

    address: str | None = None
    postcode: str | None = None
    commune_insee: str
    commune: str = Field(min_length=1)

    @field_validator("commune_insee")
    @classmethod
    def _regional_commune(cls, value: str) -> str:
        return _check_insee(value, regional=True)

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        return _check_postcode(value)

    @property
    def department(self) -> str:
        return department_of(self.commune_insee)


CorrectionValue: TypeAlias = str | Place | tuple[DayHours, ...] | tuple[str, ...] | None

_NULLABLE_TEXT: TypeAdapter[str | None] = TypeAdapter(str | None)
_PLACE: TypeAdapter[Place | None] = TypeAdapter(Place | None)
_HOURS: TypeAdapter[tuple[DayHours, ...]] = TypeAdapter(tuple[DayHours, ...])
_CODES: TypeAdapter[tuple[str, ...]] = TypeAdapter(tuple[str, ...])
_STATUS: TypeAdapter[SiteStatus] = TypeAdapter(SiteStatus)


class Correction(Record):
    """One field of one official site as its editors set it; `official_before` is the official value they saw
    then, kept as the file gives it (an official value need not pass the checks an editor's value does)."""

    structure_id: str = Field(min_length=1)
    field: CorrectedField
    value: CorrectionValue = Field(description="Always given; null only where the field allows it")
    official_before: JsonValue = None
    organisation: str = Field(min_length=1)
    on: date

    @field_validator("value", mode="before")
    @classmethod
    def _shaped_for_field(cls, value: Any, info: ValidationInfo) -> CorrectionValue:
        field = info.data.get("field")
        if field is None:
            raise ValueError("champ inconnu")
        return _value(field, value)


class Verification(Record):
    """An editor confirmed that an official site's information is right, as of `on`."""

    structure_id: str = Field(min_length=1)
    organisation: str = Field(min_length=1)
    on: date


class EditorSite(Record):
    """A site the official data lacks, added by the editors of its network."""

    id: str = Field(min_length=1)
    network: NetworkId
    name: str = Field(min_length=1)
    address: str | None = None
    postcode: str | None = None
    commune_insee: str
    commune: str = Field(min_length=1)
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    offer: str | None = None
    served_communes: tuple[str, ...] = ()
    organisation: str = Field(min_length=1)
    on: date

    @field_validator("commune_insee")
    @classmethod
    def _regional_commune(cls, value: str) -> str:
        return _check_insee(value, regional=True)

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        return _check_postcode(value)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> str | None:
        return _check_phone(_NULLABLE_TEXT.validate_python(value))

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str | None:
        return _check_email(_NULLABLE_TEXT.validate_python(value))

    @field_validator("website", mode="before")
    @classmethod
    def _website(cls, value: Any) -> str | None:
        return _check_website(_NULLABLE_TEXT.validate_python(value))

    @field_validator("served_communes", mode="before")
    @classmethod
    def _communes(cls, value: Any) -> tuple[str, ...]:
        return _check_communes(_CODES.validate_python(value))


class Corrections(Record):
    """Everything the editors have set, as exported by the editors' pages."""

    corrections: tuple[Correction, ...] = ()
    verifications: tuple[Verification, ...] = ()
    sites: tuple[EditorSite, ...] = ()


class Conflict(Record):
    """An official value that changed under a correction since the editor saw it (still overridden)."""

    structure_id: str
    field: ConflictField
    official_before: JsonValue = None
    official_now: JsonValue = None
    value: JsonValue = None
    organisation: str
    on: date


class Overridden(Record):
    """The official value now under an applied correction, for the editors' page."""

    structure_id: str
    field: CorrectedField
    official: JsonValue = None


@dataclass(frozen=True)
class Applied:
    """The official structures with the corrections applied, and what the editors need to see."""

    structures: tuple[Structure, ...]
    withdrawn: tuple[Structure, ...] = ()
    overridden: tuple[Overridden, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    sources: tuple[Source, ...] = ()
    problems: tuple[str, ...] = ()


def apply_corrections(structures: Sequence[Structure], corrections: Corrections) -> Applied:
    """The structures as their editors corrected them: the same input always gives the same output.

    An editor's value wins over the official one; when the official value now differs from the one the
    editor saw (and from the editor's), a Conflict says so. A closed site leaves the structures for
    `withdrawn`, unchanged; sites the editors added come last, sorted by id. Corrections apply to official
    sites only: an editor site is corrected in its own record.
    """
    official = {s.id: s for s in structures}
    problems: list[str] = []
    sites = _editor_sites(corrections.sites, official, problems)
    editor_ids = {s.id for s in sites}
    by_site = _latest_per_field(corrections.corrections, problems)
    checks: dict[str, list[Verification]] = defaultdict(list)
    for verification in sorted(corrections.verifications, key=lambda v: (v.structure_id, v.on, v.organisation)):
        checks[verification.structure_id].append(verification)

    conflicts: list[Conflict] = []
    for site_id in sorted((by_site.keys() | checks.keys()) - official.keys()):
        dated = [(c.on, c.organisation) for c in by_site.get(site_id, {}).values()]
        dated += [(v.on, v.organisation) for v in checks.get(site_id, [])]
        on, organisation = max(dated)
        if site_id in editor_ids:
            problems.append(f"site « {site_id} » ajouté par les éditeurs : corrigez le site lui-même, "
                            "ses corrections séparées sont ignorées")
            continue
        problems.append(f"site « {site_id} » absent des données officielles : ses corrections ne s'appliquent plus")
        conflicts.append(Conflict(structure_id=site_id, field="site", organisation=organisation, on=on))

    kept: list[Structure] = []
    withdrawn: list[Structure] = []
    overridden: list[Overridden] = []
    for structure in structures:
        fields = by_site.get(structure.id, {})
        verified = checks.get(structure.id, [])
        if not fields and not verified:
            kept.append(structure)
            continue
        applied = _applicable(structure, fields, problems)
        closed = any(c.field == "status" and c.value == "closed" for c in applied)
        if closed:  # the rest waits, unapplied, for the site to reopen
            applied = [c for c in applied if c.field == "status"]
        for correction in applied:
            now = official_value(structure, correction.field)
            overridden.append(Overridden(structure_id=structure.id, field=correction.field, official=now))
            conflict = _conflict(correction, now)
            if conflict is not None:
                conflicts.append(conflict)
        if closed:
            withdrawn.append(structure)
        else:
            kept.append(_corrected(structure, applied, verified, problems))

    kept.extend(sites)
    return Applied(
        structures=tuple(kept),
        withdrawn=tuple(sorted(withdrawn, key=lambda s: s.id)),
        overridden=tuple(sorted(overridden, key=lambda o: (o.structure_id, o.field))),
        conflicts=tuple(sorted(conflicts, key=lambda c: (c.structure_id, c.field))),
        sources=_sources(corrections),
        problems=tuple(problems),
    )


def official_value(structure: Structure, field: CorrectedField) -> JsonValue:
    """A field of an official site in the shape of the corrections file (what an editor is shown)."""
    contact = structure.contacts[0] if structure.contacts else None
    if field == "phone":
        return contact.phone if contact is not None else None
    if field == "email":
        return contact.email if contact is not None else None
    if field == "website":
        return contact.url if contact is not None else None
    if field == "address":
        if structure.commune_insee is None or structure.commune is None:
            return None
        return {
            "address": structure.address,
            "postcode": structure.postcode,
            "commune_insee": structure.commune_insee,
            "commune": structure.commune,
        }
    if field == "hours":
        return [{"day": h.day, "hours": h.hours} for h in contact.hours] if contact is not None else []
    if field == "served_communes":
        return list(structure.serves.communes)
    if field == "offer":
        return next((s.text for s in structure.offer if s.heading == OFFER_HEADING), None)
    return "open"


def normalised(field: CorrectedField, value: JsonValue) -> JsonValue:
    """The form two values of a field are compared in: what a reader would not call a change is equal."""
    if field == "status":
        return value or "open"
    if isinstance(value, str):
        text = " ".join(value.split())
        if field == "phone":
            text = _phone_digits(text)
        elif field == "email":
            text = text.lower()
        elif field == "website":
            text = text.lower().rstrip("/")
        return text or None
    if isinstance(value, dict):
        parts = [value.get(k) for k in ("address", "postcode", "commune_insee", "commune")]
        folded: list[JsonValue] = [(" ".join(fold(p).split()) or None) if isinstance(p, str) else None for p in parts]
        return folded if any(folded) else None
    if isinstance(value, list):
        if field == "hours":
            days = [(d.get("day"), "".join(str(d.get("hours", "")).split())) for d in value if isinstance(d, dict)]
            items: list[JsonValue] = [f"{day}={hours}" for day, hours in sorted(days, key=_weekday_order)]
        else:
            items = [*sorted({str(code).strip().upper() for code in value})]
        return items or None
    return value


def department_of(insee: str) -> str:
    """The department of a commune code: its first two characters, three overseas."""
    return insee[:3] if insee.startswith("97") else insee[:2]


def editors_source_id(organisation: str) -> str:
    """The source id of an organisation's corrections: 'editeurs:cap-emploi-savoie'."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(organisation)).strip("-")
    return f"{EDITORS_PREFIX}{slug or 'sans-nom'}"


# --- validation of the values --------------------------------------------------------------------------------


def _value(field: CorrectedField, raw: Any) -> CorrectionValue:
    """An editor's value, checked for its field: a malformed one refuses the whole correction."""
    if field in ("phone", "email", "website"):
        text = _NULLABLE_TEXT.validate_python(raw)
        check = {"phone": _check_phone, "email": _check_email, "website": _check_website}[field]
        return check(text)
    if field == "address":
        return _PLACE.validate_python(raw)
    if field == "hours":
        return _HOURS.validate_python(raw)
    if field == "served_communes":
        return _check_communes(_CODES.validate_python(raw))
    if field == "offer":
        text = (_NULLABLE_TEXT.validate_python(raw) or "").strip()
        if not text:
            raise ValueError("offre vide")
        return text
    return _STATUS.validate_python(raw)


def _check_postcode(value: str | None) -> str | None:
    if value is not None and not _POSTCODE.fullmatch(value):
        raise ValueError(f"code postal invalide : {value[:10]}")
    return value


def _check_phone(value: str | None) -> str | None:
    """A French number written "04 79 60 00 00", or a short number ("3949")."""
    if value is None or not value.strip():
        return None
    digits = _phone_digits(value)
    if re.fullmatch(r"0\d{9}", digits):
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    if re.fullmatch(r"[13]\d{3}", digits) and digits == re.sub(r"\s", "", value):
        return digits
    raise ValueError(f"numéro de téléphone invalide : {value[:20]}")


def _check_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not _EMAIL.fullmatch(value.strip()):
        raise ValueError("adresse électronique invalide")
    return value.strip()


def _check_website(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    url = value.strip()
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in ("http", "https") or "." not in rest.split("/")[0] or any(c.isspace() for c in url):
        raise ValueError("lien web invalide (http ou https)")
    return url


def _check_insee(value: str, regional: bool) -> str:
    code = value.strip().upper()
    if not _INSEE.fullmatch(code):
        raise ValueError(f"code commune INSEE invalide : {value[:10]}")
    if regional and department_of(code) not in DEPARTMENTS:
        raise ValueError(f"commune hors Auvergne-Rhône-Alpes : {code}")
    return code


def _check_communes(codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({_check_insee(code, regional=False) for code in codes}))


def _phone_digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+33") or digits.startswith("0033"):
        national = digits.removeprefix("00").removeprefix("33")
        return national if len(national) == 10 else "0" + national
    return digits


def _weekday_order(day: tuple[Any, str]) -> tuple[int, str]:
    return (WEEKDAYS.index(day[0]) if day[0] in WEEKDAYS else len(WEEKDAYS), day[1])


# --- application ---------------------------------------------------------------------------------------------


def _latest_per_field(corrections: Iterable[Correction], problems: list[str]) -> dict[str, dict[str, Correction]]:
    """One correction per site and field: the latest one when the file has several (reported)."""
    by_site: dict[str, dict[str, Correction]] = defaultdict(dict)
    ordered = sorted(corrections, key=lambda c: (c.structure_id, c.field, c.on, c.organisation, c.model_dump_json()))
    for correction in ordered:
        fields = by_site[correction.structure_id]
        if correction.field in fields:
            problems.append(f"site « {correction.structure_id} » : plusieurs corrections du champ "
                            f"« {correction.field} », la plus récente est retenue")
        fields[correction.field] = correction
    return by_site


def _applicable(structure: Structure, fields: Mapping[str, Correction], problems: list[str]) -> list[Correction]:
    """The corrections of one site that apply: all of them, but a "moved" status needs the new address."""
    applied: list[Correction] = []
    for field in sorted(fields):
        correction = fields[field]
        if field == "status" and correction.value == "moved" and "address" not in fields:
            problems.append(f"site « {structure.id} » : déménagement sans nouvelle adresse, statut ignoré")
            continue
        applied.append(correction)
    return applied


def _conflict(correction: Correction, now: JsonValue) -> Conflict | None:
    """A conflict when the official value moved since the editor saw it, to something else than theirs."""
    field = correction.field
    dumped = correction.model_dump(mode="json")
    before, value = dumped["official_before"], dumped["value"]
    current = normalised(field, now)
    if current == normalised(field, before) or current == normalised(field, value):
        return None
    return Conflict(
        structure_id=correction.structure_id,
        field=field,
        official_before=before,
        official_now=now,
        value=value,
        organisation=correction.organisation,
        on=correction.on,
    )


def _corrected(
    structure: Structure, applied: Sequence[Correction], checks: Sequence[Verification], problems: list[str]
) -> Structure:
    """The official site with its corrections over it; the official one when the result is not a valid site."""
    if not applied and not checks:
        return structure
    site = structure.model_dump()
    contact = dict(structure.contacts[0].model_dump()) if structure.contacts else None
    origins: dict[DirectoryField, FieldOrigin] = {}
    if contact is not None:
        origins = {o.field: o for o in structure.contacts[0].origins}
    editors: list[str] = []
    for correction in applied:
        source_id = editors_source_id(correction.organisation)
        if correction.field in ("status", "offer"):
            if correction.field == "offer":
                section = {"heading": OFFER_HEADING, "text": correction.value}
                others = [s for s in site["offer"] if s["heading"] != OFFER_HEADING]
                site["offer"] = [*others, section]
                editors.append(source_id)
            continue
        if correction.field == "served_communes":
            # The editor's list is the whole truth: the EPCIs and departments of the official data go.
            site["serves"] = ServedTerritory(communes=_codes(correction.value)).model_dump()
        else:
            if contact is None:
                contact = {"label": contact_label(structure.name, None, None), "source_id": source_id,
                           "as_of": correction.on}
            _correct_contact(site, contact, correction, structure)
        origin = _ORIGIN_OF[correction.field]
        origins[origin] = FieldOrigin(field=origin, source_id=source_id, as_of=correction.on)
        if correction.field == "address":
            origins.pop("coordinates", None)  # the official coordinates were those of the old address
        editors.append(source_id)
    if contact is not None:
        contact["origins"] = [o.model_dump() for o in origins.values()]
        site["contacts"] = [contact, *site["contacts"][1:]]
    site["sources"] = list(dict.fromkeys([*site["sources"], *editors]))
    dated = [(c.on, c.organisation) for c in applied] + [(v.on, v.organisation) for v in checks]
    on, by = max(dated)
    site["verified"] = {"on": on, "by": by}
    try:
        return Structure.model_validate(site)
    except ValidationError as error:
        problems.append(f"site « {structure.id} » : corrections non applicables ({error.errors()[0]['msg']})")
        return structure


def _correct_contact(
    site: dict[str, Any], contact: dict[str, Any], correction: Correction, official: Structure
) -> None:
    value = correction.value
    if correction.field == "phone":
        same = normalised("phone", official_value(official, "phone")) == normalised("phone", _text(value))
        contact["phone"] = value
        # A tariff notice belongs to the official number; kept only when the editor kept that number.
        contact["phone_note"] = contact.get("phone_note") if same and value else None
        contact["label"] = contact_label(official.name, contact["phone"], contact["phone_note"])
    elif correction.field == "email":
        contact["email"] = value
        contact["email_possibly_personal"] = False  # the site's editors publish it as the site's address
    elif correction.field == "website":
        contact["url"] = value
    elif correction.field == "hours":
        days = value if isinstance(value, tuple) else ()
        contact["hours"] = [h.model_dump() for h in days if isinstance(h, DayHours)]
    elif correction.field == "address":
        # Coordinates are dropped rather than guessed: the commune's centre places the site meanwhile.
        site.update(latitude=None, longitude=None)
        if isinstance(value, Place):
            moved = {"address": value.address, "postcode": value.postcode, "commune": value.commune}
            site.update(moved, commune_insee=value.commune_insee, department=value.department)
            contact.update(moved, department=value.department)
        else:
            # No street address any more: the commune, which places the site on the territory, stays.
            site.update(address=None, postcode=None)
            contact.update(address=None, postcode=None)


def _editor_sites(
    sites: Iterable[EditorSite], official: Mapping[str, Structure], problems: list[str]
) -> list[Structure]:
    added: dict[str, Structure] = {}
    for site in sorted(sites, key=lambda s: (s.id, s.on, s.organisation)):
        if site.id in official:
            problems.append(f"site ajouté « {site.id} » : identifiant d'un site officiel, ignoré")
            continue
        if site.id in added:
            problems.append(f"site ajouté « {site.id} » en double : le plus récent est retenu")
        try:
            added[site.id] = _structure_of(site)
        except ValidationError as error:
            problems.append(f"site ajouté « {site.id} » invalide ({error.errors()[0]['msg']}) : ignoré")
    return list(added.values())


def _structure_of(site: EditorSite) -> Structure:
    source_id = editors_source_id(site.organisation)
    department = department_of(site.commune_insee)
    contact = Contact(
        label=contact_label(site.name, site.phone, None),
        phone=site.phone,
        email=site.email,
        address=site.address,
        postcode=site.postcode,
        commune=site.commune,
        department=department,
        url=site.website,
        source_id=source_id,
        as_of=site.on,
    )
    offer = (site.offer or "").strip()
    return Structure(
        id=site.id,
        name=site.name,
        network=site.network,
        address=site.address,
        postcode=site.postcode,
        commune_insee=site.commune_insee,
        commune=site.commune,
        department=department,
        serves=ServedTerritory(communes=site.served_communes),
        reception=True,
        contacts=(contact,),
        offer=(Section(heading=OFFER_HEADING, text=offer),) if offer else (),
        source_id=source_id,
        sources=(source_id,),
        verified=Verified(on=site.on, by=site.organisation),
    )


def _sources(corrections: Corrections) -> tuple[Source, ...]:
    """One source per organisation, dated by its latest entry; its name as the organisation writes it."""
    dated: dict[str, list[tuple[date, str]]] = defaultdict(list)
    entries: list[Correction | Verification | EditorSite] = [
        *corrections.corrections, *corrections.verifications, *corrections.sites
    ]
    for entry in entries:
        dated[editors_source_id(entry.organisation)].append((entry.on, entry.organisation))
    sources = []
    for source_id in sorted(dated):
        on, organisation = max(dated[source_id])
        sources.append(
            Source(id=source_id, title=f"Mise à jour par {organisation}", origin=organisation, licence="", as_of=on)
        )
    return tuple(sources)


def _codes(value: CorrectionValue) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, tuple) else ()


def _text(value: CorrectionValue) -> JsonValue:
    return value if isinstance(value, str) else None
