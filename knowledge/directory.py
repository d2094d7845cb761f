"""Structures by network and territory: which site of network N serves commune C?"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from knowledge.model import Structure
from knowledge.territory import Commune, Territory

MatchLevel = Literal["commune", "epci", "zone", "department", "region"]

# Closer first: the site of the person's commune, then of its EPCI, of its employment area, of its department.
LEVEL_ORDER: dict[str, int] = {"commune": 0, "epci": 1, "zone": 2, "department": 3, "region": 4}


@dataclass(frozen=True)
class SiteMatch:
    """A site and how closely it serves the place asked about."""

    structure: Structure
    level: MatchLevel


class Directory:
    """An in-memory directory of structures, indexed by network."""

    def __init__(self, structures: Iterable[Structure], territory: Territory) -> None:
        self._territory = territory
        self._by_network: dict[str, list[Structure]] = defaultdict(list)
        for site in structures:
            self._by_network[site.network].append(site)

    def networks(self) -> set[str]:
        return set(self._by_network)

    def structures(self, network: str | None = None, department: str | None = None) -> list[Structure]:
        sites = self._by_network.get(network, []) if network else [s for v in self._by_network.values() for s in v]
        if department:
            sites = [s for s in sites if department in self.departments_served(s)]
        return sorted(sites, key=lambda s: (s.department or "", s.name))

    def departments_served(self, site: Structure) -> list[str]:
        """INSEE codes of the departments a site serves (its own, those it declares, all when regional)."""
        if site.serves.region:
            return sorted(self._territory.departments())
        codes = set(site.serves.departments)
        if site.department:
            codes.add(site.department)
        for insee in site.serves.communes:
            commune = self._territory.commune(insee)
            if commune is not None:
                codes.add(commune.department)
        return sorted(codes)

    def departments_covered(self, network: str) -> list[str]:
        """Departments where a network has at least one known site."""
        return sorted({d for s in self._by_network.get(network, []) for d in self.departments_served(s)})

    def sites(
        self, network: str, commune: Commune | None, department: str | None, limit: int = 2
    ) -> list[SiteMatch]:
        """The sites of a network closest to the place, best level first; [] when none is known there."""
        if commune is None and department is None:
            return []
        matches: list[SiteMatch] = []
        for site in self._by_network.get(network, []):
            level = self._level(site, commune, department)
            if level is not None:
                matches.append(SiteMatch(site, level))
        # Within a level, the site of the biggest town first: with only a department known, the prefecture's
        # Mission Locale is a better first contact than the alphabetically first antenna.
        matches.sort(key=lambda m: (LEVEL_ORDER[m.level], -self._population(m.structure), m.structure.name))
        if not matches:
            return []
        best = LEVEL_ORDER[matches[0].level]
        # Only the closest level: a commune's own Mission Locale makes the other antennas of the department noise.
        closest = [m for m in matches if LEVEL_ORDER[m.level] == best]
        return closest[:limit]

    def _population(self, site: Structure) -> int:
        commune = self._territory.commune(site.commune_insee) if site.commune_insee else None
        return commune.population if commune is not None else 0

    def _level(self, site: Structure, commune: Commune | None, department: str | None) -> MatchLevel | None:
        if commune is not None:
            asked = {commune.insee, *([commune.parent_insee] if commune.parent_insee else [])}
            site_commune = self._territory.commune(site.commune_insee) if site.commune_insee else None
            site_codes = set(site.serves.communes)
            if site_commune is not None:
                site_codes |= {site_commune.insee, *([site_commune.parent_insee] if site_commune.parent_insee else [])}
            if site.serves.communes:
                if asked & set(site.serves.communes):
                    return "commune"
            elif asked & site_codes:
                return "commune"
            if commune.epci_code and (
                commune.epci_code in site.serves.epcis
                or (site_commune is not None and site_commune.epci_code == commune.epci_code)
            ):
                return "epci"
            if commune.zone_code and site_commune is not None and site_commune.zone_code == commune.zone_code:
                return "zone"
            department = department or commune.department
        if department:
            # A site that declares the departments it serves is matched on those, not on where it stands.
            served = site.serves.departments or ((site.department,) if site.department else ())
            if department in served:
                return "department"
        if site.serves.region:
            return "region"
        return None
