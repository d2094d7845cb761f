"""Service-public.fr directory (DILA "base de données locales"): CSV extraction and official JSON export.

This module also owns the contact conventions the other directory loaders reuse: phone, e-mail and URL
cleaning, and the department of an INSEE commune code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath

from pydantic import ValidationError

from ingest.sources.base import Loaded, Problem
from knowledge.model import WEEKDAYS, Contact, DayHours, ServedTerritory, Source, Structure, contact_label
from knowledge.referentials import DEPARTMENTS, NetworkId

# One CSV data row: its first physical line in the file and its values by column name.
Rows = Sequence[tuple[int, Mapping[str, str]]]

ORIGIN = "Service-Public.fr / DILA"
DATASET_URL = (
    "https://www.data.gouv.fr/fr/datasets/service-public-fr-annuaire-de-l-administration-base-de-donnees-locales/"
)

# Columns that identify the CSV extraction (see /work/shared/data/README.md).
CSV_COLUMNS = frozenset({"source_id", "pivot_annuaire", "nom", "code_insee_commune"})

# The directory's "pivot" (type_service_local) of each network we import.
PIVOT_NETWORK: dict[str, NetworkId] = {
    "mission_locale": "mission_locale",
    "cij": "information_jeunesse",
    "cio": "cio",
    "suio": "scuio",
    "cci": "cci",
    "chambre_metier": "cma",
    "chambre_agriculture": "chambre_agriculture",
    "cidf": "cidff",
    "maison_handicapees": "mdph",
    "apec": "apec",
    "apecita": "apecita",
    "agefiph": "agefiph",
    "greta": "greta",
    "msap": "france_services",
    "france_services": "france_services",
    "crous": "crous",
    # In the current export (and the DILA API), not in the 2019 extraction.
    "pole_emploi": "france_travail",
    "france_travail": "france_travail",
    "cap_emploi": "cap_emploi",
}

# data·inclusion structure typology of a network, where the vocabulary has an obvious code
# (vocab/data_inclusion_typologies_de_structures.csv has no code for CIO, SCUIO, Apec, Agefiph, CROUS...).
NETWORK_TYPOLOGY: dict[str, str] = {
    "mission_locale": "ML",
    "information_jeunesse": "PIJ_BIJ",
    "cidff": "CIDFF",
    "mdph": "MDPH",
    "cci": "CCONS",
    "cma": "CCONS",
    "chambre_agriculture": "CCONS",
    "france_services": "RFS",
    "france_travail": "FT",
    "cap_emploi": "CAP_EMPLOI",
    "e2c": "E2C",
    "epide": "EPIDE",
    "greta": "OF",
}

# The okfnfr extraction only says "2019-10"; its commit (6811933f) is dated 2019-10-22.
_KNOWN_SNAPSHOTS = {("okfnfr", "2019-10"): date(2019, 10, 22)}

# Local parts made of these words name a desk, not a person.
_GENERIC_MAILBOX_WORDS = frozenset(
    """
    accueil administration agence animation antenne apec bij bureau cci cdi cfa cidf cidff cij cio
    cma communication contact crij crous direction emploi formation france greta info infos information
    jeunes jeunesse maison mairie mdph mife ml mlj mission msap orientation permanence pij pimms point
    pointinfo relais residence rsp scolarite scuio secretariat service services siege standard suio ville
    """.split()
)


def load_annuaire_rows(rows: Rows, path: str) -> Loaded:
    """Structures from the CSV extraction of the directory, one per row."""
    loaded = Loaded()
    seen: set[str] = set()
    dates: list[date] = []
    snapshot_label = ""
    source_id = f"annuaire/{PurePath(path).name}"
    for line, row in rows:
        structure = _structure_from_row(row, line, path, source_id, loaded.problems)
        if structure is None or not loaded.add_row_structure(structure, seen, path, line, row.get("source_id")):
            continue
        if structure.contacts and structure.contacts[0].as_of is not None:
            dates.append(structure.contacts[0].as_of)
        snapshot_label = snapshot_label or _text(row.get("millesime_source"))
    if loaded.structures:
        loaded.sources.append(_source(source_id, path, max(dates, default=None), snapshot_label))
    return loaded


def load_annuaire_json(data: Mapping[str, object], path: str) -> Loaded:
    """Structures from the official JSON export: our pivots only, sites in Auvergne-Rhône-Alpes only."""
    loaded = Loaded()
    services = data.get("service")
    if not isinstance(services, list):
        loaded.problems.append(Problem(path, None, "clé « service » absente ou qui n'est pas une liste"))
        return loaded
    source_id = f"annuaire/{PurePath(path).name}"
    seen: set[str] = set()
    dates: list[date] = []
    outside = 0
    for index, service in enumerate(services, start=1):
        if not isinstance(service, dict):
            loaded.problems.append(Problem(path, None, f"service n° {index} : objet attendu"))
            continue
        pivots = _our_pivots(service)
        if not pivots:
            continue  # another kind of public office: out of scope, not a problem
        where = f"service n° {index}"
        service_id = _text(service.get("id"))
        name = _text(service.get("nom"))
        if not service_id or not name:
            missing = "identifiant" if not service_id else "nom"
            loaded.problems.append(Problem(path, None, f"{where} : {missing} manquant"))
            continue
        where = f"service « {service_id} »"
        address = _postal_address(service)
        latitude, longitude = _coordinates(service)
        hours = opening_hours(service.get("plage_ouverture"))
        insee = _text(service.get("code_insee_commune")).upper()
        department = department_of_commune(insee) if insee else department_of_postcode(address.postcode)
        if department is None:
            loaded.problems.append(Problem(path, None, f"{where} : commune inconnue, guichet ignoré"))
            continue
        if department not in DEPARTMENTS:
            outside += 1
            continue
        as_of = parse_date(service.get("date_modification"))
        if as_of is not None:
            dates.append(as_of)
        phone, phone_note = clean_phone(_first_value(service.get("telephone"), "valeur"))
        phone_note = phone_note or _first_value(service.get("telephone"), "description") or None
        email = clean_email(_first_value(service.get("adresse_courriel"), "valeur"))
        for network, communes in pivots:
            structure_id = f"annuaire:{service_id}" if len(pivots) == 1 else f"annuaire:{service_id}:{network}"
            if structure_id in seen:
                loaded.problems.append(Problem(path, None, f"{where} : identifiant en double"))
                continue
            contact = _contact(
                name,
                phone=phone,
                phone_note=phone_note,
                email=email,
                email_possibly_personal=looks_personal(email),
                address=address,
                department=department,
                url=normalise_url(_first_value(service.get("site_internet"), "valeur")),
                source_id=source_id,
                as_of=as_of,
                hours=hours,
            )
            structure = _structure(
                path,
                None,
                loaded.problems,
                id=structure_id,
                name=name,
                network=network,
                typology=NETWORK_TYPOLOGY.get(network),
                address=address.street,
                postcode=address.postcode,
                commune_insee=insee or None,
                commune=address.commune,
                department=department,
                serves=ServedTerritory(communes=communes),
                latitude=latitude,
                longitude=longitude,
                contacts=(contact,),
                source_id=source_id,
            )
            if structure is not None:
                seen.add(structure_id)
                loaded.structures.append(structure)
    if outside:
        loaded.problems.append(Problem(path, None, f"{outside} guichet(s) hors Auvergne-Rhône-Alpes ignoré(s)"))
    if loaded.structures:
        file_date = _date_in(PurePath(path).name)
        loaded.sources.append(_source(source_id, path, file_date or max(dates, default=None), ""))
    return loaded


def department_of_commune(insee: str) -> str | None:
    """The department code of an INSEE commune code (2A/2B for Corsica, 97x overseas), None if malformed."""
    code = insee.strip().upper()
    if not re.fullmatch(r"\d[\dAB]\d{3}", code):
        return None
    return code[:3] if code.startswith(("97", "98")) else code[:2]


def department_of_postcode(postcode: str | None) -> str | None:
    """Fallback when the commune code is missing: a postcode's first digits usually give the department."""
    if not postcode or not re.fullmatch(r"\d{5}", postcode) or postcode.startswith("20"):
        return None
    return postcode[:3] if postcode.startswith("97") else postcode[:2]


def clean_phone(raw: str | None) -> tuple[str | None, str | None]:
    """A French number as "04 74 94 08 93", and the note that followed it ("Numéro vert : ..."), if any."""
    text = " ".join((raw or "").split())
    match = re.match(r"(\+?[\d(][\d\s.()\-]*\d)(.*)", text)
    if match is None:
        return None, None
    number, rest = match.group(1), match.group(2)
    digits = re.sub(r"\D", "", number)
    if number.startswith("+33") or digits.startswith("0033"):
        national = digits.removeprefix("00").removeprefix("33")
        # "+33 (0)4 ..." keeps the trunk 0; "+33 4 ..." drops it.
        digits = national if len(national) == 10 else "0" + national
    if len(digits) == 10 and digits.startswith("0"):
        number = " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    # The directory appends tariff notices ("/ Numéro vert : service et appel gratuits."): keep their gist.
    note = rest.split("(")[0].strip(" /-–:;,.")
    return number, note or None


def clean_email(raw: str | None) -> str | None:
    """The first plausible address in a field that may hold several, or none."""
    for candidate in re.split(r"[\s;,]+", (raw or "").strip()):
        candidate = candidate.removeprefix("mailto:").strip("<>()")
        if re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", candidate):
            return candidate
    return None


def normalise_url(raw: str | None) -> str | None:
    """A web address with its scheme ("www.x.fr" -> "https://www.x.fr"), or none when it is not one."""
    text = (raw or "").strip().split()
    if not text:
        return None
    url = text[0]
    if "://" not in url:
        url = "https://" + url.lstrip("/")
    scheme, _, rest = url.partition("://")
    host = rest.split("/")[0]
    if scheme.lower() not in {"http", "https"} or "." not in host:
        return None
    return f"{scheme.lower()}://{rest}"


def looks_personal(email: str | None) -> bool:
    """Heuristic: "firstname.lastname@" or "f.lastname@" addresses probably reach one person."""
    if email is None:
        return False
    words = re.split(r"[.\-_]", email.split("@")[0].lower())
    return (
        len(words) == 2
        and all(word.isalpha() for word in words)
        and not any(word in _GENERIC_MAILBOX_WORDS for word in words)
    )


def parse_date(value: object) -> date | None:
    """A date written "2019-10-22", "2019-10-22T10:00:00" or "22/10/2019 10:00:00"; None otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern, order in ((r"(\d{4})-(\d{2})-(\d{2})", (0, 1, 2)), (r"(\d{2})/(\d{2})/(\d{4})", (2, 1, 0))):
        match = re.match(pattern, text)
        if match:
            parts = [int(match.group(i + 1)) for i in order]
            try:
                return date(parts[0], parts[1], parts[2])
            except ValueError:
                return None
    return None


@dataclass(frozen=True)
class _Address:
    """A postal address split the way our records store it."""

    street: str | None
    postcode: str | None
    commune: str | None


def _structure_from_row(
    row: Mapping[str, str], line: int, path: str, source_id: str, problems: list[Problem]
) -> Structure | None:
    def skip(message: str) -> Structure | None:
        problems.append(Problem(path, line, message))
        return None

    row_id = _text(row.get("source_id"))
    name = _text(row.get("nom"))
    pivot = _text(row.get("pivot_annuaire"))
    if not row_id:
        return skip("identifiant (source_id) manquant")
    if not name:
        return skip("nom manquant")
    network = PIVOT_NETWORK.get(pivot)
    if network is None:
        return skip(f"réseau inconnu « {pivot} »")
    insee = _text(row.get("code_insee_commune")).upper()
    declared = _text(row.get("code_departement")).upper()
    # Spreadsheets turn "01" into "1": pad it back.
    department = declared.zfill(2) if declared else (department_of_commune(insee) if insee else None)
    if not department:
        return skip("commune et département manquants")
    if department not in DEPARTMENTS:
        return skip(f"département hors Auvergne-Rhône-Alpes « {department} »")
    address = _Address(
        _text(row.get("adresse")) or None,
        _text(row.get("code_postal")) or None,
        _text(row.get("commune")) or None,
    )
    phone, phone_note = clean_phone(row.get("telephone"))
    email = clean_email(row.get("email"))
    contact = _contact(
        name,
        phone=phone,
        phone_note=phone_note,
        email=email,
        email_possibly_personal=_flagged_personal(email, _text(row.get("email_possiblement_nominatif"))),
        address=address,
        department=department,
        url=normalise_url(row.get("site_web")),
        source_id=source_id,
        as_of=_snapshot_date(_text(row.get("millesime_source"))),
    )
    return _structure(
        path,
        line,
        problems,
        id=f"annuaire:{row_id}",
        name=name,
        network=network,
        typology=NETWORK_TYPOLOGY.get(network),
        address=address.street,
        postcode=address.postcode,
        commune_insee=insee or None,
        commune=address.commune,
        department=department,
        contacts=(contact,),
        source_id=source_id,
    )


def _flagged_personal(email: str | None, flag: str) -> bool:
    """The extract's own flag ("oui"/"non") when it has one, the heuristic otherwise."""
    if email is None:
        return False
    return flag.lower() == "oui" if flag else looks_personal(email)


def _contact(
    name: str,
    *,
    phone: str | None,
    phone_note: str | None,
    email: str | None,
    email_possibly_personal: bool,
    address: _Address,
    department: str,
    url: str | None,
    source_id: str,
    as_of: date | None,
    hours: tuple[DayHours, ...] = (),
) -> Contact:
    return Contact(
        label=contact_label(name, phone, phone_note),
        phone=phone,
        phone_note=phone_note if phone else None,
        email=email,
        email_possibly_personal=email_possibly_personal,
        address=address.street,
        postcode=address.postcode,
        commune=address.commune,
        department=department,
        url=url,
        hours=hours,
        source_id=source_id,
        as_of=as_of,
    )


def _structure(path: str, line: int | None, problems: list[Problem], **fields: object) -> Structure | None:
    """Build a Structure; invalid input becomes a Problem, never an exception."""
    try:
        return Structure.model_validate(fields)
    except ValidationError as error:
        # Inputs are checked before: this only guards against a field the checks missed.
        fields_in_error = ", ".join(".".join(str(part) for part in detail["loc"]) for detail in error.errors())
        problems.append(Problem(path, line, f"enregistrement invalide (champs : {fields_in_error})"))
        return None


def _source(source_id: str, path: str, as_of: date | None, snapshot_label: str) -> Source:
    name = PurePath(path).name
    title = "Annuaire de l'administration (service-public.fr) — base de données locales"
    dated = f", données du {as_of:%d/%m/%Y}" if as_of else ""
    return Source(
        id=source_id,
        title=f"{title} ({snapshot_label})" if snapshot_label else title,
        origin=ORIGIN,
        licence=f"Licence Ouverte — « Service-Public.fr / DILA », fichier {name}{dated}",
        url=DATASET_URL,
        as_of=as_of,
    )


def _snapshot_date(label: str) -> date | None:
    full = re.search(r"\d{4}-\d{2}-\d{2}", label)
    if full is not None:
        return parse_date(full.group(0))
    month = re.search(r"(\d{4})-(\d{2})", label)
    if month is None:
        return None
    for (producer, snapshot), known in _KNOWN_SNAPSHOTS.items():
        if producer in label and snapshot == month.group(0):
            return known
    return parse_date(f"{month.group(0)}-01")


def _date_in(file_name: str) -> date | None:
    match = re.search(r"\d{4}-\d{2}-\d{2}", file_name)
    return parse_date(match.group(0)) if match else None


def _our_pivots(service: Mapping[str, object]) -> list[tuple[NetworkId, tuple[str, ...]]]:
    """The networks a service belongs to, each with the AURA communes it serves, in the export's order."""
    pivots: list[tuple[NetworkId, tuple[str, ...]]] = []
    for pivot in _as_list(service.get("pivot")):
        if not isinstance(pivot, dict):
            continue
        network = PIVOT_NETWORK.get(_text(pivot.get("type_service_local")))
        if network is None or any(known == network for known, _ in pivots):
            continue
        communes: list[str] = []
        for code in _as_list(pivot.get("code_insee_commune")):
            commune = _text(code).upper()
            if commune not in communes and department_of_commune(commune) in DEPARTMENTS:
                communes.append(commune)
        pivots.append((network, tuple(communes)))
    return pivots


def _postal_address(service: Mapping[str, object]) -> _Address:
    """The street address (type "Adresse") rather than the mailing one, as "complement - number street"."""
    addresses = [item for item in _as_list(service.get("adresse")) if isinstance(item, dict)]
    if not addresses:
        return _Address(None, None, None)
    physical = [item for item in addresses if _text(item.get("type_adresse")).lower() == "adresse"]
    chosen = (physical or addresses)[0]
    parts = [_text(chosen.get(key)) for key in ("complement1", "complement2", "numero_voie", "service_distribution")]
    street = " - ".join(part for part in parts if part)
    return _Address(street or None, _text(chosen.get("code_postal")) or None, _text(chosen.get("nom_commune")) or None)


def opening_hours(value: object) -> tuple[DayHours, ...]:
    """The directory's `plage_ouverture` (day ranges with up to two time slots) as hours per day."""
    days: dict[str, list[str]] = {}
    for item in _as_list(value):
        if not isinstance(item, dict):
            continue
        first, last = (_text(item.get(k)).lower() for k in ("nom_jour_debut", "nom_jour_fin"))
        if first not in WEEKDAYS:
            continue
        end = WEEKDAYS.index(last) if last in WEEKDAYS else WEEKDAYS.index(first)
        slots = []
        for n in (1, 2):
            start, stop = (_text(item.get(f"valeur_heure_{k}_{n}"))[:5] for k in ("debut", "fin"))
            if start and stop:
                slots.append(f"{start} - {stop}")
        if not slots:
            continue
        for day in WEEKDAYS[WEEKDAYS.index(first) : end + 1]:
            days.setdefault(day, []).extend(slots)
    return tuple(DayHours(day=day, hours=" / ".join(days[day])) for day in WEEKDAYS if day in days)


def _coordinates(service: Mapping[str, object]) -> tuple[float | None, float | None]:
    """Latitude and longitude of the street address, when the export gives plausible ones."""
    for item in _as_list(service.get("adresse")):
        if not isinstance(item, dict) or _text(item.get("type_adresse")).lower() != "adresse":
            continue
        try:
            latitude, longitude = float(_text(item.get("latitude"))), float(_text(item.get("longitude")))
        except ValueError:
            return None, None
        if 41 <= latitude <= 52 and -6 <= longitude <= 10:  # metropolitan France: a swapped pair is caught
            return latitude, longitude
    return None, None


def _first_value(items: object, key: str) -> str | None:
    """The first non-empty value in a list of strings or of {key: value} objects."""
    for item in _as_list(items):
        value = _text(item.get(key)) if isinstance(item, dict) else _text(item)
        if value:
            return value
    return None


def _as_list(value: object) -> list[object]:
    """Export fields are lists; the DILA API serialises some of them as JSON strings."""
    if isinstance(value, str) and value.strip().startswith(("[", "{")):
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            return [value]
    if isinstance(value, list):
        return value
    if value is None or value == "":
        return []
    return [value]


def _text(value: object) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()
