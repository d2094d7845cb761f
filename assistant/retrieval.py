"""Hybrid retrieval: dense (FAISS) and French BM25, fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex
from knowledge.lexical import analyse, fold
from knowledge.model import Chunk

RRF_K = 60
CANDIDATES = 60


@dataclass(frozen=True)
class Hit:
    """A chunk and its fused score; ranks are 1-based, None when that channel did not find it."""

    chunk: Chunk
    score: float
    dense_rank: int | None
    lexical_rank: int | None
    cosine: float


class Retriever:
    """Searches one loaded index version with one encoder; cheap to build, holds no request state."""

    def __init__(self, index: KnowledgeIndex, encoder: Encoder) -> None:
        self._index = index
        self._encoder = encoder
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
        vector = self._encoder.encode_queries([" ".join((dense_query or query, *expansions))])[0]
        dense = self._index.dense_search(vector, k)
        lexical = self._index.lexical_search(analyse(self._spelled(expanded)), k)
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
            )
            for row in dense_ranks.keys() | lexical_ranks.keys()
        ]
        # Ties (same ranks in both channels) are frequent with RRF: break them on the dense rank, then the id,
        # so that the same query always gives the same order.
        hits.sort(key=lambda h: (-h.score, h.dense_rank or len(dense) + 1, h.chunk.id))
        return hits

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


def _rrf(rank: int | None) -> float:
    """Reciprocal-rank fusion term of one channel (0 when the channel did not find the chunk)."""
    return 0.0 if rank is None else 1.0 / (RRF_K + rank)
