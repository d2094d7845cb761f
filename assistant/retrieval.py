"""Hybrid retrieval: dense (FAISS) and French BM25, fused by reciprocal rank.

With a two-stage encoder (knowledge/embedding.py::TwoStageEncoder) over a version holding its first-stage
vectors, the dense channel is the light first stage when it and BM25 lead to the same network, and the full
encoder otherwise: the same answers' quality on the golden set for the full encoder's cost on about half of the
cases never seen (docs/BENCHMARKS.md, « Speed-ups kept »).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from knowledge.embedding import Encoder, first_stage_of
from knowledge.index import KnowledgeIndex
from knowledge.lexical import analyse, fold
from knowledge.model import Chunk

RRF_K = 60
CANDIDATES = 60
# Chunks of each channel compared to tell whether the first stage suffices. On the golden set, the first chunk
# alone sent 24 % of the searches to the full encoder but moved the second and third networks of 67 cases
# (local contact 0.737 against 0.749); the first five, 52 %, with every score equal or better (0.751)
# (docs/BENCHMARKS.md, « Speed-ups kept »).
AGREEMENT_CHUNKS = 5


@dataclass(frozen=True)
class Hit:
    """A chunk and its fused score; ranks are 1-based, None when that channel did not find it."""

    chunk: Chunk
    score: float
    dense_rank: int | None
    lexical_rank: int | None
    cosine: float
    # The encoder of the dense channel that gave `cosine` (each encoder has its own scale).
    encoder: str = ""


class Retriever:
    """Searches one loaded index version with one encoder; cheap to build, holds no request state."""

    def __init__(self, index: KnowledgeIndex, encoder: Encoder) -> None:
        self._index = index
        self._encoder = encoder
        first = first_stage_of(encoder)
        # A version built without this first stage's vectors (or with another's) is searched by the full encoder.
        self._first = first if first is not None and index.first_stage == first.name else None
        words = {w for c in index.chunks for w in fold(c.passage()).replace("'", " ").split() if w.isalpha()}
        self._vocabulary = sorted(w for w in words if len(w) >= 5)
        self._words = words

    def search(
        self, query: str, expansions: tuple[str, ...] = (), k: int = CANDIDATES, dense_query: str | None = None
    ) -> list[Hit]:
        """Fused hits for a query; abbreviations are expanded for BM25, the dense channel reads both.

        `dense_query`, when given, is the shorter text the encoder reads instead of the whole query.
        """
        if not query.strip():
            return []
        expanded = " ".join((query, *expansions))
        encoded = " ".join((dense_query or query, *expansions))
        lexical = self._index.lexical_search(analyse(self._spelled(expanded)), k)
        dense: list[tuple[int, float]] = []
        dense_encoder = self._encoder.name
        if self._first is not None:
            dense = self._index.first_stage_search(self._first.encode_queries([encoded])[0], k)
            if self._agree(lexical, dense):
                dense_encoder = self._first.name
            else:
                dense = []
        if dense_encoder == self._encoder.name:
            dense = self._index.dense_search(self._encoder.encode_queries([encoded])[0], k)
        dense_ranks = {row: rank for rank, (row, _) in enumerate(dense, start=1)}
        lexical_ranks = {row: rank for rank, (row, _) in enumerate(lexical, start=1)}
        cosines = dict(dense)
        hits = [
            Hit(
                chunk=self._index.chunks[row],
                score=_rrf(dense_ranks.get(row)) + _rrf(lexical_ranks.get(row)),
                dense_rank=dense_ranks.get(row),
                lexical_rank=lexical_ranks.get(row),
                cosine=cosines.get(row, 0.0),
                encoder=dense_encoder,
            )
            for row in dense_ranks.keys() | lexical_ranks.keys()
        ]
        # Ties (same ranks in both channels) are frequent with RRF: break them on the dense rank, then the id,
        # so that the same query always gives the same order.
        hits.sort(key=lambda h: (-h.score, h.dense_rank or len(dense) + 1, h.chunk.id))
        return hits

    def _agree(self, lexical: list[tuple[int, float]], dense: list[tuple[int, float]]) -> bool:
        """Whether both channels read the case alike: their first chunks share a network, and the network
        most present among their first AGREEMENT_CHUNKS chunks is the same. The first stage's reading is then
        confirmed by the words of the case, and the full encoder would not change the answer's quality."""
        if not lexical or not dense:
            return False
        chunks = self._index.chunks
        if not set(chunks[lexical[0][0]].networks) & set(chunks[dense[0][0]].networks):
            return False
        return _leading_network(chunks, lexical) == _leading_network(chunks, dense)

    def _spelled(self, text: str) -> str:
        """Correct long unknown words to the closest corpus word ("mecanik" -> "mecanique")."""
        out = []
        for word in fold(text).replace("'", " ").split():
            if len(word) >= 5 and word.isalpha() and word not in self._words:
                best = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=75)
                out.append(best[0] if best else word)
            else:
                out.append(word)
        return " ".join(out)


def _leading_network(chunks: list[Chunk], found: list[tuple[int, float]]) -> str | None:
    """The network most present among the first chunks found; on a tie, the one met first."""
    counts = Counter(network for row, _ in found[:AGREEMENT_CHUNKS] for network in chunks[row].networks)
    return counts.most_common(1)[0][0] if counts else None


def _rrf(rank: int | None) -> float:
    """Reciprocal-rank fusion term of one channel (0 when the channel did not find the chunk)."""
    return 0.0 if rank is None else 1.0 / (RRF_K + rank)
