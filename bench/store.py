"""The store's part of an /api/chat turn from 1, 8 and 32 threads at once, on a SQLite file: why /api/chat had a
long tail at 32 clients that /api/search has not (a search writes nothing).

Each thread runs, in a loop, what one chat turn asks of the store: load the conversation, save its state, note
what the turn showed and count the question, read the structures' reports. Variants, in the same run:
*as served* (one commit for the turn's notes, the process's writers queued on a lock, `synchronous=NORMAL`),
and the same store with each of those three taken away in turn, down to the store as it was before.

    python -m bench.store                        # 10 s per variant and level
    python -m bench.store --duration 3 --no-write
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event

from api.store import Store
from assistant.dialogue import ConversationState
from bench.machine import describe, load_now
from bench.report import table, write_section

SHOWN = ["annuaire:mission_locale-73065-01", "annuaire:cio-73065-01", "network:cap_emploi"]


@dataclass(frozen=True)
class Variant:
    name: str
    one_commit: bool = True
    writer_lock: bool = True
    synchronous_full: bool = False


VARIANTS = (
    Variant("as served"),
    Variant("synchronous=FULL", synchronous_full=True),
    Variant("synchronous=FULL, two commits", one_commit=False, synchronous_full=True),
    Variant("before: FULL, two commits, no writer lock", one_commit=False, writer_lock=False,
            synchronous_full=True),
)


def _store(folder: Path, variant: Variant) -> Store:
    store = Store(f"sqlite:///{folder / 'spro.db'}", conversation_ttl=3600)
    if variant.synchronous_full:
        # Runs after the store's own pragmas on each new connection.
        event.listen(store.engine, "connect", lambda connection, _record: connection.execute("PRAGMA synchronous=FULL"))
    if not variant.writer_lock:
        store._writers = nullcontext()  # noqa: SLF001 (the variant measured is the store without it)
    store.create_schema()
    return store


def _turn(store: Store, variant: Variant) -> None:
    conversation = secrets.token_urlsafe(16)
    store.load(conversation)
    store.save(conversation, ConversationState(age=19, needs=["emploi"], commune_insee="73065", turns=1))
    if variant.one_commit:
        store.finish_turn(conversation, 1, SHOWN, "73", ["emploi", "orientation"], True)
    else:
        store.record_turn(conversation, 1, SHOWN)
        store.count_question("73", ["emploi", "orientation"], True)
    store.contact_reports(SHOWN, 2)


def measure(variant: Variant, threads: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        store = _store(Path(folder), variant)
        latencies: list[float] = []
        lock = threading.Lock()
        deadline = time.perf_counter() + seconds

        def worker(run: Callable[[], None]) -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                run()
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)

        workers = [threading.Thread(target=worker, args=(lambda: _turn(store, variant),)) for _ in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        store.dispose()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    return {"turns": len(latencies), "per_s": len(latencies) / seconds, "p50": pct(50), "p95": pct(95),
            "p99": pct(99)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per variant and level")
    parser.add_argument("--levels", default="1,8,32", help="threads, comma-separated")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    machine = describe()
    print(machine.markdown())
    rows = []
    for threads in (int(n) for n in args.levels.split(",")):
        # Interleaved level by level: a change in the machine's background load hits every variant alike.
        for variant in VARIANTS:
            found = measure(variant, threads, args.duration)
            rows.append([variant.name, str(threads), str(found["turns"]), f"{found['per_s']:.0f}",
                         f"{found['p50']:.1f}", f"{found['p95']:.1f}", f"{found['p99']:.1f}"])
            print(" | ".join(rows[-1]), f"; load {load_now()}", flush=True)
    body = "\n".join([
        "What one `/api/chat` turn asks of the store (load, save the state, note what was shown and count the "
        "question, read the reports), from N threads at once on a SQLite file in WAL mode, as the API's thread "
        f"pool runs turns; {args.duration:.0f} s per variant and level, variants interleaved. SQLite lets one "
        "writer in at a time and makes the others sleep and retry with growing pauses (up to 100 ms a try): "
        "that, not the work, was the chat's tail.",
        "",
        table(["Store", "Threads", "Turns", "Turns/s", "p50 ms", "p95 ms", "p99 ms"], rows),
    ])
    print(body)
    if not args.no_write:
        written = write_section("store", "Store: the writes of a chat turn under concurrency", machine, body)
        print(f"written to {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
