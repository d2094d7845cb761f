"""UNML coverage file: every commune -> the Mission Locale that serves it (one Structure per Mission Locale).

Columns: insee_commune, commune, department, ml_code, ml_nom_officiel, ml_address, ml_postcode, ml_commune,
as_of, source_id. The Mission Locale's code is the INSEE code of its historical seat, shared with the i-milo
referential (`unml:<code>` identifier), which is how the two become one site.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

from ingest.sources.annuaire import Rows, department_of_commune, department_of_postcode, parse_date
from ingest.sources.base import Loaded, Problem
from knowledge.model import Contact, FieldOrigin, ServedTerritory, Source, Structure
from knowledge.referentials import DEPARTMENTS

CSV_COLUMNS = frozenset({"insee_commune", "ml_code", "ml_nom_officiel", "ml_address"})

_TITLE = "Zones de couverture des Missions Locales (UNML)"
_ORIGIN = "UNML — Union nationale des Missions Locales"
_LICENCE = (
    "Licence non précisée (données UNML reprises dans le dépôt ccas-produits-numeriques/api-communs-numeriques, "
    "sous licence MIT pour son code)"
)
_URL = "https://github.com/ccas-produits-numeriques/api-communs-numeriques"


@dataclass
class _Mission:
    code: str
    name: str
    address: str
    postcode: str
    commune: str
    as_of: date | None
    first_line: int
    communes: list[str] = field(default_factory=list)


def load_unml_coverage(rows: Rows, path: str) -> Loaded:
    """One Structure per Mission Locale, serving exactly the communes the file assigns to it."""
    loaded = Loaded()
    source_id = f"unml/{PurePath(path).name}"
    missions: dict[str, _Mission] = {}
    assigned: dict[str, str] = {}
    for line, row in rows:
        insee, code = _text(row, "insee_commune").upper(), _text(row, "ml_code").upper()
        if not re.fullmatch(r"\d[\dAB]\d{3}", insee):
            loaded.problems.append(Problem(path, line, f"code commune invalide « {insee} »"))
            continue
        if not code:
            loaded.problems.append(Problem(path, line, "code de Mission Locale manquant"))
            continue
        if insee in assigned and assigned[insee] != code:
            message = f"commune {insee} déjà rattachée à la Mission Locale {assigned[insee]} : ligne ignorée"
            loaded.problems.append(Problem(path, line, message))
            continue
        assigned[insee] = code
        mission = missions.get(code)
        if mission is None:
            when = _text(row, "as_of")
            mission = missions[code] = _Mission(
                code=code,
                name=_text(row, "ml_nom_officiel"),
                address=" ".join(_text(row, "ml_address").split()),
                postcode=_text(row, "ml_postcode"),
                commune=_text(row, "ml_commune"),
                as_of=parse_date(when if len(when) == 10 else f"{when}-01"),
                first_line=line,
            )
        if insee not in mission.communes:
            mission.communes.append(insee)
    dates: list[date] = []
    for mission in missions.values():
        department = department_of_postcode(mission.postcode) or department_of_commune(mission.code)
        if department not in DEPARTMENTS:
            # Three communes of the region are served from Saône-et-Loire: kept out, said once.
            outside = f"Mission Locale {mission.code} hors région ({len(mission.communes)} commune(s) servie(s))"
            loaded.problems.append(Problem(path, mission.first_line, outside))
            continue
        origins = tuple(
            FieldOrigin(field=f, source_id=source_id, as_of=mission.as_of) for f in ("address", "served_area")
        )
        try:
            structure = Structure(
                id=f"unml:{mission.code}",
                name=mission.name or f"Mission Locale {mission.commune}",
                network="mission_locale",
                typology="ML",
                address=mission.address or None,
                postcode=mission.postcode or None,
                commune=mission.commune or None,
                department=department,
                serves=ServedTerritory(communes=tuple(sorted(mission.communes))),
                identifiers=(f"unml:{mission.code}",),
                contacts=(
                    Contact(
                        label=mission.name or mission.commune,
                        address=mission.address or None,
                        postcode=mission.postcode or None,
                        commune=mission.commune or None,
                        department=department,
                        source_id=source_id,
                        # Dated fields are only the address and the communes served: the name here is the
                        # network's internal code name ("01-ML BOURG EN BRESSE"), never fresher than another.
                        as_of=None,
                        origins=origins,
                    ),
                ),
                source_id=source_id,
            )
        except ValueError as error:
            loaded.problems.append(Problem(path, mission.first_line, f"enregistrement invalide ({error})"))
            continue
        loaded.structures.append(structure)
        if mission.as_of is not None:
            dates.append(mission.as_of)
    if loaded.structures:
        loaded.sources.append(
            Source(
                id=source_id,
                title=_TITLE,
                origin=_ORIGIN,
                licence=f"{_LICENCE}, fichier {PurePath(path).name}",
                url=_URL,
                as_of=max(dates, default=None),
            )
        )
    return loaded


def _text(row: Mapping[str, str], column: str) -> str:
    return (row.get(column) or "").strip()
