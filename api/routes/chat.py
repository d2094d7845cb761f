"""The assistant's face for the widget: a conversation turn, a stateless search, forgetting a conversation."""

from __future__ import annotations

from typing import Annotated

from data_inclusion.schema.v1 import publics as di_publics
from fastapi import APIRouter, Path, Query, Response
from pydantic import AfterValidator, BaseModel

from api import conversation, messages
from api.deps import FairTurnDep, ServedDep, ServicesDep, SettingsDep, StoreDep
from api.errors import ApiError, ErrorCode
from api.places import commune_of
from api.routes import errors_doc
from api.runtime import Served
from api.schemas import (
    QUERY_MAX,
    ChatIn,
    ChatOut,
    ContextIn,
    DepartmentCode,
    SearchOut,
    clean_optional,
    clean_text,
    is_conversation_id,
)
from assistant.dialogue import TurnContext
from knowledge.referentials import SPRO_PUBLICS

router = APIRouter(prefix="/api", tags=["assistant"])

# Public codes -> French labels: a `public` filter is read by the assistant as words of the case.
PUBLIC_LABELS: dict[str, str] = {
    **{p.value: str(getattr(p, "label", p.value)) for p in di_publics.Public},
    **SPRO_PUBLICS,
}


def _json(answer: BaseModel) -> Response:
    """The answer serialised once by pydantic-core. Returned as a model, a sync route's answer is validated
    again against its `response_model` in a second trip through the thread pool, then serialised: the route
    keeps `response_model` for its documented schema, and the tests check answers against that schema."""
    return Response(content=answer.model_dump_json(), media_type="application/json")


def _context(
    served: Served, department: str | None, commune: str | None, remove: tuple[str, ...] = ()
) -> TurnContext | None:
    if department is None and commune is None and not remove:
        return None
    insee = commune_of(served.assistant.territory, commune).insee if commune else None
    return TurnContext(department=department, commune=insee, remove=remove)


@router.post(
    "/chat",
    summary="Un tour de conversation",
    description=(
        "Envoie le message du conseiller et renvoie l'orientation : réponse en français, question de précision "
        "éventuelle (territoire, âge, situation, besoin), ce qui a été compris, structures classées avec raisons, "
        "contacts et extraits, sources. Sans `conversation_id` (ou avec un identifiant inconnu ou expiré), une "
        "nouvelle conversation commence et son identifiant est renvoyé. Le texte des messages n'est jamais "
        "conservé ni journalisé : seule la situation comprise l'est, 24 h au plus."
    ),
    response_model=ChatOut,
    responses=errors_doc(400, 413, 422, 429, 503),
    dependencies=[FairTurnDep],
)
def chat(body: ChatIn, served: ServedDep, store: StoreDep, settings: SettingsDep, services: ServicesDep) -> Response:
    context_in = body.context or ContextIn()
    context = _context(served, context_in.department, context_in.commune, tuple(body.remove))
    exchange = conversation.converse(served, store, body.message, body.conversation_id, context)
    ids = [s.id for s in exchange.referral.structures]
    reports = store.contact_reports(ids, settings.contact_report_threshold)
    return _json(ChatOut.from_domain(exchange.referral, exchange.turn, reports, services.curation.rooms.referents(ids)))


@router.get(
    "/search",
    summary="Recherche sans conversation",
    description=(
        "Classe les structures pour une requête en une fois, sans conversation ni question de précision "
        "conservée. Les filtres de territoire, d'âge et de public complètent la requête."
    ),
    response_model=SearchOut,
    responses=errors_doc(413, 422, 429, 503),
    dependencies=[FairTurnDep],
)
def search(
    served: ServedDep,
    services: ServicesDep,
    store: StoreDep,
    settings: SettingsDep,
    q: Annotated[
        str,
        Query(min_length=1, max_length=QUERY_MAX, description="La situation, en texte libre",
              examples=["jeune de 19 ans sans diplôme qui cherche un emploi"]),
        AfterValidator(clean_text),
    ],
    department: Annotated[DepartmentCode | None, Query(description="Département de la personne")] = None,
    commune: Annotated[
        str | None,
        Query(max_length=100, description="Commune (code INSEE ou nom)", examples=["69123"]),
        AfterValidator(clean_optional),
    ] = None,
    age: Annotated[int | None, Query(ge=0, le=120, description="Âge de la personne", examples=[19])] = None,
    public: Annotated[
        str | None, Query(max_length=60, description="Public (code data·inclusion ou SPRO)", examples=["jeunes"])
    ] = None,
) -> Response:
    if public is not None and public not in PUBLIC_LABELS:
        raise ApiError(ErrorCode.UNKNOWN_PUBLIC, messages.UNKNOWN_PUBLIC.format(value=public[:60]))
    query = f"{q} ({PUBLIC_LABELS[public]})" if public else q
    context = _context(served, department, commune)
    referral = conversation.search(served, query, context, age)
    ids = [s.id for s in referral.structures]
    reports = store.contact_reports(ids, settings.contact_report_threshold)
    return _json(SearchOut.from_domain(referral, reports, services.curation.rooms.referents(ids)))


@router.delete(
    "/conversations/{conversation_id}",
    summary="Oublier une conversation",
    description=(
        "Efface tout de suite la situation conservée pour cette conversation (droit à l'effacement). "
        "Répond 204 même si la conversation n'existe pas ou a déjà expiré."
    ),
    status_code=204,
    response_class=Response,
    responses=errors_doc(429),
)
def forget(
    conversation_id: Annotated[str, Path(max_length=200, description="Identifiant de la conversation")],
    store: StoreDep,
) -> Response:
    if is_conversation_id(conversation_id):
        store.delete_conversation(conversation_id)
    return Response(status_code=204)
