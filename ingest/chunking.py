"""Records -> chunks: one chunk per section (long ones split by paragraph), each carrying its title."""

from __future__ import annotations

from collections.abc import Iterable

from knowledge.model import Chunk, Dispositif, Document, Network, Section, Structure

MAX_CHARS = 1200


def chunk_records(
    networks: Iterable[Network],
    dispositifs: Iterable[Dispositif],
    structures: Iterable[Structure],
    documents: Iterable[Document],
    network_names: dict[str, str],
) -> list[Chunk]:
    """All chunks of a knowledge base, in a stable order (so that unchanged input gives the same ids)."""
    chunks: list[Chunk] = []
    for network in networks:
        chunks += _section_chunks(
            "network", network.id, (network.id,), network.name, _sheet_sections(network), network.source.id, ()
        )
    for sheet in dispositifs:
        chunks += _section_chunks(
            "dispositif", sheet.id, sheet.operators, sheet.title, _sheet_sections(sheet), sheet.source.id, ()
        )
    for site in structures:
        departments = tuple(sorted({*site.serves.departments, *((site.department,) if site.department else ())}))
        place = ", ".join(p for p in (site.commune, site.department) if p)
        identity = Section(
            heading="Structure",
            text=f"{site.name} ({network_names.get(site.network, site.network)}){' — ' + place if place else ''}",
        )
        chunks += _section_chunks(
            "structure", site.id, (site.network,), site.name, (identity, *site.offer), site.source_id, departments
        )
    for document in documents:
        networks_of = (document.network,) if document.network else ()
        chunks += _section_chunks(
            "document", document.id, networks_of, document.title, document.sections, document.source.id, ()
        )
    return chunks


def _sheet_sections(sheet: Network | Dispositif) -> tuple[Section, ...]:
    """The summary and the keywords are searchable sections too: counsellors type the keywords."""
    keywords = (Section(heading="Mots-clés", text=", ".join(sheet.keywords)),) if sheet.keywords else ()
    return (Section(heading="En bref", text=sheet.summary), *sheet.sections, *keywords)


def _section_chunks(
    kind: str,
    record_id: str,
    networks: tuple[str, ...],
    title: str,
    sections: Iterable[Section],
    source_id: str,
    departments: tuple[str, ...],
) -> list[Chunk]:
    out: list[Chunk] = []
    for section in sections:
        for text in split_text(section.text):
            out.append(
                Chunk(
                    id=f"{kind}:{record_id}:{len(out)}",
                    kind=kind,  # type: ignore[arg-type]
                    record_id=record_id,
                    networks=networks,
                    title=title,
                    heading=section.heading,
                    text=text,
                    source_id=source_id,
                    departments=departments,
                )
            )
    return out


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Paragraph-respecting pieces of at most `limit` characters (a longer paragraph is cut on sentences)."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for paragraph in _units(text, limit):
        if current and len(current) + len(paragraph) + 2 > limit:
            pieces.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        pieces.append(current)
    return pieces


def _units(text: str, limit: int) -> list[str]:
    units: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            units.append(paragraph)
            continue
        sentence = ""
        for part in paragraph.replace(". ", ".\u0000").split("\u0000"):
            if sentence and len(sentence) + len(part) + 1 > limit:
                units.append(sentence)
                sentence = part
            else:
                sentence = f"{sentence} {part}".strip()
            while len(sentence) > limit:  # a "sentence" with no full stop: hard cut
                units.append(sentence[:limit])
                sentence = sentence[limit:]
        if sentence:
            units.append(sentence)
    return units
