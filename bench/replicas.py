"""Several processes: one `spro serve`, `spro serve --workers 2`, and two replicas on one PostgreSQL, measured in
the same run; then what must be one for all processes: the rate limit and the index version served.

    python -m bench.replicas                               # 15 s per row, 8 and 32 clients (about 6 minutes)
    python -m bench.replicas --duration 3 --levels 8 --no-write

PostgreSQL: `--database-url` (a database the bench may fill), else a throw-away cluster started on 127.0.0.1 with
the machine's `initdb`/`pg_ctl` (Debian's postgresql package) and removed after.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from bench import load, workload
from bench.corpus import WORK, prepare_data_dir, served_encoder, sources_env
from bench.machine import describe, load_now
from bench.processes import ADMIN_TOKEN, ServerProcess, free_port
from bench.report import table, write_section

LIMIT_PER_MINUTE = 60


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL cluster in a temporary folder on 127.0.0.1 (as the postgres user when run as root)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise SystemExit("PostgreSQL absent : apt-get install postgresql, ou --database-url")
    bin_dir = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="spro-bench-pg."))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def pg(tool: str, *args: str) -> None:
        subprocess.run([*as_user, str(bin_dir / tool), *args], check=True, stdout=subprocess.DEVNULL)

    pg("initdb", "-D", f"{folder}/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
    pg("pg_ctl", "-D", f"{folder}/data", "-l", f"{folder}/server.log", "-w", "-o",
       f"-h 127.0.0.1 -p {port} -k {folder} -c max_connections=200", "start")
    try:
        pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "spro_bench")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/spro_bench"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", f"{folder}/data", "-m", "fast", "stop"],
                       check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)


def _serve(data_dir: Path, log: Path, env: dict[str, str], workers: int = 1) -> ServerProcess:
    port = free_port()
    args = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers)]
    full = {**os.environ, "SPRO_DATA_DIR": str(data_dir), "SPRO_ADMIN_TOKEN": ADMIN_TOKEN, "PYTHONUNBUFFERED": "1",
            "SPRO_RATE_LIMIT_PER_MINUTE": "0", "SPRO_SESSION_SECRET": "banc-d-essai", **sources_env(), **env}
    return ServerProcess(args, full, port, log)


# A new connection per request: behind one port, `--workers 2` hands each connection to either worker.
FRESH = httpx.Limits(max_keepalive_connections=0)


def _warm(urls: list[str]) -> None:
    with httpx.Client(timeout=60, limits=FRESH) as client:
        for url in urls:
            for _ in range(4):  # each worker behind the port, likely
                for text in workload.golden_cases():
                    client.get(f"{url}/api/search", params={"q": text}).raise_for_status()


def _limit_check(urls: list[str]) -> tuple[int, int]:
    """Twice the limit of requests to a cheap catalogue route from one client address, spread over the
    processes: (answered, refused with a 429)."""
    answered = refused = 0
    with httpx.Client(timeout=30, limits=FRESH) as client:
        for n in range(2 * LIMIT_PER_MINUTE):
            status = client.get(f"{urls[n % len(urls)]}/api/networks").status_code
            answered += status == 200
            refused += status == 429
    return answered, refused


def _version_pickup(urls: list[str]) -> tuple[float, bool]:
    """Re-index through the first process; seconds until every process serves the new version."""
    with httpx.Client(timeout=60, limits=FRESH) as client:
        before = client.get(f"{urls[0]}/readyz").json()["index_version"]
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        job = client.post(f"{urls[0]}/api/admin/reindex", json={"force": True}, headers=headers)
        job.raise_for_status()
        started = time.perf_counter()
        deadline = started + 300
        while time.perf_counter() < deadline:
            versions = {client.get(f"{url}/readyz").json()["index_version"] for url in urls for _ in range(4)}
            if len(versions) == 1 and before not in versions:
                return time.perf_counter() - started, True
            time.sleep(0.2)
    return time.perf_counter() - started, False


def _latencies(result: load.LoadResult) -> list[str]:
    return [f"{result.percentile(p):.0f}" for p in (50, 95, 99)] + [str(result.error_count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per row")
    parser.add_argument("--levels", default="8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL for the two replicas")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.levels.split(",")]
    machine = describe()
    print(machine.markdown())
    work = WORK / "replicas"
    report = prepare_data_dir(work / "data", served_encoder())
    rows: list[list[str]] = []
    checks: list[list[str]] = []
    with contextlib.ExitStack() as stack:
        database = args.database_url or stack.enter_context(throwaway_postgres())
        setups: dict[str, Callable[[], list[ServerProcess]]] = {
            "one process (SQLite)": lambda: [_serve(work / "data", work / "one.log", {})],
            "--workers 2 (SQLite)": lambda: [_serve(work / "data", work / "workers.log", {}, workers=2)],
            "2 replicas, one PostgreSQL": lambda: [
                _serve(work / "data", work / f"replica-{n}.log", {"SPRO_DATABASE_URL": database}) for n in (1, 2)
            ],
        }
        naive: dict[int, float] = {}
        # Measured first, alone, then stopped: it would take cores from the processes measured next.
        with ServerProcess.naive_rag(work / "data" / "index" / "current", work / "naive-rag.log") as baseline:
            baseline.wait_ready()
            for clients in levels:
                result = load.run_load(baseline.base_url, load.baseline_request, workload.unique(clients), clients,
                                       args.duration)
                naive[clients] = result.throughput
                rows.append(["naive RAG (one process)", "`/search`", "unique", str(clients),
                             f"{result.throughput:.1f}", "1.00", *_latencies(result)])
                print(" | ".join(rows[-1]), f"; load {load_now()}", flush=True)
        for name, make in setups.items():
            servers = make()
            with contextlib.ExitStack() as running:
                for server in servers:
                    running.enter_context(server).wait_ready()
                urls = [s.base_url for s in servers]
                _warm(urls)
                for clients in levels:
                    runs = (("search", "unique", load.search_request, workload.unique(clients)),
                            ("search", "golden", load.search_request, workload.repeated(clients)),
                            ("chat", "golden", load.chat_request, workload.repeated(clients)))
                    for endpoint, queries, factory, texts in runs:
                        result = load.run_load(urls, factory, texts, clients, args.duration)
                        rows.append([name, f"`/api/{endpoint}`", queries, str(clients), f"{result.throughput:.1f}",
                                     f"{result.throughput / naive[clients]:.2f}", *_latencies(result)])
                        print(" | ".join(rows[-1]), f"; load {load_now()}", flush=True)
                pickup = _version_pickup(urls) if name != "one process (SQLite)" else None
            if pickup is None:
                continue
            # The same processes again, with a rate limit.
            limited = [_serve(work / "data", work / f"limited-{n}.log",
                              {"SPRO_RATE_LIMIT_PER_MINUTE": str(LIMIT_PER_MINUTE),
                               **({"SPRO_DATABASE_URL": database} if "PostgreSQL" in name else {})},
                              workers=2 if "workers" in name else 1)
                       for n in range(len(servers))]
            with contextlib.ExitStack() as running:
                for server in limited:
                    running.enter_context(server).wait_ready()
                urls = [s.base_url for s in limited]
                answered, refused = _limit_check(urls)
                seconds, same = pickup
                checks.append([name, f"{2 * LIMIT_PER_MINUTE} ({LIMIT_PER_MINUTE}/min allowed)", str(answered),
                               str(refused), f"{seconds:.1f} s" if same else f"not within {seconds:.0f} s"])
                print(" | ".join(checks[-1]), flush=True)
    body = "\n".join([
        f"Real `spro serve` processes on 127.0.0.1 over the same index ({report.chunks} chunks), rate limit off for "
        f"the load rows; closed-loop clients, {args.duration:.0f} s per row; the naive RAG (one process, "
        "bench/naive_rag.py) first, alone, for the ratio; with two replicas, client *i* talks "
        "to replica *i mod 2*, as a load balancer spreading connections would. *unique*: cases never seen (the "
        "query cache never hits); *golden*: the golden cases in a loop (it hits).",
        "",
        table(["Processes", "Route", "Queries", "Clients", "req/s", "req/s ÷ naive RAG", "p50 ms", "p95 ms", "p99 ms",
               "Errors"], rows),
        "",
        "One limit and one index for all: the same processes with `SPRO_RATE_LIMIT_PER_MINUTE` = "
        f"{LIMIT_PER_MINUTE}, one client address sending twice that to `/api/networks` spread over them; then a "
        "re-index started through one process, and the time until every process answers `/readyz` with the new "
        "version (`SPRO_INDEX_WATCH_INTERVAL`, 2 s by default, plus the build).",
        "",
        table(["Processes", "Requests in one minute", "Answered", "Refused (429)", "New version everywhere after"],
              checks),
    ])
    print(body)
    if not args.no_write:
        print(f"written to {write_section('replicas', 'Several processes and replicas', machine, body)}")
    return 0 if all(r[-1] == "0" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
