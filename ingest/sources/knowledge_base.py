"""Our own YAML sheets: network offers of service and dispositif sheets (knowledge/data)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from ingest.sources.base import Loaded, Problem
from knowledge.model import Dispositif, Network

EMBEDDED = Path(__file__).resolve().parents[2] / "knowledge" / "data"


def load_knowledge_base(root: Path = EMBEDDED) -> Loaded:
    """Every networks/*.yaml and dispositifs/*.yaml under root; a bad sheet is reported and skipped."""
    loaded = Loaded()
    for path in sorted((root / "networks").glob("*.yaml")):
        network = _read(path, Network, loaded)
        if isinstance(network, Network):
            loaded.networks.append(network)
            loaded.sources.append(network.source)
    for path in sorted((root / "dispositifs").glob("*.yaml")):
        dispositif = _read(path, Dispositif, loaded)
        if isinstance(dispositif, Dispositif):
            loaded.dispositifs.append(dispositif)
            loaded.sources.append(dispositif.source)
    return loaded


def _read(path: Path, model: type[Network] | type[Dispositif], loaded: Loaded) -> Network | Dispositif | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        loaded.problems.append(Problem(str(path), line + 1 if line is not None else None, f"YAML illisible : {exc}"))
        return None
    if not isinstance(data, dict):
        loaded.problems.append(Problem(str(path), None, "fiche vide ou mal formée"))
        return None
    try:
        record = model.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        loaded.problems.append(Problem(str(path), None, f"fiche invalide (champs : {fields})"))
        return None
    if record.id != path.stem:
        loaded.problems.append(Problem(str(path), None, f"l'identifiant « {record.id} » diffère du nom du fichier"))
        return None
    return record
