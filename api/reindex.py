"""Re-indexing from the admin API: the ingest job in a background thread, then a swap without restart."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from api import messages
from api.errors import ApiError, ErrorCode
from api.runtime import Runtime, ServedSlot, load_runtime
from api.store import ReindexJob, Store
from ingest.build import BuildFailed, BuildInProgress, BuildReport, build_index
from ingest.pull.snapshots import snapshot_root, with_latest_snapshots
from ingest.sources.corrections import corrections_file
from knowledge.embedding import Encoder
from knowledge.index import IndexRefused
from knowledge.settings import Settings

log = logging.getLogger(__name__)

JOB_FAILED = "La réindexation a échoué de façon inattendue ; la version précédente reste servie."
ABANDONED = "Tâche interrompue par l'arrêt du service."

SourceChoice = Literal["served", "settings"]


class _JobProgress:
    """The ingest job's Progress protocol, written to the job's row so any API worker can report it."""

    def __init__(self, store: Store, job_id: str) -> None:
        self._store = store
        self._job_id = job_id

    def stage(self, name: str, total: int) -> None:
        self._store.update_job(self._job_id, stage=name, stage_total=total, stage_done=0)

    def advance(self, done: int) -> None:
        self._store.advance_job(self._job_id, done)


class Reindexer:
    """Runs one build at a time in a thread; on success, the slot is switched to the new version."""

    def __init__(self, settings: Settings, store: Store, slot: ServedSlot, encoder: Callable[[], Encoder]) -> None:
        self._settings = settings
        self._store = store
        self._slot = slot
        self._encoder = encoder
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._job_id: str | None = None

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self, force: bool, allow_shrink: bool = False, sources: SourceChoice = "served") -> ReindexJob:
        """Create the job and start it; ApiError(reindex_running) while another one runs in this process.

        `sources`: "served" re-reads the sources the served version was built from (its manifest), "settings"
        those of SPRO_SOURCES; a server started without SPRO_SOURCES thus never drops an imported source.
        """
        with self._lock:
            if self.running:
                raise ApiError(ErrorCode.REINDEX_RUNNING, messages.REINDEX_RUNNING)
            job = self._store.create_job(force)
            chosen = self._sources(sources)
            if allow_shrink:
                log.warning("re-index job %s may publish a smaller version (allow_shrink)", job.id)
            thread = threading.Thread(
                target=self._run, args=(job.id, force, allow_shrink, chosen), name=f"reindex-{job.id}", daemon=True
            )
            self._thread, self._job_id = thread, job.id
            thread.start()
        return job

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def abandon(self) -> None:
        """At shutdown: the daemon thread dies with the process, so its job can never finish."""
        if self.running and self._job_id is not None:
            self._store.fail_job(self._job_id, ABANDONED)

    def _sources(self, choice: SourceChoice) -> list[Path]:
        served = self._slot.current
        if choice == "served" and served is not None:
            return [Path(p) for p in served.runtime.index.manifest.sources]
        return list(self._settings.sources)

    def _run(self, job_id: str, force: bool, allow_shrink: bool, sources: list[Path]) -> None:
        store = self._store
        store.update_job(job_id, status="running", started_at=datetime.now(UTC))
        try:
            # The newest snapshot of each pulled API, not the one the served version was built from.
            sources = with_latest_snapshots(sources, snapshot_root(self._settings.data_dir))
            missing = [str(p) for p in sources if not p.exists()]
            if missing:
                raise BuildFailed(messages.SOURCES_MISSING.format(value=", ".join(missing)))
            encoder = self._encoder()
            report = build_index(
                self._settings.index_dir,
                encoder,
                sources,
                progress=_JobProgress(store, job_id),
                force=force,
                allow_shrink=allow_shrink,
                corrections=corrections_file(self._settings.data_dir),
            )
            served = self._slot.current
            if served is None or served.version != report.version:
                self._slot.install(self._load(encoder, served.runtime if served else None))
        except (BuildInProgress, BuildFailed, IndexRefused) as exc:
            log.warning("re-index job %s failed: %s", job_id, exc)
            store.update_job(job_id, status="failed", error=str(exc), finished_at=datetime.now(UTC))
            return
        except Exception:
            log.exception("re-index job %s failed", job_id)
            store.update_job(job_id, status="failed", error=JOB_FAILED, finished_at=datetime.now(UTC))
            return
        store.update_job(
            job_id,
            status="succeeded",
            finished_at=datetime.now(UTC),
            version=report.version,
            published=report.published,
            counts=_counts(report),
            problems=report.problems_per_source(),
        )

    def _load(self, encoder: Encoder, current: Runtime | None) -> Runtime:
        if current is not None:
            return current.reloaded()
        return load_runtime(self._settings, encoder)


def _counts(report: BuildReport) -> dict[str, object]:
    return {
        "networks": report.networks,
        "dispositifs": report.dispositifs,
        "structures": report.structures,
        "documents": report.documents,
        "chunks": report.chunks,
        "embedded": report.embedded,
        "reused": report.reused,
        "problems": len(report.problems),
        "seconds": round(report.seconds, 2),
        "unchanged": report.unchanged,
        "per_network": report.records_per_network,
        "per_department": report.records_per_department,
    }
