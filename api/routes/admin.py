"""Administration (bearer token): re-index without restart, aggregated stats, feedback review."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Response

from api import messages
from api.deps import AdminDep, ServedDep, ServicesDep, StoreDep
from api.errors import ApiError, ErrorCode
from api.routes import errors_doc
from api.schemas import (
    CoverageRowOut,
    DepartmentCode,
    FeedbackOut,
    FeedbackPageOut,
    JobOut,
    ReindexIn,
    StatsOut,
)
from knowledge.directory.coverage import coverage
from knowledge.referentials import DEPARTMENTS, NetworkId

router = APIRouter(
    prefix="/api/admin",
    tags=["administration"],
    dependencies=[AdminDep],
    responses=errors_doc(401, 403, 429),
)


@router.post(
    "/reindex",
    summary="Lancer une réindexation",
    description=(
        "Lance la construction d'une nouvelle version de l'index (base embarquée + sources configurées) en "
        "arrière-plan. La nouvelle version est servie dès qu'elle est validée, sans redémarrage et sans faire "
        "échouer les requêtes en cours. Une seule à la fois : 409 tant qu'une tâche tourne."
    ),
    status_code=202,
    response_model=JobOut,
    responses=errors_doc(400, 409, 413, 422),
)
def start_reindex(
    services: ServicesDep, response: Response, body: Annotated[ReindexIn | None, Body()] = None
) -> JobOut:
    options = body or ReindexIn()
    job = services.reindexer.start(force=options.force, allow_shrink=options.allow_shrink, sources=options.sources)
    response.headers["Location"] = f"/api/admin/reindex/{job.id}"
    return JobOut.from_domain(job)


@router.get(
    "/reindex/{job_id}",
    summary="Suivre une réindexation",
    description="État, étape et progression, comptes, entrées ignorées par source, cause d'un échec.",
    response_model=JobOut,
    responses=errors_doc(404, 422),
)
def reindex_status(
    job_id: Annotated[str, Path(max_length=64, description="Identifiant de la tâche")], store: StoreDep
) -> JobOut:
    job = store.job(job_id)
    if job is None:
        raise ApiError(ErrorCode.UNKNOWN_JOB, messages.UNKNOWN_JOB.format(value=job_id[:64]))
    return JobOut.from_domain(job)


@router.get(
    "/stats",
    summary="Statistiques d'usage",
    description=(
        "Questions par jour, part des questions sans réponse sûre, besoins les plus fréquents par département. "
        "Agrégats seulement : le texte des questions n'est jamais conservé."
    ),
    response_model=StatsOut,
    responses=errors_doc(422),
)
def stats(
    store: StoreDep,
    days: Annotated[int, Query(ge=1, le=366, description="Nombre de jours, aujourd'hui compris")] = 30,
) -> StatsOut:
    return StatsOut.from_domain(store.question_stats(days), days)


@router.get(
    "/coverage",
    summary="Couverture de l'annuaire",
    description=(
        "Par réseau et par département : nombre de sites qui reçoivent du public (0 : trou), date de la donnée "
        "la plus récente, part des sites avec téléphone, courriel, horaires, et sites dont un contact a plus de "
        "deux ans (« à vérifier »). Une ligne régionale par réseau (département absent)."
    ),
    response_model=list[CoverageRowOut],
    responses=errors_doc(422, 503),
)
def directory_coverage(
    served: ServedDep,
    network: Annotated[NetworkId | None, Query(description="Réseau (code)")] = None,
    department: Annotated[DepartmentCode | None, Query(description="Département")] = None,
) -> list[CoverageRowOut]:
    index = served.runtime.index
    networks = [network] if network else sorted(index.networks)
    departments = [department] if department else sorted(DEPARTMENTS)
    rows = coverage(index.records.structures, networks, departments, date.today())
    return [CoverageRowOut.from_domain(row) for row in rows]


@router.get(
    "/feedback",
    summary="Les avis des conseillers",
    description="Les avis, du plus récent au plus ancien ; par défaut ceux qui ne sont pas encore traités.",
    response_model=FeedbackPageOut,
    responses=errors_doc(422),
)
def list_feedback(
    store: StoreDep,
    status: Annotated[
        Literal["open", "resolved", "all"], Query(description="open : à traiter ; resolved : traités ; all : tous")
    ] = "open",
    limit: Annotated[int, Query(ge=1, le=200, description="Taille de la page")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Rang du premier avis")] = 0,
) -> FeedbackPageOut:
    items, total = store.list_feedback(status, limit, offset)
    return FeedbackPageOut(total=total, limit=limit, offset=offset, items=[FeedbackOut.from_domain(i) for i in items])


@router.post(
    "/feedback/{feedback_id}/resolve",
    summary="Lever un signalement",
    description="Marque l'avis comme traité (il quitte la file « open »).",
    response_model=FeedbackOut,
    responses=errors_doc(404, 422),
)
def resolve_feedback(
    feedback_id: Annotated[int, Path(ge=1, le=2_000_000_000, description="Numéro de l'avis")], store: StoreDep
) -> FeedbackOut:
    item = store.resolve_feedback(feedback_id)
    if item is None:
        raise ApiError(ErrorCode.UNKNOWN_FEEDBACK, messages.UNKNOWN_FEEDBACK.format(value=feedback_id))
    return FeedbackOut.from_domain(item)
