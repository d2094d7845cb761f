"""The vectors shipped with the embedded base: fresh (one per passage, none stale, equal to the real encoder's)
and used, so that a first build on a new machine embeds none of the embedded base."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.build import build_index, embedded_passages
from ingest.cache import passage_key
from ingest.shipped import ShippedVectors, load_shipped
from knowledge.embedding import Encoder, first_stage_of

REGENERATE = "run `.venv/bin/python scripts/build_vectors.py` and commit knowledge/data/vectors/"
SAMPLE = 8


@pytest.fixture(scope="module", params=["full encoder", "first stage"])
def stage(request: pytest.FixtureRequest, encoder: Encoder) -> Encoder:
    """Each encoder of the default two-stage search: both have their vectors shipped."""
    if request.param == "full encoder":
        return encoder
    first = first_stage_of(encoder)
    assert first is not None, "the default encoder has a first stage"
    return first


@pytest.fixture(scope="module")
def shipped(stage: Encoder) -> ShippedVectors:
    vectors = load_shipped(stage.name)
    assert vectors is not None, f"no shipped vectors for {stage.name}: {REGENERATE}"
    return vectors


@pytest.fixture(scope="module")
def passages(stage: Encoder) -> dict[str, str]:
    return {passage_key(stage.name, p): p for p in embedded_passages()}


def test_every_passage_of_the_embedded_base_has_a_shipped_vector(
    shipped: ShippedVectors, passages: dict[str, str]
) -> None:
    held = set(shipped.keys)
    missing = [p for key, p in passages.items() if key not in held]
    assert not missing, f"{len(missing)} passages without a shipped vector (first: {missing[0][:80]!r}): {REGENERATE}"


def test_no_shipped_vector_is_left_for_a_passage_no_longer_in_the_base(
    shipped: ShippedVectors, passages: dict[str, str]
) -> None:
    stale = set(shipped.keys) - set(passages)
    assert not stale, f"{len(stale)} shipped vectors of passages no longer in the base: {REGENERATE}"
    assert list(shipped.keys) == sorted(shipped.keys), "keys out of order: the file would not diff stably"


def test_shipped_vectors_match_the_real_encoder(
    shipped: ShippedVectors, passages: dict[str, str], stage: Encoder
) -> None:
    keys = [k for k in shipped.keys if k in passages]
    sample = keys[:: max(len(keys) // SAMPLE, 1)][:SAMPLE]
    fresh = stage.encode_passages([passages[k] for k in sample])
    stored = shipped.get_many(sample)
    cosines = [float(np.dot(fresh[i], stored[k])) for i, k in enumerate(sample)]
    assert min(cosines) > 0.999, f"shipped vectors differ from the encoder's ({min(cosines):.4f}): {REGENERATE}"


@pytest.mark.slow
def test_first_build_on_an_empty_cache_embeds_nothing_of_the_embedded_base(tmp_path: Path, encoder: Encoder) -> None:
    cache = tmp_path / "embeddings.sqlite"
    first = build_index(tmp_path / "index", encoder, cache_path=cache)
    assert first.published and first.embedded == 0, f"{first.embedded} passages computed: {REGENERATE}"
    assert first.shipped == first.chunks > 0 and first.reused == 0
    assert first.first_stage_embedded == 0, f"{first.first_stage_embedded} first-stage vectors computed: {REGENERATE}"
    assert first.first_stage_shipped == first.chunks
    # Taken once: the next build finds them in the cache.
    again = build_index(tmp_path / "index", encoder, cache_path=cache, force=True)
    assert again.embedded == again.shipped == 0 and again.reused == again.chunks
    assert again.first_stage_embedded == again.first_stage_shipped == 0
