"""Writes one section of docs/BENCHMARKS.md between its markers, leaving the other sections as they are."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from bench.machine import Machine

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "BENCHMARKS.md"
# The order sections take when the document is created or a section is missing from it.
SECTIONS = ("serving", "store", "replicas", "fairness", "ingestion", "scale", "encoder", "resilience")

HEADER = """# Benchmarks and resilience checks

Figures written by the scripts in `bench/` (`python -m bench.all` regenerates everything; each
`python -m bench.<name>` rewrites its own section only). The machine is a shared 2-core VM where other test
suites may run at the same time: every section states the load average it was measured under, and figures are
comparable within a section (same run, same machine), much less across sections. No timing is asserted in a
test; the resilience properties that can be asserted without timing are in `tests/test_resilience.py`.
"""


def write_section(name: str, title: str, machine: Machine, body: str) -> Path:
    """Replace (or append) the section `name`; the machine line opens it."""
    if name not in SECTIONS:
        raise ValueError(f"unknown section {name!r}")
    text = DOC.read_text(encoding="utf-8") if DOC.is_file() else HEADER
    block = (
        f"<!-- BEGIN bench:{name} -->\n## {title}\n\n{machine.markdown()}\n\n{body.strip()}\n"
        f"<!-- END bench:{name} -->"
    )
    pattern = re.compile(rf"<!-- BEGIN bench:{name} -->.*?<!-- END bench:{name} -->", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = _insert_in_order(text, name, block)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    return DOC


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; numbers are rendered by the caller."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _insert_in_order(text: str, name: str, block: str) -> str:
    """Put a new section before the first later section already present, else at the end."""
    for later in SECTIONS[SECTIONS.index(name) + 1 :]:
        marker = f"<!-- BEGIN bench:{later} -->"
        if marker in text:
            return text.replace(marker, f"{block}\n\n{marker}", 1)
    return text.rstrip("\n") + "\n\n" + block + "\n"
