"""Scale: FAISS index types on synthetic corpora of 10k, 100k and 1M chunks at dimension 384.

The corpus is clustered like real embeddings are (unit vectors around random centres, so that a query's ten
nearest neighbours are near-ties among a few hundred members of its cluster, which is what makes approximate
search miss); queries are perturbed corpus points. For each size and index type: build time, serialized size,
the resident memory of a fresh process that loads the index, single-query latency (one query per call, as the
API searches) and recall@10 against exact search. Index types: IndexFlatIP; HNSW (M=32) with efConstruction
40 (faiss's default, the index used above 50k chunks until issue 16), 80 and 160; HNSW over 8-bit scalar
quantized vectors; IVF-Flat and IVF-SQ8 (nlist = 4·√N); IVF-PQ (48 or 96 bytes per vector).

    python -m bench.scale                                   # 10k, 100k, 1M (over an hour on 2 cores)
    python -m bench.scale --sizes 2000,20000 --no-write     # a quick try
    python -m bench.scale --hnsw-max 100000                 # skip every HNSW at 1M (their builds are the long part)
    python -m bench.scale --only flat,ivf-flat              # some index types only
    python -m bench.scale --skip hnsw-efc160@1000000        # not this one at 1M (a build of many minutes)
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from numpy.typing import NDArray

from bench.machine import describe, load_now
from bench.report import table, write_section
from knowledge.index import (
    EXACT_SEARCH_MAX,
    HNSW_NEIGHBOURS,
    IVF_NPROBE,
    build_dense,
    ivf_lists,
)

DIM = 384
K = 10
# What a serving process adds to the index: the encoder, the app and the small served base, measured at 201 to
# 232 MiB in docs/BENCHMARKS.md (Serving). The chunk texts and BM25 of a million-chunk base are not counted.
APP_MIB = 250
Vectors = NDArray[np.float32]


@dataclass
class Measure:
    size: int
    index: str
    search: str
    build_s: float
    memory_mib: float
    rss_mib: float
    p50_ms: float
    p95_ms: float
    recall: float
    best: float
    load: str = ""  # the load average (1/5/15 min) when the latency was measured

    def __post_init__(self) -> None:
        self.load = self.load or load_now()


@dataclass(frozen=True)
class Candidate:
    """An index type to measure: how to build it, and the search settings to try on it."""

    name: str
    label: str
    build: Callable[[Vectors], faiss.Index]
    parameter: str  # a faiss ParameterSpace name, or "" when there is nothing to tune
    values: Sequence[int]
    hnsw: bool = False


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
    """The serialized size: what the index weighs on disk."""
    return float(faiss.serialize_index(index).nbytes) / 2**20


_RSS_PROBE = """
import json, sys
import faiss
def status():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}
before = status()
index = faiss.read_index(sys.argv[1])
print(json.dumps({"before": before, "after": status(), "ntotal": index.ntotal}))
"""


def rss_mib(index: faiss.Index) -> float:
    """Peak resident memory (VmHWM) of a fresh Python process that imports faiss and reads the index file,
    as `KnowledgeIndex.load` does; the interpreter with faiss alone is about 40 MiB of it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dense.faiss"
        faiss.write_index(index, str(path))
        out = subprocess.run([sys.executable, "-c", _RSS_PROBE, str(path)], check=True, capture_output=True,
                             text=True).stdout
    return float(json.loads(out)["after"]["VmHWM"])


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


def hnsw(construction: int, sq8: bool = False) -> Callable[[Vectors], faiss.Index]:
    def build(data: Vectors) -> faiss.Index:
        codes = "SQ8" if sq8 else "Flat"
        index = faiss.index_factory(DIM, f"HNSW{HNSW_NEIGHBOURS},{codes}", faiss.METRIC_INNER_PRODUCT)
        faiss.ParameterSpace().set_index_parameter(index, "efConstruction", construction)  # before any add
        index.train(data)  # the scalar quantizer's range per dimension; nothing for Flat
        index.add(data)
        return index
    return build


def ivf(codes: str) -> Callable[[Vectors], faiss.Index]:
    """IVF over `codes` ("Flat", "SQ8", "PQ48np"...), trained on 40 points per list, sampled, as
    `knowledge.index.build_dense` does for "Flat". "np": no polysemous training, which index_factory otherwise
    turns on for PQ and which took minutes on 2,000 vectors."""
    def build(data: Vectors) -> faiss.Index:
        if codes == "Flat":
            return build_dense(data, exact_max=0)[0]
        nlist = ivf_lists(len(data))
        index = faiss.index_factory(DIM, f"IVF{nlist},{codes}", faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(1).choice(len(data), min(len(data), 40 * nlist), replace=False)
        index.train(data[np.sort(sample)])
        index.add(data)
        return index
    return build


def candidates(size: int) -> list[Candidate]:
    nlist = ivf_lists(size)
    return [
        Candidate("hnsw", "HNSW M=32 efC 40", hnsw(40), "efSearch", (64, 128), hnsw=True),
        Candidate("hnsw-efc80", "HNSW M=32 efC 80", hnsw(80), "efSearch", (128, 256, 512), hnsw=True),
        Candidate("hnsw-efc160", "HNSW M=32 efC 160", hnsw(160), "efSearch", (128, 256, 512), hnsw=True),
        Candidate("hnsw-sq8", "HNSW-SQ8 M=32 efC 80", hnsw(80, sq8=True), "efSearch", (128, 256, 512), hnsw=True),
        Candidate("ivf-flat", f"IVF{nlist}-Flat", ivf("Flat"), "nprobe", (8, 16, 32, 64)),
        Candidate("ivf-sq8", f"IVF{nlist}-SQ8", ivf("SQ8"), "nprobe", (16, 32, 64)),
        Candidate("ivf-pq48", f"IVF{nlist}-PQ48", ivf("PQ48np"), "nprobe", (16, 32)),
        Candidate("ivf-pq96", f"IVF{nlist}-PQ96", ivf("PQ96np"), "nprobe", (16, 32)),
    ]


NAMES = ["flat"] + [c.name for c in candidates(10_000)]


def measure_size(size: int, queries: int, latency_queries: int, hnsw_max: int, only: set[str], skip: set[str],
                 log: Callable[[str], None]) -> list[Measure]:
    data, probes = corpus(size, queries)
    timed = probes[:latency_queries]
    results: list[Measure] = []

    started = time.perf_counter()
    flat = faiss.IndexFlatIP(DIM)
    flat.add(data)
    build = time.perf_counter() - started
    _, truth = flat.search(probes, K)
    if "flat" in only:
        memory, rss = memory_mib(flat), rss_mib(flat)
        for threads in (1, faiss.omp_get_max_threads()):
            p50, p95 = latencies_ms(flat, timed, threads)
            search = "exact" if threads == 1 else f"exact, {threads} threads"
            results.append(Measure(size, "IndexFlatIP", search, build, memory, rss, p50, p95, 1.0, 1.0))
            log(_line(results[-1]))
    del flat
    gc.collect()

    for candidate in candidates(size):
        if candidate.name not in only:
            continue
        if f"{candidate.name}@{size}" in skip:
            log(f"{size:>9,} {candidate.label} skipped (--skip)")
            continue
        if candidate.hnsw and size > hnsw_max:
            log(f"{size:>9,} {candidate.label} skipped (--hnsw-max {hnsw_max:,})")
            continue
        started = time.perf_counter()
        index = candidate.build(data)
        build = time.perf_counter() - started
        memory, rss = memory_mib(index), rss_mib(index)
        for value in candidate.values:
            faiss.ParameterSpace().set_index_parameter(index, candidate.parameter, value)
            p50, p95 = latencies_ms(index, timed)
            _, found = index.search(probes, K)
            results.append(Measure(size, candidate.label, f"{candidate.parameter} {value}", build, memory, rss,
                                   p50, p95, recall_at_k(found, truth), best_found(found, truth)))
            log(_line(results[-1]))
        del index
        gc.collect()
    return results


def _line(m: Measure) -> str:
    return (f"{m.size:>9,} {m.index:<22} {m.search:<12} build {m.build_s:7.1f} s  memory {m.memory_mib:8.1f} MiB  "
            f"RSS {m.rss_mib:8.1f} MiB  p50 {m.p50_ms:7.2f} ms  p95 {m.p95_ms:7.2f} ms  recall@10 {m.recall:.3f}  "
            f"top-1 found {m.best:.3f}  (load {load_now()})")


def exact_limit(results: list[Measure], budget_ms: float) -> int | None:
    """The corpus size at which exact search reaches `budget_ms` at p95 (linear in N between measured sizes)."""
    flats = sorted((m.size, m.p95_ms) for m in results if m.index == "IndexFlatIP" and m.search == "exact")
    for (n0, t0), (n1, t1) in zip(flats, flats[1:], strict=False):
        if t0 <= budget_ms < t1:
            return int(n0 + (budget_ms - t0) * (n1 - n0) / (t1 - t0))
    if flats and flats[-1][1] <= budget_ms:
        return None  # still within budget at the largest size measured
    return flats[0][0] if flats else None


def served(size: int) -> tuple[str, str]:
    """The index label and search setting `knowledge/index.py` uses at `size` chunks, to mark its rows."""
    if size <= EXACT_SEARCH_MAX:
        return "IndexFlatIP", "exact"
    return f"IVF{ivf_lists(size)}-Flat", f"nprobe {IVF_NPROBE}"


def markdown(results: list[Measure], queries: int, latency_queries: int, budget_ms: float, runs: int = 1) -> str:
    rows = [[f"{m.size:,}", f"**{m.index}**" if (m.index, m.search) == served(m.size) else m.index, m.search,
             f"{m.build_s:.1f}", f"{m.memory_mib:,.0f}", f"{m.rss_mib:,.0f}", f"{m.p50_ms:.2f}", f"{m.p95_ms:.2f}",
             f"{m.recall:.3f}", f"{m.best:.3f}", m.load] for m in results]
    limit = exact_limit(results, budget_ms)
    limit_text = "beyond the largest size measured" if limit is None else f"about {limit:,} chunks"
    smallest = min((m for m in results if m.index == "IndexFlatIP" and m.search == "exact"), default=None,
                   key=lambda m: m.size)
    if smallest is not None and smallest.p95_ms > budget_ms:
        limit_text = f"{smallest.size:,} chunks already, the smallest size measured,"
    lines = [
        f"{queries} queries per size for recall@10 (against IndexFlatIP), the first {latency_queries} of them "
        f"one at a time for latency, on one thread as `KnowledgeIndex.dense_search` runs them (the *2 threads* "
        f"row shows what faiss's default costs a single query on this shared machine). *Memory* is the "
        f"serialized index; *RSS* is the peak resident memory (VmHWM) of a fresh Python process that imports "
        f"faiss (about 40 MiB alone) and reads the index file, as the API does at start; a serving process adds "
        f"the encoder and the app, about {APP_MIB} MiB (Serving section), and the chunk texts and BM25 of the "
        f"base, not counted here. HNSW (M={HNSW_NEIGHBOURS}) is built with the efConstruction (efC) shown; "
        f"the IVF indexes are trained on 40 points per list, sampled. Build time is on the machine's "
        f"{os.cpu_count()} cores, under the load stated{_spin_note()}. In bold: what `knowledge/index.py` builds "
        f"at that size."
        + (f" The rows come from {runs} runs (`--render`), each row with the load it was measured under (the "
           f"machine line's is the load when they were put together)." if runs > 1
           else ""),
        "",
        table(["Chunks", "Index", "Search", "Build s", "Memory MiB", "RSS MiB", "p50 ms", "p95 ms", "recall@10",
               "exact top-1 in the 10", "Load 1/5/15"], rows),
        "",
    ]
    for size, missing in _not_measured(results).items():
        lines += [f"Not measured at {size:,} chunks here: {', '.join(missing)}.", ""]
    lines += [
        f"**Exact search reached {budget_ms:.0f} ms at p95 at {limit_text}** in these measures (interpolated, linear "
        f"in N; p95 follows the load of each row). `knowledge/index.py` keeps IndexFlatIP up to "
        f"`EXACT_SEARCH_MAX` = {EXACT_SEARCH_MAX:,} chunks and IVF-Flat (nlist = 4·√N, nprobe {IVF_NPROBE}) above "
        f"it; see *Index type decision*.",
    ]
    return "\n".join(lines)


def _not_measured(results: list[Measure]) -> dict[int, list[str]]:
    """Per size, the index types measured at another size but not at this one (`--hnsw-max`, `--skip`)."""
    def kind(label: str) -> str:
        return re.sub(r"^IVF\d+", "IVF", label)
    kinds = list(dict.fromkeys(kind(m.index) for m in results))
    sizes = sorted({m.size for m in results})
    found = {(m.size, kind(m.index)) for m in results}
    gaps = {size: [k for k in kinds if (size, k) not in found] for size in sizes}
    return {size: missing for size, missing in gaps.items() if missing}


def _order(m: Measure) -> int:
    """Table order within a size: exact search first, then the candidates in the order they are listed."""
    labels = ["IndexFlatIP"] + [c.label for c in candidates(m.size)]
    return labels.index(m.index) if m.index in labels else len(labels)


def _spin_note() -> str:
    """The OpenMP wait setting of the run, when set: it changes build times on a loaded machine, not recall."""
    set_ = [f"{name}={os.environ[name]}" for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT") if name in os.environ]
    return f", with {' '.join(set_)}" if set_ else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=1000, help="queries for recall@10")
    parser.add_argument("--latency-queries", type=int, default=200, help="queries timed one at a time")
    parser.add_argument("--hnsw-max", type=int, default=1_000_000, help="largest size the HNSW indexes are built at")
    parser.add_argument("--only", default=",".join(NAMES), help=f"index types to measure, among {','.join(NAMES)}")
    parser.add_argument("--skip", default="", help="index types not to build at one size: hnsw-efc160@1000000,...")
    parser.add_argument("--save", help="a JSON file the measures are written to after each size")
    parser.add_argument("--render", help="JSON files of --save, comma-separated: write their measures, measure none")
    parser.add_argument("--budget-ms", type=float, default=10.0, help="p95 budget of the dense search")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    if unknown := only - set(NAMES):
        parser.error(f"unknown index types: {', '.join(sorted(unknown))}")
    machine = describe()
    print(machine.markdown(), f"faiss threads {faiss.omp_get_max_threads()}, pid {os.getpid()}", flush=True)
    results: list[Measure] = []
    if args.render:
        # Runs of a few index types each, merged: on a loaded 2-core machine one run of everything at 1M
        # takes hours. Each row keeps the load it was measured under.
        for path in args.render.split(","):
            results += [Measure(**m) for m in json.loads(Path(path).read_text(encoding="utf-8"))]
        results.sort(key=lambda m: (m.size, _order(m)))
    for size in (int(s) for s in args.sizes.split(",") if not args.render):
        results += measure_size(size, args.queries, args.latency_queries, args.hnsw_max, only,
                                set(filter(None, args.skip.split(","))), lambda line: print(line, flush=True))
        if args.save:
            Path(args.save).write_text(json.dumps([m.__dict__ for m in results], indent=1), encoding="utf-8")
    runs = len(args.render.split(",")) if args.render else 1
    body = markdown(results, args.queries, args.latency_queries, args.budget_ms, runs)
    print(body)
    if not args.no_write:
        print(f"written to {write_section('scale', 'Scale: FAISS index types from 10k to 1M chunks', machine, body)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
