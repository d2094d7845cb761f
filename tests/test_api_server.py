"""`spro serve` as an operator runs it: a real uvicorn process on 127.0.0.1, an index built when missing,
access logs without query strings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT = 300.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_spro_serve_builds_a_missing_index_then_serves_without_logging_the_text(tmp_path: Path) -> None:
    # As on a fresh clone: no data folder at all (the store and the index create theirs; the shipped vectors
    # spare the build any embedding).
    data = tmp_path / "data"
    port = free_port()
    env = {
        **os.environ,
        "SPRO_DATA_DIR": str(data),
        "SPRO_RATE_LIMIT_PER_MINUTE": "0",
        "SPRO_ADMIN_TOKEN": "jeton-de-test",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--build-if-missing"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    marker = "Zorglubienne"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert server.poll() is None, "spro serve stopped before answering"
            assert time.monotonic() < deadline, "spro serve did not become ready"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert (data / "index" / "current").is_symlink()
        search = httpx.get(f"{base}/api/search", params={"q": f"{marker} de 19 ans cherche un emploi"}, timeout=30)
        assert search.status_code == 200
        turn = httpx.post(f"{base}/api/chat", json={"message": f"{marker} de 17 ans décrocheuse"}, timeout=30)
        assert turn.status_code == 200
        refused = httpx.post(f"{base}/api/chat", json={"message": marker * 200}, timeout=30)
        assert refused.status_code == 422
        assert "server" not in {k.lower() for k in turn.headers}
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert "GET /api/search HTTP/1.1" in output, output[-3000:]
    assert "POST /api/chat HTTP/1.1" in output
    assert marker not in output
    assert "?q=" not in output
