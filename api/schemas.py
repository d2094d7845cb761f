"""API schemas: what goes over the wire, mapped explicitly from domain results and knowledge records."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool
from pydantic_core import PydanticCustomError

from api import messages
from api.curation.store import Referent
from api.store import DayStats, Feedback, FeedbackKind, JobStatus, QuestionStats, Rating, ReindexJob, ReportStatus
from assistant.referral import (
    Clarification,
    ContactInfo,
    Excerpt,
    Freshness,
    PlaceRef,
    Provenance,
    Referral,
    SourceRef,
    StructureResult,
    Understood,
)
from knowledge.directory.coverage import CoverageRow
from knowledge.model import Contact, Dispositif, Network, Section, Source, Structure
from knowledge.referentials import FLAG_LABELS, NEED_LABELS
from knowledge.territory import Commune, Resolution

DepartmentCode = Literal["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"]

MESSAGE_MAX = 2000
QUERY_MAX = 500
REASON_MAX = 1000
ID_MAX = 200
# Server-issued conversation ids (secrets.token_urlsafe): anything else is unknown by construction.
CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t]+")


def clean_text(value: str) -> str:
    """Drop what no person types (lone surrogates, control characters); refuse what is left empty."""
    value = "".join(ch for ch in value if not 0xD800 <= ord(ch) <= 0xDFFF)
    value = unicodedata.normalize("NFC", _CONTROL.sub(" ", value))
    value = _SPACES.sub(" ", value).strip()
    if not value:
        raise PydanticCustomError("spro_empty", messages.EMPTY_TEXT)
    return value


def clean_optional(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return clean_text(value)
    except PydanticCustomError:
        return None


def case_code(value: str) -> str:
    """A need or flag code of the referentials (what a chip of the understood case can take off)."""
    if value not in NEED_LABELS and value not in FLAG_LABELS:
        raise PydanticCustomError("spro_unknown_code", messages.UNKNOWN_CASE_CODE)
    return value


def is_conversation_id(value: str) -> bool:
    return CONVERSATION_ID.fullmatch(value) is not None


CleanText = Annotated[str, AfterValidator(clean_text)]


class ApiModel(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- errors ----------------------------------------------------------------------------------------------------


class ErrorOut(ApiModel):
    """The one error shape of the API."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [{"error": "invalid_request", "detail": "Champ « message » invalide : texte trop long."}]
        },
    )

    error: str = Field(description="Code stable de l'erreur (invalid_request, not_found, rate_limited…)")
    detail: str = Field(description="Explication en français, qui nomme le champ fautif le cas échéant")


# --- chat and search -------------------------------------------------------------------------------------------


class ContextIn(ApiModel):
    """Ce que l'interface sait déjà (réglage du widget) : département ou commune de la structure qui l'utilise."""

    department: DepartmentCode | None = Field(
        default=None, description="Code INSEE du département (Auvergne-Rhône-Alpes)", examples=["38"]
    )
    commune: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(clean_text)] | None = Field(
        default=None, description="Code INSEE ou nom de la commune", examples=["38544", "Vienne (38)"]
    )


class ChatIn(ApiModel):
    """Un message du conseiller, dans une conversation nouvelle ou en cours."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {"message": "jeune de 17 ans décrocheur"},
                {"message": "à Vienne", "conversation_id": "q3JtVbYkS0mP2wX9aZcD1g"},
                {"message": "salariée qui veut se reconvertir", "context": {"department": "69"}},
            ]
        },
    )

    message: Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX), AfterValidator(clean_text)] = Field(
        description="Le cas ou la réponse à la question posée, en texte libre (1 à 2 000 caractères)",
        examples=["jeune de 17 ans décrocheur"],
    )
    conversation_id: str | None = Field(
        default=None,
        max_length=ID_MAX,
        description=(
            "Identifiant opaque rendu par le serveur au tour précédent ; absent, inconnu ou expiré : "
            "une nouvelle conversation commence"
        ),
        examples=["q3JtVbYkS0mP2wX9aZcD1g"],
    )
    context: ContextIn | None = Field(default=None, description="Territoire déjà connu de l'interface")
    remove: list[Annotated[str, AfterValidator(case_code)]] = Field(
        default=[],
        max_length=20,
        description="Codes de besoins ou de particularités à retirer de la situation comprise (étiquettes du widget)",
        examples=[["handicap"]],
    )


class ClarificationOut(ApiModel):
    slot: Literal["territory", "age", "status", "need"] = Field(description="L'information demandée")
    question: str = Field(description="La question à poser", examples=["Dans quelle commune habite la personne ?"])
    options: list[str] = Field(description="Réponses proposées (boutons)", examples=[["Isère (38)", "Rhône (69)"]])

    @classmethod
    def from_domain(cls, clarification: Clarification) -> ClarificationOut:
        return cls(slot=clarification.slot, question=clarification.question, options=list(clarification.options))


class PlaceOut(ApiModel):
    insee: str = Field(description="Code INSEE de la commune", examples=["38544"])
    name: str = Field(description="Nom de la commune", examples=["Vienne"])

    @classmethod
    def from_domain(cls, place: PlaceRef) -> PlaceOut:
        return cls(insee=place.insee, name=place.name)


class UnderstoodOut(ApiModel):
    """Ce que l'assistant a compris de la situation, tous tours confondus."""

    age: int | None = Field(description="Âge de la personne", examples=[17])
    status: str | None = Field(description="Situation (code du référentiel)", examples=["decrocheur"])
    needs: list[str] = Field(description="Besoins (codes du référentiel)", examples=[["orientation_scolaire"]])
    flags: list[str] = Field(description="Particularités (handicap, RSA, QPV…)", examples=[["handicap"]])
    commune: PlaceOut | None = Field(description="Commune de la personne")
    department: str | None = Field(description="Département de la personne", examples=["38"])

    @classmethod
    def from_domain(cls, understood: Understood) -> UnderstoodOut:
        return cls(
            age=understood.age,
            status=understood.status,
            needs=list(understood.needs),
            flags=list(understood.flags),
            commune=PlaceOut.from_domain(understood.commune) if understood.commune else None,
            department=understood.department,
        )


class ProvenanceOut(ApiModel):
    """D'où viennent des champs d'un contact, et de quand : une ligne par source et par date."""

    fields: list[str] = Field(
        description="Champs affichés tirés de cette source ; vide quand tout le contact vient d'une seule source",
        examples=[["téléphone", "courriel"]],
    )
    source: str = Field(description="Producteur de la donnée", examples=["Service-Public.fr / DILA"])
    as_of: str | None = Field(
        description="Date de la donnée (AAAA-MM-JJ ; le jour 01 marque souvent une donnée datée au mois)",
        examples=["2019-10-22"],
    )

    @classmethod
    def from_domain(cls, provenance: Provenance) -> ProvenanceOut:
        return cls(fields=list(provenance.fields), source=provenance.source, as_of=provenance.as_of)


class ContactOut(ApiModel):
    label: str = Field(description="Intitulé du contact", examples=["Mission Locale Isère Rhodanienne — accueil"])
    kind: Literal["site", "national"] = Field(
        description=(
            "« site » : le contact d'un site local ; « national » : pas de site local dans la base, l'annuaire "
            "officiel du réseau (url) et son numéro national (phone)"
        ),
        examples=["site"],
    )
    phone: str | None = Field(description="Téléphone", examples=["04 74 53 33 56"])
    phone_note: str | None = Field(
        description="Tarification du numéro", examples=["Numéro vert : service et appel gratuits"]
    )
    email: str | None = Field(description="Courriel (les adresses nominatives sont masquées)")
    address: str | None = Field(description="Adresse postale")
    commune: str | None = Field(description="Commune de l'adresse", examples=["Vienne"])
    department: str | None = Field(description="Département de l'adresse", examples=["38"])
    url: str | None = Field(description="Site internet (pour un contact national : l'annuaire officiel du réseau)")
    hours: list[str] = Field(
        description="Horaires d'ouverture, un jour par ligne", examples=[["lundi : 09:00 - 12:00 / 13:30 - 17:00"]]
    )
    source: str = Field(description="Identifiant de la source officielle du contact")
    as_of: str | None = Field(description="Date de la donnée (AAAA-MM-JJ)", examples=["2019-10-22"])
    provenance: list[ProvenanceOut] = Field(description="D'où vient chaque champ affiché, et de quand")
    stale: bool = Field(description="La plus ancienne de ses données a plus de deux ans : à vérifier")

    @classmethod
    def from_domain(cls, contact: ContactInfo) -> ContactOut:
        return cls(
            label=contact.label,
            kind=contact.kind,
            phone=contact.phone,
            phone_note=contact.phone_note,
            email=contact.email,
            address=contact.address,
            commune=contact.commune,
            department=contact.department,
            url=contact.url,
            hours=list(contact.hours),
            source=contact.source,
            as_of=contact.as_of,
            provenance=[ProvenanceOut.from_domain(p) for p in contact.provenance],
            stale=contact.stale,
        )


class ExcerptOut(ApiModel):
    text: str = Field(description="Passage de la base qui justifie l'orientation")
    source_id: str = Field(description="Identifiant de la source")
    source_title: str = Field(description="Titre de la source")
    url: str | None = Field(description="Lien vers la source officielle")

    @classmethod
    def from_domain(cls, excerpt: Excerpt) -> ExcerptOut:
        return cls(text=excerpt.text, source_id=excerpt.source_id, source_title=excerpt.source_title, url=excerpt.url)


class FreshnessOut(ApiModel):
    """La date et l'origine de l'information la plus récente du site."""

    on: str = Field(description="Date (AAAA-MM-JJ)", examples=["2026-12-03"])
    by: str = Field(description="Structure qui a vérifié la fiche, ou producteur de la donnée officielle",
                    examples=["Cap emploi Savoie"])
    verified: bool = Field(description="Vérifiée par la structure elle-même (espace éditeurs)")
    text: str = Field(description="À afficher tel quel", examples=["vérifié le 3 décembre 2026 par Cap emploi Savoie"])

    @classmethod
    def from_domain(cls, freshness: Freshness) -> FreshnessOut:
        return cls(on=freshness.on, by=freshness.by, verified=freshness.verified, text=freshness.text)


class ReferentOut(ApiModel):
    """Un·e professionnel·le nommé·e par sa structure, avec son accord : à joindre directement."""

    name: str = Field(description="Prénom et nom", examples=["Camille Martin"])
    role: str = Field(description="Fonction", examples=["Chargée de relations entreprises"])
    phone: str | None = Field(description="Téléphone professionnel")
    email: str | None = Field(description="Courriel professionnel")
    topics: str | None = Field(description="À contacter pour", examples=["RQTH, maintien dans l'emploi"])
    organisation: str = Field(description="Structure qui l'a ajouté·e")

    @classmethod
    def from_domain(cls, referent: Referent) -> ReferentOut:
        return cls(name=referent.name, role=referent.role, phone=referent.phone, email=referent.email,
                   topics=referent.topics, organisation=referent.organisation)


Referents = Mapping[str, Sequence[Referent]]


class StructureOut(ApiModel):
    """Une structure proposée, avec les raisons, ses contacts et les extraits qui la justifient."""

    id: str = Field(description="Identifiant de la structure (ou du réseau sans site local connu)")
    name: str = Field(description="Nom", examples=["Mission Locale Isère Rhodanienne"])
    network: str = Field(description="Réseau (code)", examples=["mission_locale"])
    score: float = Field(description="Score de pertinence (plus haut = plus pertinent)")
    reasons: list[str] = Field(description="Pourquoi cette structure, en français")
    departments: list[str] = Field(description="Départements desservis")
    contacts: list[ContactOut] = Field(description="Contacts issus des données officielles")
    excerpts: list[ExcerptOut] = Field(description="Extraits de la base")
    contact_reported: bool = Field(
        default=False,
        description=(
            "Un contact de cette structure est à afficher comme signalé : erreur confirmée par un administrateur, "
            "ou plusieurs signalements indépendants (voir `contact_report`) ; un seul clic ne suffit jamais"
        ),
    )
    contact_report: ReportStatus = Field(
        default="none",
        description=(
            "État des signalements « contact erroné » : none (aucun en cours), pending (moins que le seuil "
            "SPRO_CONTACT_REPORT_THRESHOLD de conversations distinctes, rien à afficher), reported (seuil atteint, "
            "pas encore vérifié), confirmed (erreur confirmée par un administrateur)"
        ),
        examples=["none"],
    )
    distance_km: float | None = Field(
        description="Distance à vol d'oiseau du centre de la commune de la personne au site, en km", examples=[9.5]
    )
    freshness: FreshnessOut | None = Field(
        default=None, description="Information la plus récente du site : « vérifié le … par … » ou « …, à jour au … »"
    )
    referents: list[ReferentOut] = Field(
        default_factory=list, description="Référent·es nommé·es par la structure, avec leur accord"
    )

    @classmethod
    def from_domain(
        cls, result: StructureResult, reports: Mapping[str, ReportStatus] | None = None,
        referents: Referents | None = None,
    ) -> StructureOut:
        report = (reports or {}).get(result.id, "none")
        return cls(
            id=result.id,
            name=result.name,
            network=result.network,
            score=float(result.score),
            reasons=list(result.reasons),
            departments=list(result.departments),
            contacts=[ContactOut.from_domain(c) for c in result.contacts],
            excerpts=[ExcerptOut.from_domain(e) for e in result.excerpts],
            contact_reported=report in ("reported", "confirmed"),
            contact_report=report,
            distance_km=result.distance_km,
            freshness=FreshnessOut.from_domain(result.freshness) if result.freshness else None,
            referents=[ReferentOut.from_domain(r) for r in (referents or {}).get(result.id, ())],
        )


class SourceOut(ApiModel):
    id: str = Field(description="Identifiant de la source")
    title: str = Field(description="Titre")
    url: str | None = Field(description="Lien")
    as_of: str | None = Field(description="Date de la donnée (AAAA-MM-JJ)")

    @classmethod
    def from_domain(cls, source: SourceRef) -> SourceOut:
        return cls(id=source.id, title=source.title, url=source.url, as_of=source.as_of)

    @classmethod
    def from_record(cls, source: Source) -> SourceOut:
        return cls(
            id=source.id, title=source.title, url=source.url, as_of=source.as_of.isoformat() if source.as_of else None
        )


class ChatOut(ApiModel):
    """La réponse d'un tour : la réponse en français, la question utile s'il en manque une, les structures."""

    conversation_id: str = Field(description="À renvoyer au tour suivant", examples=["q3JtVbYkS0mP2wX9aZcD1g"])
    turn: int = Field(description="Numéro du tour dans la conversation (pour les avis)", examples=[1])
    reply: str = Field(description="La réponse, en français")
    clarification: ClarificationOut | None = Field(description="La question qui changerait le plus la réponse")
    understood: UnderstoodOut
    structures: list[StructureOut] = Field(description="Structures proposées, la plus pertinente d'abord")
    sources: list[SourceOut] = Field(description="Sources citées")

    @classmethod
    def from_domain(
        cls, referral: Referral, turn: int, reports: Mapping[str, ReportStatus] | None = None,
        referents: Referents | None = None,
    ) -> ChatOut:
        return cls(
            conversation_id=referral.conversation_id,
            turn=turn,
            reply=referral.reply,
            clarification=ClarificationOut.from_domain(referral.clarification) if referral.clarification else None,
            understood=UnderstoodOut.from_domain(referral.understood),
            structures=[StructureOut.from_domain(s, reports, referents) for s in referral.structures],
            sources=[SourceOut.from_domain(s) for s in referral.sources],
        )


class SearchOut(ApiModel):
    """Une recherche sans conversation : les structures classées pour la requête."""

    reply: str = Field(description="La réponse, en français")
    understood: UnderstoodOut
    structures: list[StructureOut] = Field(description="Structures classées, la plus pertinente d'abord")
    sources: list[SourceOut] = Field(description="Sources citées")

    @classmethod
    def from_domain(
        cls, referral: Referral, reports: Mapping[str, ReportStatus] | None = None, referents: Referents | None = None
    ) -> SearchOut:
        return cls(
            reply=referral.reply,
            understood=UnderstoodOut.from_domain(referral.understood),
            structures=[StructureOut.from_domain(s, reports, referents) for s in referral.structures],
            sources=[SourceOut.from_domain(s) for s in referral.sources],
        )


# --- catalogue -------------------------------------------------------------------------------------------------


class SectionOut(ApiModel):
    heading: str = Field(description="Intitulé de la section")
    text: str = Field(description="Texte de la section")

    @classmethod
    def from_record(cls, section: Section) -> SectionOut:
        return cls(heading=section.heading, text=section.text)


class NetworkOut(ApiModel):
    """Un réseau du SPRO (ou partenaire)."""

    id: str = Field(description="Code du réseau", examples=["mission_locale"])
    name: str = Field(description="Nom complet", examples=["Missions Locales"])
    short_name: str = Field(description="Nom court", examples=["Mission Locale"])
    circle: str = Field(description="Cercle du SPRO (1, 2, 3 ou partenaire)", examples=["2"])
    summary: str = Field(description="Offre de service en une phrase")
    publics: list[str] = Field(description="Publics (codes data·inclusion et SPRO)")
    themes: list[str] = Field(description="Thématiques (codes data·inclusion et SPRO)")
    website: str | None = Field(description="Site internet")
    structures: int = Field(description="Nombre de sites connus dans l'annuaire")
    departments: list[str] = Field(description="Départements où le réseau a un site connu")

    @classmethod
    def from_record(cls, network: Network, structures: int, departments: list[str]) -> NetworkOut:
        return cls(
            id=network.id,
            name=network.name,
            short_name=network.short_name,
            circle=network.circle,
            summary=network.summary,
            publics=list(network.publics),
            themes=list(network.themes),
            website=network.website,
            structures=structures,
            departments=departments,
        )


class DispositifOut(ApiModel):
    """Une fiche dispositif (résumé)."""

    id: str = Field(description="Identifiant de la fiche", examples=["cej"])
    title: str = Field(description="Titre", examples=["Contrat d'engagement jeune"])
    summary: str = Field(description="Résumé")
    operators: list[str] = Field(description="Réseaux qui le mettent en œuvre", examples=[["mission_locale"]])
    publics: list[str] = Field(description="Publics")
    themes: list[str] = Field(description="Thématiques")

    @classmethod
    def from_record(cls, sheet: Dispositif) -> DispositifOut:
        return cls(
            id=sheet.id,
            title=sheet.title,
            summary=sheet.summary,
            operators=list(sheet.operators),
            publics=list(sheet.publics),
            themes=list(sheet.themes),
        )


class DispositifDetailOut(DispositifOut):
    """Une fiche dispositif complète : pour qui, conditions, qui le porte, lien officiel."""

    keywords: list[str] = Field(description="Mots et sigles employés par les conseillers")
    sections: list[SectionOut] = Field(description="Sections de la fiche")
    source: SourceOut = Field(description="Source de la fiche")

    @classmethod
    def from_record(cls, sheet: Dispositif) -> DispositifDetailOut:
        return cls(
            **DispositifOut.from_record(sheet).model_dump(),
            keywords=list(sheet.keywords),
            sections=[SectionOut.from_record(s) for s in sheet.sections],
            source=SourceOut.from_record(sheet.source),
        )


class NetworkDetailOut(NetworkOut):
    """Un réseau avec son offre de service complète et ses dispositifs."""

    keywords: list[str] = Field(description="Sigles et mots employés par les conseillers")
    sections: list[SectionOut] = Field(description="Offre de service, section par section")
    source: SourceOut = Field(description="Source de l'offre de service")
    dispositifs: list[DispositifOut] = Field(description="Dispositifs que le réseau met en œuvre")

    @classmethod
    def from_network(
        cls, network: Network, structures: int, departments: list[str], dispositifs: list[Dispositif]
    ) -> NetworkDetailOut:
        return cls(
            **NetworkOut.from_record(network, structures, departments).model_dump(),
            keywords=list(network.keywords),
            sections=[SectionOut.from_record(s) for s in network.sections],
            source=SourceOut.from_record(network.source),
            dispositifs=[DispositifOut.from_record(d) for d in dispositifs],
        )


class DirectoryContactOut(ApiModel):
    label: str = Field(description="Intitulé du contact")
    phone: str | None = Field(description="Téléphone")
    email: str | None = Field(description="Courriel (les adresses possiblement nominatives sont masquées)")
    address: str | None = Field(description="Adresse")
    postcode: str | None = Field(description="Code postal")
    commune: str | None = Field(description="Commune")
    department: str | None = Field(description="Département")
    url: str | None = Field(description="Site internet")
    source: str = Field(description="Identifiant de la source officielle")
    as_of: date | None = Field(description="Date de la donnée")

    @classmethod
    def from_record(cls, contact: Contact, show_personal_emails: bool) -> DirectoryContactOut:
        hidden = contact.email_possibly_personal and not show_personal_emails
        return cls(
            label=contact.label,
            phone=contact.phone,
            email=None if hidden else contact.email,
            address=contact.address,
            postcode=contact.postcode,
            commune=contact.commune,
            department=contact.department,
            url=contact.url,
            source=contact.source_id,
            as_of=contact.as_of,
        )


class StructureSummaryOut(ApiModel):
    """Un site de l'annuaire (résumé)."""

    id: str = Field(description="Identifiant du site", examples=["annuaire:mission_locale-38544-01"])
    name: str = Field(description="Nom")
    network: str = Field(description="Réseau (code)", examples=["mission_locale"])
    typology: str | None = Field(description="Typologie data·inclusion")
    commune: str | None = Field(description="Commune du site")
    department: str | None = Field(description="Département du site")
    departments: list[str] = Field(description="Départements desservis")
    contact_reported: bool = Field(description="Un contact a été signalé comme erroné et reste à vérifier")

    @classmethod
    def from_record(cls, site: Structure, departments: list[str], reported: bool) -> StructureSummaryOut:
        return cls(
            id=site.id,
            name=site.name,
            network=site.network,
            typology=site.typology,
            commune=site.commune,
            department=site.department,
            departments=departments,
            contact_reported=reported,
        )


class StructureDetailOut(StructureSummaryOut):
    """Un site de l'annuaire, avec ses contacts officiels et son offre propre."""

    address: str | None = Field(description="Adresse")
    postcode: str | None = Field(description="Code postal")
    commune_insee: str | None = Field(description="Code INSEE de la commune du site")
    contacts: list[DirectoryContactOut] = Field(description="Contacts issus des données officielles")
    offer: list[SectionOut] = Field(description="Ce que ce site ajoute à l'offre de son réseau")
    source: SourceOut | None = Field(description="Source de la fiche")

    @classmethod
    def from_site(
        cls,
        site: Structure,
        departments: list[str],
        reported: bool,
        source: Source | None,
        show_personal_emails: bool,
    ) -> StructureDetailOut:
        return cls(
            **StructureSummaryOut.from_record(site, departments, reported).model_dump(),
            address=site.address,
            postcode=site.postcode,
            commune_insee=site.commune_insee,
            contacts=[DirectoryContactOut.from_record(c, show_personal_emails) for c in site.contacts],
            offer=[SectionOut.from_record(s) for s in site.offer],
            source=SourceOut.from_record(source) if source else None,
        )


class StructurePageOut(ApiModel):
    """Une page de l'annuaire."""

    total: int = Field(description="Nombre total de sites correspondant aux filtres")
    limit: int = Field(description="Taille de la page")
    offset: int = Field(description="Rang du premier site de la page")
    items: list[StructureSummaryOut]


class CommuneOut(ApiModel):
    insee: str = Field(description="Code INSEE", examples=["38544"])
    name: str = Field(description="Nom", examples=["Vienne"])
    department: str = Field(description="Département", examples=["38"])
    department_name: str = Field(description="Nom du département", examples=["Isère"])
    epci: str | None = Field(description="Intercommunalité (EPCI)")
    employment_area: str | None = Field(description="Zone d'emploi")
    postcodes: list[str] = Field(description="Codes postaux")

    @classmethod
    def from_domain(cls, commune: Commune, department_name: str) -> CommuneOut:
        return cls(
            insee=commune.insee,
            name=commune.name,
            department=commune.department,
            department_name=department_name,
            epci=commune.epci_name,
            employment_area=commune.zone_name,
            postcodes=list(commune.postcodes),
        )


class ResolutionOut(ApiModel):
    """Le lieu que désigne un texte : une commune, des homonymes, un département seul, ou rien."""

    communes: list[CommuneOut] = Field(description="Une commune, ou plusieurs homonymes")
    department: str | None = Field(description="Département désigné", examples=["38"])
    ambiguous: bool = Field(description="Plusieurs communes portent ce nom")
    found: bool = Field(description="Un lieu a été reconnu")

    @classmethod
    def from_domain(cls, resolution: Resolution, department_names: dict[str, str]) -> ResolutionOut:
        return cls(
            communes=[CommuneOut.from_domain(c, department_names.get(c.department, "")) for c in resolution.communes],
            department=resolution.department,
            ambiguous=resolution.ambiguous,
            found=bool(resolution.communes or resolution.department),
        )


# --- feedback --------------------------------------------------------------------------------------------------


ReportField = Literal["phone", "email", "website", "address", "hours", "served_communes", "offer", "status"]


class FeedbackIn(ApiModel):
    """L'avis d'un conseiller sur un tour de conversation."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {"conversation_id": "q3JtVbYkS0mP2wX9aZcD1g", "turn": 2, "rating": "up"},
                {
                    "conversation_id": "q3JtVbYkS0mP2wX9aZcD1g",
                    "turn": 2,
                    "rating": "down",
                    "kind": "contact_errone",
                    "structure_id": "annuaire:mission_locale-38544-01",
                    "reason": "Le numéro n'est plus attribué",
                },
            ]
        },
    )

    conversation_id: str = Field(
        pattern=CONVERSATION_ID.pattern,
        description="Identifiant rendu par /api/chat",
        examples=["q3JtVbYkS0mP2wX9aZcD1g"],
    )
    turn: int = Field(ge=1, le=10_000, description="Numéro du tour concerné", examples=[1])
    rating: Rating = Field(description="Pouce levé ou baissé")
    reason: Annotated[str, Field(max_length=REASON_MAX), AfterValidator(clean_text)] | None = Field(
        default=None, description="Commentaire libre (sans données personnelles, s'il vous plaît)"
    )
    structure_id: str | None = Field(
        default=None,
        max_length=ID_MAX,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Structure concernée (identifiant rendu par /api/chat ou /api/structures)",
        examples=["annuaire:cio-42147-01"],
    )
    kind: FeedbackKind | None = Field(
        default=None,
        description="Nature du problème ; « contact_errone » signale le contact de la structure comme à vérifier",
    )
    field: ReportField | None = Field(
        default=None,
        description=(
            "Pour un signalement, le champ concerné (téléphone, courriel…) : il arrive dans la file des éditeurs "
            "du réseau du site"
        ),
        examples=["phone"],
    )


class FeedbackOut(ApiModel):
    id: int = Field(description="Numéro de l'avis", examples=[12])
    conversation_id: str = Field(description="Conversation concernée")
    turn: int = Field(description="Tour concerné")
    rating: Rating = Field(description="Pouce levé (up) ou baissé (down)")
    kind: FeedbackKind | None = Field(description="Nature du problème signalé")
    reason: str | None = Field(description="Commentaire du conseiller")
    structure_id: str | None = Field(description="Structure concernée")
    channel: str = Field(description="Interface d'origine (widget, teams)")
    created_at: datetime = Field(description="Date de l'avis (UTC)")
    resolved_at: datetime | None = Field(description="Date de levée du signalement par un administrateur")

    @classmethod
    def from_domain(cls, item: Feedback) -> FeedbackOut:
        return cls(
            id=item.id,
            conversation_id=item.conversation_id,
            turn=item.turn,
            rating=item.rating,
            kind=item.kind,
            reason=item.reason,
            structure_id=item.structure_id,
            channel=item.channel,
            created_at=item.created_at,
            resolved_at=item.resolved_at,
        )


class FeedbackPageOut(ApiModel):
    """Une page d'avis, du plus récent au plus ancien."""

    total: int = Field(description="Nombre total d'avis correspondant au filtre")
    limit: int = Field(description="Taille de la page")
    offset: int = Field(description="Rang du premier avis de la page")
    items: list[FeedbackOut]


# --- admin -----------------------------------------------------------------------------------------------------


class ReindexIn(ApiModel):
    # Strict: "yes", 1 or "true" are refused (422) rather than read as true.
    force: StrictBool = Field(
        default=False, description="Publier une nouvelle version même si la base n'a pas changé", examples=[False]
    )
    allow_shrink: StrictBool = Field(
        default=False,
        description=(
            "Publier même si la nouvelle version perd plus de 20 % des structures ou des passages de la version "
            "servie (sinon la tâche échoue et la version servie reste en place) ; consigné dans le journal"
        ),
    )
    sources: Literal["served", "settings"] = Field(
        default="served",
        description=(
            "served : relire les sources de la version servie (son manifeste) ; settings : celles de SPRO_SOURCES"
        ),
    )


class JobProgressOut(ApiModel):
    stage: str | None = Field(description="Étape en cours", examples=["Calcul des vecteurs"])
    done: int = Field(description="Éléments traités dans l'étape")
    total: int = Field(description="Éléments à traiter dans l'étape")


class JobOut(ApiModel):
    """Une réindexation : état, progression, comptes, erreurs par source."""

    id: str = Field(description="Identifiant de la tâche")
    status: JobStatus = Field(description="queued, running, succeeded ou failed")
    force: bool = Field(description="Publication forcée même sans changement")
    created_at: datetime = Field(description="Création de la tâche (UTC)")
    started_at: datetime | None = Field(description="Début de la construction")
    finished_at: datetime | None = Field(description="Fin de la tâche")
    progress: JobProgressOut = Field(description="Étape en cours et sa progression")
    version: str | None = Field(description="Version de l'index servie à l'issue de la tâche")
    published: bool = Field(description="Une nouvelle version a été publiée")
    counts: dict[str, Any] = Field(description="Comptes : réseaux, dispositifs, structures, passages…")
    errors: dict[str, list[str]] = Field(description="Entrées ignorées, par source")
    error: str | None = Field(description="Cause de l'échec, en français")

    @classmethod
    def from_domain(cls, job: ReindexJob) -> JobOut:
        return cls(
            id=job.id,
            status=job.status,
            force=job.force,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            progress=JobProgressOut(stage=job.stage, done=job.stage_done, total=job.stage_total),
            version=job.version,
            published=job.published,
            counts=job.counts,
            errors=job.problems,
            error=job.error,
        )


class DayStatsOut(ApiModel):
    day: date = Field(description="Jour (UTC)")
    questions: int = Field(description="Questions posées ce jour")
    without_confident_answer: int = Field(description="Questions restées sans réponse sûre")
    share_without_confident_answer: float = Field(description="Part sans réponse sûre (0 à 1)")

    @classmethod
    def from_domain(cls, day: DayStats) -> DayStatsOut:
        return cls(
            day=day.day,
            questions=day.questions,
            without_confident_answer=day.unconfident,
            share_without_confident_answer=round(day.unconfident / day.questions, 4) if day.questions else 0.0,
        )


class NeedCountOut(ApiModel):
    need: str = Field(description="Besoin (code du référentiel)", examples=["emploi"])
    questions: int = Field(description="Questions où ce besoin a été compris")


class DepartmentNeedsOut(ApiModel):
    department: str | None = Field(description="Département ; null quand il n'était pas connu", examples=["38"])
    needs: list[NeedCountOut] = Field(description="Besoins les plus fréquents, du plus fréquent au moins fréquent")


class StatsOut(ApiModel):
    """Statistiques agrégées : jamais le texte d'une question."""

    days: int = Field(description="Nombre de jours couverts")
    questions: int = Field(description="Questions posées sur la période")
    share_without_confident_answer: float = Field(description="Part des questions sans réponse sûre (0 à 1)")
    per_day: list[DayStatsOut]
    top_needs_per_department: list[DepartmentNeedsOut]

    @classmethod
    def from_domain(cls, stats: QuestionStats, days: int) -> StatsOut:
        return cls(
            days=days,
            questions=stats.questions,
            share_without_confident_answer=round(stats.unconfident / stats.questions, 4) if stats.questions else 0.0,
            per_day=[DayStatsOut.from_domain(d) for d in stats.days],
            top_needs_per_department=[
                DepartmentNeedsOut(
                    department=department or None,
                    needs=[NeedCountOut(need=n.need, questions=n.questions) for n in needs],
                )
                for department, needs in sorted(stats.needs_per_department.items())
            ],
        )


class CoverageRowOut(ApiModel):
    """Un réseau dans un département (ou toute la région) : ce que l'annuaire en sait."""

    network: str = Field(description="Réseau (code)", examples=["mission_locale"])
    department: str | None = Field(description="Département ; absent pour la ligne régionale", examples=["38"])
    sites: int = Field(description="Sites qui reçoivent du public ; 0 : trou de l'annuaire")
    freshest: date | None = Field(description="Date de la donnée la plus récente")
    oldest: date | None = Field(description="Date de la donnée la plus ancienne")
    share_with_phone: float = Field(description="Part des sites avec un téléphone (0 à 1)")
    share_with_email: float = Field(description="Part des sites avec un courriel (0 à 1)")
    share_with_hours: float = Field(description="Part des sites avec des horaires (0 à 1)")
    stale: int = Field(description="Sites dont un contact a plus de deux ans : à vérifier")

    @classmethod
    def from_domain(cls, row: CoverageRow) -> CoverageRowOut:
        return cls(
            network=row.network,
            department=row.department or None,
            sites=row.sites,
            freshest=row.freshest,
            oldest=row.oldest,
            share_with_phone=round(row.share(row.with_phone), 4),
            share_with_email=round(row.share(row.with_email), 4),
            share_with_hours=round(row.share(row.with_hours), 4),
            stale=row.stale,
        )


# --- health ----------------------------------------------------------------------------------------------------


class HealthOut(ApiModel):
    status: Literal["ok"] = Field(description="Le processus répond")


class ReadyOut(ApiModel):
    status: Literal["ready"] = Field(description="L'index est chargé")
    index_version: str = Field(description="Version de l'index servie", examples=["20250101T120000000000Z-1a2b3c4d"])
    chunks: int = Field(description="Nombre de passages indexés")
    structures: int = Field(description="Nombre de sites de l'annuaire")
    encoder: str = Field(description="Encodeur dense")
