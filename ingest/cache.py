"""Content-hash cache of passage embeddings (SQLite): re-indexing unchanged text embeds nothing."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def passage_key(encoder_name: str, passage: str) -> str:
    """The content hash a passage's vector is stored under, here and in the shipped vectors (ingest/shipped.py)."""
    return hashlib.sha256(f"{encoder_name}\u0000{passage}".encode()).hexdigest()


class EmbeddingCache:
    """Vectors keyed by (encoder, passage text) hash; safe to share across builds, survives a kill."""

    def __init__(self, path: Path, encoder_name: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._encoder = encoder_name
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, data BLOB)")

    def key(self, passage: str) -> str:
        return passage_key(self._encoder, passage)

    def get_many(self, keys: list[str]) -> dict[str, NDArray[np.float32]]:
        found: dict[str, NDArray[np.float32]] = {}
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            marks = ",".join("?" * len(batch))
            for key, dim, data in self._db.execute(
                f"SELECT key, dim, data FROM vectors WHERE key IN ({marks})", batch
            ):
                found[key] = np.frombuffer(data, dtype=np.float32).reshape(dim).copy()
        return found

    def put_many(self, items: dict[str, NDArray[np.float32]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, dim, data) VALUES (?, ?, ?)",
                [(k, int(v.shape[0]), v.astype(np.float32).tobytes()) for k, v in items.items()],
            )

    def close(self) -> None:
        self._db.close()
