"""Loads what every face needs once: the encoder, the served index version, the territory."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from assistant.dialogue import Assistant, ConversationStore
from knowledge.embedding import Encoder, configured_encoder, first_stage_of, load_now
from knowledge.index import KnowledgeIndex, load_latest
from knowledge.settings import Settings
from knowledge.territory import Territory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """The heavy, shared, read-only parts; an index swap makes a new Runtime with the same encoder."""

    settings: Settings
    encoder: Encoder
    territory: Territory
    index: KnowledgeIndex

    def assistant(self, store: ConversationStore) -> Assistant:
        return Assistant(
            self.index, self.encoder, self.territory, store, show_personal_emails=self.settings.show_personal_emails
        )

    def reloaded(self) -> Runtime:
        """The same runtime on the newest valid index version."""
        index, refusals = load_latest(self.settings.index_dir, self.encoder.name)
        for refusal in refusals:
            log.warning("index refused: %s", refusal)
        _warn_without_first_stage(index, self.encoder)
        return Runtime(self.settings, self.encoder, self.territory, index)


def load_encoder_for(settings: Settings) -> Encoder:
    encoder = configured_encoder(settings.encoder, settings.encoder_threads, settings.first_stage)
    load_now(encoder)
    return encoder


def load_runtime(settings: Settings, encoder: Encoder | None = None) -> Runtime:
    """Raises IndexRefused (with a French message) when no valid index version exists."""
    encoder = encoder or load_encoder_for(settings)
    index, refusals = load_latest(settings.index_dir, encoder.name)
    for refusal in refusals:
        log.warning("index refused: %s", refusal)
    _warn_without_first_stage(index, encoder)
    return Runtime(settings, encoder, Territory.load(), index)


def _warn_without_first_stage(index: KnowledgeIndex, encoder: Encoder) -> None:
    first = first_stage_of(encoder)
    if first is not None and index.first_stage != first.name:
        log.warning(
            "index version %s holds no %s first-stage vectors: the full encoder reads every query until a "
            "re-index (spro ingest)", index.version, first.name,
        )


@dataclass(frozen=True)
class Served:
    """One index version being served: its runtime and the assistant built over it."""

    runtime: Runtime
    assistant: Assistant

    @property
    def version(self) -> str:
        return self.runtime.index.version


class ServedSlot:
    """The version being served. A request takes `current` once, at its start, and keeps it to the end;
    a swap builds the new assistant first, then replaces the reference in one assignment (atomic in Python),
    so a request in flight finishes on the version it started with."""

    def __init__(self, store: ConversationStore) -> None:
        self._store = store
        self._current: Served | None = None

    @property
    def current(self) -> Served | None:
        return self._current

    def install(self, runtime: Runtime) -> Served:
        served = Served(runtime, runtime.assistant(self._store))
        self._current = served
        log.info("serving index version %s (%d chunks)", runtime.index.version, len(runtime.index.chunks))
        return served
