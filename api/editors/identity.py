"""Who may edit which sites of the directory: grants (an e-mail or a domain, a network, departments) and the
signed-in editor they make; pure values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The network of a regional admin's grant: every network, every department.
ALL_NETWORKS = "*"


@dataclass(frozen=True)
class Grant:
    """`match` is a full e-mail ("a.b@capemploi73.fr") or a domain ("@capemploi73.fr"); `network` a NetworkId
    or ALL_NETWORKS; no `departments`: every department of the region; `organisation` is shown to counsellors."""

    id: int
    match: str
    network: str
    departments: tuple[str, ...]
    organisation: str
    created_at: datetime

    @property
    def is_domain(self) -> bool:
        return self.match.startswith("@")

    def covers(self, network: str, department: str | None) -> bool:
        """A site with no department (a regional one) is covered only by a grant without departments."""
        if self.network not in (ALL_NETWORKS, network):
            return False
        return not self.departments or (department is not None and department in self.departments)


def domain_of(email: str) -> str | None:
    """The domain of an address, lowercased ("@capemploi73.fr"); None for what is not an address."""
    local, at, domain = email.strip().lower().rpartition("@")
    return f"@{domain}" if at and local and domain else None


def grant_matches(grant: Grant, email: str) -> bool:
    """The exact address, or the exact domain: "x@sub.capemploi73.fr" is not of "@capemploi73.fr"."""
    match = grant.match.lower()
    if grant.is_domain:
        return domain_of(email) == match
    return email.strip().lower() == match


@dataclass(frozen=True)
class Editor:
    """A person signed in through the identity provider, with the grants of their address (maybe none)."""

    subject: str
    email: str
    name: str | None
    grants: tuple[Grant, ...]

    def can_edit(self, network: str, department: str | None) -> bool:
        return any(grant.covers(network, department) for grant in self.grants)

    def organisation_for(self, network: str, department: str | None) -> str | None:
        """The organisation of the most specific grant covering that site: an exact address beats a domain, a
        department-restricted grant an unrestricted one, a network grant a regional admin's; then the oldest."""
        covering = [grant for grant in self.grants if grant.covers(network, department)]
        if not covering:
            return None
        best = min(
            covering,
            key=lambda g: (g.is_domain, not g.departments, g.network == ALL_NETWORKS, g.id),
        )
        return best.organisation

    @property
    def networks(self) -> tuple[str, ...]:
        """The networks of the grants (ALL_NETWORKS for a regional admin), sorted."""
        return tuple(sorted({grant.network for grant in self.grants}))

    @property
    def organisations(self) -> tuple[str, ...]:
        return tuple(sorted({grant.organisation for grant in self.grants}))

    @property
    def is_regional_admin(self) -> bool:
        return any(grant.network == ALL_NETWORKS for grant in self.grants)
