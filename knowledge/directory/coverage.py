"""Where the directory has holes: per network and department, how many sites, how fresh, how reachable."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from knowledge.model import Contact, Structure

# A contact older than this is "à vérifier".
STALE_DAYS = 2 * 365


@dataclass(frozen=True)
class CoverageRow:
    """One network in one department (or "" for the whole region)."""

    network: str
    department: str
    sites: int
    freshest: date | None
    oldest: date | None
    with_phone: int
    with_email: int
    with_hours: int
    stale: int

    def share(self, count: int) -> float:
        return count / self.sites if self.sites else 0.0

    @property
    def hole(self) -> bool:
        return self.sites == 0


def is_stale(contact: Contact, today: date) -> bool:
    """The oldest date of a contact's fields is more than two years old."""
    dates = contact.dates()
    return bool(dates) and (today - min(dates)).days > STALE_DAYS


def coverage(
    structures: Iterable[Structure],
    networks: Sequence[str],
    departments: Sequence[str],
    today: date,
) -> list[CoverageRow]:
    """A row per network × department, holes included, then a regional row per network (department "").

    A site counts in the department where it stands, or in those it declares it serves (Transitions Pro).
    """
    sites = [s for s in structures if s.reception]
    rows: list[CoverageRow] = []
    for network in networks:
        own = [s for s in sites if s.network == network]
        for department in departments:
            here = [s for s in own if department in _departments(s)]
            rows.append(_row(network, department, here, today))
        rows.append(_row(network, "", own, today))
    return rows


def _departments(site: Structure) -> list[str]:
    return [site.department] if site.department else list(site.serves.departments)


def _row(network: str, department: str, sites: list[Structure], today: date) -> CoverageRow:
    contacts = [s.contacts[0] for s in sites if s.contacts]
    dates = [d for c in contacts for d in c.dates()]
    return CoverageRow(
        network=network,
        department=department,
        sites=len(sites),
        freshest=max(dates, default=None),
        oldest=min(dates, default=None),
        with_phone=sum(1 for c in contacts if c.phone),
        with_email=sum(1 for c in contacts if c.email),
        with_hours=sum(1 for c in contacts if c.hours),
        stale=sum(1 for c in contacts if is_stale(c, today)),
    )
