"""ASGI middleware: request size limit, per-client rate limit, Prometheus request metrics."""

from __future__ import annotations

import math
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import messages
from api.errors import ErrorCode, error_response
from api.metrics import Metrics
from api.ratelimit import Limiter, Unlimited

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimitMiddleware:
    """Refuse (413) a body larger than `limit` bytes, announced or streamed, before any route reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        too_large = error_response(ErrorCode.PAYLOAD_TOO_LARGE, messages.PAYLOAD_TOO_LARGE.format(limit=self.limit))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await too_large(scope, receive, send)
            return
        # Bodies are small (a chat message): read it whole, within the limit, then replay it to the app.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RateLimitMiddleware:
    """A token bucket per client address on /api/ (the limiter's); `exempt` routes limit their own clients
    (Teams: per user, once the token is checked, since all of Teams arrives from a few relay addresses).

    The address is the connection's peer, or what a trusted proxy put in X-Forwarded-For: uvicorn rewrites it
    only for the proxies of SPRO_TRUSTED_PROXIES (`api.server.uvicorn_options`)."""

    def __init__(self, app: ASGIApp, limiter: Limiter, prefix: str = "/api/", exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limiter = limiter
        self.prefix = prefix
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            isinstance(self.limiter, Unlimited)
            or scope["type"] != "http"
            or not scope["path"].startswith(self.prefix)
            or scope["path"] in self.exempt
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = await self.limiter.take("ip:" + (client[0] if client else "?"))
        if wait > 0:
            await rate_limited(wait)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def rate_limited(wait: float) -> JSONResponse:
    seconds = max(1, math.ceil(wait))
    return error_response(
        ErrorCode.RATE_LIMITED, messages.RATE_LIMITED.format(seconds=seconds), headers={"Retry-After": str(seconds)}
    )


class MetricsMiddleware:
    """Counts requests and measures latency per route template (never per raw path: ids stay out)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - started)
