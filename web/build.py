"""Build the widget: `python -m web.build` writes web/static/widget.js from web/src/ (output committed).

The build only inlines two things into web/src/widget.js, so that one <script> tag is the whole widget:
the CSS of web/src/widget.css, and the French labels of the status, need, flag, department and network
codes, taken from knowledge/referentials.py and the embedded networks (one table, never copied by hand).
`python -m web.build --check` fails when the committed file is not what the sources give.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ingest.sources.knowledge_base import load_knowledge_base
from knowledge.referentials import DEPARTMENTS, FLAG_LABELS, NEED_LABELS, STATUS_LABELS

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "src" / "widget.js"
STYLES = HERE / "src" / "widget.css"
OUTPUT = HERE / "static" / "widget.js"

GENERATED = " * FICHIER GÉNÉRÉ par `python -m web.build` depuis web/src/ : modifier les sources, pas ce fichier."
MARKERS = {
    "labels": "/*@@LABELS@@*/ {}",
    "css": '/*@@CSS@@*/ ""',
    "generated": " * @@GENERATED@@",
}


def labels() -> dict[str, dict[str, str]]:
    networks = sorted(load_knowledge_base().networks, key=lambda n: n.id)
    return {
        "statuses": dict(STATUS_LABELS),
        "needs": dict(NEED_LABELS),
        "flags": dict(FLAG_LABELS),
        "departments": dict(DEPARTMENTS),
        "networks": {n.id: n.short_name for n in networks},
    }


def render() -> str:
    source = SOURCE.read_text(encoding="utf-8")
    for name, marker in MARKERS.items():
        if source.count(marker) != 1:
            raise SystemExit(f"web/src/widget.js : le repère {marker!r} ({name}) doit apparaître une fois")
    table = json.dumps(labels(), ensure_ascii=False, indent=2).replace("\n", "\n  ")
    css = json.dumps(STYLES.read_text(encoding="utf-8"), ensure_ascii=False)
    return (
        source.replace(MARKERS["generated"], GENERATED)
        .replace(MARKERS["labels"], table)
        .replace(MARKERS["css"], css)
    )


def main(argv: list[str]) -> int:
    built = render()
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
        if current != built:
            print("web/static/widget.js n'est pas à jour : lancez `python -m web.build`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(built, encoding="utf-8")
    print(f"{OUTPUT.relative_to(HERE.parent)} : {len(built.encode('utf-8')) // 1024} Kio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
