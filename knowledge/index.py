"""The index artifact: FAISS + BM25 + chunk metadata + records + manifest, in versioned directories.

Layout under the index root:
    versions/<version>/   manifest.json, dense.faiss, lexical/, chunks.jsonl, records.json, and
                          first_stage.faiss when a light first-stage encoder's vectors are kept too
    current               a symbolic link to the version being served, switched atomically
A version directory is read-only once published; the manifest holds a checksum of every file so that a
corrupted or partial directory is refused at load with a clear message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import faiss
import numpy as np
from numpy.typing import NDArray

from knowledge.directory.corrections import Conflict, Overridden
from knowledge.lexical import LexicalIndex
from knowledge.model import Chunk, Dispositif, Document, Network, Source, Structure

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
# Below this many chunks exact search is fast enough and exact: one query on one thread took 0.8 ms at
# p95 over 10k chunks, 15 ms over 100k (10 ms at about 68k) (docs/BENCHMARKS.md, Scale and Index type decision).
EXACT_SEARCH_MAX = 50_000
# Above it, IVF-Flat: the vectors kept whole in nlist = 4·√N lists, trained by k-means on 40 vectors per list,
# and nprobe lists searched per query. At 1M chunks: recall@10 1.000, p95 9.9 ms, 1,520 MiB resident, 315 s
# to build on 2 loaded cores; HNSW lost recall at 1M (0.81 with efConstruction 40) and IVF-SQ8 recall
# everywhere (0.98) (docs/BENCHMARKS.md, Index type decision).
IVF_LISTS_PER_SQRT = 4
IVF_TRAINING_PER_LIST = 40
IVF_NPROBE = 32
# HNSW, the type built above EXACT_SEARCH_MAX until issue 16: versions built then are still served, with this
# efSearch applied at load.
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128

_FILES = ("dense.faiss", "chunks.jsonl", "records.json")
FIRST_STAGE_FILE = "first_stage.faiss"


class IndexRefused(Exception):
    """An index directory that must not be served; the message says why, in French."""


@dataclass(frozen=True)
class Manifest:
    """What a version holds and how it was built."""

    version: str
    created_at: str
    encoder: str
    dim: int
    knowledge_hash: str
    chunk_count: int
    index_type: str
    counts: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    # The extra sources (absolute paths) the version was built from: a re-index reads them again.
    sources: list[str] = field(default_factory=list)
    # The light encoder whose vectors first_stage.faiss holds, for the same chunks (None: full encoder only).
    first_stage: str | None = None
    first_stage_dim: int = 0

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(**data)


@dataclass(frozen=True)
class Records:
    """The knowledge records an index version was built from, and what the editors' corrections did to them.

    `withdrawn`: official sites their editors closed, as the official data gives them; `overridden`: the
    official value under each applied correction; `conflicts`: official values changed since an editor saw them.
    """

    networks: tuple[Network, ...] = ()
    dispositifs: tuple[Dispositif, ...] = ()
    structures: tuple[Structure, ...] = ()
    documents: tuple[Document, ...] = ()
    sources: tuple[Source, ...] = ()
    withdrawn: tuple[Structure, ...] = ()
    overridden: tuple[Overridden, ...] = ()
    conflicts: tuple[Conflict, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "networks": [r.model_dump(mode="json") for r in self.networks],
                "dispositifs": [r.model_dump(mode="json") for r in self.dispositifs],
                "structures": [r.model_dump(mode="json") for r in self.structures],
                "documents": [r.model_dump(mode="json") for r in self.documents],
                "sources": [r.model_dump(mode="json") for r in self.sources],
                "withdrawn": [r.model_dump(mode="json") for r in self.withdrawn],
                "overridden": [r.model_dump(mode="json") for r in self.overridden],
                "conflicts": [r.model_dump(mode="json") for r in self.conflicts],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Records:
        data = json.loads(text)
        return cls(
            networks=tuple(Network.model_validate(r) for r in data["networks"]),
            dispositifs=tuple(Dispositif.model_validate(r) for r in data["dispositifs"]),
            structures=tuple(Structure.model_validate(r) for r in data["structures"]),
            documents=tuple(Document.model_validate(r) for r in data["documents"]),
            sources=tuple(Source.model_validate(r) for r in data["sources"]),
            # Versions built before the editors' corrections have none of these.
            withdrawn=tuple(Structure.model_validate(r) for r in data.get("withdrawn", [])),
            overridden=tuple(Overridden.model_validate(r) for r in data.get("overridden", [])),
            conflicts=tuple(Conflict.model_validate(r) for r in data.get("conflicts", [])),
        )


class KnowledgeIndex:
    """One loaded, read-only index version: dense and lexical search over chunks, and the records."""

    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        chunks: list[Chunk],
        records: Records,
        dense: faiss.Index,
        lexical: LexicalIndex,
        first_stage: faiss.Index | None = None,
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.chunks = chunks
        self.records = records
        self._dense = dense
        self._first_stage = first_stage
        self._lexical = lexical
        self.networks: dict[str, Network] = {n.id: n for n in records.networks}
        self.dispositifs = {d.id: d for d in records.dispositifs}
        self.structures = {s.id: s for s in records.structures}
        self.documents = {d.id: d for d in records.documents}
        self.sources = {s.id: s for s in records.sources}
        # What the editors' pages show: closed official sites, and per site the official values under the
        # applied corrections and the conflicts (a vanished site's conflict is under its old id).
        self.withdrawn = {s.id: s for s in records.withdrawn}
        self.overridden = _per_site(records.overridden)
        self.conflicts = _per_site(records.conflicts)

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def first_stage(self) -> str | None:
        """The encoder of the first-stage vectors this version holds, None when it holds none."""
        return self.manifest.first_stage if self._first_stage is not None else None

    def dense_search(self, vector: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        """Chunk rows and cosine scores, best first."""
        return self._search(self._dense, vector, k)

    def first_stage_search(self, vector: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        """The same over the first-stage vectors (a vector of the `first_stage` encoder); none without them."""
        return self._search(self._first_stage, vector, k) if self._first_stage is not None else []

    def _search(self, dense: faiss.Index, vector: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        if not self.chunks:
            return []
        with _one_thread():
            scores, rows = dense.search(vector.reshape(1, -1).astype(np.float32), min(k, len(self.chunks)))
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def lexical_search(self, tokens: list[str], k: int) -> list[tuple[int, float]]:
        """Chunk rows and BM25 scores, best first."""
        return self._lexical.search(tokens, k)

    @classmethod
    def load(cls, directory: Path, encoder_name: str) -> KnowledgeIndex:
        """Load and verify a version directory; refuse it when it is incomplete, corrupted or foreign."""
        manifest_path = directory / "manifest.json"
        if not manifest_path.is_file():
            raise IndexRefused(f"index {directory.name} : manifeste absent (construction incomplète ?)")
        try:
            manifest = Manifest.from_json(manifest_path.read_text(encoding="utf-8"))
        except (ValueError, TypeError) as exc:
            raise IndexRefused(f"index {directory.name} : manifeste illisible ({exc})") from exc
        if manifest.format_version != FORMAT_VERSION:
            raise IndexRefused(f"index {directory.name} : format {manifest.format_version} non pris en charge")
        if manifest.encoder != encoder_name:
            raise IndexRefused(
                f"index {directory.name} construit avec l'encodeur « {manifest.encoder} », "
                f"mais le service utilise « {encoder_name} » : relancez « spro ingest »"
            )
        for name, expected in manifest.files.items():
            path = directory / name
            if not path.is_file() or _sha256(path) != expected:
                raise IndexRefused(f"index {directory.name} : fichier {name} absent ou corrompu")
        try:
            chunks = [
                Chunk.model_validate_json(line)
                for line in (directory / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
                if line
            ]
            records = Records.from_json((directory / "records.json").read_text(encoding="utf-8"))
            dense = faiss.read_index(str(directory / "dense.faiss"))
            tune_for_search(dense)
            first = None
            if manifest.first_stage:
                first = faiss.read_index(str(directory / FIRST_STAGE_FILE))
                tune_for_search(first)
            lexical = LexicalIndex.load(directory / "lexical")
        except Exception as exc:  # any parse failure means the same thing: do not serve this version
            raise IndexRefused(f"index {directory.name} : contenu illisible ({exc})") from exc
        if dense.ntotal != len(chunks) or len(chunks) != manifest.chunk_count or dense.d != manifest.dim:
            raise IndexRefused(f"index {directory.name} : nombre de passages incohérent")
        if first is not None and (first.ntotal != len(chunks) or first.d != manifest.first_stage_dim):
            raise IndexRefused(f"index {directory.name} : vecteurs du premier étage incohérents")
        return cls(directory, manifest, chunks, records, dense, lexical, first)


def ivf_lists(count: int) -> int:
    """IVF lists for `count` vectors: 4·√N, the usual rule of thumb, and never more lists than vectors."""
    return max(1, min(count, int(IVF_LISTS_PER_SQRT * math.sqrt(count))))


def build_dense(vectors: NDArray[np.float32], exact_max: int = EXACT_SEARCH_MAX) -> tuple[faiss.Index, str]:
    """Exact inner product up to `exact_max` vectors, IVF-Flat above (vectors are normalised); the index and
    its type, for the manifest."""
    count, dim = vectors.shape
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    if count <= exact_max:
        index: faiss.Index = faiss.IndexFlatIP(dim)
        kind = "flat-ip"
    else:
        nlist = ivf_lists(count)
        index = faiss.index_factory(dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        # A fixed sample bounds k-means' time at 1M, where it is most of the build.
        sample = np.random.default_rng(0).choice(count, min(count, IVF_TRAINING_PER_LIST * nlist), replace=False)
        index.train(data[np.sort(sample)])
        kind = f"ivf{nlist}-flat"
    if count:
        index.add(data)
    tune_for_search(index)
    return index, kind


def tune_for_search(index: faiss.Index) -> None:
    """Apply today's search settings to an index of any type this module builds or built, at load: a change of
    nprobe or efSearch reaches the served versions without a re-index."""
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = IVF_NPROBE
    elif isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH


def write_version(
    directory: Path,
    manifest: Manifest,
    chunks: list[Chunk],
    vectors: NDArray[np.float32],
    records: Records,
    first_stage: NDArray[np.float32] | None = None,
) -> Manifest:
    """Write every file of a version into `directory` (a private temporary folder), manifest last.

    `first_stage`: the same chunks' vectors by the manifest's `first_stage` encoder, indexed alike."""
    directory.mkdir(parents=True, exist_ok=False)
    dense, kind = build_dense(vectors)
    faiss.write_index(dense, str(directory / "dense.faiss"))
    names = list(_FILES)
    if (first_stage is None) != (manifest.first_stage is None):
        raise ValueError("first-stage vectors and the manifest's first_stage encoder go together")
    if first_stage is not None:
        faiss.write_index(build_dense(first_stage)[0], str(directory / FIRST_STAGE_FILE))
        names.append(FIRST_STAGE_FILE)
    with (directory / "chunks.jsonl").open("w", encoding="utf-8") as out:
        for chunk in chunks:
            out.write(chunk.model_dump_json() + "\n")
    (directory / "records.json").write_text(records.to_json(), encoding="utf-8")
    lexical_dir = directory / "lexical"
    lexical_dir.mkdir()
    LexicalIndex.build([c.passage() for c in chunks]).save(lexical_dir)
    files = {name: _sha256(directory / name) for name in names}
    files.update({f"lexical/{p.name}": _sha256(p) for p in sorted(lexical_dir.iterdir()) if p.is_file()})
    first = {"first_stage": None, "first_stage_dim": 0} if first_stage is None else {
        "first_stage_dim": int(first_stage.shape[1])
    }
    final = Manifest(
        **{**manifest.__dict__, **first, "index_type": kind, "files": files, "chunk_count": len(chunks)}
    )
    _write_durably(directory / "manifest.json", final.to_json())
    return final


def versions_dir(root: Path) -> Path:
    return root / "versions"


def publish(root: Path, staged: Path, version: str, keep: int = 3) -> Path:
    """Move a staged version into place and switch `current` to it atomically; prune old versions."""
    target = versions_dir(root) / version
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
    link_tmp = root / f".current-{version}"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    link_tmp.symlink_to(Path("versions") / version)
    os.replace(link_tmp, root / "current")
    _fsync_dir(root)
    _prune(root, keep, protect=target)
    return target


def current_dir(root: Path) -> Path | None:
    link = root / "current"
    if not link.exists():
        return None
    return link.resolve()


def candidate_dirs(root: Path) -> Iterator[Path]:
    """The current version first, then the others, newest first: where to fall back when one is refused."""
    current = current_dir(root)
    if current is not None:
        yield current
    folder = versions_dir(root)
    if folder.is_dir():
        for path in sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True):
            if current is None or path.resolve() != current:
                yield path


def load_latest(root: Path, encoder_name: str) -> tuple[KnowledgeIndex, list[str]]:
    """The current version, or the newest valid one when current is refused; the refusals, in French."""
    refusals: list[str] = []
    for directory in candidate_dirs(root):
        try:
            return KnowledgeIndex.load(directory, encoder_name), refusals
        except IndexRefused as exc:
            log.warning("index version refused: %s", exc)
            refusals.append(str(exc))
    if not refusals:
        refusals.append(f"aucun index dans {root} : lancez « spro ingest »")
    raise IndexRefused(" ; ".join(refusals))


_PerSite = TypeVar("_PerSite", Overridden, Conflict)


def _per_site(items: tuple[_PerSite, ...]) -> dict[str, tuple[_PerSite, ...]]:
    grouped: dict[str, list[_PerSite]] = {}
    for item in items:
        grouped.setdefault(item.structure_id, []).append(item)
    return {site: tuple(found) for site, found in grouped.items()}


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run faiss on the calling thread only. One query split across the cores of a shared machine waits for
    the slowest of them: exact search over 100,000 chunks took 17 ms at p50 on 2 threads and 14.5 ms on one
    on a quiet machine (docs/BENCHMARKS.md, Scale), 16 ms against 1.5 ms over 20,000 while other test
    suites ran. OpenMP's thread count is per thread: the request thread's own, restored after."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _prune(root: Path, keep: int, protect: Path) -> None:
    folder = versions_dir(root)
    versions = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    for old in versions[keep:]:
        if old.resolve() != protect.resolve():
            shutil.rmtree(old, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_durably(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
