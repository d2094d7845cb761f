"""A real encoder that notes the queries it is asked to read: what the tests of the encoder's input look at."""

from __future__ import annotations

from typing import Any

from knowledge.embedding import Encoder


class RecordingEncoder:
    """The real encoder, noting the texts it is asked to read as queries."""

    def __init__(self, inner: Encoder) -> None:
        self._inner = inner
        self.queries: list[str] = []
        self.name, self.dim = inner.name, inner.dim

    def encode_queries(self, texts: list[str]) -> Any:
        self.queries.extend(texts)
        return self._inner.encode_queries(texts)

    def encode_passages(self, texts: list[str]) -> Any:
        return self._inner.encode_passages(texts)
