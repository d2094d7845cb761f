"""Free documents (Markdown, HTML, PDF, DOCX) attached to a network or a structure, cut into sections."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import docx
import yaml
from bs4 import BeautifulSoup, Tag
from docx.table import Table
from pydantic import ValidationError
from pypdf import PdfReader

from ingest.sources.base import Loaded, Problem
from knowledge.model import Document, Section, Source
from knowledge.referentials import NETWORK_IDS, NetworkId

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
BINARY_SUFFIXES = frozenset({".pdf", ".docx"})
DOCUMENT_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | BINARY_SUFFIXES
SIDECAR_SUFFIXES = (".yaml", ".yml")

# About a long paragraph: long enough to carry one idea, short enough for the encoder's window.
SECTION_LIMIT = 1200

DEFAULT_HEADING = "Présentation"
UNKNOWN_ORIGIN = "origine non précisée"

_METADATA_KEYS = ("id", "title", "network", "structure", "url", "as_of", "licence", "origin")

# Private-use characters mark block breaks and headings in HTML text: they never occur in real text.
_BREAK = "\ue000"
_HEADING = "\ue001"
_HTML_BLOCKS = [
    "p", "div", "li", "ul", "ol", "tr", "table", "section", "article", "main", "aside", "header",
    "blockquote", "pre", "dd", "dt", "dl", "h4", "h5", "h6", "figcaption", "address",
]  # fmt: skip

# "1. Publics", "1.2 Conditions", "II - Offre", "B) Démarches": the numbering, then a capital.
_NUMBERED_HEADING = re.compile(r"(?:\d{1,2}[.)]|\d{1,2}(?:\.\d{1,2})+\.?|[IVX]{1,5} ?[.)\-–]|[A-H][.)])\s+(\S.*)")


@dataclass(frozen=True)
class _Metadata:
    id: str | None
    title: str | None
    network: NetworkId | None
    structure: str | None
    url: str | None
    as_of: date | None
    licence: str
    origin: str


def sidecar_candidates(path: Path) -> tuple[Path, ...]:
    """Where a document's metadata may stand: "<name>.<ext>.yaml", then "<name>.yaml" (and .yml)."""
    return tuple(path.with_name(path.name + suffix) for suffix in SIDECAR_SUFFIXES) + tuple(
        path.with_suffix(suffix) for suffix in SIDECAR_SUFFIXES
    )


def is_sidecar(path: Path) -> bool:
    """Whether a YAML file describes a document next to it (it is then no source by itself)."""
    if path.suffix.lower() not in SIDECAR_SUFFIXES:
        return False
    stem = path.name[: -len(path.suffix)]
    if Path(stem).suffix.lower() in DOCUMENT_SUFFIXES and path.with_name(stem).is_file():
        return True
    return any(
        path.with_name(stem + variant).is_file() for suffix in DOCUMENT_SUFFIXES for variant in (suffix, suffix.upper())
    )


def load_document(
    path: Path,
    content: str | bytes,
    document_id: str,
    sidecar: tuple[Path, str] | None = None,
) -> Loaded:
    """One Document from a file's content (text for Markdown/HTML, bytes for PDF/DOCX) and its metadata."""
    loaded = Loaded()
    where = str(path)
    raw: dict[str, object] = {}
    if sidecar is not None:
        parsed = _parse_yaml(sidecar[1], str(sidecar[0]), 0)
        if isinstance(parsed, Problem):
            loaded.problems.append(parsed)
            return loaded
        raw.update(parsed)
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES and isinstance(content, str):
        front, content = _split_front_matter(content, where)
        if isinstance(front, Problem):
            loaded.problems.append(front)
            return loaded
        raw.update(front)  # the file's own header wins over a sidecar
    metadata = _metadata(raw)
    if isinstance(metadata, str):
        loaded.problems.append(Problem(where, None, metadata))
        return loaded
    extracted = _extract(suffix, content)
    if isinstance(extracted, str):
        loaded.problems.append(Problem(where, None, extracted))
        return loaded
    found_title, found_sections = extracted
    sections = split_long_sections(found_sections)
    if not sections:
        loaded.problems.append(Problem(where, None, "aucun texte exploitable dans le document"))
        return loaded
    record_id = metadata.id or document_id
    title = metadata.title or found_title or path.stem
    try:
        document = Document(
            id=record_id,
            title=title,
            network=metadata.network,
            structure_id=metadata.structure,
            sections=sections,
            source=Source(
                id=f"document/{record_id.removeprefix('document:')}",
                title=title,
                origin=metadata.origin,
                licence=metadata.licence,
                url=metadata.url,
                as_of=metadata.as_of,
            ),
        )
    except ValidationError as error:
        fields = ", ".join(".".join(str(part) for part in detail["loc"]) for detail in error.errors())
        loaded.problems.append(Problem(where, None, f"document invalide (champs : {fields})"))
        return loaded
    loaded.documents.append(document)
    loaded.sources.append(document.source)
    return loaded


def split_long_sections(sections: Iterable[Section], limit: int = SECTION_LIMIT) -> tuple[Section, ...]:
    """Sections over the limit become several sections with the same heading, cut between paragraphs."""
    result: list[Section] = []
    for section in sections:
        if len(section.text) <= limit:
            result.append(section)
            continue
        result.extend(Section(heading=section.heading, text=piece) for piece in _pieces(section.text, limit))
    return tuple(result)


def _pieces(text: str, limit: int) -> list[str]:
    """Paragraphs packed up to the limit; an overlong paragraph is cut between sentences, then words."""
    units: list[tuple[str, str]] = []  # (text, separator from the previous unit)
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            units.append((paragraph, "\n\n"))
            continue
        separator = "\n\n"
        for sentence in re.split(r"(?<=[.!?;:])\s+", paragraph):
            sentence = " ".join(sentence.split())
            while len(sentence) > limit:
                cut = sentence.rfind(" ", 0, limit)
                cut = cut if cut > limit // 2 else limit
                units.append((sentence[:cut].strip(), separator))
                separator = " "
                sentence = sentence[cut:].strip()
            if sentence:
                units.append((sentence, separator))
                separator = " "
    pieces: list[str] = []
    current = ""
    for unit, separator in units:
        candidate = f"{current}{separator}{unit}" if current else unit
        if len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = unit
    if current:
        pieces.append(current)
    return pieces


class _Outline:
    """Headings and text lines in reading order, gathered into sections; a heading keeps its parents."""

    def __init__(self) -> None:
        self._path: list[tuple[int, str]] = []
        self._lines: list[str] = []
        self._sections: list[Section] = []

    def heading(self, level: int, text: str) -> None:
        self._flush()
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        self._path.append((level, " ".join(text.split())))

    def line(self, text: str) -> None:
        self._lines.append(text.rstrip())

    def sections(self) -> list[Section]:
        self._flush()
        return self._sections

    def _flush(self) -> None:
        body = re.sub(r"\n{3,}", "\n\n", "\n".join(self._lines)).strip()
        self._lines = []
        if body:
            heading = " › ".join(text for _, text in self._path) or DEFAULT_HEADING
            self._sections.append(Section(heading=heading, text=body))


def _extract(suffix: str, content: str | bytes) -> tuple[str | None, list[Section]] | str:
    """The title found in the file and its sections, or why nothing could be read."""
    if suffix in MARKDOWN_SUFFIXES and isinstance(content, str):
        return _markdown(content)
    if suffix in HTML_SUFFIXES and isinstance(content, str):
        return _html(content)
    if suffix == ".pdf" and isinstance(content, bytes):
        return _pdf(content)
    if suffix == ".docx" and isinstance(content, bytes):
        return _docx(content)
    return f"format de document non pris en charge « {suffix} »"


def _markdown(text: str) -> tuple[str | None, list[Section]]:
    outline = _Outline()
    title: str | None = None
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if fence is not None:
            fence = None if stripped.startswith(fence) else fence
            outline.line(line)
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            outline.line(line)
            continue
        match = re.match(r"(#{1,3})\s+(.+?)\s*#*\s*$", line)
        if match is None:
            outline.line(line)
        elif len(match.group(1)) == 1 and title is None:
            title = match.group(2)  # the first level-1 heading names the document
        else:
            outline.heading(len(match.group(1)), match.group(2))
    return title, outline.sections()


def _html(text: str) -> tuple[str | None, list[Section]]:
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav", "footer", "form", "svg", "iframe"]):
        tag.decompose()
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.head is not None:
        soup.head.decompose()
    first_h1 = soup.find("h1")
    title = page_title or (first_h1.get_text(" ", strip=True) if isinstance(first_h1, Tag) else "")
    for br in soup.find_all("br"):
        br.replace_with(_BREAK)
    for heading in soup.find_all(["h1", "h2", "h3"]):
        label = heading.get_text(" ", strip=True)
        # The first h1 repeats the page's title: it is no section of its own.
        marker = "" if heading is first_h1 or not label else f"{_HEADING}{heading.name[1]}{label}"
        heading.replace_with(f"{_BREAK}{marker}{_BREAK}")
    for block in soup.find_all(_HTML_BLOCKS):
        block.insert_before(_BREAK)
        block.insert_after(_BREAK)
    outline = _Outline()
    for piece in soup.get_text().split(_BREAK):
        line = " ".join(piece.split())
        if line.startswith(_HEADING):
            outline.heading(int(line[1]), line[2:])
        elif line:
            outline.line(line)
            outline.line("")
    return title or None, outline.sections()


def _pdf(content: bytes) -> tuple[str | None, list[Section]] | str:
    # pypdf raises many kinds of errors on damaged files; any of them means "unreadable", never a crash.
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            return "PDF protégé par un mot de passe"
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata is not None else None
    except Exception as error:  # noqa: BLE001 - see above
        return f"PDF illisible ({type(error).__name__})"
    lines_by_page = [[line.strip() for line in page.splitlines()] for page in pages]
    if not any(line for lines in lines_by_page for line in lines):
        return "aucun texte extractible dans le PDF (document scanné ?)"
    outline = _Outline()
    if any(_looks_like_heading(line) for lines in lines_by_page for line in lines):
        for lines in lines_by_page:
            for line in lines:
                if _looks_like_heading(line):
                    outline.heading(1, line)
                else:
                    outline.line(line)
    else:
        for number, lines in enumerate(lines_by_page, start=1):
            outline.heading(1, f"Page {number}")
            for line in lines:
                outline.line(line)
    return (str(title).strip() or None) if title else None, outline.sections()


def _looks_like_heading(line: str) -> bool:
    """A short line, numbered ("2. Publics", "II - Offre") or in capitals, not ending like a sentence."""
    if not 3 <= len(line) <= 90 or line[-1] in ".,;:" or sum(char.isalpha() for char in line) < 3:
        return False
    numbered = _NUMBERED_HEADING.fullmatch(line)
    if numbered is not None:
        return numbered.group(1)[0].isupper()
    return all(char.isupper() for char in line if char.isalpha())


def _docx(content: bytes) -> tuple[str | None, list[Section]] | str:
    # A damaged .docx fails in zipfile, lxml or python-docx itself: all mean "unreadable".
    try:
        document = docx.Document(io.BytesIO(content))
        blocks = list(document.iter_inner_content())
        title: str | None = document.core_properties.title or None
    except Exception as error:  # noqa: BLE001 - see above
        return f"document Word illisible ({type(error).__name__})"
    outline = _Outline()
    for block in blocks:
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if text and text not in cells:  # merged cells repeat their text
                        cells.append(text)
                if cells:
                    outline.line(" | ".join(cells))
            outline.line("")
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        level = re.fullmatch(r"(?:heading|titre)\s*(\d)", style.strip(), re.IGNORECASE)
        if style.lower() in {"title", "titre"}:
            title = title or text or None
        elif level is not None and text:
            outline.heading(int(level.group(1)), text)
        else:
            outline.line(text)
            outline.line("")
    return title, outline.sections()


def _split_front_matter(text: str, where: str) -> tuple[dict[str, object] | Problem, str]:
    """A Markdown file's YAML header between "---" lines, and the body after it."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in {"---", "..."}:
            header = _parse_yaml("\n".join(lines[1:index]), where, 1)
            return header, "\n".join(lines[index + 1 :])
    return Problem(where, 1, "en-tête YAML non refermé (ligne « --- » manquante)"), text


def _parse_yaml(text: str, where: str, first_line: int) -> dict[str, object] | Problem:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 + first_line if mark is not None else None
        return Problem(where, line, "métadonnées YAML invalides")
    except (ValueError, RecursionError):
        # PyYAML builds dates while parsing: "2025-02-30" fails there, outside its own error type.
        return Problem(where, None, "métadonnées YAML invalides (date impossible ou imbrication trop profonde)")
    if data is None:
        return {}
    if not isinstance(data, dict):
        return Problem(where, None, "métadonnées YAML : une table « clé: valeur » est attendue")
    return {str(key): value for key, value in data.items()}


def _metadata(raw: Mapping[str, object]) -> _Metadata | str:
    """Checked metadata, or the French reason it is not usable."""
    texts: dict[str, str | None] = {}
    for key in _METADATA_KEYS:
        value = raw.get(key)
        if key == "as_of" or value is None:
            continue
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            return f"métadonnée « {key} » : un texte est attendu"
        texts[key] = str(value).strip() or None
    network = texts.get("network")
    structure = texts.get("structure")
    if network is None and structure is None:
        return "rattachement manquant : indiquer « network » (réseau) ou « structure » dans les métadonnées"
    if network is not None and network not in NETWORK_IDS:
        return f"réseau inconnu « {network} »"
    as_of = _as_date(raw.get("as_of"))
    if isinstance(as_of, str):
        return as_of
    return _Metadata(
        id=texts.get("id"),
        title=texts.get("title"),
        network=network,  # type: ignore[arg-type]  # checked against NETWORK_IDS above
        structure=structure,
        url=texts.get("url"),
        as_of=as_of,
        licence=texts.get("licence") or "",
        origin=texts.get("origin") or UNKNOWN_ORIGIN,
    )


def _as_date(value: object) -> date | None | str:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return f"date « as_of » invalide « {value} » (format attendu : AAAA-MM-JJ)"
