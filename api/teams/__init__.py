"""The Teams face: POST /api/messages on the API's own app, the same assistant and feedback store as the widget.

Without credentials (SPRO_TEAMS_APP_ID and SPRO_TEAMS_APP_SECRET) the endpoint refuses every request in the API's
error shape, unless SPRO_TEAMS_DEV_MODE is set; the Teams SDK is loaded only when the bot is configured.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from api import messages as api_messages
from api.errors import ApiError, ErrorCode
from api.services import Services
from api.teams import messages
from knowledge.settings import Settings

if TYPE_CHECKING:
    from api.teams.bot import TeamsBot

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"


def mount_teams(app: FastAPI, services: Services) -> None:
    """Add the route, and start the bot with the app (after the index is loaded) and close it with the app."""
    endpoint = TeamsEndpoint(services)
    app.include_router(endpoint.router)
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[Any]:
        async with serve(started) as state:
            await endpoint.start()
            try:
                yield state
            finally:
                await endpoint.stop()

    app.router.lifespan_context = lifespan


def teams_configured(settings: Settings) -> bool:
    secret = settings.teams_app_secret
    return bool(settings.teams_app_id and secret is not None and secret.get_secret_value())


class TeamsEndpoint:
    """POST /api/messages: refused until the bot runs, then handed to the SDK; its answers in our error shape."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._bot: TeamsBot | None = None
        self.router = APIRouter(include_in_schema=False)
        self.router.add_api_route(
            MESSAGES_PATH, self._receive, methods=["POST"], dependencies=[Depends(self._require_bot)]
        )

    async def start(self) -> None:
        settings = self._services.settings
        if not (teams_configured(settings) or settings.teams_dev_mode):
            if settings.teams_app_id or settings.teams_app_secret:
                log.warning("Teams bot off: SPRO_TEAMS_APP_ID and SPRO_TEAMS_APP_SECRET must both be set")
            return
        if not teams_configured(settings):
            log.warning("Teams bot in development mode: unauthenticated requests are accepted on /api/messages")
        from api.teams.bot import TeamsBot  # the SDK is heavy: loaded only when the bot runs

        bot = TeamsBot(self._services)
        await bot.start()
        self._bot = bot

    async def stop(self) -> None:
        bot, self._bot = self._bot, None
        if bot is not None:
            await bot.close()

    async def _require_bot(self) -> None:
        # A dependency, so a server without a bot refuses before it even reads the activity.
        if self._bot is None:
            raise ApiError(ErrorCode.UNAUTHORIZED, messages.NOT_CONFIGURED, headers={"WWW-Authenticate": "Bearer"})

    async def _receive(self, request: Request, activity: Annotated[dict[str, Any], Body()]) -> Response:
        bot = self._bot
        if bot is None:
            raise ApiError(ErrorCode.UNAUTHORIZED, messages.NOT_CONFIGURED)
        answer = await bot.handle(activity, dict(request.headers))
        status = answer["status"]
        if status == 401:
            raise ApiError(ErrorCode.UNAUTHORIZED, messages.UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
        if status == 429:
            # Over the sender's limit (checked once the SDK validated the token): the API's 429.
            body = answer.get("body")
            wait = body.get("retry_after") if isinstance(body, dict) else None
            seconds = max(1, math.ceil(wait if isinstance(wait, int | float) else 1))
            raise ApiError(
                ErrorCode.RATE_LIMITED,
                api_messages.RATE_LIMITED.format(seconds=seconds),
                headers={"Retry-After": str(seconds)},
            )
        if status >= 500:
            # The SDK logged the cause; the caller gets the one error shape.
            raise ApiError(ErrorCode.INTERNAL_ERROR, api_messages.INTERNAL_ERROR)
        body = answer.get("body")
        if body is None:
            # Teams wants a JSON object back from an invoke (feedback...); a message needs no body.
            if activity.get("type") == "invoke":
                return JSONResponse({}, status_code=status)
            return Response(status_code=status)
        return JSONResponse(body, status_code=status)
