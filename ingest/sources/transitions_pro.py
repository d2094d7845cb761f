"""Transitions Pro sites by covered department (SocialGouv/transitions-collectives extraction, CSV)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath

from pydantic import ValidationError

from ingest.sources.annuaire import Rows, clean_email, normalise_url, parse_date
from ingest.sources.base import Loaded, Problem
from knowledge.model import Contact, ServedTerritory, Source, Structure
from knowledge.referentials import DEPARTMENTS

# Columns that identify the extraction (see /work/shared/data/README.md).
CSV_COLUMNS = frozenset({"departement_couvert", "adresse_site_referent"})

# The file does not carry its licence: the repository it was extracted from is MIT-licensed.
_ORIGIN = "SocialGouv / transitions-collectives"
_LICENCE = "MIT — dépôt SocialGouv/transitions-collectives (src/lib/data/atPro.js)"
_REPOSITORY_URL = "https://github.com/SocialGouv/transitions-collectives"
_DEFAULT_NAME = "Transitions Pro Auvergne-Rhône-Alpes"


def load_transitions_pro_rows(rows: Rows, path: str) -> Loaded:
    """One Structure per référent site, serving the departments the file assigns to it."""
    loaded = Loaded()
    source_id = f"transitions_pro/{PurePath(path).name}"
    seen: set[str] = set()
    dates: list[date] = []
    sites: dict[str, _Site] = {}
    for line, row in rows:
        declared = _text(row, "departement_couvert")
        if not declared:
            loaded.problems.append(Problem(path, line, "département couvert manquant"))
            continue
        covered = declared.zfill(2)  # spreadsheets turn "01" into "1"
        if covered not in DEPARTMENTS:
            loaded.problems.append(Problem(path, line, f"département hors Auvergne-Rhône-Alpes « {covered} »"))
            continue
        if covered in seen:
            loaded.problems.append(Problem(path, line, f"département « {covered} » en double"))
            continue
        seen.add(covered)
        address = _text(row, "adresse_site_referent")
        as_of = _date_in(_text(row, "source"))
        if as_of is not None:
            dates.append(as_of)
        site = sites.setdefault(" ".join(address.lower().split()), _Site(row, line, address, as_of))
        site.departments.append(covered)
    for site in sites.values():
        structure = _site(site, path, source_id, loaded.problems)
        if structure is not None:
            loaded.structures.append(structure)
    if loaded.structures:
        loaded.sources.append(
            Source(
                id=source_id,
                title="Transitions Pro Auvergne-Rhône-Alpes — sites référents par département",
                origin=_ORIGIN,
                licence=_LICENCE,
                url=_REPOSITORY_URL,
                as_of=max(dates, default=None),
            )
        )
    return loaded


@dataclass
class _Site:
    """One référent site: its first row, and every department the file assigns to it."""

    row: Mapping[str, str]
    line: int
    address: str
    as_of: date | None
    departments: list[str] = field(default_factory=list)


def _site(site: _Site, path: str, source_id: str, problems: list[Problem]) -> Structure | None:
    row = site.row
    street, postcode, commune = _split_address(site.address)
    site_department = postcode[:2] if postcode and postcode[:2] in DEPARTMENTS else None
    base_name = _text(row, "nom") or _DEFAULT_NAME
    name = f"{base_name} — site de {commune}" if commune else base_name
    departments = tuple(sorted(site.departments))
    try:
        return Structure(
            id=f"transitions_pro:{postcode or departments[0]}",
            name=name,
            network="transitions_pro",
            address=street,
            postcode=postcode,
            commune=commune,
            # The site serves the departments the file lists for it, not only the one where it stands.
            department=None,
            serves=ServedTerritory(departments=departments),
            contacts=(
                Contact(
                    label=name,
                    email=clean_email(_text(row, "email")),
                    address=street,
                    postcode=postcode,
                    commune=commune,
                    department=site_department,
                    url=normalise_url(_text(row, "site_web")),
                    source_id=source_id,
                    as_of=site.as_of,
                ),
            ),
            source_id=source_id,
        )
    except ValidationError as error:
        fields = ", ".join(".".join(str(part) for part in detail["loc"]) for detail in error.errors())
        problems.append(Problem(path, site.line, f"enregistrement invalide (champs : {fields})"))
        return None


def _split_address(text: str) -> tuple[str | None, str | None, str | None]:
    """ "83/85 Boulevard Vivier Merle, 69003 Lyon" -> street, postcode, commune."""
    match = re.fullmatch(r"(.*?),?\s*(\d{5})\s+(.+)", text)
    if match is None:
        return text or None, None, None
    return match.group(1).strip(" ,") or None, match.group(2), match.group(3).strip()


def _date_in(text: str) -> date | None:
    # The source column ends with "(fichier modifié 2022-05-18)": the date of the data.
    match = re.search(r"\d{4}-\d{2}-\d{2}", text)
    return parse_date(match.group(0)) if match else None


def _text(row: Mapping[str, str], column: str) -> str:
    return (row.get(column) or "").strip()
