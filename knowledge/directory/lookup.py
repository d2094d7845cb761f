"""Structures by network and territory: which site of network N serves commune C?

Where a source says which communes a site serves (UNML coverage, the DILA's "compétence géographique"),
that decides, and an antenna standing in that area serves it too. Otherwise the closest level wins:
commune > EPCI > employment area > department > region; within a level, the nearest site by straight-line
distance between the commune's centre and the site (its coordinates, or its commune's centre).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from knowledge.directory.geo import distance_km
from knowledge.model import Structure
from knowledge.territory import Commune, Territory

MatchLevel = Literal["served", "commune", "epci", "zone", "department", "region"]

# Closer first: the site whose declared area holds the commune, then the site of the person's commune, of its
# EPCI, of its employment area, of its department.
LEVEL_ORDER: dict[str, int] = {"served": 0, "commune": 1, "epci": 2, "zone": 3, "department": 4, "region": 5}
# Places remembered by `Directory.sites` (network × place asked): every answer asks for each of its networks,
# and the same few hundred places come back all day.
SITES_CACHED = 8192


@dataclass(frozen=True)
class SiteMatch:
    """A site, how closely it serves the place asked about, and how far it stands from the commune's centre."""

    structure: Structure
    level: MatchLevel
    distance_km: float | None = None


class Directory:
    """An in-memory directory of structures, indexed by network; immutable once built (an index version's),
    so what it derives is computed once: departments per site and per network, sites per place asked."""

    def __init__(self, structures: Iterable[Structure], territory: Territory) -> None:
        self._territory = territory
        self._by_network: dict[str, list[Structure]] = defaultdict(list)
        for site in structures:
            self._by_network[site.network].append(site)
        self._served: dict[str, frozenset[str]] = {}
        for sites in self._by_network.values():
            self._served.update(self._served_areas(sites))
        self._departments = {
            site.id: (site, tuple(self._departments_of(site))) for sites in self._by_network.values() for site in sites
        }
        self._covered = {
            network: tuple(sorted({d for s in sites for d in self._departments[s.id][1]}))
            for network, sites in self._by_network.items()
        }
        # Measured on 360 cases never seen: 5 lookups and 200 level tests per answer, building the cards took
        # 1.4 ms of a 30 ms search, 0.7 with this memory.
        self._closest = lru_cache(maxsize=SITES_CACHED)(self._closest_sites)

    def _served_areas(self, sites: list[Structure]) -> dict[str, frozenset[str]]:
        """Declared areas, and the area of the site an antenna stands in (when exactly one site serves there)."""
        areas = {site.id: frozenset(site.serves.communes) for site in sites if site.serves.communes}
        serving: dict[str, set[str]] = defaultdict(set)
        for site_id, area in areas.items():
            for insee in area:
                serving[insee].add(site_id)
        inherited: dict[str, frozenset[str]] = {}
        for site in sites:
            if site.id in areas or not site.commune_insee:
                continue
            owners = {owner for code in self._codes(site.commune_insee) for owner in serving.get(code, ())}
            if len(owners) == 1:
                inherited[site.id] = areas[owners.pop()]
        return {**areas, **inherited}

    def networks(self) -> set[str]:
        return set(self._by_network)

    def structures(self, network: str | None = None, department: str | None = None) -> list[Structure]:
        sites = self._by_network.get(network, []) if network else [s for v in self._by_network.values() for s in v]
        if department:
            sites = [s for s in sites if department in self.departments_served(s)]
        return sorted(sites, key=lambda s: (s.department or "", s.name))

    def departments_served(self, site: Structure) -> list[str]:
        """INSEE codes of the departments a site serves (its own, those it declares, all when regional)."""
        known = self._departments.get(site.id)
        # Another version of a site (an edit being previewed) is computed, not taken for the one built here.
        return list(known[1]) if known is not None and known[0] is site else self._departments_of(site)

    def _departments_of(self, site: Structure) -> list[str]:
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
        return list(self._covered.get(network, ()))

    def sites(
        self, network: str, commune: Commune | None, department: str | None, limit: int = 2
    ) -> list[SiteMatch]:
        """The sites of a network closest to the place, best level first; [] when none is known there."""
        if commune is None and department is None:
            return []
        return list(self._closest(network, commune, department, limit))

    def _closest_sites(
        self, network: str, commune: Commune | None, department: str | None, limit: int
    ) -> tuple[SiteMatch, ...]:
        candidates = [s for s in self._by_network.get(network, []) if s.reception]
        asked = self._codes(commune.insee) if commune is not None else set()
        served = [s for s in candidates if asked & self._served.get(s.id, frozenset())]
        if served:
            matches = [SiteMatch(s, "served", self._distance(s, commune)) for s in served]
        else:
            matches = []
            for site in candidates:
                level = self._level(site, commune, department)
                if level is not None:
                    matches.append(SiteMatch(site, level, self._distance(site, commune)))
        # Within a level, the nearest site; with only a department known, the site of the biggest town first:
        # the prefecture's Mission Locale is a better first contact than the alphabetically first antenna.
        matches.sort(
            key=lambda m: (
                LEVEL_ORDER[m.level],
                m.distance_km if m.distance_km is not None else float("inf"),
                -self._population(m.structure),
                m.structure.name,
            )
        )
        if not matches:
            return ()
        best = LEVEL_ORDER[matches[0].level]
        # Only the closest level: a commune's own Mission Locale makes the other antennas of the department noise.
        closest = [m for m in matches if LEVEL_ORDER[m.level] == best]
        return tuple(closest[:limit])

    def position(self, site: Structure) -> tuple[float, float] | None:
        """Where a site stands: its own coordinates, or the centre of its commune."""
        if site.latitude is not None and site.longitude is not None:
            return site.latitude, site.longitude
        commune = self._territory.commune(site.commune_insee) if site.commune_insee else None
        return commune.centre if commune is not None else None

    def _distance(self, site: Structure, commune: Commune | None) -> float | None:
        if commune is None:
            return None
        centre = commune.centre
        if centre is None and commune.parent_insee:
            parent = self._territory.commune(commune.parent_insee)
            centre = parent.centre if parent is not None else None
        position = self.position(site)
        return round(distance_km(centre, position), 1) if centre is not None and position is not None else None

    def _codes(self, insee: str) -> set[str]:
        """A commune's code and its parent's (a commune déléguée, a Lyon arrondissement)."""
        commune = self._territory.commune(insee)
        if commune is None:
            return {insee}
        return {commune.insee, *([commune.parent_insee] if commune.parent_insee else [])}

    def _population(self, site: Structure) -> int:
        commune = self._territory.commune(site.commune_insee) if site.commune_insee else None
        return commune.population if commune is not None else 0

    def _level(self, site: Structure, commune: Commune | None, department: str | None) -> MatchLevel | None:
        if commune is not None:
            asked = self._codes(commune.insee)
            site_commune = self._territory.commune(site.commune_insee) if site.commune_insee else None
            site_codes = self._codes(site_commune.insee) if site_commune is not None else set()
            if asked & site_codes:
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
