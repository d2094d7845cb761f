"""The embedded directory (knowledge/data/directory): normalised open-data sites, one JSON record per line."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from ingest.sources.base import Loaded, Problem
from knowledge.model import Source, Structure

DIRECTORY = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "directory"


def load_embedded_directory(root: Path = DIRECTORY) -> Loaded:
    """Every site of every `*.jsonl` file and the sources they cite; a bad line is reported and skipped."""
    loaded = Loaded()
    if not root.is_dir():
        return loaded
    sources_path = root / "sources.json"
    try:
        raw_sources = json.loads(sources_path.read_text(encoding="utf-8"))
        loaded.sources.extend(Source.model_validate(item) for item in raw_sources)
    except (OSError, ValueError) as error:  # JSONDecodeError and ValidationError are ValueErrors
        loaded.problems.append(Problem(str(sources_path), None, f"sources illisibles ({type(error).__name__})"))
    for path in sorted(root.glob("*.jsonl")):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            loaded.problems.append(Problem(str(path), None, f"lecture impossible ({type(error).__name__})"))
            continue
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                loaded.structures.append(Structure.model_validate_json(line))
            except ValidationError as error:
                fields = ", ".join(".".join(str(p) for p in e["loc"]) or "ligne" for e in error.errors())
                loaded.problems.append(Problem(str(path), number, f"structure invalide (champs : {fields})"))
    return loaded
