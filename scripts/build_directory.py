"""Embedded directory builder: regenerates knowledge/data/directory from the raw open-data files.

Reads every file of ../shared/data/structures through the project's own loaders (ingest/sources), drops what
the data's README says is superseded, and writes, per raw file, the normalised sites as JSON lines (one
`Structure` record each, before merging: ingest merges the same site seen in several sources), the sources
they cite, and ATTRIBUTION.md with each file's producer, licence, date and counts.

Usage: python scripts/build_directory.py [--raw ../shared/data/structures]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from ingest.sources.base import Loaded
from ingest.sources.discovery import load_paths
from knowledge.directory.merge import merge_sites
from knowledge.model import Source, Structure
from knowledge.territory import Territory

ROOT = Path(__file__).resolve().parents[1]

RAW = ROOT.parent / "shared" / "data" / "structures"
OUTPUT = ROOT / "knowledge" / "data" / "directory"


def superseded(site: Structure) -> str | None:
    """Why a raw row is left out of the embedded directory, or None to keep it."""
    if site.source_id.startswith("annuaire/") and site.network == "france_services":
        return "MSAP de 2019 : remplacées par la liste ANCT des France services d'août 2024"
    if "ARA0170003904" in site.id:
        return "agence France Travail de Ville-la-Grand : absente de la liste des agences de janvier 2021"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, default=RAW, help="folder of the raw open-data files")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    territory = Territory.load()
    args.output.mkdir(parents=True, exist_ok=True)
    for stale in args.output.glob("*.jsonl"):
        stale.unlink()
    all_sites: list[Structure] = []
    all_sources: list[Source] = []
    files: list[dict[str, object]] = []
    for raw in sorted(p for p in args.raw.iterdir() if p.suffix == ".csv"):
        loaded: Loaded = load_paths([raw], territory)
        if loaded.problems:
            for problem in loaded.problems:
                print(f"{problem}", file=sys.stderr)
        kept = [s for s in loaded.structures if superseded(s) is None]
        dropped = Counter(reason for s in loaded.structures if (reason := superseded(s)) is not None)
        lines = [s.model_dump_json(exclude_defaults=True) for s in kept]
        (args.output / f"{raw.stem}.jsonl").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        all_sites += kept
        all_sources += loaded.sources
        files.append(
            {
                "file": raw.name,
                "sha256": hashlib.sha256(raw.read_bytes()).hexdigest(),
                "sites": len(kept),
                "dropped": dict(dropped),
                "problems": [str(p).replace(str(args.raw) + "/", "") for p in loaded.problems],
                "sources": [s.id for s in loaded.sources],
            }
        )
    sources = {s.id: s for s in all_sources}
    (args.output / "sources.json").write_text(
        json.dumps([s.model_dump(mode="json", exclude_defaults=True) for s in sources.values()],
                   ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    merged, report = merge_sites(all_sites, sources)
    (args.output / "ATTRIBUTION.md").write_text(attribution(files, sources, len(all_sites), merged, len(report)),
                                                encoding="utf-8")
    print(f"{len(all_sites)} records, {len(merged)} sites after merging ({len(report)} merged)", file=sys.stderr)


def attribution(
    files: list[dict[str, object]], sources: dict[str, Source], records: int, merged: list[Structure], groups: int
) -> str:
    per_network = Counter(s.network for s in merged)
    lines = [
        "# Annuaire embarqué — sources, licences et dates",
        "",
        "Fichiers générés par `scripts/build_directory.py` à partir des fichiers de données ouvertes du dossier",
        "partagé du projet (`shared/data/structures`) ; ne pas les modifier à la main. Un fichier `.jsonl` par",
        "fichier source, une structure par ligne, avant fusion : l'ingestion fusionne un même site vu dans",
        "plusieurs sources (la valeur la plus récente de chaque champ l'emporte, chaque champ garde sa source",
        "et sa date). Aucune donnée n'y est ajoutée à la main ; les courriels signalés comme possiblement",
        "nominatifs sont gardés mais ne sont pas affichés par défaut.",
        "",
        f"{records} enregistrements, **{len(merged)} sites** après fusion ({groups} sites vus dans plusieurs sources).",
        "",
        "| réseau | sites |",
        "|---|---|",
        *(f"| {network} | {count} |" for network, count in sorted(per_network.items())),
        "",
        "## Fichiers",
        "",
    ]
    for entry in files:
        lines.append(f"### `{entry['file']}`")
        lines.append("")
        for source_id in entry["sources"]:  # type: ignore[attr-defined]
            source = sources[source_id]
            lines.append(f"- {source.title} — producteur : {source.origin}")
            lines.append(f"- Licence et mention : {source.licence}")
            if source.url:
                lines.append(f"- Origine : {source.url}")
            if source.as_of:
                lines.append(f"- Données à jour au : {source.as_of:%d/%m/%Y}")
        lines.append(f"- Empreinte sha256 du fichier brut : `{entry['sha256']}`")
        lines.append(f"- Sites repris : {entry['sites']}")
        for reason, count in entry["dropped"].items():  # type: ignore[attr-defined]
            lines.append(f"- Écartés ({count}) : {reason}")
        for problem in entry["problems"]:  # type: ignore[attr-defined]
            lines.append(f"- Signalé à la lecture : {problem}")
        lines.append("")
    lines += [
        "## Réserves",
        "",
        "- Données anciennes : l'annuaire service-public.fr est un instantané d'octobre 2019, les agences France",
        "  Travail de novembre 2019 (noms « Pôle emploi » d'alors, ni téléphone ni courriel : le numéro de France",
        "  Travail est national), Transitions Pro de mai 2022. Les contacts de plus de deux ans sont signalés",
        "  « à vérifier » (`spro coverage`).",
        "- Licences : seules les données de l'annuaire service-public.fr (DILA) et de l'ANCT sont publiées sous",
        "  Licence Ouverte ; les autres fichiers ne précisent pas de licence pour leurs données (informations",
        "  publiques d'opérateurs publics reprises dans des dépôts de code ouverts) : la mention de chaque source",
        "  est reprise dans les réponses.",
        "- Zones de couverture des Missions Locales (UNML, janvier 2026) : copiées page par page et vérifiées",
        "  mécaniquement par le dossier source ; le code d'une Mission Locale est celui de son siège historique ;",
        "  trois communes de l'Ain et de l'Allier servies par des Missions Locales de Saône-et-Loire n'ont pas de",
        "  site dans cet annuaire régional.",
        "- Non trouvés en données ouvertes : Cap emploi, Apec (hors 4 centres de 2019), CEP, E2C, EPIDE, PSAD,",
        "  MIFE, CIBC. Pour ces réseaux, la réponse donne l'annuaire officiel du réseau et son numéro national.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
