"""One error shape for every 4xx/5xx: `{"error": code, "detail": "message en français"}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import messages

log = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """Stable, machine-readable error codes; clients and tests key on these, never on the prose."""

    INVALID_REQUEST = "invalid_request"
    INVALID_JSON = "invalid_json"
    INVALID_BODY = "invalid_body"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    INDEX_UNAVAILABLE = "index_unavailable"
    ADMIN_DISABLED = "admin_disabled"
    UNAUTHORIZED = "unauthorized"
    REINDEX_RUNNING = "reindex_running"
    UNKNOWN_NETWORK = "unknown_network"
    UNKNOWN_STRUCTURE = "unknown_structure"
    UNKNOWN_DISPOSITIF = "unknown_dispositif"
    UNKNOWN_JOB = "unknown_job"
    UNKNOWN_FEEDBACK = "unknown_feedback"
    UNKNOWN_COMMUNE = "unknown_commune"
    AMBIGUOUS_COMMUNE = "ambiguous_commune"
    UNKNOWN_PUBLIC = "unknown_public"
    STRUCTURE_REQUIRED = "structure_required"
    TURN_AHEAD = "turn_ahead"
    UNKNOWN_CONVERSATION = "unknown_conversation"
    STRUCTURE_NOT_SHOWN = "structure_not_shown"
    MAIL_UNAVAILABLE = "mail_unavailable"
    EDITOR_REQUIRED = "editor_required"
    EDITORS_DISABLED = "editors_disabled"
    FORM_EXPIRED = "form_expired"
    SIGNIN_FAILED = "signin_failed"
    SIGNIN_EMAIL_MISSING = "signin_email_missing"
    SIGNIN_EMAIL_UNVERIFIED = "signin_email_unverified"
    IDENTITY_PROVIDER_UNAVAILABLE = "identity_provider_unavailable"
    GRANT_EXISTS = "grant_exists"
    UNKNOWN_GRANT = "unknown_grant"
    EDITOR_FORBIDDEN = "editor_forbidden"
    UNKNOWN_REFERENT = "unknown_referent"
    INVALID_FIELD = "invalid_field"


STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.INVALID_JSON: 400,
    ErrorCode.INVALID_BODY: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.INDEX_UNAVAILABLE: 503,
    ErrorCode.ADMIN_DISABLED: 403,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.REINDEX_RUNNING: 409,
    ErrorCode.UNKNOWN_NETWORK: 404,
    ErrorCode.UNKNOWN_STRUCTURE: 404,
    ErrorCode.UNKNOWN_DISPOSITIF: 404,
    ErrorCode.UNKNOWN_JOB: 404,
    ErrorCode.UNKNOWN_FEEDBACK: 404,
    ErrorCode.UNKNOWN_COMMUNE: 422,
    ErrorCode.AMBIGUOUS_COMMUNE: 422,
    ErrorCode.UNKNOWN_PUBLIC: 422,
    ErrorCode.STRUCTURE_REQUIRED: 422,
    ErrorCode.TURN_AHEAD: 422,
    ErrorCode.UNKNOWN_CONVERSATION: 404,
    ErrorCode.STRUCTURE_NOT_SHOWN: 422,
    ErrorCode.MAIL_UNAVAILABLE: 403,
    ErrorCode.EDITOR_REQUIRED: 401,
    ErrorCode.EDITORS_DISABLED: 403,
    ErrorCode.FORM_EXPIRED: 403,
    ErrorCode.SIGNIN_FAILED: 400,
    ErrorCode.SIGNIN_EMAIL_MISSING: 403,
    ErrorCode.SIGNIN_EMAIL_UNVERIFIED: 403,
    ErrorCode.IDENTITY_PROVIDER_UNAVAILABLE: 503,
    ErrorCode.GRANT_EXISTS: 409,
    ErrorCode.UNKNOWN_GRANT: 404,
    ErrorCode.EDITOR_FORBIDDEN: 403,
    ErrorCode.UNKNOWN_REFERENT: 404,
    ErrorCode.INVALID_FIELD: 422,
}

# Framework statuses (routing, body parsing) -> our codes.
_HTTP_CODES: dict[int, ErrorCode] = {
    400: ErrorCode.INVALID_BODY,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.ADMIN_DISABLED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    429: ErrorCode.RATE_LIMITED,
}
_HTTP_DETAILS: dict[ErrorCode, str] = {
    ErrorCode.INVALID_BODY: messages.INVALID_BODY,
    ErrorCode.UNAUTHORIZED: messages.UNAUTHORIZED,
    ErrorCode.ADMIN_DISABLED: messages.ADMIN_DISABLED,
    ErrorCode.NOT_FOUND: messages.NOT_FOUND,
    ErrorCode.METHOD_NOT_ALLOWED: messages.METHOD_NOT_ALLOWED,
}


class ApiError(Exception):
    """An error the API answers on purpose; its status follows from its code."""

    def __init__(self, code: ErrorCode, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})

    @property
    def status(self) -> int:
        return STATUS[self.code]


def error_response(code: ErrorCode, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code.value, "detail": detail}, status_code=STATUS[code], headers=headers)


def validation_detail(errors: Sequence[Any]) -> tuple[ErrorCode, str]:
    """The first pydantic error, spelt out in French with the faulty field named."""
    if not errors:
        return ErrorCode.INVALID_REQUEST, messages.FIELD_INVALID.format(field="requête", reason=messages.GENERIC_REASON)
    first = errors[0]
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        return ErrorCode.INVALID_JSON, messages.INVALID_JSON
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    field = ".".join(location) or "corps"
    if kind.startswith("spro_"):
        reason = str(first.get("msg", messages.GENERIC_REASON))
    else:
        reason = messages.VALIDATION_REASONS.get(kind, messages.GENERIC_REASON)
    return ErrorCode.INVALID_REQUEST, messages.FIELD_INVALID.format(field=field, reason=reason)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.code, exc.detail, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    code, detail = validation_detail(exc.errors())
    return error_response(code, detail)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code)
    if code is None:
        # A status we never raise ourselves: keep it, with the generic shape.
        return JSONResponse(
            {"error": f"http_{exc.status_code}", "detail": messages.INTERNAL_ERROR},
            status_code=exc.status_code,
            headers=exc.headers,
        )
    return error_response(code, _HTTP_DETAILS.get(code, messages.INTERNAL_ERROR), exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The route template only: the request (message, query string) may hold personal data.
    route = getattr(request.scope.get("route"), "path", "?")
    log.error("unexpected error on %s %s", request.method, route, exc_info=exc)
    return error_response(ErrorCode.INTERNAL_ERROR, messages.INTERNAL_ERROR)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
