"""The territory guide's content: every network by circle, its sites serving a place, the dispositifs A–Z.

Values only (frozen dataclasses); the pages and the booklet render them. Contacts go through the same mapping
as the chat's cards (`assistant.ranking`), so a phone, its hours and its "à jour au" read the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from data_inclusion.schema.v1 import publics as di_publics

# The chat cards' contact mapping: one way to turn a directory contact into what a reader sees.
from assistant.ranking import contact_info, national_contact
from assistant.referral import ContactInfo
from knowledge.directory import Directory
from knowledge.index import KnowledgeIndex
from knowledge.model import Dispositif, Network, Source, Structure
from knowledge.referentials import NEED_LABELS, NEED_THEMES, SPRO_PUBLICS, Circle
from knowledge.territory import Commune, fold

CIRCLE_ORDER: tuple[Circle, ...] = ("1", "2", "3", "partenaire")
# Sites listed for a commune: those of the closest level (its own, its EPCI's...), as the chat finds them.
SITES_PER_COMMUNE = 3

PUBLIC_LABELS: dict[str, str] = {p.value: p.label for p in di_publics.Public} | SPRO_PUBLICS


@dataclass(frozen=True)
class Place:
    """The place a guide is about: a department, or a commune (with its department)."""

    department: str
    department_name: str
    commune: Commune | None = None

    @property
    def name(self) -> str:
        if self.commune is None:
            return f"{self.department_name} ({self.department})"
        return f"{self.commune.name} ({self.department})"


@dataclass(frozen=True)
class SiteView:
    id: str
    name: str
    contacts: tuple[ContactInfo, ...]
    distance_km: float | None = None
    # Every source a field of its contacts comes from (the booklet's "Sources" page lists them).
    source_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkBlock:
    network: Network
    sites: tuple[SiteView, ...]
    # The network's locator or national number when no site of the directory serves the place.
    national: ContactInfo | None
    dispositifs: tuple[Dispositif, ...]


@dataclass(frozen=True)
class CircleGroup:
    circle: Circle
    blocks: tuple[NetworkBlock, ...]


@dataclass(frozen=True)
class Filters:
    """The department page's filters, from its query string (a pasted link shows the same selection)."""

    text: str = ""
    public: str | None = None
    need: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.text or self.public or self.need)


@dataclass(frozen=True)
class Guide:
    place: Place
    circles: tuple[CircleGroup, ...]
    dispositifs: tuple[Dispositif, ...]
    sources: tuple[Source, ...]
    version: str
    networks_total: int


def sort_key(text: str) -> str:
    """Alphabetical order a French reader expects: accents and case ignored."""
    return fold(text).lower()


def dispositifs_az(index: KnowledgeIndex) -> list[Dispositif]:
    return sorted(index.dispositifs.values(), key=lambda d: sort_key(d.title))


def operated_by(index: KnowledgeIndex, network_id: str) -> tuple[Dispositif, ...]:
    return tuple(d for d in dispositifs_az(index) if network_id in d.operators)


def site_view(
    site: Structure,
    network: Network,
    index: KnowledgeIndex,
    show_personal_emails: bool,
    today: date,
    distance_km: float | None = None,
) -> SiteView:
    contacts = tuple(contact_info(c, index, show_personal_emails, today) for c in site.contacts)
    if not any(c.phone or c.email for c in contacts):
        # As on the chat's cards: a site without a number of its own gets its network's national way in beside.
        beside = national_contact(network, beside_site=True)
        contacts = (*contacts, *((beside,) if beside is not None else ()))
    source_ids = tuple(
        dict.fromkeys(i for c in site.contacts for i in (c.source_id, *(o.source_id for o in c.origins)))
    )
    return SiteView(site.id, site.name, contacts, distance_km, source_ids)


def local_sites(
    network: Network,
    place: Place,
    index: KnowledgeIndex,
    directory: Directory,
    show_personal_emails: bool,
    today: date,
) -> tuple[SiteView, ...]:
    """The sites of a network serving the place: every receiving site of the department, or the commune's
    closest ones (the directory's own matching, as in the chat)."""
    if place.commune is not None:
        matches = directory.sites(network.id, place.commune, place.department, limit=SITES_PER_COMMUNE)
        return tuple(
            site_view(m.structure, network, index, show_personal_emails, today, m.distance_km) for m in matches
        )
    sites = [s for s in directory.structures(network.id, place.department) if s.reception]
    return tuple(site_view(s, network, index, show_personal_emails, today) for s in sites)


def _matches(network: Network, sites: tuple[SiteView, ...], filters: Filters) -> tuple[bool, tuple[SiteView, ...]]:
    """Does the network pass the filters, and which of its sites match the searched text."""
    if filters.public and filters.public not in network.publics:
        return False, sites
    if filters.need:
        wanted = NEED_THEMES.get(filters.need, frozenset())
        if not {t.split("--")[0] for t in network.themes} & wanted:
            return False, sites
    if not filters.text:
        return True, sites
    needle = sort_key(filters.text)
    about = " ".join((network.name, network.short_name, network.summary, *network.keywords))
    if needle in sort_key(about):
        return True, sites
    found = tuple(
        s for s in sites if needle in sort_key(" ".join([s.name, *(c.commune or "" for c in s.contacts)]))
    )
    return bool(found), found


def build_guide(
    place: Place,
    index: KnowledgeIndex,
    directory: Directory,
    *,
    show_personal_emails: bool,
    today: date,
    filters: Filters = Filters(),
) -> Guide:
    groups: list[CircleGroup] = []
    sources: dict[str, Source] = {}
    for circle in CIRCLE_ORDER:
        networks = sorted((n for n in index.networks.values() if n.circle == circle), key=lambda n: sort_key(n.name))
        blocks = []
        for network in networks:
            sites = local_sites(network, place, index, directory, show_personal_emails, today)
            keep, sites = _matches(network, sites, filters)
            if not keep:
                continue
            national = None if sites else national_contact(network)
            blocks.append(NetworkBlock(network, sites, national, operated_by(index, network.id)))
            sources.setdefault(network.source.id, network.source)
            for source_id in (i for site in sites for i in site.source_ids):
                if source_id in index.sources:
                    sources.setdefault(source_id, index.sources[source_id])
        if blocks:
            groups.append(CircleGroup(circle, tuple(blocks)))
    shown = {b.network.id for g in groups for b in g.blocks}
    sheets = tuple(d for d in dispositifs_az(index) if shown & set(d.operators))
    return Guide(
        place=place,
        circles=tuple(groups),
        dispositifs=sheets,
        sources=tuple(sorted(sources.values(), key=lambda s: sort_key(s.title))),
        version=index.version,
        networks_total=len(index.networks),
    )


def need_labels() -> dict[str, str]:
    return dict(NEED_LABELS)


def public_labels(index: KnowledgeIndex) -> dict[str, str]:
    """The publics some network serves, with their French labels, in alphabetical order."""
    used = {p for n in index.networks.values() for p in n.publics}
    return dict(sorted(((p, PUBLIC_LABELS.get(p, p)) for p in used), key=lambda kv: sort_key(kv[1])))
