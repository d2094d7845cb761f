"""Fairness: one client sending long messages beside another client's ordinary cases, on a real `spro serve`.

The hostile test of issue 11 measured another user's median going from 111 ms to 2.8 s while one client sent
fourteen 2,000-character messages a minute (far under the rate limit). This benchmark replays that: the
victim runs alone, then beside the flooder, and the medians are compared.

    python -m bench.fairness                     # 30 s alone, 30 s beside the flooder
    python -m bench.fairness --duration 5 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import httpx

from bench import load, workload
from bench.corpus import WORK, prepare_data_dir, served_encoder
from bench.machine import describe
from bench.processes import ServerProcess
from bench.report import table, write_section

LONG_MESSAGE_CHARS = 2_000
FLOOD_PER_MINUTE = 14


def long_message(n: int) -> str:
    """A 2,000-character case, different each time (no query cache helps)."""
    sentence = f"Situation {n} : elle décrit son parcours, ses contraintes de garde et de transport, ses envies. "
    return ("jeune de 22 ans à Grenoble qui cherche une formation. " + sentence * 40)[:LONG_MESSAGE_CHARS]


async def flood(base_url: str, seconds: float, latencies: list[float]) -> None:
    """FLOOD_PER_MINUTE long messages a minute, evenly spaced, each waiting for its answer."""
    interval = 60.0 / FLOOD_PER_MINUTE
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        n = 0
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            response = await client.post("/api/chat", json={"message": long_message(n)})
            if response.status_code == 200:
                latencies.append((time.perf_counter() - sent) * 1000)
            n += 1
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - sent)))


def beside_flooder(base_url: str, seconds: float) -> tuple[load.LoadResult, list[float]]:
    flooder: list[float] = []

    async def both() -> load.LoadResult:
        task = asyncio.create_task(flood(base_url, seconds, flooder))
        victim = await asyncio.to_thread(
            load.run_load, base_url, load.chat_request, workload.unique(seed=11), 1, seconds
        )
        await task
        return victim

    return asyncio.run(both()), flooder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of each phase")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    machine = describe()
    work: Path = WORK / "fairness"
    prepare_data_dir(work / "data", served_encoder())
    server = ServerProcess.spro_serve(work / "data", work / "spro-serve.log").start()
    try:
        server.wait_ready()
        load.run_load(server.base_url, load.chat_request, workload.unique(seed=3), 1, 3.0)  # warm-up
        alone = load.run_load(server.base_url, load.chat_request, workload.unique(seed=7), 1, args.duration)
        beside, flooder = beside_flooder(server.base_url, args.duration)
    finally:
        server.stop()
    flooded = sorted(flooder)
    flood_p50 = flooded[len(flooded) // 2] if flooded else float("nan")
    rows = [
        ["another user alone", alone.requests, f"{alone.percentile(50):.0f}", f"{alone.percentile(95):.0f}"],
        [f"beside {FLOOD_PER_MINUTE} × {LONG_MESSAGE_CHARS}-char messages/min", beside.requests,
         f"{beside.percentile(50):.0f}", f"{beside.percentile(95):.0f}"],
        ["the long messages themselves", len(flooded), f"{flood_p50:.0f}", "—"],
    ]
    body = "\n".join([
        f"One closed-loop client sends unseen ordinary cases to `/api/chat` for {args.duration:.0f} s alone, then "
        f"again while another client sends {FLOOD_PER_MINUTE} messages of {LONG_MESSAGE_CHARS} characters a "
        "minute. The encoder reads at most `DENSE_QUERY_CHARS` (400) characters of a case "
        "(`assistant/dialogue.py::bounded_query`); before that bound the hostile test measured 111 ms → 2.8 s.",
        "",
        table(["client", "requests", "p50 ms", "p95 ms"], rows),
    ])
    print(body)
    if not args.no_write:
        write_section("fairness", "Fairness: long messages beside ordinary cases", machine, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
