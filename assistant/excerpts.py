"""The excerpts of one answer: per structure and per case, each passage shown once, never a keyword list.

The retrieval hits were scored against this case; the passages a card shows are the best-scored ones of its
network (or of the site itself), handed out once across the whole answer, so that two cards never repeat the
same words. The keyword lists of the sheets are indexed (counsellors type those words) but they say nothing a
reader can check: they are never shown.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import chain

from assistant.referral import Excerpt
from assistant.retrieval import Hit
from knowledge.index import KnowledgeIndex
from knowledge.lexical import fold
from knowledge.model import Chunk, Section, Structure

EXCERPT_CHARS = 360
PER_CARD = 2
# The searchable keyword section ingest/chunking.py adds to every sheet.
KEYWORD_HEADINGS = frozenset({"Mots-clés"})
# Identity line of a site's chunks ("Nom (réseau) — commune"): the card already shows it.
IDENTITY_HEADING = "Structure"
# A passage of the network's own sheet speaks of that network, a dispositif sheet of all its operators: at
# close scores, the card gets the passage about itself.
OWN_SHEET_BONUS = 1.25
PASSAGE_KINDS = frozenset({"network", "dispositif", "document"})
# A hit scored below this share of the best one is too far from the case to justify a card: the network's own
# sheet says more about why it is there.
RELEVANCE_FLOOR = 0.55
_SPACES = re.compile(r"\s+")


def looks_like_keyword_list(text: str) -> bool:
    """A comma-separated list of short terms with no sentence in it ("apprentissage, apprenti, CFA, ...")."""
    items = [item.strip() for item in text.split(",")]
    if len(items) < 5 or any(mark in text for mark in (". ", " : ", ";")):
        return False
    return sum(len(item.split()) for item in items) / len(items) <= 3.5


@lru_cache(maxsize=16_384)
def shown_key(text: str) -> str:
    """What two excerpts are compared on: their words, whatever the case, accents and spacing.

    Cached: the texts are the index's passages and sites' offers, a bounded set read again by every answer
    (folding them was 2 ms of a search of 40 ms in a profile of 200 unseen cases)."""
    return _SPACES.sub(" ", fold(text)).strip()


def _showable(heading: str, text: str) -> bool:
    return heading not in KEYWORD_HEADINGS and heading != IDENTITY_HEADING and not looks_like_keyword_list(text)


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"


class ExcerptPicker:
    """Hands out the passages of one answer, best first for each card, none twice."""

    def __init__(self, hits: Iterable[Hit], index: KnowledgeIndex) -> None:
        self._index = index
        self._used: set[str] = set()
        scored: dict[str, list[tuple[float, int, Chunk]]] = defaultdict(list)
        self._site_order: dict[str, list[str]] = defaultdict(list)
        hits = list(hits)
        floor = RELEVANCE_FLOOR * max((h.score for h in hits), default=0.0)
        for position, hit in enumerate(hits):
            chunk = hit.chunk
            if hit.score < floor:
                continue
            if not _showable(chunk.heading, chunk.text):
                continue
            if chunk.kind == "structure":
                self._site_order[chunk.record_id].append(shown_key(chunk.text))
                continue
            if chunk.kind not in PASSAGE_KINDS:
                continue
            for network in chunk.networks:
                own = chunk.kind == "network" and chunk.record_id == network
                scored[network].append((hit.score * (OWN_SHEET_BONUS if own else 1.0), -position, chunk))
        self._by_network = {
            network: [chunk for _, _, chunk in sorted(entries, key=lambda e: (e[0], e[1]), reverse=True)]
            for network, entries in scored.items()
        }

    def for_card(self, network: str, site: Structure | None = None) -> tuple[Excerpt, ...]:
        """The site's own offer first (its passage closest to the case), then its network's best passages."""
        picked: list[Excerpt] = []
        if site is not None:
            offer = self._offer_excerpt(site)
            if offer is not None:
                picked.append(offer)
        for chunk in chain(self._by_network.get(network, ()), self._sheet_chunks(network)):
            if len(picked) >= PER_CARD:
                break
            excerpt = self._take(chunk.heading, chunk.text, chunk.source_id, chunk.title)
            if excerpt is not None:
                picked.append(excerpt)
        return tuple(picked)

    def _offer_excerpt(self, site: Structure) -> Excerpt | None:
        sections = [s for s in site.offer if _showable(s.heading, s.text)]
        order = {key: rank for rank, key in enumerate(self._site_order.get(site.id, ()))}

        def rank(section: Section) -> int:
            # A site's long section is split into chunks: the section ranks as its best chunk.
            key = shown_key(section.text)
            return min((r for k, r in order.items() if k in key), default=len(order))

        for section in sorted(sections, key=rank):
            excerpt = self._take(section.heading, section.text, site.source_id, site.name)
            if excerpt is not None:
                return excerpt
        return None

    def _sheet_chunks(self, network: str) -> Iterator[Chunk]:
        """The network's own sheet in its order ("En bref" first): read only when the hits left nothing."""
        return (
            c for c in self._index.chunks
            if c.kind == "network" and c.record_id == network and _showable(c.heading, c.text)
        )

    def _take(self, heading: str, text: str, source_id: str, fallback_title: str) -> Excerpt | None:
        body = _cut(text)
        key = shown_key(body)
        if not key or key in self._used:
            return None
        self._used.add(key)
        source = self._index.sources.get(source_id)
        return Excerpt(
            text=f"{heading} : {body}",
            source_id=source_id,
            source_title=source.title if source else fallback_title,
            url=source.url if source else None,
        )
