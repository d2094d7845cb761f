"""Dated snapshot files: written whole or not at all, the newest of each kind read by ingest, old ones pruned."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

SnapshotKind = Literal["annuaire", "data-inclusion"]

# Each kind has its folder under <data_dir>/snapshots/ and a file prefix; the date in the name is what the
# loaders read as the date of the data (ingest.sources.annuaire._date_in looks for YYYY-MM-DD).
PREFIXES: dict[SnapshotKind, str] = {"annuaire": "annuaire-api", "data-inclusion": "data-inclusion-api"}

_DATED = re.compile(r"^(?P<prefix>[a-z0-9-]+)_(?P<day>\d{4}-\d{2}-\d{2})\.json$")


@dataclass(frozen=True)
class PullReport:
    """What a successful pull published."""

    path: Path
    url: str
    records: dict[str, int]  # per query (department) or per record kind (structures, services)
    requests: int
    kept: int  # snapshots of this kind now on disk, the new one included

    @property
    def total(self) -> int:
        return sum(self.records.values())


def snapshot_root(data_dir: Path) -> Path:
    """Where the snapshots of every kind live."""
    return data_dir / "snapshots"


def snapshot_name(kind: SnapshotKind, day: date) -> str:
    return f"{PREFIXES[kind]}_{day.isoformat()}.json"


def write_snapshot(root: Path, kind: SnapshotKind, payload: Mapping[str, object], day: date, keep: int) -> Path:
    """Publish `payload` as the snapshot of `day`: a temp file in the same folder, then an atomic rename.

    A crash or a full disk leaves at most a hidden temp file, which neither ingest nor this module reads.
    A second pull on the same day replaces that day's snapshot, atomically too.
    """
    folder = root / kind
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / snapshot_name(kind, day)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, ensure_ascii=False, indent=1)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    prune_snapshots(root, kind, keep)
    return target


def list_snapshots(root: Path, kind: SnapshotKind) -> list[Path]:
    """The published snapshots of one kind, oldest first."""
    folder = root / kind
    if not folder.is_dir():
        return []
    dated = []
    for path in folder.iterdir():
        match = _DATED.match(path.name)
        if match is not None and match.group("prefix") == PREFIXES[kind] and path.is_file():
            dated.append((match.group("day"), path))
    return [path for _, path in sorted(dated)]


def latest_snapshots(root: Path) -> list[Path]:
    """The newest published snapshot of each kind, for ingest to read beside the other sources."""
    latest = []
    for kind in PREFIXES:
        published = list_snapshots(root, kind)
        if published:
            latest.append(published[-1])
    return latest


def prune_snapshots(root: Path, kind: SnapshotKind, keep: int) -> list[Path]:
    """Delete all but the `keep` newest snapshots of a kind; the removed paths are returned."""
    published = list_snapshots(root, kind)
    removed = published[: max(len(published) - max(keep, 1), 0)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk (POSIX); Windows has no such call.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def with_latest_snapshots(sources: Sequence[Path], root: Path) -> list[Path]:
    """The sources to ingest: those given, less any snapshot (or snapshot folder), plus the newest of each kind.

    A served version's manifest names the snapshot it was built from; re-reading it would miss a newer pull
    (or fail once it is pruned), and a snapshot folder walked whole would load every old snapshot beside the new.
    """
    inside = root.resolve()
    kept = [path for path in sources if not path.resolve().is_relative_to(inside)]
    return [*kept, *(path for path in latest_snapshots(root) if path not in kept)]
