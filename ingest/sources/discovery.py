"""Finds source files, reads them safely, recognises their format and hands them to the right loader."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from ingest.sources import annuaire, data_inclusion, documents, open_sites, transitions_pro, unml_coverage
from ingest.sources.annuaire import Rows
from ingest.sources.base import Loaded, Problem
from knowledge.territory import Territory

# Tried in this order: UTF-8 (a BOM is dropped), then the Windows encoding spreadsheets often save in.
_ENCODINGS = ("utf-8-sig", "cp1252")


def load_paths(paths: Sequence[Path], territory: Territory | None = None) -> Loaded:
    """Records from files and folders (walked in sorted order); every unusable input is a Problem.

    The territory, when given, lets loaders restore the spelling of upper-case commune names.
    """
    loaded = Loaded()
    di_structures: list[data_inclusion.Item] = []
    di_services: list[data_inclusion.Item] = []
    seen: dict[str, set[str]] = {"structure": set(), "document": set(), "source": set()}
    for root in paths:
        if root.is_dir():
            base, files = root, _walk(root)
        elif root.is_file():
            base, files = root.parent, [root]
        else:
            loaded.problems.append(Problem(str(root), None, "fichier ou dossier introuvable"))
            continue
        for path in files:
            if documents.is_sidecar(path):
                continue
            part = _load_file(path, base, di_structures, di_services, territory)
            _merge(loaded, part, str(path), seen)
    if di_structures or di_services:
        part = data_inclusion.load_data_inclusion(di_structures, di_services)
        _merge(loaded, part, "data·inclusion", seen)
    return loaded


def _walk(root: Path) -> list[Path]:
    # Hidden files and folders (.git, .DS_Store, editor backups) are nobody's sources.
    files = [
        path
        for path in root.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
    ]
    return sorted(files, key=lambda path: path.relative_to(root).as_posix())


def _load_file(
    path: Path,
    base: Path,
    di_structures: list[data_inclusion.Item],
    di_services: list[data_inclusion.Item],
    territory: Territory | None = None,
) -> Loaded:
    """One file through the loader its name and content call for; data·inclusion records are gathered."""
    loaded = Loaded()
    where = str(path)

    def fail(message: str) -> Loaded:
        loaded.problems.append(Problem(where, None, message))
        return loaded

    suffix = path.suffix.lower()
    known = suffix in documents.DOCUMENT_SUFFIXES or suffix in {".csv", ".json"}
    if not known:
        return fail("format non reconnu")
    try:
        content = path.read_bytes()
    except OSError as error:
        return fail(f"lecture impossible ({error.strerror or type(error).__name__})")
    if not content.strip():
        return fail("fichier vide")
    if suffix in documents.DOCUMENT_SUFFIXES:
        text_or_bytes = content if suffix in documents.BINARY_SUFFIXES else decode(content)
        if text_or_bytes is None:
            return fail("encodage illisible (ni UTF-8 ni Windows-1252) ou fichier binaire")
        if isinstance(text_or_bytes, str) and not text_or_bytes.strip():
            return fail("fichier vide")  # a lone byte-order mark
        sidecar = _sidecar(path, loaded.problems)
        loaded.extend(documents.load_document(path, text_or_bytes, _document_id(path, base), sidecar))
        return loaded
    text = decode(content)
    if text is None:
        return fail("encodage illisible (ni UTF-8 ni Windows-1252) ou fichier binaire")
    if not text.strip():
        return fail("fichier vide")  # a lone byte-order mark
    if suffix == ".json":
        return _load_json(text, where, di_structures, di_services)
    return _load_csv(text, where, di_structures, di_services, territory)


def decode(content: bytes) -> str | None:
    """Text from bytes in UTF-8 (BOM or not), UTF-16 with a BOM or Windows-1252; None for binary data."""
    encodings = ("utf-16",) if content.startswith((b"\xff\xfe", b"\xfe\xff")) else _ENCODINGS
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Windows-1252 decodes almost any byte: NULs are what betrays a binary file.
        return None if "\x00" in text else text
    return None


def read_csv(text: str, path: str) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[Problem]]:
    """Header, rows (with their first line) and the malformed rows, which are reported and skipped."""
    problems: list[Problem] = []
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    # Split the way the csv reader counts lines, so that a restart after a bad row keeps line numbers.
    lines = io.StringIO(text, newline="").readlines()
    header: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    offset = 0  # physical lines before the current reader's input
    while offset < len(lines):
        reader = csv.reader(lines[offset:], delimiter=delimiter, strict=True)
        end = offset  # last physical line read: the next row starts after it
        restart: int | None = None
        while restart is None:
            start = end + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                end = offset + reader.line_num
                if "unexpected end of data" in str(error):
                    # An unclosed quote swallows the rest of the file: drop its line and read on.
                    problems.append(Problem(path, start, "guillemet non refermé (ligne tronquée ?) : ligne ignorée"))
                    restart = start
                elif "field larger" in str(error):
                    problems.append(Problem(path, start, "ligne mal formée : valeur démesurée"))
                else:
                    problems.append(Problem(path, start, "ligne mal formée (guillemets)"))
                continue
            end = offset + reader.line_num
            if not any(value.strip() for value in values):
                continue
            if not header:
                header = [value.strip() for value in values]
                continue
            if len(values) != len(header):
                message = f"ligne mal formée : {len(values)} colonnes au lieu de {len(header)}"
                problems.append(Problem(path, start, message))
                continue
            rows.append((start, dict(zip(header, values, strict=True))))
        if restart is None:
            break
        offset = restart
    return header, rows, problems


def _load_csv(
    text: str,
    where: str,
    di_structures: list[data_inclusion.Item],
    di_services: list[data_inclusion.Item],
    territory: Territory | None = None,
) -> Loaded:
    header, rows, problems = read_csv(text, where)
    loaded = Loaded(problems=problems)
    columns = set(header)
    typed: Rows = rows
    if not header:
        loaded.problems.append(Problem(where, None, "en-tête absent"))
    elif annuaire.CSV_COLUMNS <= columns:
        loaded.extend(annuaire.load_annuaire_rows(typed, where))
    elif open_sites.CSV_COLUMNS <= columns:
        loaded.extend(open_sites.load_open_sites(typed, where, territory))
    elif unml_coverage.CSV_COLUMNS <= columns:
        loaded.extend(unml_coverage.load_unml_coverage(typed, where))
    elif transitions_pro.CSV_COLUMNS <= columns:
        loaded.extend(transitions_pro.load_transitions_pro_rows(typed, where))
    elif data_inclusion.SERVICE_CSV_COLUMNS <= columns:
        di_services.extend(data_inclusion.items_from_rows(typed, where))
    elif data_inclusion.STRUCTURE_CSV_COLUMNS <= columns:
        di_structures.extend(data_inclusion.items_from_rows(typed, where))
    else:
        shown = ", ".join(header[:6]) + (", …" if len(header) > 6 else "")
        loaded.problems.append(Problem(where, 1, f"format non reconnu (colonnes : {shown})"))
    if header and not rows and not problems:
        loaded.problems.append(Problem(where, None, "aucune ligne de données"))
    return loaded


def _load_json(
    text: str,
    where: str,
    di_structures: list[data_inclusion.Item],
    di_services: list[data_inclusion.Item],
) -> Loaded:
    loaded = Loaded()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        message = f"JSON tronqué ou invalide : ligne {error.lineno}, colonne {error.colno}"
        loaded.problems.append(Problem(where, error.lineno, message))
        return loaded
    except RecursionError:
        loaded.problems.append(Problem(where, None, "JSON invalide : imbrication trop profonde"))
        return loaded
    if isinstance(data, dict) and "service" in data:
        loaded.extend(annuaire.load_annuaire_json(data, where))
    elif data_inclusion.looks_like_records(data):
        structures, services, problems = data_inclusion.items_from_json(data, where)
        di_structures.extend(structures)
        di_services.extend(services)
        loaded.problems.extend(problems)
    elif data == [] or data == {}:
        loaded.problems.append(Problem(where, None, "aucun enregistrement"))
    else:
        loaded.problems.append(Problem(where, None, "format non reconnu (JSON)"))
    return loaded


def _document_id(path: Path, base: Path) -> str:
    """A stable id from the file's place under the folder it was found in, without its extension."""
    relative = path.relative_to(base).with_suffix("")
    return f"document:{relative.as_posix()}"


def _sidecar(path: Path, problems: list[Problem]) -> tuple[Path, str] | None:
    for candidate in documents.sidecar_candidates(path):
        if not candidate.is_file():
            continue
        try:
            text = decode(candidate.read_bytes())
        except OSError as error:
            problems.append(Problem(str(candidate), None, f"lecture impossible ({error.strerror})"))
            return None
        if text is None:
            problems.append(Problem(str(candidate), None, "encodage illisible"))
            return None
        return candidate, text
    return None


def _merge(loaded: Loaded, part: Loaded, where: str, seen: dict[str, set[str]]) -> None:
    """Add one file's records; an id already loaded from another file is reported and skipped."""
    loaded.problems.extend(part.problems)
    loaded.networks.extend(part.networks)
    loaded.dispositifs.extend(part.dispositifs)
    for structure in part.structures:
        if structure.id in seen["structure"]:
            loaded.problems.append(Problem(where, None, f"structure « {structure.id} » déjà chargée : ignorée"))
            continue
        seen["structure"].add(structure.id)
        loaded.structures.append(structure)
    for document in part.documents:
        if document.id in seen["document"]:
            message = f"document « {document.id} » déjà chargé : ignoré (préciser « id » dans ses métadonnées)"
            loaded.problems.append(Problem(where, None, message))
            continue
        seen["document"].add(document.id)
        loaded.documents.append(document)
    for source in part.sources:
        if source.id not in seen["source"]:
            seen["source"].add(source.id)
            loaded.sources.append(source)
