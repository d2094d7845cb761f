"""Territory table builder: regenerates knowledge/data/territory from the official COG package."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
# The tarball published on npm for 6.0.0; a different digest means the data changed under the same version.
TARBALL_SHA1 = "0330556cf07e21fff21111e5775a316ec18b9636"
REGION = "84"
DEPARTMENTS = ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74")

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "knowledge" / "data" / "territory"
SHARED_COMMUNES = ROOT.parent / "shared" / "data" / "geo" / "communes_aura_2026.csv"

COMMUNE_COLUMNS = (
    "insee",
    "name",
    "kind",
    "parent_insee",
    "department",
    "epci_code",
    "epci_name",
    "zone_code",
    "zone_name",
    "postcodes",
    "population",
)
# Current communes first so that a reader keeping the first row per code gets the current one.
KIND_ORDER = {
    "commune-actuelle": 0,
    "arrondissement-municipal": 1,
    "commune-deleguee": 2,
    "commune-associee": 3,
}


def fetch_tarball(directory: Path) -> Path:
    """Download the package tarball with npm and check it is the expected release."""
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(directory), "--silent"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (tarball,) = directory.glob("*.tgz")
    digest = hashlib.sha1(tarball.read_bytes()).hexdigest()
    if digest != TARBALL_SHA1:
        sys.exit(f"unexpected tarball sha1 {digest}, expected {TARBALL_SHA1}")
    return tarball


def read_package(tarball: Path) -> dict[str, Any]:
    """The three JSON files we use, read straight from the tarball."""
    wanted = {"communes", "epci", "departements"}
    data: dict[str, Any] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for name in wanted:
            member = archive.extractfile(f"package/data/{name}.json")
            if member is None:
                sys.exit(f"data/{name}.json missing from {tarball.name}")
            data[name] = json.load(member)
    return data


def read_zones(previous: Path) -> tuple[dict[tuple[str, str], tuple[str, str]], str]:
    """Employment area per (insee, kind): from the shared extract, else from the table we already ship."""
    if SHARED_COMMUNES.exists():
        with SHARED_COMMUNES.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        zones = {(r["code_insee"], r["type"]): (r["zone_emploi_2020_code"], r["zone_emploi_2020_nom"]) for r in rows}
        return zones, "shared"
    if previous.exists():
        # Keeps a rebuild without ../shared from silently dropping the employment areas.
        with previous.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return {(r["insee"], r["kind"]): (r["zone_code"], r["zone_name"]) for r in rows}, "previous"
    return {}, "none"


def build_rows(data: dict[str, Any], zones: dict[tuple[str, str], tuple[str, str]]) -> list[dict[str, str]]:
    communes = [c for c in data["communes"] if c.get("region") == REGION]
    epci_of: dict[str, tuple[str, str]] = {}
    for epci in data["epci"]:
        for member in epci["membres"]:
            epci_of[member["code"]] = (epci["code"], epci["nom"])
    rows: list[dict[str, str]] = []
    for c in communes:
        kind = c["type"]
        if kind == "commune-actuelle":
            parent = ""
        elif kind == "arrondissement-municipal":
            parent = c["commune"]
        else:
            parent = c["chefLieu"]
        # Former communes and arrondissements have no EPCI of their own: they belong to their commune's.
        epci_code, epci_name = epci_of.get(parent or c["code"], ("", ""))
        zone_code, zone_name = zones.get((c["code"], kind), ("", ""))
        rows.append(
            {
                "insee": c["code"],
                "name": c["nom"],
                "kind": kind,
                "parent_insee": parent,
                "department": c["departement"],
                "epci_code": epci_code,
                "epci_name": epci_name,
                "zone_code": zone_code,
                "zone_name": zone_name,
                "postcodes": " ".join(sorted(c.get("codesPostaux", []))),
                "population": str(c.get("population", "")),
            }
        )
    rows.sort(key=lambda r: (r["insee"], KIND_ORDER[r["kind"]], r["name"]))
    return rows


def check(rows: list[dict[str, str]]) -> None:
    """Fail loudly rather than ship a table that lost communes or their EPCI."""
    current = [r for r in rows if r["kind"] == "commune-actuelle"]
    if len(current) != 4025:
        sys.exit(f"expected 4025 current communes, got {len(current)}")
    if {r["department"] for r in rows} != set(DEPARTMENTS):
        sys.exit("departments differ from the twelve of the region")
    without_epci = [r["insee"] for r in rows if not r["epci_code"]]
    if without_epci:
        sys.exit(f"rows without EPCI: {without_epci[:10]}")


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def attribution(zone_source: str, missing_zones: list[str]) -> str:
    zones = {
        "shared": "extrait `communes_aura_2026.csv` du dossier de données partagé du projet "
        "(`shared/data/geo`, voir son README), lui-même tiré de `mission-apprentissage/flux-retour-cfas`, "
        "`server/static/bassins_emploi_communes.json` (dépôt sous licence MIT, commit "
        "5e90d7ad7a162327b9d2c15b4a632802d788445c ; libellés des zones tirés de `shared/constants/territoires.ts`)",
        "previous": "reprises de la table déjà livrée "
        "(le dossier de données partagé était absent lors de la régénération)",
        "none": "absentes (aucune source disponible lors de la régénération)",
    }[zone_source]
    missing = ", ".join(missing_zones) if missing_zones else "aucune"
    return f"""# Référentiel territorial Auvergne-Rhône-Alpes — sources et licences

Fichiers générés par `scripts/build_territory.py` ; ne pas les modifier à la main.

## Communes, EPCI, départements, codes postaux, population

- Source : paquet npm `{PACKAGE}@{VERSION}` (millésime COG 2026),
  dépôt github.com/datagouv/decoupage-administratif, archive vérifiée par son empreinte sha1 `{TARBALL_SHA1}`.
  Fichiers utilisés : `data/communes.json`, `data/epci.json`, `data/departements.json`.
- Producteurs : INSEE (Code officiel géographique, populations légales), DGCL (composition des EPCI
  à fiscalité propre, epcicom2026), La Poste (base officielle des codes postaux).
- Licence des données : **Licence Ouverte / Open Licence (Etalab)**. Code du paquet : MIT.
- Traitement : communes de la région {REGION} (communes actuelles, communes déléguées, communes associées,
  arrondissements municipaux de Lyon) ; EPCI obtenu par la liste des membres de chaque EPCI ; les communes
  déléguées, associées et les arrondissements reprennent l'EPCI de leur commune de rattachement. Les communes
  déléguées et associées n'ont ni codes postaux ni population propres dans la source (colonnes vides).

## Zones d'emploi 2020

- Source : INSEE, zonage en zones d'emploi 2020, **Licence Ouverte (Etalab)** ;
  {zones}.
- Communes sans zone d'emploi (créées ou rétablies après la publication de la source) : {missing}.

## Mention à reprendre

« Source : INSEE (COG 2026, zones d'emploi 2020), DGCL, La Poste — Licence Ouverte, via
@etalab/decoupage-administratif {VERSION}. »
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tarball", type=Path, help="use this already downloaded package tarball")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or fetch_tarball(Path(tmp))
        data = read_package(tarball)

    output: Path = args.output
    output.mkdir(parents=True, exist_ok=True)
    zones, zone_source = read_zones(output / "communes.csv")
    rows = build_rows(data, zones)
    check(rows)
    write_csv(output / "communes.csv", COMMUNE_COLUMNS, rows)

    chef_lieu = {d["code"]: d["chefLieu"] for d in data["departements"]}
    departments = [
        {"code": d["code"], "name": d["nom"], "chef_lieu_insee": chef_lieu[d["code"]]}
        for d in data["departements"]
        if d["code"] in DEPARTMENTS
    ]
    write_csv(output / "departements.csv", ("code", "name", "chef_lieu_insee"), departments)

    missing = sorted(
        f"{r['insee']} {r['name']}" for r in rows if r["kind"] == "commune-actuelle" and not r["zone_code"]
    )
    (output / "ATTRIBUTION.md").write_text(attribution(zone_source, missing), encoding="utf-8")
    print(f"{len(rows)} rows, {len(departments)} departments, zones from {zone_source}, written to {output}")


if __name__ == "__main__":
    main()
