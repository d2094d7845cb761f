"""data·inclusion structures and services (JSON or CSV), validated with the official schema (v1)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar, cast

from data_inclusion.schema import v1 as di
from pydantic import ValidationError

from ingest.sources.annuaire import (
    NETWORK_TYPOLOGY,
    Rows,
    clean_phone,
    department_of_commune,
    department_of_postcode,
)
from ingest.sources.base import Loaded, Problem
from ingest.sources.documents import split_long_sections
from knowledge.model import Contact, Section, ServedTerritory, Source, Structure
from knowledge.referentials import DATA_INCLUSION_NETWORK, DEPARTMENTS, NETWORK_IDS, NetworkId

# Columns that identify a CSV export of each kind.
STRUCTURE_CSV_COLUMNS = frozenset({"id", "source", "nom", "date_maj"})
SERVICE_CSV_COLUMNS = frozenset({"id", "structure_id", "nom"})

_LICENCE = "Licence Ouverte (data·inclusion)"

_Model = TypeVar("_Model", di.Structure, di.Service)

# Fields that hold lists; a CSV export writes them as JSON, as {a,b} (PostgreSQL) or as "a, b".
_LIST_FIELDS = frozenset(
    {"reseaux_porteurs", "thematiques", "publics", "modes_accueil", "modes_mobilisation", "mobilisable_par"}
    | {"zone_eligibilite"}
)


def _reseau_networks() -> dict[str, tuple[NetworkId, ...]]:
    """Reverse of the referential; "chambres-consulaires" stands for three of our networks."""
    reverse: dict[str, tuple[NetworkId, ...]] = {}
    for network in NETWORK_IDS:
        reseau = DATA_INCLUSION_NETWORK.get(network)
        if reseau is not None:
            reverse[reseau] = (*reverse.get(reseau, ()), cast(NetworkId, network))
    # MSAPs became France Services; data·inclusion keeps the old code for some of them.
    reverse.setdefault("msap", ("france_services",))
    return reverse


_RESEAU_NETWORKS = _reseau_networks()

_TYPOLOGY_NETWORKS: dict[str, tuple[NetworkId, ...]] = {
    "ML": ("mission_locale",),
    "PIJ_BIJ": ("information_jeunesse",),
    "CIDFF": ("cidff",),
    "MDPH": ("mdph",),
    "FT": ("france_travail",),
    "CAP_EMPLOI": ("cap_emploi",),
    "E2C": ("e2c",),
    "EPIDE": ("epide",),
    "RFS": ("france_services",),
    "MSAP": ("france_services",),
    "CCONS": ("cci", "cma", "chambre_agriculture"),
}

# How to tell the three consular chambers apart: by their name.
_CHAMBER_NAMES: dict[NetworkId, re.Pattern[str]] = {
    "cci": re.compile(r"\bCCI\b|commerce", re.IGNORECASE),
    "cma": re.compile(r"\bCMA\b|m[ée]tiers|artisanat", re.IGNORECASE),
    "chambre_agriculture": re.compile(r"agricultur", re.IGNORECASE),
}

_ERROR_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "string_too_short": "trop court",
    "string_too_long": "trop long",
    "string_pattern_mismatch": "format invalide",
    "date_from_datetime_parsing": "date invalide",
    "date_parsing": "date invalide",
    "date_type": "date invalide",
    "url_parsing": "adresse web invalide",
    "url_scheme": "adresse web invalide",
    "url_type": "adresse web invalide",
    "enum": "valeur hors nomenclature",
    "literal_error": "valeur hors nomenclature",
    "too_short": "liste vide",
    "float_parsing": "nombre invalide",
    "float_type": "nombre invalide",
    "int_parsing": "nombre entier invalide",
    "int_type": "nombre entier invalide",
    "greater_than_equal": "valeur trop petite",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "set_type": "liste attendue",
}


@dataclass(frozen=True)
class Item:
    """One data·inclusion record as read, and where it stands for problem reports."""

    path: str
    line: int | None  # CSV: first line of the row
    index: int | None  # JSON: position in its list, from 1
    data: Mapping[str, object]

    def problem(self, message: str) -> Problem:
        where = f"élément n° {self.index} : " if self.index is not None else ""
        return Problem(self.path, self.line, where + message)


@dataclass
class _Pending:
    """A valid structure waiting for its services before it becomes a record."""

    item: Item
    record: di.Structure
    sections: list[Section] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    region: bool = False
    dates: list[date] = field(default_factory=list)


def items_from_rows(rows: Rows, path: str) -> list[Item]:
    """CSV rows as records: empty cells dropped, list columns split."""
    items = []
    for line, row in rows:
        data: dict[str, object] = {}
        for column, value in row.items():
            text = (value or "").strip()
            if text:
                data[column] = _split_list(text) if column in _LIST_FIELDS else text
        items.append(Item(path, line, None, data))
    return items


def items_from_json(data: object, path: str) -> tuple[list[Item], list[Item], list[Problem]]:
    """Structures and services from a list of records or from {"structures": [...], "services": [...]}."""
    structures: list[Item] = []
    services: list[Item] = []
    problems: list[Problem] = []
    groups: list[tuple[object, bool | None]]  # records, and whether they are services (None: look)
    if isinstance(data, dict):
        groups = [(data.get("structures"), False), (data.get("services"), True)]
    else:
        groups = [(data, None)]
    for records, are_services in groups:
        if records is None:
            continue
        if not isinstance(records, list):
            problems.append(Problem(path, None, "liste d'enregistrements attendue"))
            continue
        for index, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                problems.append(Problem(path, None, f"élément n° {index} : objet attendu"))
                continue
            is_service = are_services if are_services is not None else "structure_id" in record
            (services if is_service else structures).append(Item(path, None, index, record))
    return structures, services, problems


def looks_like_records(data: object) -> bool:
    """Whether parsed JSON has the shape of a data·inclusion export."""
    if isinstance(data, dict):
        return isinstance(data.get("structures"), list) or isinstance(data.get("services"), list)
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(record, dict) and "id" in record and "nom" in record for record in data)
    )


def load_data_inclusion(structures: Sequence[Item], services: Sequence[Item]) -> Loaded:
    """Structures of our networks in Auvergne-Rhône-Alpes, with their services as offer sections."""
    loaded = Loaded()
    pending: dict[str, _Pending] = {}
    for item in structures:
        record = _validate(di.Structure, item, loaded.problems)
        if record is None:
            continue
        if record.id in pending:
            loaded.problems.append(item.problem(f"structure « {record.id} » en double"))
            continue
        pending[record.id] = _Pending(item, record, dates=[record.date_maj])
    for item in services:
        service = _validate(di.Service, item, loaded.problems)
        if service is None:
            continue
        owner = pending.get(service.structure_id)
        if owner is None:
            loaded.problems.append(item.problem(f"service rattaché à une structure absente « {service.structure_id} »"))
            continue
        owner.sections.extend(split_long_sections([Section(heading=service.nom, text=_service_text(service, item))]))
        owner.zones.extend(service.zone_eligibilite or ())
        owner.zones.extend(_legacy_zone(item.data))
        owner.region = owner.region or _legacy_region(item.data)
        owner.dates.append(service.date_maj)
    outside: dict[str, int] = {}
    producers: dict[str, list[date]] = {}
    for entry in pending.values():
        department, serves = _placement(entry)
        in_region = (
            department in DEPARTMENTS if department else bool(serves.communes or serves.departments or serves.region)
        )
        if not in_region:
            # A national export holds all of France: other regions are filtered out, not faulty.
            outside[entry.item.path] = outside.get(entry.item.path, 0) + 1
            continue
        structure = _structure(entry, department, serves, loaded.problems)
        if structure is not None:
            loaded.structures.append(structure)
            producers.setdefault(entry.record.source, []).extend(entry.dates)
    for path, count in outside.items():
        loaded.problems.append(
            Problem(path, None, f"{count} structure(s) hors Auvergne-Rhône-Alpes ou sans localisation ignorée(s)")
        )
    for producer, dates in producers.items():
        loaded.sources.append(
            Source(
                id=_source_id(producer),
                title=f"data·inclusion — {producer}",
                origin=f"data·inclusion / {producer}",
                licence=f"{_LICENCE} — producteur : {producer}",
                as_of=max(dates),
            )
        )
    return loaded


def explain_validation_error(error: ValidationError) -> str:
    """A validation error in French, one clause per field: « date_maj » : date invalide (« 2023-13-01 »)."""
    by_field: dict[str, list[str]] = {}
    inputs: dict[str, object] = {}
    for detail in error.errors():
        # Union members add tags such as "constrained-str" to the location: keep field names and indices.
        parts = [part for part in detail["loc"] if isinstance(part, int) or re.fullmatch(r"\w+", part)]
        name = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts).lstrip(".")
        by_field.setdefault(name or "enregistrement", []).append(_error_message(detail["type"], detail["msg"]))
        inputs.setdefault(name or "enregistrement", detail.get("input"))
    clauses = []
    for name, messages in by_field.items():
        message = messages[0] if len(set(messages)) == 1 else "valeur invalide"
        value = inputs[name]
        shown = f" (« {value} »)" if isinstance(value, str) and value and len(value) <= 60 else ""
        clauses.append(f"« {name} » : {message}{shown}")
    return " ; ".join(clauses)


def _error_message(kind: str, message: str) -> str:
    if kind == "value_error":
        if "email address" in message:
            return "adresse électronique invalide"
        # The schema's own validators already speak French.
        return message.removeprefix("Value error, ").rstrip(".")
    return _ERROR_MESSAGES.get(kind, "valeur invalide")


def _validate(model: type[_Model], item: Item, problems: list[Problem]) -> _Model | None:
    try:
        return model.model_validate(item.data)
    except ValidationError as error:
        kind = "service" if model is di.Service else "structure"
        name = item.data.get("id")
        label = f"{kind} « {name} »" if isinstance(name, str) and name else kind
        problems.append(item.problem(f"{label} invalide : {explain_validation_error(error)}"))
        return None


def _structure(
    entry: _Pending, department: str | None, serves: ServedTerritory, problems: list[Problem]
) -> Structure | None:
    record = entry.record
    network, refusal = _network(record, entry.item.data)
    if network is None:
        problems.append(entry.item.problem(f"structure « {record.id} » : {refusal}"))
        return None
    address = " - ".join(part.strip() for part in (record.adresse, record.complement_adresse) if part) or None
    source_id = _source_id(record.source)
    located = department if department in DEPARTMENTS else None
    declared = entry.item.data.get("typologie")  # schema v0; v1 dropped it
    typology = declared.strip() if isinstance(declared, str) and declared.strip() else NETWORK_TYPOLOGY.get(network)
    presentation = (
        split_long_sections([Section(heading="Présentation", text=record.description.strip())])
        if record.description
        else ()
    )
    try:
        return Structure(
            id=f"data_inclusion:{record.id}",
            name=record.nom,
            network=network,
            typology=typology,
            address=address,
            postcode=record.code_postal,
            commune_insee=record.code_insee,
            commune=record.commune,
            department=located,
            serves=serves,
            contacts=(
                Contact(
                    label=record.nom,
                    phone=clean_phone(record.telephone)[0],
                    email=record.courriel,
                    address=address,
                    postcode=record.code_postal,
                    commune=record.commune,
                    department=located,
                    url=str(record.site_web) if record.site_web else None,
                    source_id=source_id,
                    as_of=record.date_maj,
                ),
            ),
            offer=(*presentation, *entry.sections),
            source_id=source_id,
        )
    except ValidationError as error:
        problems.append(entry.item.problem(f"structure « {record.id} » invalide : {explain_validation_error(error)}"))
        return None


def _network(record: di.Structure, data: Mapping[str, object]) -> tuple[NetworkId | None, str]:
    """Our network from the réseaux porteurs (in the producer's order), then from the typology."""
    raw = data.get("reseaux_porteurs")
    codes = [str(code).strip() for code in raw] if isinstance(raw, list) else []
    typology = data.get("typologie")
    candidates = [_RESEAU_NETWORKS.get(code, ()) for code in codes]
    if isinstance(typology, str):
        candidates.append(_TYPOLOGY_NETWORKS.get(typology.strip().upper(), ()))
    ambiguous = False
    for networks in candidates:
        if len(networks) == 1:
            return networks[0], ""
        named = [
            network
            for network in networks
            if (pattern := _CHAMBER_NAMES.get(network)) is not None and pattern.search(record.nom)
        ]
        if len(named) == 1:
            return named[0], ""
        ambiguous = ambiguous or bool(networks)
    if ambiguous:
        return None, "chambre consulaire non identifiée par son nom (CCI, CMA ou chambre d'agriculture ?)"
    known = [*codes, typology] if isinstance(typology, str) else codes
    if not known:
        return None, "réseau inconnu (ni réseau porteur ni typologie)"
    return None, f"réseau inconnu « {', '.join(known)} »"


def _placement(entry: _Pending) -> tuple[str | None, ServedTerritory]:
    """Where the structure stands and the territory its services are eligible in."""
    record = entry.record
    if record.code_insee:
        department = department_of_commune(record.code_insee)
    else:
        department = department_of_postcode(record.code_postal)
    return department, _territory(entry.zones, entry.region)


def _territory(codes: Sequence[str], region: bool) -> ServedTerritory:
    """COG codes as a served territory, keeping only what lies in Auvergne-Rhône-Alpes.

    "france" and country codes are left out: a nationwide eligibility says nothing about which local
    site serves a commune, and keeping it would make every site answer everywhere.
    """
    communes: list[str] = []
    epcis: list[str] = []
    departments: list[str] = []
    for raw in codes:
        code = raw.strip().upper()
        if re.fullmatch(r"\d{9}", code):
            target = epcis
        elif len(code) == 5 and not code.startswith("99") and department_of_commune(code) in DEPARTMENTS:
            target = communes
        elif code in DEPARTMENTS:
            target = departments
        else:
            continue
        if code not in target:
            target.append(code)
    return ServedTerritory(communes=tuple(communes), epcis=tuple(epcis), departments=tuple(departments), region=region)


def _legacy_zone(data: Mapping[str, object]) -> list[str]:
    """Schema v0 wrote one zone as zone_diffusion_type + zone_diffusion_code."""
    kind, code = data.get("zone_diffusion_type"), data.get("zone_diffusion_code")
    if kind in {"commune", "epci", "departement"} and isinstance(code, str):
        return [code]
    return []


def _legacy_region(data: Mapping[str, object]) -> bool:
    # 84 is the COG code of Auvergne-Rhône-Alpes.
    return data.get("zone_diffusion_type") == "region" and data.get("zone_diffusion_code") == "84"


def _service_text(service: di.Service, item: Item) -> str:
    parts = [service.description.strip()]
    detail = item.data.get("presentation_detail")  # schema v0 exports carry the long text here
    if isinstance(detail, str) and detail.strip() and detail.strip() not in parts[0]:
        parts.append(detail.strip())
    for label, value in (
        ("Publics", service.publics_precisions),
        ("Conditions d'accès", service.conditions_acces),
        ("Frais", service.frais_precisions),
        ("Pour mobiliser ce service", service.mobilisation_precisions),
    ):
        if value and value.strip():
            parts.append(f"{label} : {value.strip()}")
    return "\n\n".join(parts)


def _split_list(text: str) -> list[str]:
    if text.startswith("["):
        try:
            values = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            values = None
        if isinstance(values, list):
            return [str(value).strip() for value in values if str(value).strip()]
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return [part.strip().strip('"') for part in re.split(r"[,;|]", text) if part.strip().strip('"')]


def _source_id(producer: str) -> str:
    return f"data_inclusion/{producer}"
