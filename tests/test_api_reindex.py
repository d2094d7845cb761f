"""Re-indexing through the admin API: a new version swapped in under load, with no failed request."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from ingest.build import build_index
from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex, load_latest
from knowledge.settings import Settings
from knowledge.territory import Territory
from tests.conftest import CACHE

pytestmark = pytest.mark.slow

ADMIN = "jeton-de-test"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
JOB_TIMEOUT = 600.0


@pytest.fixture()
def own_data_dir(tmp_path: Path, index_root: Path) -> Path:
    """A private copy of the session's index (a re-index writes into it) with the warm embedding cache."""
    data = tmp_path / "data"
    shutil.copytree(index_root, data / "index", symlinks=True, ignore=shutil.ignore_patterns(".build.lock"))
    if CACHE.is_file():
        shutil.copy2(CACHE, data / "index" / "embeddings.sqlite")
    return data


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "admin_token": ADMIN,
        "rate_limit_per_minute": 0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture()
def client(own_data_dir: Path, encoder: Encoder, territory: Territory) -> Iterator[TestClient]:
    settings = settings_for(own_data_dir)
    index, _ = load_latest(settings.index_dir, encoder.name)
    with TestClient(create_app(settings, runtime=Runtime(settings, encoder, territory, index))) as client:
        yield client


def wait_for_job(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        job = client.get(f"/api/admin/reindex/{job_id}", headers=AUTH).json()
        if job["status"] in ("succeeded", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still running after {JOB_TIMEOUT} s")


def test_reindex_swaps_the_version_while_requests_run_without_a_failure(
    client: TestClient, knowledge_index: KnowledgeIndex
) -> None:
    old_version = client.get("/readyz").json()["index_version"]
    stop = threading.Event()
    failures: list[str] = []
    served = [0]

    def hammer(worker: int) -> None:
        conversation: str | None = None
        while not stop.is_set():
            payload: dict[str, Any] = {"message": "jeune de 17 ans décrocheur" if conversation is None else "à Vienne"}
            if conversation is not None:
                payload["conversation_id"] = conversation
            response = client.post("/api/chat", json=payload)
            search = client.get("/api/search", params={"q": "salariée qui veut se reconvertir", "department": "69"})
            for answer in (response, search):
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")
            if response.status_code == 200:
                conversation = None if conversation else response.json()["conversation_id"]
            served[0] += 2

    workers = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    try:
        started = client.post("/api/admin/reindex", json={"force": True}, headers=AUTH)
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        assert started.headers["location"] == f"/api/admin/reindex/{job_id}"
        second = client.post("/api/admin/reindex", json={"force": True}, headers=AUTH)
        assert second.status_code == 409 and second.json()["error"] == "reindex_running"
        job = wait_for_job(client, job_id)
        time.sleep(0.5)  # a few more requests on the new version
    finally:
        stop.set()
        for worker in workers:
            worker.join()

    assert job["status"] == "succeeded", job
    assert failures == []
    assert served[0] > 0
    assert job["published"] is True and job["version"] != old_version
    assert job["counts"]["chunks"] == len(knowledge_index.chunks)
    assert job["counts"]["embedded"] == 0  # the content-hash cache served every passage
    assert isinstance(job["errors"], dict)
    assert job["progress"]["stage"]
    ready = client.get("/readyz").json()
    assert ready["index_version"] == job["version"]
    assert f'version="{job["version"]}"' in client.get("/metrics", headers=AUTH).text
    again = client.post("/api/admin/reindex", json={}, headers=AUTH)  # unchanged base, no force: no new version
    assert again.status_code == 202
    unchanged = wait_for_job(client, again.json()["id"])
    assert unchanged["status"] == "succeeded" and unchanged["published"] is False
    assert unchanged["version"] == job["version"] and unchanged["counts"]["unchanged"] is True


def test_service_without_an_index_is_not_ready_until_an_admin_reindexes(tmp_path: Path) -> None:
    data = tmp_path / "empty"
    (data / "index").mkdir(parents=True)
    if CACHE.is_file():
        shutil.copy2(CACHE, data / "index" / "embeddings.sqlite")
    settings = settings_for(data)
    with TestClient(create_app(settings)) as client:  # no runtime given: the lifespan loads the encoder itself
        assert client.get("/healthz").status_code == 200
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503 and not_ready.json()["error"] == "index_unavailable"
        assert client.post("/api/chat", json={"message": "jeune de 17 ans"}).status_code == 503
        assert "spro_index_loaded 0.0" in client.get("/metrics", headers=AUTH).text
        started = client.post("/api/admin/reindex", headers=AUTH)
        assert started.status_code == 202
        job = wait_for_job(client, started.json()["id"])
        assert job["status"] == "succeeded", job
        assert client.get("/readyz").json()["index_version"] == job["version"]
        assert client.post("/api/chat", json={"message": "jeune de 17 ans décrocheur"}).status_code == 200


def test_a_version_published_by_another_process_is_picked_up_within_seconds(
    own_data_dir: Path, encoder: Encoder, territory: Territory
) -> None:
    # The upkeep round (purge) stays at its default of five minutes: the index watch alone must see it.
    settings = settings_for(own_data_dir, index_watch_interval=0.5)
    index, _ = load_latest(settings.index_dir, encoder.name)
    with TestClient(create_app(settings, runtime=Runtime(settings, encoder, territory, index))) as client:
        before = client.get("/readyz").json()["index_version"]
        # What `spro ingest` (or another API worker's re-index) does: publish a new version in the same folder.
        report = build_index(settings.index_dir, encoder, force=True)
        assert report.published and report.version != before
        deadline = time.monotonic() + 30
        while client.get("/readyz").json()["index_version"] != report.version:
            assert time.monotonic() < deadline, "the new version was not picked up"
            time.sleep(0.2)


def _fake_sites(folder: Path, count: int) -> Path:
    """An extra open-data file of `count` sites (test data, in the shared site-list format)."""
    folder.mkdir(parents=True, exist_ok=True)
    header = "source_id,network,name,address,postcode,commune,insee_commune,department,phone,email,website,as_of"
    rows = [f"essai:{n},france_services,Site d'essai {n},{n} rue de l'Essai,38000,Grenoble,38185,38,,,,2026-11-01"
            for n in range(count)]
    path = folder / "sites_essai.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return folder


def test_a_reindex_reads_again_the_sources_the_served_version_was_built_from(
    own_data_dir: Path, encoder: Encoder, territory: Territory, tmp_path: Path
) -> None:
    extra = _fake_sites(tmp_path / "extra", 40)
    built = build_index(own_data_dir / "index", encoder, [extra], cache_path=CACHE)
    # A server started as plain `spro serve`, with no SPRO_SOURCES.
    settings = settings_for(own_data_dir)
    index, _ = load_latest(settings.index_dir, encoder.name)
    assert index.manifest.sources == [str(extra.resolve())]
    with TestClient(create_app(settings, runtime=Runtime(settings, encoder, territory, index))) as client:
        started = client.post("/api/admin/reindex", json={"force": True}, headers=AUTH)
        job = wait_for_job(client, started.json()["id"])
        assert job["status"] == "succeeded", job
        assert job["counts"]["structures"] == built.structures  # the imported sites are still there


def test_a_reindex_that_would_lose_a_large_share_is_refused_unless_explicitly_allowed(
    own_data_dir: Path, encoder: Encoder, territory: Territory, tmp_path: Path
) -> None:
    extra = _fake_sites(tmp_path / "extra", 400)
    build_index(own_data_dir / "index", encoder, [extra], cache_path=CACHE)
    settings = settings_for(own_data_dir)
    index, _ = load_latest(settings.index_dir, encoder.name)
    with TestClient(create_app(settings, runtime=Runtime(settings, encoder, territory, index))) as client:
        before = client.get("/readyz").json()["index_version"]
        refused = wait_for_job(
            client, client.post("/api/admin/reindex", json={"sources": "settings"}, headers=AUTH).json()["id"]
        )
        assert refused["status"] == "failed" and "allow_shrink" in refused["error"], refused
        assert client.get("/readyz").json()["index_version"] == before
        allowed = wait_for_job(
            client,
            client.post(
                "/api/admin/reindex", json={"sources": "settings", "allow_shrink": True}, headers=AUTH
            ).json()["id"],
        )
        assert allowed["status"] == "succeeded" and allowed["version"] != before, allowed


@pytest.mark.parametrize("body", [{"force": "yes"}, {"force": 1}, {"allow_shrink": "true"}, {"sources": "tout"}])
def test_admin_booleans_are_strict(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/api/admin/reindex", json=body, headers=AUTH)
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"


def test_the_coverage_route_names_the_holes_per_network_and_department(client: TestClient) -> None:
    assert client.get("/api/admin/coverage").status_code == 401
    rows = client.get("/api/admin/coverage", params={"department": "38"}, headers=AUTH).json()
    by_network = {(r["network"], r["department"]): r for r in rows}
    assert by_network[("cap_emploi", "38")]["sites"] == 0  # a hole, named
    isere = by_network[("mission_locale", "38")]
    assert isere["sites"] > 10 and 0 < isere["share_with_phone"] <= 1 and isere["stale"] > 0
    assert by_network[("france_services", None)]["freshest"] == "2024-08-01"
    bad = client.get("/api/admin/coverage", params={"department": "75"}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"
