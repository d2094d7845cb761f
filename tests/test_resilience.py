"""Resilience without timing: a swap under load on a real server, an ingest killed with SIGKILL mid-build,
a restart on a corrupted or partial index. Nothing here asserts a duration; `bench/resilience.py` prints those."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from bench import load, workload
from bench.processes import ADMIN_TOKEN, ServerProcess
from ingest.build import build_index, chunks_of, gather
from ingest.cache import passage_key
from knowledge.embedding import Encoder
from knowledge.index import load_latest, versions_dir
from knowledge.settings import Settings
from tests.conftest import CACHE, ROOT

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# Generous bounds that only stop a hung test; no assertion is made on how long anything takes.
SWAP_TIMEOUT = 300.0
KILL_TIMEOUT = 300.0
# Passages the killed build must embed: a few batches, so that it is caught between two of them.
MISSING_PASSAGES = 96


@pytest.fixture()
def data_dir(tmp_path: Path, index_root: Path) -> Path:
    """A private SPRO_DATA_DIR holding a copy of the session's index and a copy of the warm embedding cache."""
    data = tmp_path / "data"
    shutil.copytree(index_root, data / "index", symlinks=True, ignore=shutil.ignore_patterns(".build.lock"))
    if CACHE.is_file():
        shutil.copy2(CACHE, data / "index" / "embeddings.sqlite")
    return data


def served_version(server: ServerProcess) -> str:
    version = httpx.get(f"{server.base_url}/readyz", timeout=30).json()["index_version"]
    assert isinstance(version, str)
    return version


def test_reindex_swap_on_a_real_server_under_load_fails_no_request(tmp_path: Path, data_dir: Path) -> None:
    server = ServerProcess.spro_serve(data_dir, tmp_path / "server.log")
    with server:
        server.wait_ready()
        old = served_version(server)
        swapped = threading.Event()
        after_swap = threading.Event()
        outcome: dict[str, load.LoadResult] = {}

        def hammer() -> None:
            queries = workload.unique()

            def alternate(text: str) -> tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]:
                return load.chat_request(text) if len(text) % 2 else load.search_request(text)

            outcome["load"] = load.run_load(
                server.base_url, alternate, queries, clients=8, duration_s=SWAP_TIMEOUT, stop=after_swap.is_set
            )

        clients = threading.Thread(target=hammer)
        clients.start()
        try:
            time.sleep(1.0)  # the clients are busy before the re-index starts
            started = httpx.post(f"{server.base_url}/api/admin/reindex", json={"force": True}, headers=AUTH,
                                 timeout=30)
            assert started.status_code == 202, started.text
            job_id = started.json()["id"]
            deadline = time.monotonic() + SWAP_TIMEOUT
            while (job := httpx.get(f"{server.base_url}/api/admin/reindex/{job_id}", headers=AUTH,
                                    timeout=30).json())["status"] not in ("succeeded", "failed"):
                assert time.monotonic() < deadline, "the re-index did not finish"
                time.sleep(0.2)
            if job["status"] == "succeeded" and served_version(server) == job["version"]:
                swapped.set()
                time.sleep(1.0)  # more requests, on the new version
        finally:
            after_swap.set()
            clients.join()
        new = served_version(server)

    result = outcome["load"]
    assert job["status"] == "succeeded", job
    assert swapped.is_set()
    assert new == job["version"] != old
    assert result.errors == {}, result.errors
    assert len(result.latencies_ms) > 0


def _new_notes(folder: Path) -> Path:
    """Documents no cache and no shipped vector file has seen: passages the next build has to embed."""
    folder.mkdir()
    for note in range(MISSING_PASSAGES // 8):
        steps = "".join(f"## Étape {step}\n\nNote fictive {note}-{step} sur un parcours d'orientation.\n\n"
                        for step in range(8))
        (folder / f"note-{note}.md").write_text(f"---\nnetwork: cio\n---\n{steps}", encoding="utf-8")
    return folder


def _cached(cache_path: Path, keys: list[str]) -> set[str]:
    """Which of `keys` the cache holds (read-only: the build writing it may be running)."""
    found: set[str] = set()
    with sqlite3.connect(f"file:{cache_path}?mode=ro", uri=True, timeout=30) as db:
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            marks = ",".join("?" * len(batch))
            found.update(row[0] for row in db.execute(f"SELECT key FROM vectors WHERE key IN ({marks})", batch))
    return found


def test_ingest_killed_mid_build_keeps_the_served_index_and_the_next_build_succeeds(
    tmp_path: Path, data_dir: Path, encoder: Encoder
) -> None:
    index_dir = data_dir / "index"
    cache_path = index_dir / "embeddings.sqlite"
    before, _ = load_latest(index_dir, encoder.name)
    versions_before = sorted(p.name for p in versions_dir(index_dir).iterdir())
    # A few batches' worth of new passages, so that the build has to embed and can be caught doing it: the cache
    # and the vectors shipped with the embedded base hold all the others.
    sources = [_new_notes(tmp_path / "notes")]
    keys = [passage_key(encoder.name, c.passage()) for c in chunks_of(gather(sources)) if c.kind == "document"]
    forgotten = list(dict.fromkeys(keys))
    assert len(forgotten) == MISSING_PASSAGES and _cached(cache_path, forgotten) == set()

    env = {**os.environ, "SPRO_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1",
           "SPRO_SOURCES": json.dumps([str(p) for p in sources])}
    build = subprocess.Popen([sys.executable, "-m", "api.cli", "ingest", "--force"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + KILL_TIMEOUT
        # One batch committed: the build is embedding, the next batch is under way.
        while not _cached(cache_path, forgotten):
            assert build.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the build never embedded a batch"
            time.sleep(0.02)
        build.send_signal(signal.SIGKILL)
    finally:
        build.kill()
        code = build.wait()
    assert code == -signal.SIGKILL
    paid_for = _cached(cache_path, forgotten)
    assert 0 < len(paid_for) < MISSING_PASSAGES

    # The served version is untouched and still loads without a refusal; the killed build published nothing.
    after_kill, refusals = load_latest(index_dir, encoder.name)
    assert refusals == []
    assert after_kill.version == before.version
    assert sorted(p.name for p in versions_dir(index_dir).iterdir()) == versions_before
    with sqlite3.connect(cache_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # The next build takes the lock the dead one held, reuses what it paid for, and publishes.
    report = build_index(index_dir, encoder, sources, force=True)
    assert report.published and report.version != before.version
    still_missing = set(forgotten) - paid_for
    assert report.embedded == sum(1 for key in keys if key in still_missing)
    rebuilt, refusals = load_latest(index_dir, encoder.name)
    assert refusals == [] and rebuilt.version == report.version
    assert len(rebuilt.chunks) == len(before.chunks) + len(keys)


def test_restart_on_a_corrupted_current_version_serves_the_last_good_one(
    tmp_path: Path, data_dir: Path, encoder: Encoder
) -> None:
    index_dir = data_dir / "index"
    good, _ = load_latest(index_dir, encoder.name)
    damaged = build_index(index_dir, encoder, force=True)
    assert damaged.version is not None and damaged.version != good.version
    dense = versions_dir(index_dir) / damaged.version / "dense.faiss"
    with dense.open("r+b") as handle:  # a disk that filled up, a copy cut short
        handle.truncate(dense.stat().st_size // 2)
    # And a newer version folder that never got its manifest (a build or a copy interrupted).
    partial = versions_dir(index_dir) / "99991231T000000000000Z-partiel"
    partial.mkdir()
    (partial / "chunks.jsonl").write_text("", encoding="utf-8")

    server = ServerProcess.spro_serve(data_dir, tmp_path / "server.log")
    with server:
        server.wait_ready()
        assert served_version(server) == good.version
        search = httpx.get(f"{server.base_url}/api/search", params={"q": "jeune de 19 ans sans diplôme à Lyon"},
                           timeout=60)
        assert search.status_code == 200
        assert search.json()["structures"]
    log = server.log_tail(200_000)
    assert f"index {damaged.version} : fichier dense.faiss absent ou corrompu" in log
    assert f"index {partial.name} : manifeste absent" in log


def test_start_with_every_version_broken_is_not_ready_and_logs_why(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index_dir = data_dir / "index"
    for version in versions_dir(index_dir).iterdir():
        (version / "manifest.json").unlink()
    settings = Settings(data_dir=data_dir, rate_limit_per_minute=0)
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["error"] == "index_unavailable"
        assert client.get("/api/search", params={"q": "jeune de 17 ans"}).json()["error"] == "index_unavailable"
        assert client.get("/healthz").status_code == 200
    assert "manifeste absent" in caplog.text


def test_a_damaged_store_stops_spro_serve_with_a_french_message_and_no_traceback(data_dir: Path) -> None:
    (data_dir / "spro.db").write_bytes(b"\x00garbage, not a database" * 100)
    env = {**os.environ, "SPRO_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", "0"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )
    assert done.returncode == 2
    output = done.stdout + done.stderr
    assert "illisible" in output and "mettez le fichier de côté" in output
    assert "Traceback" not in output


def test_a_job_left_running_by_a_killed_server_is_failed_at_the_next_start(data_dir: Path) -> None:
    from api.store import Store

    settings = Settings(data_dir=data_dir, rate_limit_per_minute=0, admin_token="jeton")
    store = Store(settings.store_url, conversation_ttl=3600)
    store.create_schema()
    orphan = store.create_job(force=False)
    store.update_job(orphan.id, status="running", stage="Calcul des vecteurs")
    store.dispose()
    with TestClient(create_app(settings)) as client:
        job = client.get(f"/api/admin/reindex/{orphan.id}", headers={"Authorization": "Bearer jeton"}).json()
    assert job["status"] == "failed" and "relancez" in job["error"]
