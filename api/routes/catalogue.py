"""The catalogue: networks, directory sites, dispositif sheets, and place names resolved."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AfterValidator

from api import messages
from api.deps import ServedDep, SettingsDep, StoreDep
from api.errors import ApiError, ErrorCode
from api.places import commune_of
from api.routes import errors_doc
from api.schemas import (
    DepartmentCode,
    DispositifDetailOut,
    DispositifOut,
    NetworkDetailOut,
    NetworkOut,
    ResolutionOut,
    StructureDetailOut,
    StructurePageOut,
    StructureSummaryOut,
    clean_optional,
    clean_text,
)
from knowledge.model import Structure
from knowledge.referentials import NetworkId

router = APIRouter(prefix="/api", tags=["catalogue"])

IdPath = Annotated[str, Path(max_length=200, description="Identifiant")]


@router.get(
    "/networks",
    summary="Les réseaux",
    description="Tous les réseaux du SPRO et partenaires, avec leur offre en une phrase et leur présence locale.",
    response_model=list[NetworkOut],
    responses=errors_doc(429, 503),
)
def networks(served: ServedDep) -> list[NetworkOut]:
    directory = served.assistant.directory
    return [
        NetworkOut.from_record(n, len(directory.structures(n.id)), directory.departments_covered(n.id))
        for n in served.runtime.index.networks.values()
    ]


@router.get(
    "/networks/{network_id}",
    summary="Un réseau",
    description="L'offre de service complète d'un réseau, ses publics, ses thématiques et ses dispositifs.",
    response_model=NetworkDetailOut,
    responses=errors_doc(404, 422, 429, 503),
)
def network(network_id: IdPath, served: ServedDep) -> NetworkDetailOut:
    index = served.runtime.index
    found = next((n for n in index.networks.values() if n.id == network_id), None)
    if found is None:
        raise ApiError(ErrorCode.UNKNOWN_NETWORK, messages.UNKNOWN_NETWORK.format(value=network_id[:80]))
    directory = served.assistant.directory
    sheets = [d for d in index.dispositifs.values() if found.id in d.operators]
    return NetworkDetailOut.from_network(
        found, len(directory.structures(found.id)), directory.departments_covered(found.id), sheets
    )


@router.get(
    "/structures",
    summary="L'annuaire des structures",
    description=(
        "Les sites de l'annuaire, filtrés par réseau, département desservi ou commune desservie (pour une "
        "commune : les sites les plus proches de chaque réseau), page par page."
    ),
    response_model=StructurePageOut,
    responses=errors_doc(422, 429, 503),
)
def structures(
    served: ServedDep,
    store: StoreDep,
    settings: SettingsDep,
    network: Annotated[NetworkId | None, Query(description="Réseau (code)")] = None,
    department: Annotated[DepartmentCode | None, Query(description="Département desservi")] = None,
    commune: Annotated[
        str | None,
        Query(max_length=100, description="Commune desservie (code INSEE ou nom)", examples=["38544"]),
        AfterValidator(clean_optional),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Taille de la page")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Rang du premier élément")] = 0,
) -> StructurePageOut:
    directory = served.assistant.directory
    sites: list[Structure]
    if commune:
        found = commune_of(served.assistant.territory, commune)
        networks = [network] if network else sorted(directory.networks())
        sites = [
            m.structure
            for n in networks
            for m in directory.sites(n, found, department or found.department, limit=1_000)
        ]
        if department:
            sites = [s for s in sites if department in directory.departments_served(s)]
    else:
        sites = directory.structures(network, department)
    page = sites[offset : offset + limit]
    # One report changes nothing for others; several independent ones, or an admin's confirmation, do.
    reports = store.contact_reports((s.id for s in page), settings.contact_report_threshold)
    return StructurePageOut(
        total=len(sites),
        limit=limit,
        offset=offset,
        items=[
            StructureSummaryOut.from_record(
                s, directory.departments_served(s), reports.get(s.id) in ("reported", "confirmed")
            )
            for s in page
        ],
    )


@router.get(
    "/structures/{structure_id}",
    summary="Une structure",
    description="Un site de l'annuaire : adresse, contacts officiels datés et sourcés, offre propre.",
    response_model=StructureDetailOut,
    responses=errors_doc(404, 422, 429, 503),
)
def structure(structure_id: IdPath, served: ServedDep, settings: SettingsDep, store: StoreDep) -> StructureDetailOut:
    index = served.runtime.index
    site = index.structures.get(structure_id)
    if site is None:
        raise ApiError(ErrorCode.UNKNOWN_STRUCTURE, messages.UNKNOWN_STRUCTURE.format(value=structure_id[:80]))
    return StructureDetailOut.from_site(
        site,
        served.assistant.directory.departments_served(site),
        store.contact_reports([site.id], settings.contact_report_threshold).get(site.id) in ("reported", "confirmed"),
        index.sources.get(site.source_id),
        settings.show_personal_emails,
    )


@router.get(
    "/dispositifs",
    summary="Les fiches dispositifs",
    description="Toutes les fiches dispositifs, ou celles d'un réseau.",
    response_model=list[DispositifOut],
    responses=errors_doc(422, 429, 503),
)
def dispositifs(
    served: ServedDep,
    network: Annotated[NetworkId | None, Query(description="Réseau qui met en œuvre le dispositif")] = None,
) -> list[DispositifOut]:
    sheets = served.runtime.index.dispositifs.values()
    return [DispositifOut.from_record(d) for d in sheets if network is None or network in d.operators]


@router.get(
    "/dispositifs/{dispositif_id}",
    summary="Une fiche dispositif",
    description="Ce qu'est le dispositif, pour qui, les conditions, qui le porte, le lien officiel.",
    response_model=DispositifDetailOut,
    responses=errors_doc(404, 422, 429, 503),
)
def dispositif(dispositif_id: IdPath, served: ServedDep) -> DispositifDetailOut:
    sheet = served.runtime.index.dispositifs.get(dispositif_id)
    if sheet is None:
        raise ApiError(ErrorCode.UNKNOWN_DISPOSITIF, messages.UNKNOWN_DISPOSITIF.format(value=dispositif_id[:80]))
    return DispositifDetailOut.from_record(sheet)


@router.get(
    "/territory/resolve",
    summary="Reconnaître un lieu",
    description=(
        "Le lieu que désigne un texte : nom de commune (avec tolérance aux fautes), code postal ou INSEE, "
        "département. Plusieurs communes homonymes sont toutes rendues."
    ),
    response_model=ResolutionOut,
    responses=errors_doc(422, 429, 503),
)
def resolve(
    served: ServedDep,
    q: Annotated[
        str,
        Query(min_length=1, max_length=200, description="Le lieu", examples=["Vienne", "38200"]),
        AfterValidator(clean_text),
    ],
) -> ResolutionOut:
    territory = served.assistant.territory
    return ResolutionOut.from_domain(territory.resolve(q), territory.departments())
