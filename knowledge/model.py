"""Knowledge records: Source, Contact, Structure, Verified, Offer, Network, Dispositif, Document, Chunk.

These are validated on ingest; the assistant reads them, the API maps them to its own schemas.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.referentials import ALL_PUBLICS, ALL_THEMES, DEPARTMENTS, Circle, NetworkId


class Record(BaseModel):
    """Common configuration: records are immutable and reject unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(Record):
    """Where a record comes from, under which licence, as of when."""

    id: str
    title: str
    origin: str = Field(description="Producer: 'Expert SPRO', 'Service-Public.fr / DILA', 'data·inclusion'...")
    licence: str = Field(default="", description="Licence and mandatory attribution")
    url: str | None = None
    as_of: date | None = None

    @field_validator("url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        return _check_web_url(value)


class Section(Record):
    """One titled part of an offer, a sheet or a document: the unit of chunking."""

    heading: str
    text: str


DirectoryField = Literal["name", "address", "phone", "email", "website", "hours", "coordinates", "served_area"]
Weekday = Literal["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
WEEKDAYS: tuple[Weekday, ...] = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class FieldOrigin(Record):
    """Which source gave one field of a site, as of when: merged sites keep this for every field."""

    field: DirectoryField
    source_id: str
    as_of: date | None = None


class DayHours(Record):
    """Opening hours of one day, as the source writes them ("09:00 - 12:00 / 13:30 - 17:00")."""

    day: Weekday
    hours: str


class Contact(Record):
    """A way to reach a structure, only ever taken from imported official data."""

    label: str
    phone: str | None = None
    phone_note: str | None = Field(default=None, description="Tariff notice of the number (« numéro vert »…)")
    email: str | None = None
    email_possibly_personal: bool = Field(
        default=False, description="The directory flags it as possibly nominative: not displayed by default"
    )
    address: str | None = None
    postcode: str | None = None
    commune: str | None = None
    department: str | None = None
    url: str | None = None
    hours: tuple[DayHours, ...] = ()
    source_id: str
    as_of: date | None = None
    origins: tuple[FieldOrigin, ...] = Field(
        default=(), description="Source and date of each field, when it differs from source_id / as_of"
    )

    @field_validator("url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        return _check_web_url(value)

    def dates(self) -> list[date]:
        """Every date the contact's fields carry (its own and those of merged fields)."""
        return [d for d in (self.as_of, *(o.as_of for o in self.origins)) if d is not None]


class ServedTerritory(Record):
    """The territory a site serves; empty lists mean 'only where it stands' unless region is set."""

    communes: tuple[str, ...] = ()
    epcis: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    region: bool = False


class Verified(Record):
    """When a site's own people last corrected or confirmed its information, and which organisation."""

    on: date
    by: str = Field(description="The editors' organisation (« Cap emploi Savoie »)")


class Structure(Record):
    """One site of a network (a local Mission Locale antenna, a CIO...)."""

    id: str
    name: str
    network: NetworkId
    typology: str | None = Field(default=None, description="data·inclusion structure typology (ML, CIO...)")
    address: str | None = None
    postcode: str | None = None
    commune_insee: str | None = None
    commune: str | None = None
    department: str | None = None
    serves: ServedTerritory = ServedTerritory()
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    reception: bool = Field(default=True, description="Receives the public (a regional direction does not)")
    identifiers: tuple[str, ...] = Field(
        default=(), description="Codes shared across sources ('safir:69188', 'unml:01053'): the same site"
    )
    contacts: tuple[Contact, ...] = ()
    offer: tuple[Section, ...] = Field(default=(), description="What this site adds to its network's offer")
    source_id: str
    sources: tuple[str, ...] = Field(default=(), description="Every source merged into this site")
    # A default, so that the records of versions built before the editors' corrections still load.
    verified: Verified | None = Field(default=None, description="Last correction or confirmation by its editors")

    @field_validator("department")
    @classmethod
    def _known_department(cls, value: str | None) -> str | None:
        if value is not None and value not in DEPARTMENTS:
            raise ValueError(f"département hors Auvergne-Rhône-Alpes : {value}")
        return value


class Tagged(Record):
    """A sheet tagged with data·inclusion (or SPRO) publics and themes, and the words counsellors use."""

    publics: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = Field(default=(), description="Abbreviations and words counsellors use")

    @field_validator("publics")
    @classmethod
    def _known_publics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_codes(value, ALL_PUBLICS, "public")

    @field_validator("themes")
    @classmethod
    def _known_themes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_codes(value, ALL_THEMES, "thématique")


class NationalAccess(Record):
    """How to reach a network when no local site is known: its official locator page, its national number."""

    locator_url: str | None = None
    phone: str | None = None
    phone_note: str | None = Field(default=None, description="Tariff notice: « service et appel gratuits »…")
    evidence_url: str = Field(description="Official page where the locator and the number are published")

    @field_validator("locator_url", "evidence_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        return _check_web_url(value)


class Network(Tagged):
    """A network of the SPRO and its offer of service."""

    id: NetworkId
    name: str
    short_name: str
    circle: Circle
    summary: str
    website: str | None = None
    national: NationalAccess | None = None
    sections: tuple[Section, ...]
    source: Source


class Dispositif(Tagged):
    """A 'fiche dispositif': what it is, for whom, eligibility, who operates it, official link."""

    id: str
    title: str
    summary: str
    operators: tuple[NetworkId, ...] = Field(min_length=1)
    sections: tuple[Section, ...]
    source: Source


class Document(Record):
    """A free document (Markdown, HTML, PDF, DOCX) attached to a network or a structure."""

    id: str
    title: str
    network: NetworkId | None = None
    structure_id: str | None = None
    sections: tuple[Section, ...]
    source: Source


ChunkKind = Literal["network", "dispositif", "structure", "document"]


class Chunk(Record):
    """The unit that is embedded and searched: one section of one record, carrying its title."""

    id: str
    kind: ChunkKind
    record_id: str
    networks: tuple[str, ...]
    title: str
    heading: str
    text: str
    source_id: str
    departments: tuple[str, ...] = ()

    def passage(self) -> str:
        """The text given to the encoders: title and heading carry meaning the section text omits."""
        return f"{self.title} — {self.heading}\n{self.text}"


def contact_label(name: str, phone: str | None, phone_note: str | None) -> str:
    """A contact's label: the site's name, with the tariff notice of its number where a reader sees it."""
    if phone and phone_note:
        return f"{name} — tél. {phone_note[0].lower()}{phone_note[1:]}"
    return name


def _check_web_url(value: str | None) -> str | None:
    """Only web links are kept: a `javascript:` or `file:` link in a source must never reach a page."""
    if value is not None and not value.lower().startswith(("http://", "https://")):
        raise ValueError(f"lien non web refusé : {value[:40]}")
    return value


def _check_codes(values: tuple[str, ...], known: frozenset[str], what: str) -> tuple[str, ...]:
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValueError(f"{what} inconnu : {', '.join(unknown)}")
    return values
