"""JSON over HTTP for the pulls: bounded retries on 429/502/503/504 and network faults, French failure reports."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType

import httpx

from knowledge.settings import Settings

# Statuses that say "try again later"; a 500 is a server fault that retrying rarely cures, a 4xx our own.
RETRIED_STATUSES = frozenset({429, 502, 503, 504})


class PullFailed(Exception):
    """A pull that cannot be completed; `message` is French, `url` the request that failed."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(f"{message} — {url}")
        self.message = message
        self.url = url


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request may take and how often it is tried again."""

    attempts: int = 5
    base_delay: float = 1.0  # first wait without Retry-After, doubled at each try
    max_wait: float = 120.0  # longest wait accepted, Retry-After included
    timeout: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            attempts=settings.pull_attempts, max_wait=settings.pull_max_retry_wait, timeout=settings.pull_timeout
        )


class JsonClient:
    """One httpx client for a whole pull (connections reused); use it as a context manager."""

    def __init__(
        self,
        policy: RetryPolicy,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._policy = policy
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=policy.timeout,
            headers={"Accept": "application/json", "User-Agent": "expert-spro (pull)", **(headers or {})},
            follow_redirects=True,
        )

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._client.close()

    def get_json(self, url: str, params: Mapping[str, str | int]) -> object:
        """The parsed JSON body of GET url?params; PullFailed on anything short of a whole 200 answer."""
        shown = readable_url(url, params)
        policy = self._policy
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            try:
                response = self._client.get(url, params=params)
                body = response.content  # read whole: a connection cut mid-body raises here
            except httpx.TimeoutException as error:
                if last:
                    raise PullFailed(
                        f"délai dépassé ({policy.timeout:g} s) après {attempt} tentative(s)", shown
                    ) from error
                self._sleep(self._backoff(attempt))
                continue
            except httpx.TransportError as error:
                if last:
                    raise PullFailed(
                        f"connexion impossible ou interrompue ({type(error).__name__}) après {attempt} tentative(s)",
                        shown,
                    ) from error
                self._sleep(self._backoff(attempt))
                continue
            status = response.status_code
            if status in RETRIED_STATUSES:
                wait = self._wait_for(response, attempt, shown)
                if last:
                    raise PullFailed(
                        f"service indisponible ou trop sollicité (HTTP {status}) après {attempt} tentative(s)"
                        + _detail(body),
                        shown,
                    )
                self._sleep(wait)
                continue
            if status in (401, 403):
                refused = f"accès refusé (HTTP {status}) : jeton absent, invalide ou expiré"
                raise PullFailed(refused + _detail(body), shown)
            if status != 200:
                raise PullFailed(f"erreur HTTP {status}" + _detail(body), shown)
            try:
                return json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
                where = (
                    f" (ligne {error.lineno}, colonne {error.colno})" if isinstance(error, json.JSONDecodeError) else ""
                )
                raise PullFailed(f"réponse JSON invalide ou tronquée{where}", shown) from error
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff(self, attempt: int) -> float:
        delay: float = self._policy.base_delay * 2 ** (attempt - 1)
        return min(delay, self._policy.max_wait)

    def _wait_for(self, response: httpx.Response, attempt: int, shown: str) -> float:
        """Retry-After when the server sends one (refused above the cap), exponential backoff otherwise."""
        asked = retry_after(response.headers.get("Retry-After"))
        if asked is None:
            return self._backoff(attempt)
        if asked > self._policy.max_wait:
            raise PullFailed(
                f"le service demande d'attendre {asked:g} s avant de réessayer (HTTP {response.status_code}, "
                f"Retry-After), plus que la limite de {self._policy.max_wait:g} s (SPRO_PULL_MAX_RETRY_WAIT)",
                shown,
            )
        return asked


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def readable_url(url: str, params: Mapping[str, str | int]) -> str:
    """The request URL as a person reads it (where clauses unescaped), for reports."""
    if not params:
        return url
    return f"{url}?" + "&".join(f"{key}={value}" for key, value in params.items())


def _detail(body: bytes) -> str:
    """The API's own error message, when its body carries one (Opendatasoft: {"error_code", "message"};
    FastAPI: {"detail"})."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(data[key]) for key in ("error_code", "message", "detail") if isinstance(data.get(key), str)]
    text = " ".join(" ".join(parts).split())
    return f" : « {text[:300]} »" if text else ""
