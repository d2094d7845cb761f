"""Dependency aliases: what a route needs, taken once at the start of the request."""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import messages
from api.errors import ApiError, ErrorCode
from api.fairness import TurnBusy
from api.runtime import Served
from api.services import Services
from api.store import Store
from knowledge.settings import Settings

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="jeton_admin",
    description="Jeton d'administration (variable SPRO_ADMIN_TOKEN), en en-tête « Authorization: Bearer … »",
)


async def get_services(request: Request) -> Services:
    services = request.state.services
    assert isinstance(services, Services)
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


async def get_store(services: ServicesDep) -> Store:
    return services.store


async def get_served(services: ServicesDep) -> Served:
    """The version being served, grabbed once: a swap during the request does not affect it."""
    return services.served()


def fair_turn(request: Request, services: ServicesDep) -> Iterator[None]:
    """One assistant turn at a time per client address (the peer, or the client a trusted proxy names)."""
    client = request.client.host if request.client else "?"
    try:
        with services.gate.turn(client):
            yield
    except TurnBusy as exc:
        seconds = max(1, math.ceil(services.settings.turn_wait_seconds))
        raise ApiError(ErrorCode.RATE_LIMITED, messages.TURN_BUSY, headers={"Retry-After": str(seconds)}) from exc


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
ServedDep = Annotated[Served, Depends(get_served)]


async def require_admin(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """No token configured: administration is off (403). A missing or wrong token: 401."""
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        raise ApiError(ErrorCode.ADMIN_DISABLED, messages.ADMIN_DISABLED)
    expected = settings.admin_token.get_secret_value().encode()
    given = credentials.credentials.encode() if credentials is not None else b""
    if not secrets.compare_digest(given, expected):
        raise ApiError(ErrorCode.UNAUTHORIZED, messages.UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


AdminDep = Depends(require_admin)
FairTurnDep = Depends(fair_turn)
