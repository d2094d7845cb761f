"""French lexical search: accent folding, stop words, Snowball stemming, BM25 (bm25s)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_FRENCH

_WORD = re.compile(r"[a-z0-9]+")
# Folded stop words, plus the chatter of counsellor messages that carries no meaning for retrieval.
_STOPWORDS = frozenset(
    {unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode().lower() for w in STOPWORDS_FRENCH}
    | {"bonjour", "merci", "svp", "stp", "cherche", "ans", "an", "quelqu", "quelle", "quel", "qui", "ou"}
)


def fold(text: str) -> str:
    """Lower case without accents: counsellors often type without them."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe").replace("æ", "ae")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def analyse(text: str) -> list[str]:
    """Text -> folded, stemmed tokens without stop words (the same for passages and queries)."""
    words = [w for w in _WORD.findall(fold(text)) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]
    return list(_stemmer().stemWords(words))


class LexicalIndex:
    """BM25 over analysed passages; scores are only compared within one query."""

    def __init__(self, retriever: bm25s.BM25, size: int) -> None:
        self._retriever = retriever
        self._size = size

    @classmethod
    def build(cls, passages: list[str]) -> LexicalIndex:
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        corpus = [analyse(p) or ["_"] for p in passages]
        retriever.index(corpus, show_progress=False)
        return cls(retriever, len(passages))

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory))
        (directory / "size").write_text(str(self._size))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        size = int((directory / "size").read_text())
        return cls(bm25s.BM25.load(str(directory), mmap=False), size)

    def search(self, tokens: list[str], k: int) -> list[tuple[int, float]]:
        """Row numbers and BM25 scores, best first; nothing when no token is known."""
        if not tokens or self._size == 0:
            return []
        vocab = self._retriever.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        # n_threads=0: in the calling thread; any other value starts a thread pool for each query (1.7 ms of a
        # search of 60 ms on the loaded machine, in a profile of 200 unseen cases).
        ids, scores = self._retriever.retrieve(
            [known], k=min(k, self._size), show_progress=False, n_threads=0
        )
        return [(int(i), float(s)) for i, s in zip(np.asarray(ids)[0], np.asarray(scores)[0], strict=True) if s > 0]
