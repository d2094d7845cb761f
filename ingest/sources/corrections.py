"""The editors' corrections file (`<data_dir>/corrections/corrections.json`, version 1), exported by the
editors' pages: read into domain objects, every unusable entry reported and skipped, never a failed build."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ingest.sources.base import Problem
from knowledge.directory.corrections import Correction, Corrections, EditorSite, Verification

VERSION = 1

_Entry = TypeVar("_Entry", bound=BaseModel)


def corrections_file(data_dir: Path) -> Path:
    """Where the editors' pages export the corrections, and where every build reads them."""
    return data_dir / "corrections" / "corrections.json"


def load_corrections(path: Path | None) -> tuple[Corrections, list[Problem]]:
    """The corrections of the file; none without a file, and none (with one Problem) when it is unusable."""
    if path is None or not path.exists():
        return Corrections(), []
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return Corrections(), [Problem(where, None, f"corrections illisibles ({type(error).__name__}) : ignorées")]
    if not isinstance(data, dict):
        return Corrections(), [Problem(where, None, "corrections illisibles (objet JSON attendu) : ignorées")]
    if data.get("version") != VERSION:
        shown = str(data.get("version"))[:20]
        return Corrections(), [Problem(where, None, f"version {shown} des corrections non prise en charge : ignorées")]
    problems: list[Problem] = []
    corrections = Corrections(
        corrections=_entries(data, "corrections", "correction", Correction.model_validate, where, problems),
        verifications=_entries(data, "verifications", "vérification", Verification.model_validate, where, problems),
        sites=_entries(data, "sites", "site ajouté", EditorSite.model_validate, where, problems),
    )
    return corrections, problems


def _entries(
    data: dict[str, Any],
    key: str,
    what: str,
    parse: Callable[[Any], _Entry],
    where: str,
    problems: list[Problem],
) -> tuple[_Entry, ...]:
    """The valid entries of one list of the file; each invalid one is reported by its position and skipped."""
    items = data.get(key, [])
    if not isinstance(items, list):
        problems.append(Problem(where, None, f"« {key} » n'est pas une liste : ignoré"))
        return ()
    kept: list[_Entry] = []
    for number, item in enumerate(items, start=1):
        try:
            kept.append(parse(item))
        except ValidationError as error:
            fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) or "entrée" for e in error.errors()}))
            site = (item.get("structure_id") or item.get("id")) if isinstance(item, dict) else None
            about = f" (site « {str(site)[:80]} »)" if site else ""
            message = f"{what} n° {number}{about} : champs invalides ({fields}), entrée ignorée"
            problems.append(Problem(where, None, message))
    return tuple(kept)
