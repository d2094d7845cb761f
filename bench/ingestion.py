"""Ingest: a full build from a fresh embedding cache, a re-index with nothing changed, one with one source changed.

    python -m bench.ingestion               # a few minutes: the full build embeds every passage
    python -m bench.ingestion --no-write
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import tempfile
import time
from pathlib import Path

from bench.corpus import describe_sources, real_sources, served_encoder
from bench.machine import describe, load_now
from bench.report import table, write_section
from ingest.build import BATCH, BuildReport, build_index
from knowledge.embedding import Encoder, first_stage_of


def change_one_source(folder: Path) -> str:
    """Move one Transitions Pro site to another floor: one record, one CSV file changed."""
    path = folder / "transitions_pro_aura_2022.csv"
    if not path.is_file():
        path = next(p for p in sorted(folder.glob("*.csv")))
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    address = rows[0].index("adresse_site_referent") if "adresse_site_referent" in rows[0] else 4
    rows[1][address] = rows[1][address] + " (2e étage)"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    machine = describe()
    print(machine.markdown())
    encoder = served_encoder()
    encoder.encode_queries(["échauffement"])  # the model load is not part of a build
    first = first_stage_of(encoder)
    if first is not None:
        first.encode_queries(["échauffement"])
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="spro-bench-ingest-") as tmp:
        work = Path(tmp)
        sources = []
        for source in real_sources():
            copy = work / "sources" / source.name
            shutil.copytree(source, copy)
            sources.append(copy)
        root, cache = work / "index", work / "embeddings.sqlite"

        def run(label: str, force: bool = False) -> BuildReport:
            started = time.perf_counter()
            report = build_index(root, encoder, sources, cache_path=cache, force=force)
            seconds = time.perf_counter() - started
            rate = f"{report.embedded / seconds:.1f}" if report.embedded else "—"
            state = "unchanged" if report.unchanged else ("new version" if report.published else "not published")
            rows.append([label, f"{seconds:.1f}", report.chunks, report.embedded, report.first_stage_embedded,
                         report.shipped + report.first_stage_shipped, report.reused, rate, state])
            print(f"{label}: {seconds:.1f} s, {report.chunks} chunks, {report.embedded} embedded, "
                  f"{report.reused} reused, {state} (load {load_now()})")
            return report

        run("Full build, fresh embedding cache")
        run("Re-index, nothing changed")
        run("Re-index, nothing changed, `--force` (new version from the cache)", force=True)
        if sources:
            changed = change_one_source(sources[0])
            run(f"Re-index, one source file changed (`{changed}`, one site)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    body = "\n".join([
        f"`build_index` in-process with {_encoders(encoder)} (models already loaded), {describe_sources()} "
        f"copied to a "
        f"temporary folder; passages embedded in batches of {BATCH} (`ingest/build.py`), vectors cached by "
        f"content hash in SQLite. Peak RSS of the process: {peak:.0f} MiB.",
        "",
        table(["Run", "Seconds", "Chunks", "Embedded", "Embedded by the first stage", "Shipped vectors taken",
               "Reused from cache", "Passages/s embedded", "Result"], rows),
    ])
    print(body)
    if not args.no_write:
        print(f"written to {write_section('ingestion', 'Ingest: full build and re-indexing', machine, body)}")
    return 0


def _encoders(encoder: Encoder) -> str:
    first = first_stage_of(encoder)
    return f"`{encoder.name}`" + (f" and its first stage `{first.name}`" if first is not None else "")


if __name__ == "__main__":
    raise SystemExit(main())
