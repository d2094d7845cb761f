"""Editors sign in through an OpenID Connect provider (ProConnect, the State's): authorization code flow with
Authlib, state and nonce checked, the ID token validated; the provider's metadata is read on the first sign-in,
not at start (the app starts while the provider is down)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from pydantic import BaseModel, Field

from api import digest, messages
from api.deps import ServicesDep, SettingsDep
from api.editors.session import (
    EditorDep,
    check_csrf,
    csrf_token,
    editors_enabled,
    sign_in,
    sign_out,
    signed_in,
)
from api.errors import STATUS, ApiError, ErrorCode, error_response
from api.routes import errors_doc
from api.schemas import ErrorOut
from knowledge.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["éditeurs"])

PROVIDER = "proconnect"
HOME = "/editeurs"
RETURN_PATH = "/editeurs/retour"
_NEXT = "signin_next"
# Seconds allowed to each request to the provider (metadata, token, keys, userinfo).
PROVIDER_TIMEOUT = 10.0


def _transport_errors() -> tuple[type[Exception], ...]:
    """Authlib talks to the provider through httpx2 when it is installed, httpx otherwise: either's errors mean
    the provider cannot be reached (or answers 5xx)."""
    errors: list[type[Exception]] = [httpx.HTTPError]
    try:
        import httpx2
    except ImportError:
        return tuple(errors)
    errors.append(httpx2.HTTPError)
    return tuple(errors)


PROVIDER_UNREACHABLE = _transport_errors()
# Reading the metadata: unreachable, or not JSON, or without an authorization endpoint.
_METADATA_FAILURES: tuple[type[Exception], ...] = (*PROVIDER_UNREACHABLE, ValueError, KeyError)


class SignInRefused(Exception):
    """The provider's answer cannot sign anyone in; `code` says why."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(code.value)
        self.code = code
        self.detail = detail


def local_path(value: str | None) -> str:
    """Where to go after signing in: a path of this site only ("/editeurs/..."), never another site's address
    ("//evil.example", "/\\evil.example", "https://..."); anything else gives HOME."""
    if not value or len(value) > 500 or not value.startswith("/") or value.startswith("//"):
        return HOME
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return HOME
    return value


def provider(request: Request, settings: Settings) -> StarletteOAuth2App:
    """The app's OIDC client, registered on first use (cheap: the metadata is read by the first sign-in)."""
    client = getattr(request.app.state, "oidc_client", None)
    if not isinstance(client, StarletteOAuth2App):
        assert settings.oidc_issuer is not None
        oauth = OAuth()
        oauth.register(
            name=PROVIDER,
            server_metadata_url=f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
            client_kwargs={"scope": settings.oidc_scopes, "timeout": PROVIDER_TIMEOUT},
        )
        client = oauth.create_client(PROVIDER)
        assert isinstance(client, StarletteOAuth2App)
        request.app.state.oidc_client = client
    return client


def failure(request: Request, code: ErrorCode, detail: str) -> Response:
    """A browser (Accept: text/html) gets a page; anything else the one error shape."""
    if "text/html" in request.headers.get("accept", ""):
        page = digest.environment().get_template("notice.html").render(
            title=messages.SIGNIN_FAILED_TITLE, text=detail, action=None, button=None
        )
        return HTMLResponse(page, status_code=STATUS[code])
    return error_response(code, detail)


@router.get("/editeurs/connexion", include_in_schema=False)
async def start_sign_in(
    request: Request,
    settings: SettingsDep,
    suite: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """To the provider's sign-in page; back at /editeurs/retour, then at `suite`."""
    if not editors_enabled(settings):
        return failure(request, ErrorCode.EDITORS_DISABLED, messages.EDITORS_DISABLED)
    request.session[_NEXT] = local_path(suite)
    try:
        response: Response = await provider(request, settings).authorize_redirect(
            request, f"{settings.public_url.rstrip('/')}{RETURN_PATH}"
        )
    except _METADATA_FAILURES as exc:
        log.warning("identity provider metadata unavailable: %s", type(exc).__name__)
        return failure(request, ErrorCode.IDENTITY_PROVIDER_UNAVAILABLE, messages.IDENTITY_PROVIDER_UNAVAILABLE)
    return response


@router.get("/editeurs/retour", include_in_schema=False)
async def finish_sign_in(request: Request, services: ServicesDep) -> Response:
    """The provider sends the browser back here with a code: exchanged, checked, and the editor signed in."""
    settings = services.settings
    if not editors_enabled(settings):
        return failure(request, ErrorCode.EDITORS_DISABLED, messages.EDITORS_DISABLED)
    client = provider(request, settings)
    try:
        token = await client.authorize_access_token(request)
        claims = await _claims(client, token)
    except SignInRefused as exc:
        log.warning("editor sign-in refused: %s", exc.code.value)
        return failure(request, exc.code, exc.detail)
    except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as exc:
        # A provider error (access denied...), a state or nonce mismatch, an ID token that does not validate.
        log.warning("editor sign-in failed: %s", type(exc).__name__)
        return failure(request, ErrorCode.SIGNIN_FAILED, messages.SIGNIN_FAILED)
    except PROVIDER_UNREACHABLE as exc:
        log.warning("identity provider unavailable during sign-in: %s", type(exc).__name__)
        return failure(request, ErrorCode.IDENTITY_PROVIDER_UNAVAILABLE, messages.IDENTITY_PROVIDER_UNAVAILABLE)
    destination = local_path(request.session.get(_NEXT))
    sign_in(request, claims["sub"], claims["email"], _name(claims))
    log.info("editor signed in")
    return RedirectResponse(destination, status_code=303)


@router.post("/editeurs/deconnexion", include_in_schema=False)
async def sign_out_route(request: Request) -> Response:
    """Sign out (form field `csrf`); when nobody is signed in there is nothing to guard."""
    if signed_in(request):
        form = await request.form()
        token = form.get("csrf")
        try:
            check_csrf(request, token if isinstance(token, str) else None)
        except ApiError as exc:
            return failure(request, exc.code, exc.detail)
    sign_out(request)
    return RedirectResponse("/", status_code=303)


class EditorOut(BaseModel):
    """L'éditeur connecté et ce qu'il peut modifier."""

    email: str = Field(description="Adresse transmise par le fournisseur d'identité")
    name: str | None = Field(description="Nom transmis par le fournisseur d'identité")
    organisations: list[str] = Field(description="Structures de ses droits d'édition")
    networks: list[str] = Field(description="Réseaux de ses droits (« * » : administrateur régional)")
    regional_admin: bool = Field(description="Peut modifier tous les sites de la région")
    csrf: str = Field(description="Jeton à joindre (champ « csrf ») à chaque formulaire de modification")


@router.get(
    "/api/editeurs/moi",
    summary="L'éditeur connecté",
    description=(
        "Adresse, structures et réseaux modifiables de l'éditeur connecté (cookie de session, après "
        "/editeurs/connexion), et le jeton de ses formulaires ; 401 sans connexion, 403 quand la connexion des "
        "éditeurs est désactivée."
    ),
    response_model=EditorOut,
    responses={
        **errors_doc(429),
        401: {"model": ErrorOut, "description": "Aucun éditeur connecté"},
        403: {"model": ErrorOut, "description": "Connexion des éditeurs désactivée"},
    },
)
def me(request: Request, editor: EditorDep) -> EditorOut:
    return EditorOut(
        email=editor.email,
        name=editor.name,
        organisations=list(editor.organisations),
        networks=list(editor.networks),
        regional_admin=editor.is_regional_admin,
        csrf=csrf_token(request),
    )


async def _claims(client: StarletteOAuth2App, token: dict[str, Any]) -> dict[str, Any]:
    """The validated ID token's claims, completed by the userinfo endpoint when the address is not in it
    (ProConnect keeps it there, in a signed JWT)."""
    claims = dict(token.get("userinfo") or {})
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignInRefused(ErrorCode.SIGNIN_FAILED, messages.SIGNIN_FAILED)
    if not claims.get("email"):
        claims.update(await _userinfo(client, token, claims["sub"]))
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SignInRefused(ErrorCode.SIGNIN_EMAIL_MISSING, messages.SIGNIN_EMAIL_MISSING)
    if claims.get("email_verified") is False:
        raise SignInRefused(ErrorCode.SIGNIN_EMAIL_UNVERIFIED, messages.SIGNIN_EMAIL_UNVERIFIED)
    claims["email"] = email.strip().lower()
    return claims


async def _userinfo(client: StarletteOAuth2App, token: dict[str, Any], subject: str) -> dict[str, Any]:
    """The userinfo answer, plain JSON or a JWT signed with the provider's keys; its subject must be the ID
    token's (OpenID Connect Core, 5.3.2)."""
    metadata = await client.load_server_metadata()
    endpoint = metadata.get("userinfo_endpoint")
    if not endpoint:
        return {}
    response = await client.get(endpoint, token=token)
    response.raise_for_status()
    if response.headers.get("content-type", "").split(";")[0].strip() == "application/jwt":
        keys = KeySet.import_key_set(await client.fetch_jwk_set())
        algorithms = metadata.get("userinfo_signing_alg_values_supported") or ["RS256", "ES256"]
        info = dict(jwt.decode(response.text, keys, algorithms=algorithms).claims)
    else:
        info = response.json()
    if not isinstance(info, dict) or info.get("sub") != subject:
        raise SignInRefused(ErrorCode.SIGNIN_FAILED, messages.SIGNIN_FAILED)
    return info


def _name(claims: dict[str, Any]) -> str | None:
    """`name`, or ProConnect's given_name and usual_name (or family_name)."""
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = [claims.get("given_name"), claims.get("usual_name") or claims.get("family_name")]
    joined = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    return joined or None
