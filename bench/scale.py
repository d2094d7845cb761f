"""Scale: FAISS index types on synthetic corpora of 10k, 100k and 1M chunks at dimension 384.

The corpus is clustered like real embeddings are (unit vectors around random centres, so that a query's ten
nearest neighbours are near-ties among a few hundred members of its cluster, which is what makes approximate
search miss); queries are perturbed corpus points. For each size: build time, memory, single-query latency
(one query per call, as the API searches) and recall@10 against exact search, for IndexFlatIP, HNSW (M=32,
efSearch 64 / 128) and IVF-PQ (nlist = 4·√N, m = 48 or 96 bytes per vector, nprobe 16 / 32).

    python -m bench.scale                                   # 10k, 100k, 1M (tens of minutes)
    python -m bench.scale --sizes 2000,20000 --no-write     # a quick try
    python -m bench.scale --hnsw-max 100000                 # skip HNSW at 1M (its build is the long part)
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import faiss
import numpy as np
from numpy.typing import NDArray

from bench.machine import describe, load_now
from bench.report import table, write_section
from knowledge.index import EXACT_SEARCH_MAX, HNSW_EF_SEARCH, HNSW_NEIGHBOURS

DIM = 384
K = 10
Vectors = NDArray[np.float32]


@dataclass
class Measure:
    size: int
    index: str
    search: str
    build_s: float
    memory_mib: float
    p50_ms: float
    p95_ms: float
    recall: float
    best: float


def corpus(size: int, queries: int, seed: int = 0) -> tuple[Vectors, Vectors]:
    """Clustered unit vectors (one centre per 500 points, spread varying by cluster) and perturbed queries."""
    rng = np.random.default_rng(seed)
    clusters = max(16, size // 500)
    centres = _unit(rng.standard_normal((clusters, DIM), dtype=np.float32))
    spread = rng.uniform(0.7, 1.3, clusters).astype(np.float32)
    data = np.empty((size, DIM), dtype=np.float32)
    for start in range(0, size, 100_000):
        stop = min(size, start + 100_000)
        owner = rng.integers(0, clusters, stop - start)
        noise = rng.standard_normal((stop - start, DIM), dtype=np.float32) / math.sqrt(DIM)
        data[start:stop] = _unit(centres[owner] + spread[owner, None] * noise)
    picked = rng.choice(size, queries, replace=False)
    noise = rng.standard_normal((queries, DIM), dtype=np.float32) / math.sqrt(DIM)
    return data, _unit(data[picked] + 0.35 * noise)


def _unit(vectors: Vectors) -> Vectors:
    normalised: Vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    return normalised


def memory_mib(index: faiss.Index) -> float:
    """The serialized size: what the index weighs on disk and, for these types, in memory."""
    return float(faiss.serialize_index(index).nbytes) / 2**20


def latencies_ms(index: faiss.Index, queries: Vectors, threads: int = 1) -> tuple[float, float]:
    """One query per call on `threads` threads; 1 is what `KnowledgeIndex.dense_search` does."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    times = []
    try:
        for row in queries:
            started = time.perf_counter()
            index.search(row.reshape(1, -1), K)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        faiss.omp_set_num_threads(before)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def recall_at_k(found: NDArray[np.int64], truth: NDArray[np.int64]) -> float:
    hits = sum(len(set(f) & set(t)) for f, t in zip(found.tolist(), truth.tolist(), strict=True))
    return hits / truth.size


def best_found(found: NDArray[np.int64], truth: NDArray[np.int64]) -> float:
    """Share of queries whose exact nearest neighbour is among the 10 returned."""
    return float(np.mean([t[0] in f for f, t in zip(found.tolist(), truth.tolist(), strict=True)]))


def build_hnsw(data: Vectors) -> faiss.Index:
    index = faiss.IndexHNSWFlat(DIM, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    index.add(data)
    return index


def lists(size: int) -> int:
    """IVF lists: 4·√N, the usual rule of thumb."""
    return int(4 * math.sqrt(size))


def build_ivfpq(data: Vectors, bytes_per_vector: int) -> faiss.Index:
    nlist = lists(len(data))
    quantizer = faiss.IndexFlatIP(DIM)
    index = faiss.IndexIVFPQ(quantizer, DIM, nlist, bytes_per_vector, 8, faiss.METRIC_INNER_PRODUCT)
    # Training on a sample bounds the time at 1M: k-means wants about 40 points per list, no more.
    sample = np.random.default_rng(1).choice(len(data), min(len(data), 40 * nlist), replace=False)
    index.train(data[np.sort(sample)])
    index.add(data)
    return index


def measure_size(size: int, queries: int, latency_queries: int, hnsw_max: int, log: Callable[[str], None]
                 ) -> list[Measure]:
    data, probes = corpus(size, queries)
    timed = probes[:latency_queries]
    results: list[Measure] = []

    started = time.perf_counter()
    flat = faiss.IndexFlatIP(DIM)
    flat.add(data)
    build = time.perf_counter() - started
    _, truth = flat.search(probes, K)
    for threads in (1, faiss.omp_get_max_threads()):
        p50, p95 = latencies_ms(flat, timed, threads)
        search = "exact" if threads == 1 else f"exact, {threads} threads"
        results.append(Measure(size, "IndexFlatIP", search, build, memory_mib(flat), p50, p95, 1.0, 1.0))
        log(_line(results[-1]))
    del flat
    gc.collect()

    if size <= hnsw_max:
        started = time.perf_counter()
        hnsw = build_hnsw(data)
        build = time.perf_counter() - started
        memory = memory_mib(hnsw)
        for ef in (64, 128):
            faiss.ParameterSpace().set_index_parameter(hnsw, "efSearch", ef)
            p50, p95 = latencies_ms(hnsw, timed)
            _, found = hnsw.search(probes, K)
            results.append(Measure(size, f"HNSW M={HNSW_NEIGHBOURS}", f"efSearch {ef}", build, memory, p50, p95,
                                   recall_at_k(found, truth), best_found(found, truth)))
            log(_line(results[-1]))
        del hnsw
        gc.collect()
    else:
        log(f"{size:>9,} HNSW skipped (--hnsw-max {hnsw_max:,})")

    for bytes_per_vector in (48, 96):
        started = time.perf_counter()
        ivf = build_ivfpq(data, bytes_per_vector)
        build = time.perf_counter() - started
        memory = memory_mib(ivf)
        for nprobe in (16, 32):
            faiss.ParameterSpace().set_index_parameter(ivf, "nprobe", nprobe)
            p50, p95 = latencies_ms(ivf, timed)
            _, found = ivf.search(probes, K)
            results.append(Measure(size, f"IVF{lists(size)}-PQ{bytes_per_vector}", f"nprobe {nprobe}", build, memory,
                                   p50, p95, recall_at_k(found, truth), best_found(found, truth)))
            log(_line(results[-1]))
        del ivf
        gc.collect()
    return results


def _line(m: Measure) -> str:
    return (f"{m.size:>9,} {m.index:<18} {m.search:<12} build {m.build_s:7.1f} s  memory {m.memory_mib:8.1f} MiB  "
            f"p50 {m.p50_ms:7.2f} ms  p95 {m.p95_ms:7.2f} ms  recall@10 {m.recall:.3f}  top-1 found {m.best:.3f}  "
            f"(load {load_now()})")


def exact_limit(results: list[Measure], budget_ms: float) -> int | None:
    """The corpus size at which exact search reaches `budget_ms` at p95 (linear in N between measured sizes)."""
    flats = sorted((m.size, m.p95_ms) for m in results if m.index == "IndexFlatIP" and m.search == "exact")
    for (n0, t0), (n1, t1) in zip(flats, flats[1:], strict=False):
        if t0 <= budget_ms < t1:
            return int(n0 + (budget_ms - t0) * (n1 - n0) / (t1 - t0))
    if flats and flats[-1][1] <= budget_ms:
        return None  # still within budget at the largest size measured
    return flats[0][0] if flats else None


def markdown(results: list[Measure], queries: int, latency_queries: int, hnsw_max: int, budget_ms: float) -> str:
    rows = [[f"{m.size:,}", m.index, m.search, f"{m.build_s:.1f}", f"{m.memory_mib:,.0f}", f"{m.p50_ms:.2f}",
             f"{m.p95_ms:.2f}", f"{m.recall:.3f}", f"{m.best:.3f}"] for m in results]
    limit = exact_limit(results, budget_ms)
    limit_text = "beyond the largest size measured" if limit is None else f"about {limit:,} chunks"
    skipped = [s for s in sorted({m.size for m in results}) if s > hnsw_max]
    lines = [
        f"{queries} queries per size for recall@10 (against IndexFlatIP), the first {latency_queries} of them "
        f"one at a time for latency, on one thread as `KnowledgeIndex.dense_search` runs them (the *2 threads* "
        f"row shows what faiss's default costs a single query on this shared machine). Memory is the serialized "
        f"index. HNSW is built with efConstruction 40 (faiss default), as `knowledge/index.py` does; IVF-PQ is "
        f"trained on 40 points per list, sampled.",
        "",
        table(["Chunks", "Index", "Search", "Build s", "Memory MiB", "p50 ms", "p95 ms", "recall@10",
               "exact top-1 in the 10"], rows),
        "",
    ]
    if skipped:
        lines += [f"HNSW was not built at {', '.join(f'{s:,}' for s in skipped)} chunks in this run (`--hnsw-max`).",
                  ""]
    lines += [
        f"**Exact search reaches {budget_ms:.0f} ms at p95 at {limit_text}** on this machine (interpolated, "
        f"linear in N). `knowledge/index.py` keeps IndexFlatIP up to `EXACT_SEARCH_MAX` = {EXACT_SEARCH_MAX:,} "
        f"chunks and HNSW (M={HNSW_NEIGHBOURS}, efSearch {HNSW_EF_SEARCH}) above it; see *Index type decision*.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=1000, help="queries for recall@10")
    parser.add_argument("--latency-queries", type=int, default=200, help="queries timed one at a time")
    parser.add_argument("--hnsw-max", type=int, default=1_000_000, help="largest size HNSW is built at")
    parser.add_argument("--budget-ms", type=float, default=10.0, help="p95 budget of the dense search")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    machine = describe()
    print(machine.markdown(), f"faiss threads {faiss.omp_get_max_threads()}, pid {os.getpid()}")
    results: list[Measure] = []
    for size in (int(s) for s in args.sizes.split(",")):
        results += measure_size(size, args.queries, args.latency_queries, args.hnsw_max, print)
    body = markdown(results, args.queries, args.latency_queries, args.hnsw_max, args.budget_ms)
    print(body)
    if not args.no_write:
        print(f"written to {write_section('scale', 'Scale: FAISS index types from 10k to 1M chunks', machine, body)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
