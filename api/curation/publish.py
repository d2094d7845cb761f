"""Editors' changes reach the answers: export the corrections file, then re-index in the background.

Each write exports the whole corrections file at once (atomic replace: a build never reads half a file) and asks
for a re-index; requests arriving during a build are folded into one more build after it. The build reuses
every cached vector but those of the changed passages (a few seconds on the embedded base, docs/BENCHMARKS.md),
and the served version is swapped without a restart: a request in flight finishes on the version it started on.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.errors import ApiError
from api.reindex import Reindexer
from api.store import Store

log = logging.getLogger(__name__)

# Edits arriving within this many seconds of each other are published by one build.
DEBOUNCE_SECONDS = 1.0
ATTEMPTS = 5


def write_snapshot(path: Path, snapshot: dict[str, Any]) -> None:
    """Write the corrections file atomically (a temporary file in the same folder, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".corrections-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(snapshot, out, ensure_ascii=False, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Publisher:
    """One background thread per process; `request()` returns at once."""

    def __init__(self, export: Callable[[], None], reindexer: Reindexer, store: Store) -> None:
        self._export = export
        self._reindexer = reindexer
        self._store = store
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def request(self) -> None:
        """Export now (a `spro ingest` run by hand sees the change too), then publish in the background."""
        self._export()
        with self._lock:
            self._idle.clear()
            self._wanted.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="curation-publish", daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every requested publication is done (for the CLI and the tests)."""
        return self._idle.wait(timeout)

    def _loop(self) -> None:
        while True:
            time.sleep(DEBOUNCE_SECONDS)
            with self._lock:
                if not self._wanted.is_set():
                    self._idle.set()
                    self._thread = None
                    return
                self._wanted.clear()
            self._publish_once()

    def _publish_once(self) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            while self._reindexer.running:
                time.sleep(0.5)
            try:
                job = self._reindexer.start(force=False, sources="served")
            except ApiError:
                time.sleep(0.5)  # another request started a build between our check and our start
                continue
            self._reindexer.join()
            done = self._store.job(job.id)
            if done is not None and done.status == "succeeded":
                log.info("editors' changes published in index version %s", done.version)
                return
            log.warning("publishing editors' changes failed (attempt %d/%d): %s", attempt, ATTEMPTS,
                        done.error if done else "job lost")
            time.sleep(min(30.0, 2.0 * attempt))
        log.error("editors' changes not published after %d attempts; the next change or re-index retries", ATTEMPTS)
