"""Open-data site lists with the shared column set (France Services, France Travail, Missions Locales).

Files such as `france_services_anct_2024.csv`, `france_travail_agences_2019.csv`,
`france_travail_directions_2024.csv` and `mission_locale_referentiel_milo_2023.csv` share the columns
`source_id, network, name, address, postcode, commune, insee_commune, department, phone, email, website,
as_of` and add their own: opening hours per day, coordinates, a site type, a SAFIR or UNML code, the
communes served. One Structure per row; what a file's name says of its producer and licence is in FILES.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath

from ingest.sources.annuaire import (
    NETWORK_TYPOLOGY,
    Rows,
    clean_email,
    clean_phone,
    department_of_commune,
    looks_personal,
    normalise_url,
    parse_date,
)
from ingest.sources.base import Loaded, Problem
from knowledge.model import (
    WEEKDAYS,
    Contact,
    DayHours,
    DirectoryField,
    FieldOrigin,
    ServedTerritory,
    Source,
    Structure,
    contact_label,
)
from knowledge.referentials import DEPARTMENTS, NETWORK_IDS
from knowledge.territory import Territory, fold

# Columns that identify such a file (see ../shared/data/README.md, "Common columns").
CSV_COLUMNS = frozenset({"source_id", "network", "name", "insee_commune", "department", "as_of"})

_HOURS_COLUMNS = {f"h_{day}": day for day in WEEKDAYS}


@dataclass(frozen=True)
class FileOrigin:
    """Producer, licence and address of a known open-data file (the files do not carry them)."""

    title: str
    origin: str
    licence: str
    url: str


# Keyed by the start of the file name. Licences as the producers or the repositories state them.
FILES: dict[str, FileOrigin] = {
    "france_services_anct": FileOrigin(
        title="Liste des structures France services (ANCT)",
        origin="ANCT — Agence nationale de la cohésion des territoires",
        licence="Licence Ouverte 2.0 — ANCT, liste des France services (dépôt anct-carto/france_services)",
        url="https://github.com/anct-carto/france_services",
    ),
    "france_travail_agences": FileOrigin(
        title="Référentiel des sites Pôle emploi (agences et directions)",
        origin="Pôle emploi, devenu France Travail",
        licence="Licence des données non précisée (information publique d'un opérateur public) ; "
        "extrait du dépôt gip-inclusion/les-emplois",
        url="https://github.com/gip-inclusion/les-emplois",
    ),
    "france_travail_directions": FileOrigin(
        title="Directions régionale et territoriales de France Travail",
        origin="France Travail, via DORA (GIP de l'inclusion)",
        licence="Licence des données non précisée (information publique d'un opérateur public) ; "
        "extrait du dépôt gip-inclusion/dora-back",
        url="https://github.com/gip-inclusion/dora-back",
    ),
    "mission_locale_referentiel_milo": FileOrigin(
        title="Référentiel des structures i-milo (Missions Locales)",
        origin="i-milo, via le dépôt SocialGouv/pass-emploi-api",
        licence="Licence des données non précisée (information publique) ; dépôt SocialGouv/pass-emploi-api",
        url="https://github.com/SocialGouv/pass-emploi-api",
    ),
}

_UNKNOWN_LICENCE = "Licence non précisée par le fichier"
_DIRECTION_TYPES = frozenset({"direction_territoriale", "direction_regionale"})
# "2023-09-18 (referential); 2026-01 (address/served area)": one date for some fields, another for others.
_PART_DATE = re.compile(r"(\d{4}-\d{2}(?:-\d{2})?)\s*(?:\(([^)]*)\))?")
_FIELD_WORDS: dict[str, tuple[DirectoryField, ...]] = {
    "address": ("address", "coordinates"),
    "served area": ("served_area",),
}
# A Mission Locale name starting with its department ("01-Mission locale…") reads better without it.
_DEPARTMENT_PREFIX = re.compile(r"^\d{2}\s*-\s*")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
_SMALL_WORDS = frozenset({"en", "de", "du", "des", "la", "le", "les", "sur", "sous", "et", "d", "l", "aux", "au"})


def load_open_sites(rows: Rows, path: str, territory: Territory | None = None) -> Loaded:
    """One Structure per row; malformed rows are reported with their line and skipped.

    The territory, when given, restores the accents of upper-case names ("TREVOUX" -> "Trévoux").
    """
    loaded = Loaded()
    name = PurePath(path).name
    source_id = f"sites/{name}"
    known = next((origin for prefix, origin in FILES.items() if name.startswith(prefix)), None)
    seen: set[str] = set()
    dates: list[date] = []
    for line, row in rows:
        structure = _structure(row, line, path, source_id, loaded.problems, territory)
        if structure is None or not loaded.add_row_structure(structure, seen, path, line, row.get("source_id")):
            continue
        dates.extend(structure.contacts[0].dates())
    if loaded.structures:
        as_of = max(dates, default=None)
        loaded.sources.append(
            Source(
                id=source_id,
                title=known.title if known else f"Liste de sites ({name})",
                origin=known.origin if known else name,
                licence=f"{known.licence if known else _UNKNOWN_LICENCE}, fichier {name}",
                url=known.url if known else None,
                as_of=as_of,
            )
        )
    return loaded


def _structure(
    row: Mapping[str, str], line: int, path: str, source_id: str, problems: list[Problem], territory: Territory | None
) -> Structure | None:
    def skip(message: str) -> Structure | None:
        problems.append(Problem(path, line, message))
        return None

    row_id, name, network = _text(row, "source_id"), _text(row, "name"), _text(row, "network")
    if not row_id:
        return skip("identifiant (source_id) manquant")
    if not name:
        return skip("nom manquant")
    if network not in NETWORK_IDS:
        return skip(f"réseau inconnu « {network} »")
    insee = _text(row, "insee_commune").upper()
    department = _text(row, "department").zfill(2) if _text(row, "department") else department_of_commune(insee)
    if not department:
        return skip("commune et département manquants")
    if department not in DEPARTMENTS:
        return skip(f"département hors Auvergne-Rhône-Alpes « {department} »")
    as_of, origins, problem = _dates(_text(row, "as_of"), source_id)
    if problem:
        return skip(problem)
    latitude, longitude = _coordinates(row)
    if (latitude is None) != (longitude is None) or (latitude is not None and not _plausible(latitude, longitude)):
        problems.append(Problem(path, line, "coordonnées incomplètes ou hors de France : ignorées"))
        latitude = longitude = None
    phone, phone_note = clean_phone(_text(row, "phone"))
    email = clean_email(_text(row, "email"))
    site_type = _text(row, "site_type")
    street = " - ".join(p for p in (_text(row, "address"), _text(row, "address_complement")) if p) or None
    known_commune = territory.commune(insee) if territory is not None and insee else None
    display = _display_name(name, network, known_commune.name if known_commune else None)
    commune_name = _text(row, "commune")
    if known_commune is not None and commune_name.isupper():
        commune_name = known_commune.name
    identifiers = tuple(
        f"{scheme}:{value}"
        for scheme, value in (("safir", _text(row, "code_safir")), ("unml", _text(row, "ml_code")))
        if value
    )
    served = tuple(code for code in re.split(r"[;,\s]+", _text(row, "served_area_insee")) if code)
    try:
        contact = Contact(
            label=contact_label(display, phone, phone_note),
            phone=phone,
            phone_note=phone_note if phone else None,
            email=email,
            email_possibly_personal=looks_personal(email),
            address=street,
            postcode=_text(row, "postcode") or None,
            commune=commune_name or None,
            department=department,
            url=normalise_url(_text(row, "website")),
            hours=_hours(row),
            source_id=source_id,
            as_of=as_of,
            origins=origins,
        )
        return Structure(
            id=row_id if ":" in row_id else f"{PurePath(path).stem}:{row_id}",
            name=display,
            network=network,  # type: ignore[arg-type]
            typology=NETWORK_TYPOLOGY.get(network),
            address=street,
            postcode=contact.postcode,
            commune_insee=insee or None,
            commune=contact.commune,
            department=department,
            serves=ServedTerritory(communes=served),
            latitude=latitude,
            longitude=longitude,
            reception=site_type not in _DIRECTION_TYPES,
            identifiers=identifiers,
            contacts=(contact,),
            source_id=source_id,
        )
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        return skip(f"enregistrement invalide ({str(error).splitlines()[0]})")


def _dates(text: str, source_id: str) -> tuple[date | None, tuple[FieldOrigin, ...], str | None]:
    """The row's date, and the fields that carry another one ("2026-01 (address/served area)")."""
    parts = _PART_DATE.findall(text)
    if not parts:
        return None, (), (f"date illisible « {text} »" if text else None)
    main: date | None = None
    origins: list[FieldOrigin] = []
    for value, scope in parts:
        when = parse_date(value if len(value) == 10 else f"{value}-01")
        if when is None:
            return None, (), f"date illisible « {value} »"
        fields = [f for word, group in _FIELD_WORDS.items() if word in scope for f in group]
        if fields:
            origins += [FieldOrigin(field=f, source_id=source_id, as_of=when) for f in fields]
        elif main is None:
            main = when
    return main or (origins[0].as_of if origins else None), tuple(origins), None


def _coordinates(row: Mapping[str, str]) -> tuple[float | None, float | None]:
    values = []
    for column in ("latitude", "longitude"):
        try:
            values.append(float(_text(row, column)) if _text(row, column) else None)
        except ValueError:
            values.append(None)
    return values[0], values[1]


def _plausible(latitude: float | None, longitude: float | None) -> bool:
    # Metropolitan France, with a margin: a swapped or shifted column is caught here.
    return latitude is not None and longitude is not None and 41 <= latitude <= 52 and -6 <= longitude <= 10


def _hours(row: Mapping[str, str]) -> tuple[DayHours, ...]:
    return tuple(
        DayHours(day=day, hours=" ".join(_text(row, column).split()))
        for column, day in _HOURS_COLUMNS.items()
        if _text(row, column)
    )


def _display_name(name: str, network: str, commune: str | None) -> str:
    """Names as a person reads them: "BOURG EN BRESSE PARME" (a 2019 Pôle emploi agency, upper case) ->
    "France Travail Bourg-en-Bresse Parme", the commune's own spelling taken from the territory."""
    name = _DEPARTMENT_PREFIX.sub("", " ".join(name.split()))
    if network != "france_travail" or not name.isupper():
        return name
    rest = name
    if commune is not None:
        words, wanted = name.split(), fold(commune).replace("-", " ").split()
        folded = [_ABBREVIATIONS.get(fold(w), fold(w)) for w in words]
        if folded[: len(wanted)] == wanted:
            rest = " ".join([commune, *words[len(wanted) :]])
    words = rest.split()
    titled = [w if w[:1].islower() or not w.isupper() else (w.lower() if w.lower() in _SMALL_WORDS else w.capitalize())
              for w in words]
    return f"France Travail {' '.join(titled)}"


def _text(row: Mapping[str, str], column: str) -> str:
    return (row.get(column) or "").strip()

