"""The referral: what one turn returns to every face (widget, Teams, CLI), as frozen values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Slot = Literal["territory", "age", "status", "need"]


@dataclass(frozen=True)
class Clarification:
    slot: Slot
    question: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class PlaceRef:
    insee: str
    name: str


@dataclass(frozen=True)
class Understood:
    age: int | None
    status: str | None
    needs: tuple[str, ...]
    flags: tuple[str, ...]
    commune: PlaceRef | None
    department: str | None


ContactKind = Literal["site", "national"]


@dataclass(frozen=True)
class Provenance:
    """Where some fields of a contact come from: "téléphone, courriel — Service-Public.fr / DILA, 2019-10-22"."""

    fields: tuple[str, ...]
    source: str
    as_of: str | None


@dataclass(frozen=True)
class ContactInfo:
    label: str
    phone: str | None
    email: str | None
    address: str | None
    commune: str | None
    department: str | None
    url: str | None
    source: str
    as_of: str | None
    # "site": a local site's contact; "national": the network's official locator and national number.
    kind: ContactKind = "site"
    phone_note: str | None = None
    hours: tuple[str, ...] = ()
    provenance: tuple[Provenance, ...] = ()
    # The oldest of its dates is more than two years old: to check before passing it on.
    stale: bool = False


@dataclass(frozen=True)
class Excerpt:
    text: str
    source_id: str
    source_title: str
    url: str | None


@dataclass(frozen=True)
class Freshness:
    """The freshest information of a site: a check by its own structure, else the newest official date."""

    on: str  # AAAA-MM-JJ
    by: str  # the organisation that checked it, or the producer of the official data
    verified: bool  # checked by the structure itself (editors' pages), not only official data
    text: str  # "vérifié le 3 décembre 2026 par Cap emploi Savoie", "Service-Public.fr, à jour au 22 octobre 2019"


@dataclass(frozen=True)
class StructureResult:
    id: str
    name: str
    network: str
    score: float
    reasons: tuple[str, ...]
    departments: tuple[str, ...]
    contacts: tuple[ContactInfo, ...]
    excerpts: tuple[Excerpt, ...]
    # Straight-line distance from the person's commune centre to the site, when both are known.
    distance_km: float | None = None
    freshness: Freshness | None = None


@dataclass(frozen=True)
class SourceRef:
    id: str
    title: str
    url: str | None
    as_of: str | None


@dataclass(frozen=True)
class Referral:
    conversation_id: str
    reply: str
    clarification: Clarification | None
    understood: Understood
    structures: tuple[StructureResult, ...]
    sources: tuple[SourceRef, ...]
    confident: bool
