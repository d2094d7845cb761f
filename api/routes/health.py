"""Liveness, readiness (index loaded, its version) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import AdminDep, ServedDep, ServicesDep
from api.routes import errors_doc
from api.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["exploitation"])


@router.get("/healthz", summary="Le processus répond", response_model=HealthOut)
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    summary="Prêt à répondre",
    description="L'index est chargé : sa version et sa taille. 503 tant qu'aucun index n'est servi.",
    response_model=ReadyOut,
    responses=errors_doc(503),
)
async def readyz(served: ServedDep) -> ReadyOut:
    index = served.runtime.index
    return ReadyOut(
        status="ready",
        index_version=index.version,
        chunks=len(index.chunks),
        structures=len(index.structures),
        encoder=index.manifest.encoder,
    )


@router.get(
    "/metrics",
    summary="Métriques Prometheus",
    description=(
        "Requêtes et latence par gabarit de route, version de l'index servie, nombre de passages. "
        "Jeton d'administration requis (`Authorization: Bearer …`), comme les routes `/api/admin/...`."
    ),
    response_class=Response,
    dependencies=[AdminDep],
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Format texte Prometheus"},
        **errors_doc(401, 403),
    },
)
def metrics(services: ServicesDep) -> Response:
    return Response(services.metrics.render(), media_type=services.metrics.content_type)
