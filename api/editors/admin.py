"""Administration of the editors' grants (bearer token): which address or domain may edit which network's sites,
in which departments."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Path, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from api import messages
from api.deps import AdminDep, ServicesDep
from api.editors.grants import GrantExists
from api.editors.identity import ALL_NETWORKS, Grant
from api.errors import ApiError, ErrorCode
from api.routes import errors_doc
from api.schemas import ErrorOut, clean_text
from knowledge.referentials import DEPARTMENTS, NETWORK_IDS

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/admin/editeurs",
    tags=["administration"],
    dependencies=[AdminDep],
    responses=errors_doc(401, 403, 429),
)

# A DNS name of at least two labels, in ASCII (an internationalised domain in its xn-- form).
_HOSTNAME = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])$")
ORGANISATION_MIN, ORGANISATION_MAX = 2, 120
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "Ce droit existe déjà (même adresse ou domaine, même réseau)"}
}


def grant_match(value: str) -> str:
    """A full address (checked by email-validator, without DNS) or "@" and a domain; lowercased."""
    value = value.strip().lower()
    if value.startswith("@"):
        if _HOSTNAME.fullmatch(value[1:]) is None:
            raise PydanticCustomError("spro_grant_match", messages.GRANT_MATCH_INVALID)
        return value
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise PydanticCustomError("spro_grant_match", messages.GRANT_MATCH_INVALID) from None
    return checked.normalized.lower()


def grant_network(value: str) -> str:
    if value != ALL_NETWORKS and value not in NETWORK_IDS:
        raise PydanticCustomError("spro_grant_network", messages.GRANT_NETWORK_UNKNOWN)
    return value


def organisation_label(value: str) -> str:
    value = clean_text(value)
    if "<" in value or ">" in value:
        raise PydanticCustomError("spro_no_html", messages.NO_ANGLE_BRACKETS)
    if len(value) < ORGANISATION_MIN:
        raise PydanticCustomError("spro_too_short", messages.TEXT_TOO_SHORT.format(min=ORGANISATION_MIN))
    return value


class GrantIn(BaseModel):
    """Un droit d'édition : une adresse ou un domaine, un réseau, des départements."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"match": "@capemploi73.fr", "network": "cap_emploi", "departments": ["73"],
                 "organisation": "Cap emploi Savoie"},
                {"match": "referente.annuaire@region.example.fr", "network": "*", "departments": [],
                 "organisation": "Région Auvergne-Rhône-Alpes"},
            ]
        },
    )

    match: Annotated[str, Field(min_length=3, max_length=320), AfterValidator(grant_match)] = Field(
        description="Adresse électronique complète, ou domaine précédé de « @ » (toutes les adresses de ce domaine "
                    "exactement, pas de ses sous-domaines)",
        examples=["@capemploi73.fr", "a.martin@capemploi73.fr"],
    )
    network: Annotated[str, Field(max_length=64), AfterValidator(grant_network)] = Field(
        description="Réseau dont les sites deviennent modifiables, ou « * » : administrateur régional (tous les "
                    "réseaux, tous les départements)",
        json_schema_extra={"enum": [*NETWORK_IDS, ALL_NETWORKS]},
        examples=["cap_emploi"],
    )
    departments: list[Annotated[str, Field(json_schema_extra={"enum": list(DEPARTMENTS)})]] = Field(
        default_factory=list,
        max_length=len(DEPARTMENTS),
        description="Départements des sites modifiables ; aucun : toute la région (et les sites régionaux)",
        examples=[["73"]],
    )
    organisation: Annotated[
        str, Field(min_length=ORGANISATION_MIN, max_length=ORGANISATION_MAX), AfterValidator(organisation_label)
    ] = Field(description="Structure de l'éditeur, montrée aux conseillers", examples=["Cap emploi Savoie"])

    @field_validator("departments")
    @classmethod
    def _departments(cls, value: list[str], info: ValidationInfo) -> list[str]:
        for code in value:
            if code not in DEPARTMENTS:
                raise PydanticCustomError(
                    "spro_grant_department", messages.GRANT_DEPARTMENT_UNKNOWN.format(value=code[:10])
                )
        if value and info.data.get("network") == ALL_NETWORKS:
            raise PydanticCustomError("spro_grant_regional", messages.GRANT_REGIONAL_DEPARTMENTS)
        return sorted(set(value))


class GrantOut(BaseModel):
    id: int = Field(description="Numéro du droit (pour le retirer)")
    match: str = Field(description="Adresse ou domaine (« @… »)")
    network: str = Field(description="Réseau, ou « * » pour un administrateur régional")
    departments: list[str] = Field(description="Départements ; aucun : toute la région")
    organisation: str
    created_at: datetime

    @classmethod
    def from_domain(cls, grant: Grant) -> GrantOut:
        return cls(
            id=grant.id,
            match=grant.match,
            network=grant.network,
            departments=list(grant.departments),
            organisation=grant.organisation,
            created_at=grant.created_at,
        )


@router.get(
    "",
    summary="Droits d'édition",
    description="Toutes les adresses et tous les domaines qui peuvent modifier des sites, par réseau.",
    response_model=list[GrantOut],
)
def list_grants(services: ServicesDep) -> list[GrantOut]:
    return [GrantOut.from_domain(grant) for grant in services.grants.list()]


@router.post(
    "",
    summary="Donner un droit d'édition",
    description=(
        "Une adresse ou un domaine peut désormais modifier les sites d'un réseau (de certains départements, ou de "
        "toute la région) ; effet immédiat, même pour un éditeur déjà connecté. Un seul droit par adresse ou domaine "
        "et par réseau : pour le changer, retirez-le puis donnez le nouveau."
    ),
    status_code=201,
    response_model=GrantOut,
    responses={**errors_doc(400, 413, 422), **_CONFLICT},
)
def add_grant(body: GrantIn, services: ServicesDep) -> GrantOut:
    try:
        grant = services.grants.add(body.match, body.network, body.departments, body.organisation)
    except GrantExists as exc:
        raise ApiError(
            ErrorCode.GRANT_EXISTS, messages.GRANT_EXISTS.format(match=exc.match, network=exc.network)
        ) from exc
    log.info("editor grant %d added: network %s, organisation %r", grant.id, grant.network, grant.organisation)
    return GrantOut.from_domain(grant)


@router.delete(
    "/{grant_id}",
    summary="Retirer un droit d'édition",
    description="Effet immédiat : un éditeur connecté par ce droit ne peut plus rien modifier à sa requête suivante.",
    status_code=204,
    response_class=Response,
    responses=errors_doc(404, 422),
)
def remove_grant(
    grant_id: Annotated[int, Path(ge=1, le=2_000_000_000, description="Numéro du droit")], services: ServicesDep
) -> Response:
    if not services.grants.remove(grant_id):
        raise ApiError(ErrorCode.UNKNOWN_GRANT, messages.UNKNOWN_GRANT.format(value=grant_id))
    log.info("editor grant %d removed", grant_id)
    return Response(status_code=204)
