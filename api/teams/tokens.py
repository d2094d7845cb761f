"""The bot's own tokens for the Bot Connector: OAuth 2 client credentials against Entra ID, kept until near expiry.

The Teams SDK would use MSAL for a client secret; MSAL insists on an https authority and asks
login.microsoftonline.com to validate any other host, so its endpoint cannot be pointed anywhere else.
This provider, handed to the SDK as its token source, speaks the same grant to `teams_login_endpoint`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
from pydantic import SecretStr

DEFAULT_LOGIN_ENDPOINT = "https://login.microsoftonline.com"
# The tenant of multi-tenant bots' tokens (the SDK's default too).
BOT_FRAMEWORK_TENANT = "botframework.com"
# A token is renewed this long before it expires, so none expires in flight.
RENEW_MARGIN = 300.0
TIMEOUT = 10.0


class TokenRefused(RuntimeError):
    """Entra ID did not issue a token (wrong secret, unknown app, unreachable endpoint)."""


@dataclass
class _Held:
    value: str
    renew_at: float


class ConnectorTokens:
    """The SDK's token provider protocol (`get_app_token`), one cached token per tenant and scope."""

    def __init__(
        self, app_id: str, secret: SecretStr, tenant_id: str | None, login_endpoint: str | None = None
    ) -> None:
        self._app_id = app_id
        self._secret = secret
        self._tenant_id = tenant_id
        self._login_endpoint = (login_endpoint or DEFAULT_LOGIN_ENDPOINT).rstrip("/")
        self._held: dict[tuple[str, str], _Held] = {}
        self._lock = asyncio.Lock()

    async def get_app_token(self, scope: str, tenant_id: str | None) -> str:
        tenant = tenant_id or self._tenant_id or BOT_FRAMEWORK_TENANT
        key = (tenant, scope)
        async with self._lock:
            held = self._held.get(key)
            if held is None or time.monotonic() >= held.renew_at:
                held = self._held[key] = await self._fetch(tenant, scope)
            return held.value

    async def _fetch(self, tenant: str, scope: str) -> _Held:
        url = f"{self._login_endpoint}/{tenant}/oauth2/v2.0/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": self._app_id,
            "client_secret": self._secret.get_secret_value(),
            "scope": scope,
        }
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                response = await client.post(url, data=form)
        except httpx.HTTPError as exc:
            raise TokenRefused(f"token endpoint unreachable: {url}: {exc}") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if response.status_code != 200 or not isinstance(token, str):
            error = payload.get("error", "") if isinstance(payload, dict) else ""
            raise TokenRefused(f"no token from {url}: HTTP {response.status_code} {error}".strip())
        lifetime = float(payload.get("expires_in", 3600))
        return _Held(token, time.monotonic() + max(lifetime - RENEW_MARGIN, lifetime / 2))
