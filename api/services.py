"""What the app holds for its lifetime (the lifespan state): settings, store, served index, jobs, metrics."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TypedDict

from api import messages
from api.curation.service import Curation
from api.editors.grants import GrantStore
from api.errors import ApiError, ErrorCode
from api.fairness import TurnGate
from api.metrics import Metrics
from api.ratelimit import Limiter, build_limiter
from api.reindex import Reindexer
from api.runtime import Runtime, Served, ServedSlot, load_encoder_for, load_runtime
from api.store import Store
from ingest.build import build_running
from knowledge.embedding import Encoder
from knowledge.index import IndexRefused, current_dir
from knowledge.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Built cheaply by the app factory; `start` (in the lifespan) does the heavy loading."""

    settings: Settings
    store: Store
    slot: ServedSlot
    metrics: Metrics
    limiter: Limiter
    reindexer: Reindexer = field(init=False)
    gate: TurnGate = field(init=False)
    grants: GrantStore = field(init=False)
    curation: Curation = field(init=False)
    encoder: Encoder | None = None
    _encoder_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.reindexer = Reindexer(self.settings, self.store, self.slot, self.require_encoder)
        self.gate = TurnGate(self.settings.turn_wait_seconds, self.settings.turns_per_client)
        self.grants = GrantStore(self.store)
        self.curation = Curation(self.settings, self.store, self.reindexer)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        store = Store(settings.store_url, conversation_ttl=settings.conversation_ttl)
        slot = ServedSlot(store)
        limiter = build_limiter(settings, store)
        return cls(settings=settings, store=store, slot=slot, metrics=Metrics(slot), limiter=limiter)

    def start(self, runtime: Runtime | None) -> None:
        """Create the tables, then load the encoder and the index once; without an index, serve anyway:
        /readyz says so, the assistant routes answer 503, and an admin can start a re-index."""
        self.store.create_schema()
        self.limiter.prepare()
        if not build_running(self.settings.index_dir):
            stale = self.store.fail_unfinished_jobs(messages.JOB_STALE)
            if stale:
                log.warning("%d re-index job(s) left unfinished by a stopped process marked failed", stale)
        self.store.purge_expired()
        if runtime is not None:
            self.encoder = runtime.encoder
            self.slot.install(runtime)
            return
        encoder = self.require_encoder()
        try:
            self.slot.install(load_runtime(self.settings, encoder))
        except IndexRefused as exc:
            log.warning("no index served yet: %s", exc)

    def stop(self) -> None:
        self.reindexer.abandon()
        self.store.dispose()

    def served(self) -> Served:
        served = self.slot.current
        if served is None:
            raise ApiError(ErrorCode.INDEX_UNAVAILABLE, messages.INDEX_UNAVAILABLE)
        return served

    def require_encoder(self) -> Encoder:
        with self._encoder_lock:
            if self.encoder is None:
                self.encoder = load_encoder_for(self.settings)
            return self.encoder

    def maintain(self) -> None:
        """Periodic upkeep: purge expired conversations, pick up a version published by another process."""
        purged = self.store.purge_expired()
        if purged:
            log.info("purged %d expired conversation(s)", purged)
        self.pick_up_published()

    def pick_up_published(self) -> None:
        """Serve the version another process published; costs one read of the `current` link when none did."""
        if self.reindexer.running:
            return
        served = self.slot.current
        published = current_dir(self.settings.index_dir)
        if published is None or (served is not None and served.runtime.index.directory.resolve() == published):
            return
        try:
            runtime = served.runtime.reloaded() if served else load_runtime(self.settings, self.require_encoder())
        except IndexRefused as exc:
            log.warning("newer index version not loaded: %s", exc)
            return
        if served is None or runtime.index.version != served.version:
            self.slot.install(runtime)


class LifespanState(TypedDict):
    """What the lifespan yields; Starlette copies it into each request's `request.state`."""

    services: Services
