"""The signed-in editor, kept in Starlette's signed cookie session; their grants are read fresh on every request,
so that a revoked grant takes effect at once. A CSRF token per session guards the editors' forms."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from api import messages
from api.deps import ServicesDep
from api.editors.grants import GrantStore
from api.editors.identity import Editor
from api.errors import ApiError, ErrorCode
from knowledge.settings import Settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "spro_editeur"
_EDITOR = "editor"
_CSRF = "csrf"


def install_session(app: FastAPI, settings: Settings) -> None:
    """The signed session cookie; add it before the other middlewares (innermost), so that their answers and the
    one error shape stay as they are."""
    if settings.session_secret is not None and settings.session_secret.get_secret_value():
        secret = settings.session_secret.get_secret_value()
    else:
        secret = secrets.token_urlsafe(32)
        if editors_enabled(settings):
            log.warning(
                "SPRO_SESSION_SECRET is not set: editors' sessions are signed with a random key of this process, "
                "they survive no restart and are not shared by several workers"
            )
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=max(60, round(settings.editor_session_hours * 3600)),
        same_site="lax",
        https_only=settings.public_url.startswith("https"),
    )


def sign_in(request: Request, subject: str, email: str, name: str | None) -> None:
    """A new session (nothing kept from before: no fixation), with a new CSRF token."""
    request.session.clear()
    request.session[_EDITOR] = {"sub": subject, "email": email, "name": name, "since": time.time()}
    request.session[_CSRF] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    request.session.clear()


def signed_in(request: Request) -> bool:
    """Someone signed in on this session (maybe too long ago: current_editor says)."""
    return isinstance(request.session.get(_EDITOR), dict)


def current_editor(
    request: Request, grants: GrantStore, settings: Settings, now: float | None = None
) -> Editor | None:
    """None when nobody is signed in or the sign-in is older than editor_session_hours. Blocking (one query of
    the grants): call it from a worker thread."""
    signed: Any = request.session.get(_EDITOR)
    if not isinstance(signed, dict):
        return None
    since = signed.get("since")
    moment = time.time() if now is None else now
    if not isinstance(since, int | float) or moment - since > settings.editor_session_hours * 3600:
        sign_out(request)
        return None
    subject, email, name = signed.get("sub"), signed.get("email"), signed.get("name")
    if not isinstance(subject, str) or not isinstance(email, str):
        sign_out(request)
        return None
    return Editor(
        subject=subject,
        email=email,
        name=name if isinstance(name, str) else None,
        grants=grants.for_email(email),
    )


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first need: put it in a hidden field `csrf` of each editor's form."""
    token = request.session.get(_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF] = token
    return token


def check_csrf(request: Request, token: str | None) -> None:
    """Raises ApiError form_expired (403) unless `token` is this session's CSRF token."""
    expected = request.session.get(_CSRF)
    if not isinstance(expected, str) or not expected or not token:
        raise ApiError(ErrorCode.FORM_EXPIRED, messages.FORM_EXPIRED)
    if not secrets.compare_digest(token.encode(), expected.encode()):
        raise ApiError(ErrorCode.FORM_EXPIRED, messages.FORM_EXPIRED)


def editors_enabled(settings: Settings) -> bool:
    """Sign-in needs a provider and this service's client id there."""
    return settings.oidc_issuer is not None and settings.oidc_client_id is not None


def require_editors_enabled(settings: Settings) -> None:
    if not editors_enabled(settings):
        raise ApiError(ErrorCode.EDITORS_DISABLED, messages.EDITORS_DISABLED)


def get_optional_editor(request: Request, services: ServicesDep) -> Editor | None:
    """The signed-in editor, or None (not signed in, or editor sign-in off)."""
    if not editors_enabled(services.settings):
        return None
    return current_editor(request, services.grants, services.settings)


def get_editor(request: Request, services: ServicesDep) -> Editor:
    """The signed-in editor; 403 editors_disabled when sign-in is off, 401 editor_required when not signed in."""
    require_editors_enabled(services.settings)
    editor = current_editor(request, services.grants, services.settings)
    if editor is None:
        raise ApiError(ErrorCode.EDITOR_REQUIRED, messages.EDITOR_REQUIRED)
    return editor


# Sync dependencies: FastAPI runs them in a worker thread, off the event loop (they read the grants).
EditorDep = Annotated[Editor, Depends(get_editor)]
OptionalEditorDep = Annotated[Editor | None, Depends(get_optional_editor)]
