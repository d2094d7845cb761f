"""Resilience: a re-index swapped in under load, an ingest killed with SIGKILL mid-build, a restart on a
corrupted index. Prints what happened and writes its section of docs/BENCHMARKS.md.

    python -m bench.resilience                            # 60 s at 16 clients, then the two other checks
    python -m bench.resilience --duration 10 --clients 4 --no-write   # a quick try
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench import load, workload
from bench.corpus import WORK, prepare_data_dir, real_sources, served_encoder, sources_env
from bench.machine import describe, load_now
from bench.processes import ADMIN_TOKEN, ServerProcess
from bench.report import ROOT, table, write_section
from ingest.build import build_index
from knowledge.embedding import Encoder
from knowledge.index import load_latest, versions_dir

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class SwapRun:
    clients: int
    result: load.LoadResult
    old_version: str
    new_version: str
    job: dict[str, Any]
    reindex_at: float
    swap_at: float | None
    cold_cache: bool
    versions_seen: list[tuple[float, str]] = field(default_factory=list)


def swap_under_load(data_dir: Path, log: Path, clients: int, duration: float, reindex_at: float,
                    cold_cache: bool) -> SwapRun:
    """`duration` seconds of load; at `reindex_at`, POST /api/admin/reindex {force}; /readyz polled meanwhile.
    The load goes on past `duration` until the swap has been seen for 5 s (bounded at 15 minutes)."""
    if cold_cache:
        (data_dir / "index" / "embeddings.sqlite").unlink(missing_ok=True)
    server = ServerProcess.spro_serve(data_dir, log, extra_env=sources_env())
    with server:
        server.wait_ready()
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            old = client.get("/readyz").json()["index_version"]
            swap_seen: list[float] = []
            started = time.perf_counter()

            def enough() -> bool:
                elapsed = time.perf_counter() - started
                if elapsed > 900:
                    return True
                return elapsed >= duration and bool(swap_seen) and elapsed >= swap_seen[0] + 5

            outcome: dict[str, load.LoadResult] = {}

            def mixed(text: str) -> tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]:
                return load.chat_request(text) if len(text) % 2 else load.search_request(text)

            hammer = threading.Thread(target=lambda: outcome.setdefault("load", load.run_load(
                server.base_url, mixed, workload.unique(clients), clients, 900, stop=enough)))
            hammer.start()
            time.sleep(reindex_at)
            job_id = client.post("/api/admin/reindex", json={"force": True}, headers=AUTH).json()["id"]
            launched = time.perf_counter() - started
            seen: list[tuple[float, str]] = []
            job: dict[str, Any] = {}
            while hammer.is_alive():
                version = client.get("/readyz").json()["index_version"]
                now = time.perf_counter() - started
                if not seen or seen[-1][1] != version:
                    seen.append((now, version))
                    print(f"  t={now:6.1f} s  /readyz → {version}")
                if version != old and not swap_seen:
                    swap_seen.append(now)
                if not job or job.get("status") not in ("succeeded", "failed"):
                    job = client.get(f"/api/admin/reindex/{job_id}", headers=AUTH).json()
                time.sleep(0.2)
            hammer.join()
            new = client.get("/readyz").json()["index_version"]
    return SwapRun(clients, outcome["load"], old, new, job, launched, swap_seen[0] if swap_seen else None, cold_cache,
                   seen)


@dataclass
class KillRun:
    killed_after_s: float
    embedded_before_kill: int
    served_after_kill: str
    refusals_after_kill: list[str]
    versions_unchanged: bool
    cache_ok: bool
    next_build_s: float
    next_embedded: int
    next_reused: int
    next_version: str | None
    previous: str


def _rows(cache: Path) -> int:
    if not cache.exists():
        return 0
    with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=30) as db:
        return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])


def kill_mid_build(data_dir: Path, encoder: Encoder, kill_after_batches: int) -> KillRun:
    """`spro ingest --force` with a fresh, empty embedding cache, killed with SIGKILL once it has committed
    `kill_after_batches` batches; then what is served, and the next build."""
    index_dir = data_dir / "index"
    cache = index_dir / "embeddings.sqlite"
    cache.unlink(missing_ok=True)
    previous, _ = load_latest(index_dir, encoder.name)
    versions_before = sorted(p.name for p in versions_dir(index_dir).iterdir())
    env = {**os.environ, "SPRO_DATA_DIR": str(data_dir), **sources_env()}
    started = time.perf_counter()
    build = subprocess.Popen([sys.executable, "-m", "api.cli", "ingest", "--force"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while _rows(cache) < 32 * kill_after_batches:
            if build.poll() is not None:
                raise RuntimeError("the build ended before it could be killed")
            time.sleep(0.02)
        build.send_signal(signal.SIGKILL)
    finally:
        build.kill()
        build.wait()
    killed_after = time.perf_counter() - started
    embedded = _rows(cache)
    served, refusals = load_latest(index_dir, encoder.name)
    with sqlite3.connect(cache) as db:
        cache_ok = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    unchanged = sorted(p.name for p in versions_dir(index_dir).iterdir()) == versions_before
    print(f"  killed after {killed_after:.1f} s with {embedded} vectors committed; serving {served.version}")
    started = time.perf_counter()
    report = build_index(index_dir, encoder, real_sources(), force=True)
    return KillRun(
        killed_after_s=killed_after,
        embedded_before_kill=embedded,
        served_after_kill=served.version,
        refusals_after_kill=refusals,
        versions_unchanged=unchanged,
        cache_ok=cache_ok,
        next_build_s=time.perf_counter() - started,
        next_embedded=report.embedded,
        next_reused=report.reused,
        next_version=report.version,
        previous=previous.version,
    )


@dataclass
class CorruptRun:
    good: str
    damaged: str
    partial: str
    served: str
    cold_start_s: float
    search_status: int
    refusals: list[str]


def restart_on_corruption(data_dir: Path, encoder: Encoder, log: Path) -> CorruptRun:
    """Publish a second version, cut its dense.faiss in half, add a newer version folder without manifest,
    then start `spro serve` on it."""
    index_dir = data_dir / "index"
    good, _ = load_latest(index_dir, encoder.name)
    report = build_index(index_dir, encoder, real_sources(), force=True)
    assert report.version is not None
    dense = versions_dir(index_dir) / report.version / "dense.faiss"
    with dense.open("r+b") as handle:
        handle.truncate(dense.stat().st_size // 2)
    partial = versions_dir(index_dir) / "99991231T000000000000Z-partiel"
    partial.mkdir()
    (partial / "chunks.jsonl").write_text("", encoding="utf-8")
    server = ServerProcess.spro_serve(data_dir, log, extra_env=sources_env())
    with server:
        cold = server.wait_ready()
        served = httpx.get(f"{server.base_url}/readyz", timeout=30).json()["index_version"]
        status = httpx.get(f"{server.base_url}/api/search", params={"q": "jeune de 19 ans sans diplôme à Lyon"},
                           timeout=60).status_code
    refusals = sorted({line.split("index refused: ", 1)[1].strip() for line in server.log_tail(1_000_000).splitlines()
                       if "index refused: " in line})
    return CorruptRun(good.version, report.version, partial.name, served, cold, status, refusals)


def _phase_latency(run: SwapRun) -> list[list[object]]:
    if run.swap_at is None:
        return []
    phases = (("before the re-index", 0.0, run.reindex_at), ("re-index running", run.reindex_at, run.swap_at),
              ("after the swap", run.swap_at, float("inf")))
    rows: list[list[object]] = []
    for name, start, stop in phases:
        values = [ms for at, ms in run.result.timeline if start <= at < stop]
        if values:
            rows.append([name, f"{stop - start:.1f}" if stop != float("inf") else "—", len(values),
                         f"{np.percentile(values, 50):.0f}", f"{np.percentile(values, 95):.0f}",
                         f"{np.percentile(values, 99):.0f}", f"{max(values):.0f}"])
    return rows


def _swap_markdown(run: SwapRun, duration: float) -> list[str]:
    r = run.result
    verdict = "**0 failed requests**" if r.error_count == 0 else f"**{r.error_count} failed requests** {r.errors}"
    swap_text = f"{run.swap_at - run.reindex_at:.1f} s after it started" if run.swap_at else "never"
    cache = ("fresh embedding cache: every passage embedded again while serving, on the same 2 cores"
             if run.cold_cache else "warm embedding cache, as after any earlier build")
    return [
        f"**{'Cold' if run.cold_cache else 'Warm'} re-index.** `spro serve` (one process) under {run.clients} "
        f"closed-loop clients for {r.seconds:.0f} s (at least {duration:.0f} s, and 5 s past the swap), "
        f"alternating `/api/chat` and `/api/search` with unique counsellor cases; at t = {run.reindex_at:.0f} s, "
        f"`POST /api/admin/reindex {{\"force\": true}}` ({cache}). Job {run.job.get('status')}; the new version "
        f"was served {swap_text}: `{run.old_version}` → `{run.new_version}`. {r.requests} requests, {verdict}.",
        "",
        table(["Phase", "Seconds", "Answered", "p50 ms", "p95 ms", "p99 ms", "max ms"], _phase_latency(run)),
        "",
    ]


def markdown(swaps: list[SwapRun], kill: KillRun, corrupt: CorruptRun, duration: float) -> str:
    lines = [
        "### Re-index and swap under load",
        "",
        *(line for run in swaps for line in _swap_markdown(run, duration)),
        "### `spro ingest` killed with SIGKILL while it embeds",
        "",
        f"`spro ingest --force` on a served index with a fresh, empty embedding cache, killed "
        f"{kill.killed_after_s:.1f} s after its start, when {kill.embedded_before_kill} passage vectors were "
        f"committed to the cache.",
        "",
        table(["Check", "Result"], [
            ["Version loadable after the kill", f"`{kill.served_after_kill}` "
             f"({'the previous one' if kill.served_after_kill == kill.previous else 'NOT the previous one'}), "
             f"{len(kill.refusals_after_kill)} refusal(s)"],
            ["Version folders", "unchanged (nothing half-published)" if kill.versions_unchanged else "CHANGED"],
            ["Embedding cache", "SQLite integrity check ok" if kill.cache_ok else "CORRUPTED"],
            ["Next build", f"published `{kill.next_version}` in {kill.next_build_s:.1f} s: {kill.next_embedded} "
             f"passages embedded, {kill.next_reused} reused (the killed build's batches included)"],
        ]),
        "",
        "### Restart on a corrupted index",
        "",
        f"A second version published, then its `dense.faiss` cut to half its size; a newer version folder without "
        f"a manifest beside it. `spro serve` started in {corrupt.cold_start_s:.1f} s and serves "
        f"`{corrupt.served}` ({'the last good version' if corrupt.served == corrupt.good else 'NOT the last good one'}"
        f"); `/api/search` answered {corrupt.search_status}. Refusals in the log:",
        "",
        *[f"- `{refusal}`" for refusal in corrupt.refusals],
        "",
        "The same three properties are asserted, without timing, by `tests/test_resilience.py`.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--reindex-at", type=float, default=10.0)
    parser.add_argument("--swaps", default="warm,cold",
                        help="re-index runs: warm (embedding cache kept) and/or cold (cache emptied first)")
    parser.add_argument("--kill-after-batches", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    machine = describe()
    print(machine.markdown())
    work = WORK / "resilience"
    encoder = served_encoder()

    swaps = []
    for mode in args.swaps.split(","):
        print(f"1. {mode} re-index under load: {args.clients} clients, {args.duration:.0f} s")
        prepare_data_dir(work / "swap", encoder)
        swap = swap_under_load(work / "swap", work / f"swap-{mode}.log", args.clients, args.duration,
                               args.reindex_at, cold_cache=mode == "cold")
        print(f"  {swap.result.summary()}; job {swap.job.get('status')}; load {load_now()}")
        swaps.append(swap)

    print("2. spro ingest killed mid-build")
    prepare_data_dir(work / "kill", encoder)
    kill = kill_mid_build(work / "kill", encoder, args.kill_after_batches)
    print(f"  {json.dumps(kill.__dict__, ensure_ascii=False)}")

    print("3. restart on a corrupted index")
    prepare_data_dir(work / "corrupt", encoder)
    corrupt = restart_on_corruption(work / "corrupt", encoder, work / "corrupt.log")
    print(f"  {json.dumps(corrupt.__dict__, ensure_ascii=False)}")

    body = markdown(swaps, kill, corrupt, args.duration)
    print(body)
    if not args.no_write:
        print(f"written to {write_section('resilience', 'Resilience', machine, body)}")
    ok = (all(s.result.error_count == 0 and s.swap_at is not None for s in swaps)
          and kill.served_after_kill == kill.previous
          and kill.next_version is not None and corrupt.served == corrupt.good)
    for folder in ("swap", "kill", "corrupt"):
        shutil.rmtree(work / folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
