"""Scores the assistant on the golden set: hit@1, hit@3, MRR, territory, clarification, refusal, latency."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from assistant.referral import ContactInfo, Referral


@dataclass(frozen=True)
class GoldenCase:
    """One case of the golden set, as written by counsellors before any tuning."""

    id: str
    split: str
    category: str
    turns: tuple[str, ...]
    networks: tuple[str, ...]
    department: str | None
    commune: str | None
    clarification: str | None
    refusal: bool
    # Networks that must not appear at all, and networks that must not be the first one proposed.
    forbidden: tuple[str, ...] = ()
    not_first: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GoldenCase:
        expect = data["expect"]
        return cls(
            id=data["id"],
            split=data["split"],
            category=data["category"],
            turns=tuple(data["turns"]),
            networks=tuple(expect.get("networks") or ()),
            department=expect.get("department"),
            commune=expect.get("commune"),
            clarification=expect.get("clarification"),
            refusal=bool(expect.get("refusal", False)),
            forbidden=tuple(expect.get("forbidden_networks") or ()),
            not_first=tuple(expect.get("not_first") or ()),
        )


@dataclass(frozen=True)
class CaseResult:
    case: GoldenCase
    ranked_networks: tuple[str, ...]
    department: str | None
    commune: str | None
    clarification: str | None
    refused: bool
    seconds: float
    # For each of the three first structures: its network, and whether it gives a phone, an e-mail or an
    # address of a site in (or serving, per its source) the person's department, when that is known.
    local_contacts: tuple[tuple[str, bool], ...] = ()

    @property
    def rank(self) -> int | None:
        """1-based rank of the first acceptable network, None when none is proposed."""
        for position, network in enumerate(self.ranked_networks, start=1):
            if network in self.case.networks:
                return position
        return None

    @property
    def breaches(self) -> tuple[str, ...]:
        """The networks proposed against the case's `forbidden_networks` or `not_first`."""
        found = [n for n in self.ranked_networks if n in self.case.forbidden]
        if self.ranked_networks and self.ranked_networks[0] in self.case.not_first:
            found.append(self.ranked_networks[0])
        return tuple(dict.fromkeys(found))

    @property
    def territory_ok(self) -> bool:
        if self.case.department is not None and self.department != self.case.department:
            return False
        return self.case.commune is None or self.commune == self.case.commune


@dataclass
class Scores:
    """Metrics over one group of cases; None where the group has no case of that kind."""

    cases: int = 0
    hit_at_1: float | None = None
    hit_at_3: float | None = None
    mrr: float | None = None
    territory: float | None = None
    clarification: float | None = None
    refusal: float | None = None
    local_contact: float | None = None
    local_contact_open_data: float | None = None
    # Share of the cases with forbidden / not-first networks that respect them.
    forbidden: float | None = None
    # Share of the off-topic cases refused, and the number of in-scope cases refused.
    off_topic_refused: float | None = None
    false_refusals: int = 0
    # Cases whose first network is one of its forbidden or not-first networks (the target is 0).
    forbidden_first: int = 0
    failures: list[str] = field(default_factory=list)
    # Cases whose right network is proposed, but not first (hit@3 without hit@1).
    not_first: list[str] = field(default_factory=list)


def _ratio(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def score(results: Iterable[CaseResult], open_data: frozenset[str] = frozenset()) -> Scores:
    """The scores of a group; `open_data` names the networks that have sites in the directory."""
    results = list(results)
    located = [local for r in results if r.case.department or r.case.commune for local in r.local_contacts]
    ranked = [r for r in results if r.case.networks]
    territorial = [r for r in results if r.case.department or r.case.commune]
    failures = [
        f"{r.case.id} ({r.case.category}) : attendu {list(r.case.networks) or 'refus'}, "
        f"obtenu {list(r.ranked_networks[:3]) or 'refus'}"
        for r in results
        if (r.case.networks and (r.rank is None or r.rank > 3)) or (r.case.refusal != r.refused)
    ] + [
        f"{r.case.id} ({r.case.category}) : question attendue {r.case.clarification}, posée {r.clarification}"
        for r in results
        if r.clarification != r.case.clarification
    ] + [f"{r.case.id} ({r.case.category}) : territoire" for r in territorial if not r.territory_ok] + [
        f"{r.case.id} ({r.case.category}) : réseau à ne pas proposer {list(r.breaches)}, "
        f"obtenu {list(r.ranked_networks[:3])}"
        for r in results
        if r.breaches
    ]
    constrained = [r for r in results if r.case.forbidden or r.case.not_first]
    off_topic = [r for r in results if r.case.refusal]
    return Scores(
        cases=len(results),
        hit_at_1=_ratio([r.rank == 1 for r in ranked]),
        hit_at_3=_ratio([r.rank is not None and r.rank <= 3 for r in ranked]),
        mrr=(sum(1.0 / r.rank for r in ranked if r.rank) / len(ranked)) if ranked else None,
        territory=_ratio([r.territory_ok for r in territorial]),
        clarification=_ratio([r.clarification == r.case.clarification for r in results]),
        refusal=_ratio([r.refused == r.case.refusal for r in results]),
        local_contact=_ratio([local for _, local in located]),
        local_contact_open_data=_ratio([local for network, local in located if network in open_data]),
        forbidden=_ratio([not r.breaches for r in constrained]),
        off_topic_refused=_ratio([r.refused for r in off_topic]),
        false_refusals=sum(1 for r in results if r.refused and not r.case.refusal),
        forbidden_first=sum(
            1 for r in results if r.ranked_networks and r.ranked_networks[0] in (*r.case.forbidden, *r.case.not_first)
        ),
        failures=failures,
        not_first=[
            f"{r.case.id} ({r.case.category}) : attendu {list(r.case.networks)}, obtenu {list(r.ranked_networks[:3])}"
            for r in ranked
            if r.rank is not None and 1 < r.rank <= 3
        ],
    )


def run_case(case: GoldenCase, turn: Callable[[str, str | None], Referral]) -> CaseResult:
    """Play every turn of a case in one conversation; judge the last referral."""
    conversation: str | None = None
    started = time.perf_counter()
    referral: Referral | None = None
    for message in case.turns:
        referral = turn(message, conversation)
        conversation = referral.conversation_id
    elapsed = (time.perf_counter() - started) / max(len(case.turns), 1)
    assert referral is not None
    networks = tuple(dict.fromkeys(s.network for s in referral.structures))
    department = referral.understood.department
    local = tuple(
        (s.network, any(_local(c, department, s.departments) for c in s.contacts)) for s in referral.structures[:3]
    ) if department else ()
    return CaseResult(
        case=case,
        ranked_networks=networks,
        department=referral.understood.department,
        commune=referral.understood.commune.insee if referral.understood.commune else None,
        clarification=referral.clarification.slot if referral.clarification else None,
        refused=not referral.structures and referral.clarification is None,
        seconds=elapsed,
        local_contacts=local,
    )


def _local(contact: ContactInfo, department: str, served: tuple[str, ...]) -> bool:
    """A site's phone, e-mail or address, standing in or serving the person's department (a national number
    does not count: the Transitions Pro site of Lyon that its source assigns to the Ain counts for the Ain)."""
    reachable = contact.phone or contact.email or contact.address
    return contact.kind == "site" and bool(reachable) and (contact.department == department or department in served)


def latency_summary(results: list[CaseResult]) -> dict[str, float]:
    """Median and 95th percentile of one turn, in milliseconds."""
    times = sorted(r.seconds * 1000 for r in results)
    if not times:
        return {"p50_ms": 0.0, "p95_ms": 0.0}
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return {"p50_ms": statistics.median(times), "p95_ms": p95}
