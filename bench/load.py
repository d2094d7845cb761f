"""A bounded closed-loop load generator: N concurrent clients for D seconds, latency percentiles, errors."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from bench.processes import cpu_seconds

# Builds one request from the next query text: (method, path, params, json body).
RequestFactory = Callable[[str], tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]]


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    client_cpu_s: float = 0.0
    # (seconds since the start, latency in ms) of every answered request, and when each failure was sent.
    timeline: list[tuple[float, float]] = field(default_factory=list)
    error_times: list[float] = field(default_factory=list)

    def error(self, kind: str, at: float) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        self.error_times.append(at)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.error_count

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return float(np.percentile(self.latencies_ms, p)) if self.latencies_ms else float("nan")

    def summary(self) -> str:
        return (
            f"{self.clients:>3} clients: {self.requests} req, {self.throughput:6.1f} req/s, "
            f"p50 {self.percentile(50):7.1f} ms, p95 {self.percentile(95):7.1f} ms, "
            f"p99 {self.percentile(99):7.1f} ms, errors {self.error_count} {self.errors or ''}"
        )


def run_load(
    base_url: str | Sequence[str],
    make_request: RequestFactory,
    queries: Iterator[str],
    clients: int,
    duration_s: float,
    timeout_s: float = 60.0,
    stop: Callable[[], bool] | None = None,
) -> LoadResult:
    """Each client sends its next request as soon as the previous answer arrived (closed loop), until
    `duration_s` has passed or `stop()` is true, whichever comes first. Several base URLs (replicas): client i
    talks to the i-th modulo their number, as a load balancer spreading connections would."""
    return asyncio.run(_run(base_url, make_request, queries, clients, duration_s, timeout_s, stop))


async def _run(
    base_url: str | Sequence[str],
    make_request: RequestFactory,
    queries: Iterator[str],
    clients: int,
    duration_s: float,
    timeout_s: float,
    stop: Callable[[], bool] | None,
) -> LoadResult:
    result = LoadResult(clients=clients, seconds=duration_s)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    cpu_before = cpu_seconds(os.getpid())
    started = time.perf_counter()
    deadline = started + duration_s

    urls = [base_url] if isinstance(base_url, str) else list(base_url)
    async with contextlib.AsyncExitStack() as stack:
        pool = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout_s))
            for url in urls
        ]

        def running() -> bool:
            return time.perf_counter() < deadline and not (stop is not None and stop())

        async def one_client(client: httpx.AsyncClient) -> None:
            while running():
                method, path, params, body = make_request(next(queries))
                sent = time.perf_counter()
                try:
                    response = await client.request(method, path, params=params, json=body)
                except httpx.HTTPError as exc:
                    result.error(type(exc).__name__, sent - started)
                    continue
                if response.status_code == 200:
                    done = time.perf_counter()
                    result.latencies_ms.append((done - sent) * 1000)
                    result.timeline.append((done - started, (done - sent) * 1000))
                else:
                    result.error(f"HTTP {response.status_code}", sent - started)

        await asyncio.gather(*(one_client(pool[i % len(pool)]) for i in range(clients)))
    result.seconds = time.perf_counter() - started
    result.client_cpu_s = cpu_seconds(os.getpid()) - cpu_before
    return result


def search_request(text: str) -> tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]:
    return "GET", "/api/search", {"q": text}, None


def chat_request(text: str) -> tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]:
    return "POST", "/api/chat", None, {"message": text}


def baseline_request(text: str) -> tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]:
    return "GET", "/search", {"q": text}, None
