"""Servers under test as real processes on 127.0.0.1: a free port, cold start to /readyz, resident memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

from bench.report import ROOT

ADMIN_TOKEN = "jeton-de-banc-d-essai"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> tuple[float, float]:
    """Resident memory now and its peak (VmRSS, VmHWM), in MiB, from /proc."""
    now = peak = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return now, peak


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class ServerProcess:
    """One HTTP server subprocess; output goes to a log file (a pipe nobody reads would block it under load)."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], port: int, log_path: Path) -> None:
        self.args = list(args)
        self.env = dict(env)
        self.port = port
        self.log_path = log_path
        self.base_url = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self.cold_start_s: float | None = None

    @classmethod
    def spro_serve(cls, data_dir: Path, log_path: Path, extra_env: Mapping[str, str] | None = None,
                   sources: Sequence[Path] = ()) -> ServerProcess:
        """`spro serve` exactly as an operator runs it, rate limit off, admin token set."""
        port = free_port()
        env = {
            **os.environ,
            "SPRO_DATA_DIR": str(data_dir),
            "SPRO_RATE_LIMIT_PER_MINUTE": "0",
            "SPRO_ADMIN_TOKEN": ADMIN_TOKEN,
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        source_args = [arg for path in sources for arg in ("--source", str(path))]
        args = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *source_args]
        return cls(args, env, port, log_path)

    @classmethod
    def naive_rag(
        cls, index_version: Path, log_path: Path, extra_env: Mapping[str, str] | None = None
    ) -> ServerProcess:
        """The baseline (bench/naive_rag.py) over an index version, without any of our settings."""
        port = free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SPRO_", "OMP_", "GOMP_"))}
        args = [sys.executable, "-m", "bench.naive_rag", "--index", str(index_version), "--port", str(port)]
        return cls(args, {**clean, "PYTHONUNBUFFERED": "1", **(extra_env or {})}, port, log_path)

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self._started = time.perf_counter()
        self._process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def wait_ready(self, timeout: float = 300.0, path: str = "/readyz") -> float:
        """Seconds from process start to the first 200 on `path` (the cold start)."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self._process is None or self._process.poll() is not None:
                    raise RuntimeError(f"server stopped before it was ready; see {self.log_path}:\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server not ready after {timeout:.0f} s; see {self.log_path}")
                try:
                    if client.get(self.base_url + path).status_code == 200:
                        self.cold_start_s = time.perf_counter() - self._started
                        return self.cold_start_s
                except httpx.TransportError:
                    pass
                time.sleep(0.05)

    def memory(self) -> tuple[float, float]:
        return rss_mib(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> ServerProcess:
        return self.start() if self._process is None else self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

