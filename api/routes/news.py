"""« Quoi de neuf » : what each published version changed, as a page and as an Atom feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from api import digest as digest_face
from api.deps import ServedDep, SettingsDep
from api.routes import errors_doc
from api.runtime import Served
from api.schemas import DepartmentCode
from knowledge.changes import digest, read_changes
from knowledge.referentials import NetworkId

router = APIRouter(tags=["nouveautés"])
# The page shows this many days when no start is given.
DEFAULT_DAYS = 90


@router.get(
    "/nouveautes",
    summary="Quoi de neuf (page)",
    description="Les changements de la base sur une période, par réseau et, pour les sites, par département.",
    response_class=HTMLResponse,
    responses=errors_doc(422, 503),
)
def news_page(
    settings: SettingsDep,
    served: ServedDep,
    depuis: Annotated[date | None, Query(description="Début de la période (AAAA-MM-JJ) ; 90 jours par défaut")] = None,
    departement: Annotated[
        list[DepartmentCode], Query(description="Départements retenus pour les sites")
    ] = [],  # noqa: B006
    reseau: Annotated[list[NetworkId], Query(description="Réseaux retenus")] = [],  # noqa: B006
) -> HTMLResponse:
    until = datetime.now(UTC)
    since = datetime.combine(depuis, time(), UTC) if depuis else until - timedelta(days=DEFAULT_DAYS)
    period = digest(read_changes(settings.index_dir), since, until, departments=departement, networks=reseau)
    return HTMLResponse(digest_face.render(period, _names(served), settings.public_url).html)


@router.get(
    "/nouveautes.atom",
    summary="Quoi de neuf (flux Atom)",
    description="Une entrée par mise à jour de la base qui a changé quelque chose, la plus récente en premier.",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}, **errors_doc(503)},
)
def news_feed(settings: SettingsDep, served: ServedDep) -> Response:
    body = digest_face.atom(read_changes(settings.index_dir), _names(served), settings.public_url)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


def _names(served: Served) -> dict[str, str]:
    return {str(n.id): n.name for n in served.runtime.index.networks.values()}
