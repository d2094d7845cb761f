"""The Teams app package: manifest.json (schema 1.17) with the bot id filled in, and its two icons, zipped.

The icons were drawn once by `draw_icons` (`python -m api.teams.app_package`) and are committed beside the manifest;
the drawing needs no imaging library: a compass (ring and needle) rendered pixel by pixel into PNG.
"""

from __future__ import annotations

import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from api.teams import messages
from knowledge.settings import Settings

MANIFEST_DIR = Path(__file__).resolve().parent / "manifest"
ICONS = {"color.png": 192, "outline.png": 32}
DEFAULT_WEBSITE = "https://www.auvergnerhonealpes.fr"
ACCENT = (0x1B, 0x5E, 0x8C)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PLACEHOLDER = re.compile(r"\$\{\{([A-Z_]+)\}\}")


class PackageRefused(ValueError):
    """The package cannot be built as asked; the message is French, for the operator."""


def build_manifest(bot_id: str, website: str = DEFAULT_WEBSITE, app_version: str | None = None) -> dict[str, object]:
    if not _GUID.fullmatch(bot_id):
        raise PackageRefused(messages.BOT_ID_INVALID.format(value=bot_id[:80]))
    if not website.startswith("https://"):
        raise PackageRefused(messages.WEBSITE_INVALID.format(value=website[:200]))
    values = {"BOT_ID": bot_id.lower(), "WEBSITE_URL": website, "VERSION": app_version or _project_version()}
    template = (MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8")
    filled = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    manifest: dict[str, object] = json.loads(filled)
    return manifest


def write_package(output: Path, settings: Settings, website: str = DEFAULT_WEBSITE) -> Path:
    """Zip manifest.json, color.png and outline.png at the root of `output`, as Teams expects them."""
    if not settings.teams_app_id:
        raise PackageRefused(messages.BOT_ID_MISSING)
    manifest = build_manifest(settings.teams_app_id, website)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        for name in ICONS:
            archive.write(MANIFEST_DIR / name, name)
    return output


def _project_version() -> str:
    try:
        return version("expert-spro")
    except PackageNotFoundError:
        return "0.1.0"


# --- the icons -----------------------------------------------------------------------------------------------------

Shape = Callable[[float, float], bool]


def _compass(scale: float) -> Shape:
    """A ring and a needle pointing north-east, centred on 0, the ring's outer radius at `scale`
    (the icon spans -0.5..0.5)."""

    def inside(x: float, y: float) -> bool:
        x, y = x / scale, y / scale
        if 0.77 <= math.hypot(x, y) <= 1.0:
            return True
        u, v = (x + y) / math.sqrt(2), (x - y) / math.sqrt(2)  # the needle runs along v (y grows downwards)
        return abs(u) / 0.21 + abs(v) / 0.69 <= 1.0

    return inside


def _coverage(shape: Shape, size: int, px: int, py: int, samples: int = 4) -> float:
    hits = 0
    for sy in range(samples):
        for sx in range(samples):
            x = (px + (sx + 0.5) / samples) / size - 0.5
            y = (py + (sy + 0.5) / samples) / size - 0.5
            hits += shape(x, y)
    return hits / (samples * samples)


def _png(size: int, pixel: Callable[[float], tuple[int, int, int, int]], shape: Shape) -> bytes:
    rows = bytearray()
    for py in range(size):
        rows.append(0)  # filter type 0 (none) for every row
        for px in range(size):
            rows.extend(pixel(_coverage(shape, size, px, py)))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(
        b"IEND", b""
    )


def _color_pixel(cover: float) -> tuple[int, int, int, int]:
    r, g, b = (round(c + (255 - c) * cover) for c in ACCENT)  # white glyph on the accent colour
    return r, g, b, 255


def _outline_pixel(cover: float) -> tuple[int, int, int, int]:
    return 255, 255, 255, round(255 * cover)  # white on transparent, as Teams asks of outline icons


def draw_icons(folder: Path = MANIFEST_DIR) -> None:
    """color.png (192x192, the glyph within the 96 px safe area Teams asks for) and outline.png (32x32)."""
    (folder / "color.png").write_bytes(_png(ICONS["color.png"], _color_pixel, _compass(0.25)))
    (folder / "outline.png").write_bytes(_png(ICONS["outline.png"], _outline_pixel, _compass(0.46)))


if __name__ == "__main__":
    draw_icons()
