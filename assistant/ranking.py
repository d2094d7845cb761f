"""Chunks -> networks (aggregated scores, eligibility) -> local structures with reasons, contacts, excerpts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from assistant import messages
from assistant.audiences import fits
from assistant.eligibility import Verdict, judge
from assistant.excerpts import ExcerptPicker
from assistant.precedence import first_door
from assistant.referral import ContactInfo, Freshness, Provenance, SourceRef, StructureResult
from assistant.retrieval import Hit
from assistant.understanding import Case
from knowledge.directory import Directory
from knowledge.directory.coverage import is_stale
from knowledge.index import KnowledgeIndex
from knowledge.model import Chunk, Contact, Network, Structure
from knowledge.referentials import NEED_THEMES

KIND_WEIGHT = {"network": 1.0, "dispositif": 0.9, "document": 0.8, "structure": 0.35}
# A passage from a sheet whose themes serve one of the stated needs counts more; one about other themes, less.
ON_THEME = 1.1
OFF_THEME = 0.9
TOP_CONTRIBUTIONS = 3
MAX_NETWORKS = 5
SITES_PER_NETWORK = 2
# With the department only, one site per network: the next question asks the commune, which gives the nearest.
SITES_PER_NETWORK_DEPARTMENT = 1
# Fields a contact shows (its position and name are not "contacts" a reader checks).
SHOWN_FIELDS = frozenset({"address", "phone", "email", "website", "hours", "served_area"})


@dataclass(frozen=True)
class RankedNetwork:
    """A network, its score after eligibility, why, and the chunks that justify it."""

    network: str
    score: float
    verdict: Verdict
    evidence: tuple[Chunk, ...]


def rank_networks(hits: list[Hit], case: Case, index: KnowledgeIndex) -> list[RankedNetwork]:
    """Aggregate chunk scores per network (best few count), then apply the eligibility rules."""
    contributions: dict[str, list[float]] = defaultdict(list)
    evidence: dict[str, list[Chunk]] = defaultdict(list)
    wanted = frozenset().union(*(NEED_THEMES.get(n, frozenset()) for n in case.needs))
    for hit in hits:
        weight = KIND_WEIGHT.get(hit.chunk.kind, 0.5) * _theme_weight(hit.chunk, index, wanted)
        # A dispositif whose publics the case is known not to be among (a 16-25 programme for a 26-year-old)
        # does not explain a card (its score still counts: demoting it measured no gain on the dev part).
        fitting = _fits(hit.chunk, index, case)
        for position, network in enumerate(hit.chunk.networks):
            if network not in index.networks:
                continue
            # The first operator of a dispositif is the one counsellors send people to first.
            contributions[network].append(hit.score * weight / (1.0 + 0.35 * position))
            if fitting and hit.chunk.kind != "structure" and len(evidence[network]) < 3:
                evidence[network].append(hit.chunk)
    ranked: list[RankedNetwork] = []
    for network, values in contributions.items():
        raw = sum(sorted(values, reverse=True)[:TOP_CONTRIBUTIONS])
        verdict = judge(network, case)
        if verdict.excluded:
            continue
        ranked.append(RankedNetwork(network, raw * verdict.factor, verdict, tuple(evidence[network])))
    ranked.sort(key=lambda r: r.score, reverse=True)
    door = first_door(case, [r.network for r in ranked])
    if door is not None:
        first = next(r for r in ranked if r.network == door.network)
        promoted = RankedNetwork(
            first.network, max(r.score for r in ranked), Verdict(first.verdict.factor,
                                                                 (door.reason, *first.verdict.reasons)),
            first.evidence,
        )
        ranked = [promoted, *(r for r in ranked if r is not first)]
    if ranked:
        top = ranked[0].score or 1.0
        ranked = [RankedNetwork(r.network, round(r.score / top, 4), r.verdict, r.evidence) for r in ranked]
    return ranked


def _fits(chunk: Chunk, index: KnowledgeIndex, case: Case) -> bool:
    """A dispositif explains a card when the case can be among its publics and one of its operators is open
    to the case (the E2C's parcours does not explain anything for a 26-year-old)."""
    record = index.dispositifs.get(chunk.record_id) if chunk.kind == "dispositif" else None
    if record is None:
        return True
    return fits(record.publics, case) and any(not judge(n, case).excluded for n in record.operators)


def _theme_weight(chunk: Chunk, index: KnowledgeIndex, wanted: frozenset[str]) -> float:
    if not wanted:
        return 1.0
    record = index.networks.get(chunk.record_id) if chunk.kind == "network" else (
        index.dispositifs.get(chunk.record_id) if chunk.kind == "dispositif" else None
    )
    if record is None or not record.themes:
        return 1.0
    categories = {theme.split("--")[0] for theme in record.themes}
    return ON_THEME if categories & wanted else OFF_THEME


def build_results(
    ranked: list[RankedNetwork],
    case: Case,
    index: KnowledgeIndex,
    directory: Directory,
    *,
    hits: list[Hit],
    show_personal_emails: bool,
    place_name: str | None,
    today: date,
) -> tuple[list[StructureResult], list[SourceRef]]:
    """For each of the best networks, the local site(s) that serve the person, or the network entry.

    Each card's excerpts are the passages of its site or network closest to the case (`hits`), none twice.
    """
    results: list[StructureResult] = []
    cited: dict[str, SourceRef] = {}
    picker = ExcerptPicker(hits, index)
    per_network = SITES_PER_NETWORK if case.commune is not None else SITES_PER_NETWORK_DEPARTMENT
    for entry in ranked[:MAX_NETWORKS]:
        network = index.networks[entry.network]
        why = _why(entry, index)
        sites = directory.sites(entry.network, case.commune, case.department, limit=per_network)
        if sites:
            for match in sites:
                site = match.structure
                excerpts = picker.for_card(entry.network, site)
                for excerpt in excerpts:
                    cited.setdefault(excerpt.source_id, _source_ref(excerpt.source_id, index))
                place = place_name or (case.department or "")
                contacts = tuple(contact_info(c, index, show_personal_emails, today) for c in site.contacts)
                if not any(c.phone or c.email for c in contacts):
                    # A France Travail agency has an address but no number of its own: its network's national
                    # number and locator complete it.
                    national = national_contact(network, beside_site=True)
                    contacts = (*contacts, *((national,) if national is not None else ()))
                for contact in site.contacts:
                    for source_id in _source_ids(contact):
                        cited.setdefault(source_id, _source_ref(source_id, index))
                far = match.distance_km is not None and match.level not in ("commune",) and match.distance_km >= 1
                results.append(
                    StructureResult(
                        id=site.id,
                        name=site.name,
                        network=entry.network,
                        score=entry.score,
                        reasons=(
                            *why,
                            messages.site_level(match.level, place),
                            *((messages.distance(match.distance_km),) if far and match.distance_km else ()),
                        ),
                        departments=tuple(directory.departments_served(site)),
                        contacts=contacts,
                        excerpts=excerpts,
                        distance_km=match.distance_km,
                        freshness=freshness(site, index),
                    )
                )
        else:
            excerpts = picker.for_card(entry.network)
            for excerpt in excerpts:
                cited.setdefault(excerpt.source_id, _source_ref(excerpt.source_id, index))
            covered = directory.departments_covered(entry.network)
            national = national_contact(network)
            reasons = why
            if case.commune is not None or case.department is not None:
                locator = network.national is not None and network.national.locator_url is not None
                phone = network.national is not None and network.national.phone is not None
                reasons = (*why, messages.no_local_site(covered, locator, phone))
            if national is not None:
                cited.setdefault(network.source.id, _source_ref(network.source.id, index))
            results.append(
                StructureResult(
                    id=f"network:{entry.network}",
                    name=network.name,
                    network=entry.network,
                    score=entry.score,
                    reasons=reasons,
                    departments=tuple(covered),
                    contacts=(national,) if national is not None else (),
                    excerpts=excerpts,
                )
            )
    return results, list(cited.values())


def _why(entry: RankedNetwork, index: KnowledgeIndex) -> tuple[str, ...]:
    network = index.networks[entry.network]
    titles = list(dict.fromkeys(c.title for c in entry.evidence if c.kind == "dispositif"))[:2]
    relevance = messages.dispositif_matches(titles) if titles else messages.offer_matches(network.short_name)
    return (*entry.verdict.reasons, relevance)


def contact_info(contact: Contact, index: KnowledgeIndex, show_personal_emails: bool, today: date) -> ContactInfo:
    """A site's contact as every face shows it: fields, hours, per-field sources and dates, staleness."""
    source = index.sources.get(contact.source_id)
    as_of = contact.as_of or (source.as_of if source else None)
    email = contact.email if (show_personal_emails or not contact.email_possibly_personal) else None
    provenance = _provenance(contact, index, as_of)
    return ContactInfo(
        label=contact.label,
        phone=contact.phone,
        email=email,
        address=", ".join(p for p in (contact.address, contact.postcode) if p) or None,
        commune=contact.commune,
        department=contact.department,
        url=contact.url,
        source=(source.origin if source else contact.source_id),
        as_of=as_of.isoformat() if as_of else None,
        phone_note=contact.phone_note,
        hours=tuple(messages.hours_line(h.day, h.hours) for h in contact.hours),
        provenance=provenance,
        stale=is_stale(contact, today),
    )


def freshness(site: Structure, index: KnowledgeIndex) -> Freshness | None:
    """The site's freshest information: its structure's own check, or the newest date of its official fields
    and their producer, whichever is newer (a check wins a tie: someone looked at every field that day)."""
    dated: list[tuple[date, int, str]] = []
    for contact in site.contacts:
        source = index.sources.get(contact.source_id)
        as_of = contact.as_of or (source.as_of if source else None)
        if as_of is not None:
            dated.append((as_of, 0, contact.source_id))
        dated.extend((o.as_of, 0, o.source_id) for o in contact.origins if o.as_of is not None)
    if site.verified is not None:
        dated.append((site.verified.on, 1, site.verified.by))
    if not dated:
        return None
    day, checked, who = max(dated)
    if checked:
        return Freshness(day.isoformat(), who, True, messages.verified_by(day, who))
    source = index.sources.get(who)
    producer = source.origin if source else who
    return Freshness(day.isoformat(), producer, False, messages.official_as_of(day, producer))


def _provenance(contact: Contact, index: KnowledgeIndex, as_of: date | None) -> tuple[Provenance, ...]:
    """Which source gave which shown field, as of when, grouped: one line per (source, date)."""
    if not contact.origins:
        source = index.sources.get(contact.source_id)
        return (Provenance((), source.origin if source else contact.source_id, as_of.isoformat() if as_of else None),)
    groups: dict[tuple[str, str | None], list[str]] = {}
    for origin in contact.origins:
        if origin.field not in SHOWN_FIELDS:
            continue
        source = index.sources.get(origin.source_id)
        key = (source.origin if source else origin.source_id, origin.as_of.isoformat() if origin.as_of else None)
        groups.setdefault(key, []).append(messages.FIELD_LABELS[origin.field])
    return tuple(Provenance(tuple(fields), name, when) for (name, when), fields in groups.items())


def _source_ids(contact: Contact) -> list[str]:
    return list(dict.fromkeys([contact.source_id, *(o.source_id for o in contact.origins)]))


def national_contact(network: Network, beside_site: bool = False) -> ContactInfo | None:
    """The network's official locator and national number from its sheet, else its official site; None when
    the sheet has none of them (never an invented way in)."""
    national = network.national
    locator = national.locator_url if national else None
    phone = national.phone if national else None
    url = locator or network.website
    if url is None and phone is None:
        return None
    as_of = network.source.as_of.isoformat() if network.source.as_of else None
    return ContactInfo(
        label=messages.national_label(network.short_name, locator is not None, phone is not None, beside_site),
        phone=phone,
        email=None,
        address=None,
        commune=None,
        department=None,
        url=url,
        source=network.source.origin,
        as_of=as_of,
        kind="national",
        phone_note=national.phone_note if national else None,
        provenance=(Provenance((), network.source.origin, as_of),),
    )


def _source_ref(source_id: str, index: KnowledgeIndex) -> SourceRef:
    source = index.sources.get(source_id)
    if source is None:
        return SourceRef(id=source_id, title=source_id, url=None, as_of=None)
    return SourceRef(
        id=source.id, title=source.title, url=source.url, as_of=source.as_of.isoformat() if source.as_of else None
    )
