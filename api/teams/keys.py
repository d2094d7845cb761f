"""The signing keys behind the Teams SDK's token check, fetched off the event loop.

The SDK validates each Bot Framework token with PyJWT's PyJWKClient, which reads the keys by a blocking urllib
call (30 s timeout) on the event loop and remembers no failure: one forged token held every route for 30 s.
The check itself stays the SDK's; only its key source is replaced. Before the SDK looks, the keys it will read
are fetched with async httpx: one fetch at a time per host, a short timeout covering a bounded retry, keys kept
for a TTL (and past it while the endpoint fails), failures remembered for a while, at most one refresh per
interval for a key id nobody knows. The SDK then finds the keys in memory, or none (401).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError, PyJWKError
from microsoft_teams.api.auth.cloud_environment import CloudEnvironment
from microsoft_teams.apps.auth import InboundActivityTokenValidator, TokenValidator

log = logging.getLogger(__name__)

# A retry only after a quick failure (refused connection, 5xx): a slow one has used the time already.
ATTEMPTS = 2
RETRY_PAUSE = 0.2


class KeysUnavailable(RuntimeError):
    """The key endpoint did not give a usable key set in time."""

    def __init__(self, reason: str, *, host_down: bool) -> None:
        super().__init__(reason)
        # Unreachable, slow or failing host: every key set it serves waits. A 4xx or a bad document: that one.
        self.host_down = host_down


class MemoryJWKClient(PyJWKClient):
    """What the SDK's validator holds in place of its PyJWKClient: the keys `KeyRing.prepare` put here, never
    a network call on the event loop."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri, cache_jwk_set=False)
        self.keys: dict[str, PyJWK] = {}
        self.fetched_at: float | None = None
        self.tried_at: float | None = None
        self.failed_until = 0.0

    def fetch_data(self) -> Any:
        raise PyJWKClientConnectionError("signing keys are fetched off the event loop, before the check")

    def get_signing_key(self, kid: str) -> PyJWK:
        key = self.keys.get(kid)
        if key is None:
            raise PyJWKClientError(f'Unable to find a signing key that matches: "{kid}"')
        return key

    def wants(self, kid: str | None, now: float, ttl: float, interval: float) -> bool:
        """A fetch is due: no keys yet, keys past their TTL, or an unknown key id not looked up lately."""
        if now < self.failed_until:
            return False
        if self.fetched_at is None or now - self.fetched_at >= ttl:
            return True
        if kid is None or kid in self.keys:
            return False
        return self.tried_at is None or now - self.tried_at >= interval


@dataclass
class _Host:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    down_until: float = 0.0


class KeyRing:
    """The key sets of every validator of one bot; `prepare` is the only way keys come in."""

    def __init__(
        self,
        *,
        timeout: float,
        ttl: float,
        retry_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._timeout = timeout
        self._ttl = ttl
        self._interval = retry_interval
        self._clock = clock
        self._hosts: dict[str, _Host] = {}
        self._http = httpx.AsyncClient(follow_redirects=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    def client(self, uri: str) -> MemoryJWKClient:
        return MemoryJWKClient(uri)

    async def prepare(self, client: MemoryJWKClient, kid: str | None) -> None:
        """Fetch the keys `client` will be asked for, when due; never raises, never waits past the timeout
        (one fetch per host at a time, the others wait for its outcome)."""
        if not client.wants(kid, self._clock(), self._ttl, self._interval):
            return
        parts = urlsplit(client.uri)
        host = self._hosts.setdefault(f"{parts.scheme}://{parts.netloc}", _Host())
        if self._clock() < host.down_until:
            return
        async with host.lock:
            now = self._clock()
            if now < host.down_until or not client.wants(kid, now, self._ttl, self._interval):
                return  # the fetch this request waited for settled it
            client.tried_at = now
            try:
                keys = await self._fetch(client.uri)
            except KeysUnavailable as exc:
                until = self._clock() + self._interval
                if exc.host_down:
                    host.down_until = until
                else:
                    client.failed_until = until
                log.warning("Teams signing keys not fetched (next try in %.0f s): %s", self._interval, exc)
                return
            client.keys = keys
            client.fetched_at = self._clock()

    async def _fetch(self, uri: str) -> dict[str, PyJWK]:
        deadline = self._clock() + self._timeout
        attempt = 0
        while True:
            attempt += 1
            left = deadline - self._clock()
            try:
                async with asyncio.timeout(left):
                    response = await self._http.get(uri, timeout=left)
            except (TimeoutError, httpx.TimeoutException) as exc:
                raise KeysUnavailable(f"{uri}: no answer within {self._timeout:g} s", host_down=True) from exc
            except httpx.HTTPError as exc:
                failure = KeysUnavailable(f"{uri}: {exc!r}", host_down=True)
            else:
                if response.status_code < 500:
                    return _signing_keys(uri, response)
                failure = KeysUnavailable(f"{uri}: HTTP {response.status_code}", host_down=True)
            if attempt >= ATTEMPTS or deadline - self._clock() <= RETRY_PAUSE:
                raise failure
            await asyncio.sleep(RETRY_PAUSE)


def _signing_keys(uri: str, response: httpx.Response) -> dict[str, PyJWK]:
    """The usable signing keys of a JWKS document, as PyJWKClient would pick them (use "sig" or none, a kid)."""
    if response.status_code != 200:
        raise KeysUnavailable(f"{uri}: HTTP {response.status_code}", host_down=False)
    try:
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        keys = PyJWKSet.from_dict(document).keys
    except (ValueError, PyJWKError) as exc:
        raise KeysUnavailable(f"{uri}: not a key set ({exc})", host_down=False) from exc
    usable = {k.key_id: k for k in keys if k.public_key_use in ("sig", None) and k.key_id}
    if not usable:
        raise KeysUnavailable(f"{uri}: no signing key", host_down=False)
    return usable


class OffLoopTokenValidator(InboundActivityTokenValidator):
    """The SDK's inbound validator, every check its own; each of its validators reads a `MemoryJWKClient`,
    filled by `validate_token` before the SDK's check runs."""

    def __init__(self, app_id: str, cloud: CloudEnvironment, keys: KeyRing) -> None:
        super().__init__(app_id, cloud=cloud)
        self._keys = keys
        self._adopt(self._service_validator)

    def _adopt(self, validator: TokenValidator) -> TokenValidator:
        if not isinstance(validator._jwks_client, MemoryJWKClient):
            validator._jwks_client = self._keys.client(validator._jwks_client.uri)
        return validator

    def _get_entra_validator(self, tenant_id: str) -> TokenValidator:
        return self._adopt(super()._get_entra_validator(tenant_id))

    async def validate_token(self, raw_token: str, service_url: str | None = None) -> dict[str, Any]:
        source = self._key_source(raw_token)
        if source is not None:
            await self._keys.prepare(*source)
        return await super().validate_token(raw_token, service_url)

    def _key_source(self, raw_token: str) -> tuple[MemoryJWKClient, str | None] | None:
        """The key set the SDK will read for this token (its own routing: Bot Framework or Entra), and the kid;
        None for a token the SDK refuses before reading any key."""
        try:
            kid = jwt.get_unverified_header(raw_token).get("kid")
            claims = jwt.decode(raw_token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return None
        validator: TokenValidator = self._service_validator
        if self._is_entra_issuer(claims.get("iss")):
            tenant = claims.get("tid")
            if not isinstance(tenant, str) or not tenant:
                return None
            validator = self._get_entra_validator(tenant)
        client = validator._jwks_client
        if not isinstance(client, MemoryJWKClient):
            # The SDK built a validator out of our sight: refuse (401) rather than let it fetch on the loop.
            raise RuntimeError("a Teams token validator reads its keys by itself")
        return client, kid if isinstance(kid, str) else None
