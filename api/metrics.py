"""Prometheus metrics of one app: requests and latency per route template, the served index version."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from api.runtime import ServedSlot
from knowledge.embedding import CachedQueryEncoder, Encoder, TwoStageEncoder

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A chat turn encodes a query and ranks: tens to hundreds of milliseconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _IndexCollector(Collector):
    """Read at scrape time, so a swap shows at once."""

    def __init__(self, slot: ServedSlot) -> None:
        self._slot = slot

    def collect(self) -> Iterator[Metric]:
        served = self._slot.current
        loaded = GaugeMetricFamily("spro_index_loaded", "1 when an index version is being served")
        loaded.add_metric([], 1.0 if served else 0.0)
        yield loaded
        if served is None:
            return
        index = served.runtime.index
        info = InfoMetricFamily("spro_index", "The index version being served")
        info.add_metric([], {"version": index.version, "encoder": index.manifest.encoder,
                             "first_stage": index.first_stage or ""})
        yield info
        yield _encodings(served.runtime.encoder)
        chunks = GaugeMetricFamily("spro_index_chunks", "Passages in the served index")
        chunks.add_metric([], float(len(index.chunks)))
        yield chunks
        structures = GaugeMetricFamily("spro_index_structures", "Directory sites in the served index")
        structures.add_metric([], float(len(index.structures)))
        yield structures


def _encodings(encoder: Encoder) -> Metric:
    """Query texts per encoder, read by it or taken from its cache: with a first stage, the full encoder's
    share of the first stage's count is the share of searches that needed it."""
    family = CounterMetricFamily(
        "spro_query_encodings", "Query texts asked of each encoder, by cache outcome", labels=["encoder", "cache"]
    )
    stages = (encoder.first, encoder.full) if isinstance(encoder, TwoStageEncoder) else (encoder,)
    for stage in stages:
        if isinstance(stage, CachedQueryEncoder):
            family.add_metric([stage.name, "miss"], float(stage.encoded))
            family.add_metric([stage.name, "hit"], float(stage.asked - stage.encoded))
    return family


class Metrics:
    """A registry per app (no global state: two apps in one test process do not mix their counts)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, slot: ServedSlot) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "spro_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "spro_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_IndexCollector(slot))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "OTHER"
        self._requests.labels(method, route, str(status)).inc()
        self._latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
