"""Subscribing to the « Quoi de neuf » digest without an account: ask (a confirmation link is sent), confirm,
unsubscribe in one click (RFC 8058: the link's page, or the mail client's one-click POST)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from api import digest as mail
from api import messages
from api.deps import ServedDep, SettingsDep, StoreDep
from api.errors import ApiError, ErrorCode
from api.routes import errors_doc, html_doc
from api.schemas import DepartmentCode
from api.store import Store
from api.subscriptions import Subscriptions
from knowledge.referentials import DEPARTMENTS, NetworkId

router = APIRouter(tags=["nouveautés"])
# The links carry secrets.token_urlsafe tokens: anything else is refused before it reaches the database
# (PostgreSQL rejects a NUL byte in a text value; the schema fuzzer sent one).
TokenQuery = Annotated[
    str, Query(pattern=r"^[A-Za-z0-9_-]{10,64}$", description="Jeton du lien reçu par courriel")
]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    courriel: EmailStr = Field(description="Adresse qui recevra le résumé ; rien d'autre n'est gardé")
    departements: list[DepartmentCode] = Field(default_factory=list, max_length=12,
                                               description="Départements des sites ; aucun : tous")
    reseaux: list[NetworkId] = Field(default_factory=list, max_length=30, description="Réseaux ; aucun : tous")


class SubscriptionOut(BaseModel):
    statut: str = Field(description="« confirmation_envoyee »")
    detail: str


def _subscriptions(request: Request, store: Store) -> Subscriptions:
    """One per app: it creates its table once."""
    existing = getattr(request.app.state, "subscriptions", None)
    if not isinstance(existing, Subscriptions):
        existing = Subscriptions(store)
        request.app.state.subscriptions = existing
    return existing


def _page(title: str, text: str, status: int = 200, action: str | None = None, button: str | None = None
          ) -> HTMLResponse:
    env: Environment = mail.environment()
    html = env.get_template("notice.html").render(title=title, text=text, action=action, button=button)
    return HTMLResponse(html, status_code=status)


@router.post(
    "/api/abonnements",
    summary="S'abonner à « Quoi de neuf »",
    description="Envoie un lien de confirmation à l'adresse ; l'abonnement ne vaut qu'une fois ce lien suivi.",
    status_code=202,
    response_model=SubscriptionOut,
    responses=errors_doc(400, 403, 413, 422, 429),
)
async def subscribe(body: SubscriptionIn, request: Request, settings: SettingsDep, store: StoreDep) -> SubscriptionOut:
    if settings.smtp_host is None:
        raise ApiError(ErrorCode.MAIL_UNAVAILABLE, messages.MAIL_UNAVAILABLE)
    subscriptions = _subscriptions(request, store)
    pending = await run_in_threadpool(subscriptions.subscribe, str(body.courriel), body.departements, body.reseaux)
    message = mail.confirmation(settings.public_url, pending.token)
    await run_in_threadpool(mail.deliver, [mail.Outgoing(pending.email, message)], settings, datetime.now(UTC))
    return SubscriptionOut(statut="confirmation_envoyee", detail=messages.SUBSCRIPTION_PENDING)


@router.get("/abonnements", summary="S'abonner (formulaire)", response_class=HTMLResponse,
            responses=errors_doc(503))
def subscribe_form(served: ServedDep) -> HTMLResponse:
    networks = sorted(((str(n.id), n.name) for n in served.runtime.index.networks.values()), key=lambda p: p[1])
    html = mail.environment().get_template("subscribe.html").render(departments=DEPARTMENTS, networks=networks)
    return HTMLResponse(html)


@router.post("/abonnements", summary="S'abonner (formulaire envoyé)", response_class=HTMLResponse,
             responses=html_doc(403, 422))
async def subscribe_from_form(request: Request, settings: SettingsDep, store: StoreDep) -> HTMLResponse:
    form = await request.form()
    try:
        body = SubscriptionIn.model_validate({
            "courriel": str(form.get("courriel", "")),
            "departements": [str(v) for v in form.getlist("departements")],
            "reseaux": [str(v) for v in form.getlist("reseaux")],
        })
    except ValidationError:
        return _page("Adresse ou choix invalides", "Vérifiez l'adresse électronique et les cases cochées, puis "
                     "recommencez.", status=422)
    try:
        out = await subscribe(body, request, settings, store)
    except ApiError as exc:
        return _page("Abonnement impossible", exc.detail, status=exc.status)
    return _page("Vérifiez votre messagerie", out.detail)


@router.get("/abonnements/confirmer", summary="Confirmer un abonnement", response_class=HTMLResponse,
            responses={**html_doc(404), **errors_doc(422)})
async def confirm(jeton: TokenQuery, request: Request, store: StoreDep) -> HTMLResponse:
    done = await run_in_threadpool(_subscriptions(request, store).confirm, jeton)
    if done is None:
        return _page("Lien inconnu ou expiré", "Ce lien de confirmation n'est pas (ou plus) valable : "
                     "abonnez-vous à nouveau depuis la page « Quoi de neuf ».", status=404)
    return _page("Abonnement confirmé", f"Le résumé « Quoi de neuf » sera envoyé à {done.email}. Chaque message "
                 "contient un lien pour se désinscrire en un clic.")


@router.get("/abonnements/desinscrire", summary="Se désinscrire (page)", response_class=HTMLResponse,
            responses=errors_doc(422))
async def unsubscribe_page(jeton: TokenQuery) -> HTMLResponse:
    return _page("Se désinscrire", "Votre adresse sera effacée et plus rien ne vous sera envoyé.",
                 action=f"/abonnements/desinscrire?jeton={jeton}", button="Me désinscrire")


@router.post("/abonnements/desinscrire", summary="Se désinscrire (un clic)", response_class=HTMLResponse,
             responses=errors_doc(422))
async def unsubscribe(jeton: TokenQuery, request: Request, store: StoreDep) -> HTMLResponse:
    await run_in_threadpool(_subscriptions(request, store).unsubscribe, jeton)
    # Said the same way whether or not it existed: the link reveals nothing about who subscribed.
    return _page("Désinscription faite", "Votre adresse est effacée : plus rien ne vous sera envoyé.")
