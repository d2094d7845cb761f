"""The dense index type chosen by size, checked on small synthetic vectors by lowering the threshold: exact
search up to EXACT_SEARCH_MAX, IVF-Flat above it, and versions built with HNSW before issue 16 still served."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import faiss
import numpy as np
import pytest
from numpy.typing import NDArray

from knowledge.index import (
    HNSW_EF_SEARCH,
    IVF_NPROBE,
    KnowledgeIndex,
    Manifest,
    Records,
    build_dense,
    ivf_lists,
    write_version,
)
from knowledge.model import Chunk

DIM = 32
ENCODER = "test-encoder"


def clustered(count: int, seed: int = 0) -> NDArray[np.float32]:
    """Unit vectors around 20 random centres, like embeddings of passages on a few topics."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, DIM)).astype(np.float32)
    points = centres[rng.integers(0, 20, count)] + rng.standard_normal((count, DIM)).astype(np.float32) / 3
    unit: NDArray[np.float32] = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    return unit


def test_a_corpus_up_to_the_threshold_gets_exact_search() -> None:
    index, kind = build_dense(clustered(500), exact_max=500)
    assert kind == "flat-ip"
    assert isinstance(index, faiss.IndexFlatIP)
    assert index.ntotal == 500


def test_a_corpus_above_the_threshold_gets_ivf_flat_searched_with_today_s_nprobe() -> None:
    index, kind = build_dense(clustered(2_000), exact_max=500)
    nlist = int(4 * math.sqrt(2_000))
    assert kind == f"ivf{nlist}-flat"
    assert isinstance(index, faiss.IndexIVFFlat)
    assert (index.nlist, index.nprobe, index.ntotal) == (nlist, IVF_NPROBE, 2_000)


def test_ivf_flat_finds_the_exact_neighbours() -> None:
    data = clustered(3_000)
    queries = data[:100] + np.random.default_rng(1).standard_normal((100, DIM)).astype(np.float32) / 10
    exact, _ = build_dense(data, exact_max=len(data))
    approximate, _ = build_dense(data, exact_max=0)
    _, truth = exact.search(queries, 10)
    _, found = approximate.search(queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found.tolist(), truth.tolist(), strict=True)])
    assert recall >= 0.95


@pytest.mark.parametrize("count", [1, 5, 16, 17])
def test_a_tiny_corpus_above_the_threshold_still_builds(count: int) -> None:
    index, _ = build_dense(clustered(count), exact_max=0)
    assert index.ntotal == count
    assert ivf_lists(count) <= count


def _version(tmp_path: Path, count: int) -> Path:
    chunks = [
        Chunk(id=f"c{i}", kind="document", record_id=f"d{i}", networks=(), title=f"Titre {i}", heading="Section",
              text=f"Texte du passage {i}", source_id="s")
        for i in range(count)
    ]
    manifest = Manifest(version="v1", created_at="2026-12-03T00:00:00+00:00", encoder=ENCODER, dim=DIM,
                        knowledge_hash="h", chunk_count=count, index_type="")
    directory = tmp_path / "v1"
    write_version(directory, manifest, chunks, clustered(count), Records())
    return directory


def test_a_version_built_with_hnsw_before_issue_16_is_served_with_today_s_ef_search(tmp_path: Path) -> None:
    directory = _version(tmp_path, 300)
    # What write_version wrote until issue 16 above EXACT_SEARCH_MAX: HNSW, type "hnsw32" in the manifest.
    hnsw = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efSearch = 16
    hnsw.add(clustered(300))
    faiss.write_index(hnsw, str(directory / "dense.faiss"))
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["dense.faiss"] = hashlib.sha256((directory / "dense.faiss").read_bytes()).hexdigest()
    manifest["index_type"] = "hnsw32"
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    loaded = KnowledgeIndex.load(directory, ENCODER)

    assert loaded.manifest.index_type == "hnsw32"
    dense = faiss.read_index(str(directory / "dense.faiss"))
    assert dense.hnsw.efSearch == 16  # the file keeps what it was built with; the load applies today's
    assert loaded._dense.hnsw.efSearch == HNSW_EF_SEARCH
    rows = loaded.dense_search(clustered(300)[7], 5)
    assert rows[0][0] == 7
