"""The Bot Framework signing keys, fetched off the event loop: a key endpoint that never answers (a black hole
on 127.0.0.1) holds no other route, and a burst of forged tokens costs one fetch. Real uvicorn, real sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests import test_teams
from tests.test_teams import APP_ID, APP_SECRET, TENANT, FakeMicrosoft, Live, StartApp, personal_message

pytestmark = pytest.mark.slow

# The Teams tests' fixtures: the Microsoft side on 127.0.0.1, the app under a real uvicorn.
microsoft = test_teams.microsoft
start_app = test_teams.start_app

KEYS_TIMEOUT = 1.0


class BlackHole:
    """A key endpoint that accepts the TCP connection and never says a word; counts connections."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="black-hole", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def connections(self) -> int:
        return len(self._held)

    def __enter__(self) -> BlackHole:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for held in self._held:
            held.close()
        self._socket.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self._held.append(connection)  # kept open, never read, never answered


@pytest.fixture()
def black_hole() -> Iterator[BlackHole]:
    with BlackHole() as hole:
        yield hole


def bot_on(start_app: StartApp, keys_url: str, **overrides: Any) -> Live:
    values: dict[str, Any] = {
        "teams_app_id": APP_ID,
        "teams_app_secret": APP_SECRET,
        "teams_tenant_id": TENANT,
        "teams_openid_metadata_url": f"{keys_url}/v1/.well-known/openidconfiguration",
        "teams_login_endpoint": keys_url,
        "teams_keys_timeout": KEYS_TIMEOUT,
        **overrides,
    }
    return start_app(**values)


def forged_tokens(microsoft: FakeMicrosoft, entra_host: str) -> list[str]:
    """Bot Framework tokens signed by a stranger, and Entra-issued ones (the SDK's other key source, one key
    set per tenant) for tenants nobody knows."""
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tokens = [microsoft.bot_framework_token(key=forger) for _ in range(4)]
    now = int(time.time())
    for n in range(3):
        tenant = f"0000000{n}-dead-beef-0000-000000000000"
        claims = {"iss": f"{entra_host}/{tenant}/v2.0", "tid": tenant, "aud": APP_ID, "azp": "x",
                  "iat": now, "nbf": now, "exp": now + 3600}
        tokens.append(jwt.encode(claims, forger, algorithm="RS256", headers={"kid": f"inconnue-{n}"}))
    return tokens


def timed(call: Any) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = call()
    return time.monotonic() - started, response


def test_forged_tokens_against_a_silent_key_server_hold_no_other_route_and_cost_one_fetch(
    start_app: StartApp, microsoft: FakeMicrosoft, black_hole: BlackHole
) -> None:
    live = bot_on(start_app, black_hole.url)
    activity = personal_message(microsoft.service_url, "jeune de 17 ans à Lyon")
    tokens = forged_tokens(microsoft, black_hole.url)

    def forged(token: str) -> tuple[float, httpx.Response]:
        headers = {"Authorization": f"Bearer {token}"}
        return timed(lambda: httpx.post(f"{live.url}/api/messages", json=activity, headers=headers, timeout=15))

    with ThreadPoolExecutor(len(tokens)) as pool:
        refusals = [pool.submit(forged, token) for token in tokens]
        time.sleep(0.2)  # the forged requests are waiting for the keys now
        others = [timed(lambda: httpx.get(f"{live.url}/api/networks", timeout=10)) for _ in range(3)]
        others.append(timed(lambda: httpx.get(f"{live.url}/healthz", timeout=10)))
        answered = [future.result() for future in refusals]

    assert all(r.status_code == 200 for _, r in others)
    slowest_other = max(seconds for seconds, _ in others)
    assert slowest_other < 2.0, f"another route waited {slowest_other:.1f} s for the key server"
    assert [r.status_code for _, r in answered] == [401] * len(tokens)
    slowest_refusal = max(seconds for seconds, _ in answered)
    assert slowest_refusal < KEYS_TIMEOUT + 3.0, f"a forged token waited {slowest_refusal:.1f} s for its 401"
    assert black_hole.connections == 1, "one fetch for the whole burst, whatever key set each token points at"

    # The failure is remembered: the next forged tokens are refused at once, without a new connection.
    seconds, response = forged(tokens[0])
    assert response.status_code == 401 and seconds < 1.0
    assert black_hole.connections == 1


def test_an_unknown_key_id_refreshes_the_keys_at_most_once_per_interval(
    start_app: StartApp, microsoft: FakeMicrosoft
) -> None:
    live = bot_on(start_app, microsoft.url, teams_keys_retry_interval=1.0)
    activity = personal_message(microsoft.service_url, "jeune de 17 ans à Lyon")
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unknown = jwt.encode(
        jwt.decode(microsoft.bot_framework_token(), options={"verify_signature": False}),
        forger, algorithm="RS256", headers={"kid": "cle-inconnue"},
    )
    assert live.post(activity, microsoft.bot_framework_token()).status_code == 200
    assert microsoft.key_requests == 1

    def burst() -> float:
        started = time.monotonic()
        for _ in range(5):
            assert live.post(activity, unknown).status_code == 401
        return time.monotonic() - started

    # A loaded machine may take longer than an interval to answer five requests: what is checked is the
    # rule (at most one refresh per interval elapsed), not a speed.
    elapsed = burst()
    assert microsoft.key_requests <= 1 + int(elapsed / 1.0)  # looked up a moment ago: no refresh per token
    time.sleep(1.2)
    before = microsoft.key_requests
    elapsed = burst()
    assert 1 <= microsoft.key_requests - before <= 1 + int(elapsed / 1.0)  # one per interval, not one per token
    settled = microsoft.key_requests
    assert live.post(activity, microsoft.bot_framework_token()).status_code == 200
    assert microsoft.key_requests == settled
