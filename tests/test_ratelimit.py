"""Who a client is for the rate limit, on real uvicorn servers on 127.0.0.1 started as `spro serve` starts them:
the peer unless a trusted proxy speaks for it, the Teams user behind Microsoft's relays, one limit for all the
processes of a deployment."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.errors import ErrorCode
from api.runtime import Runtime
from api.server import uvicorn_options
from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex
from knowledge.settings import Settings
from knowledge.territory import Territory
from tests.test_teams import APP_ID, APP_SECRET, COUNSELLOR, TENANT, FakeMicrosoft, channel_message

pytestmark = pytest.mark.slow

ADMIN = "jeton-de-test"
LIMIT = 3


@dataclass(frozen=True)
class Live:
    url: str

    def networks(self, forwarded_for: str | None = None) -> int:
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        return httpx.get(f"{self.url}/api/networks", headers=headers, timeout=30).status_code


Serve = Callable[..., Live]


@pytest.fixture()
def serve(
    tmp_path: Path, index_root: Path, encoder: Encoder, territory: Territory, knowledge_index: KnowledgeIndex
) -> Iterator[Serve]:
    """Serve an app (test settings plus overrides) under uvicorn with `spro serve`'s options; each call starts
    another server on the same data folder (same SQLite store), as workers or replicas would."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "index").symlink_to(index_root, target_is_directory=True)
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**overrides: Any) -> Live:
        values: dict[str, Any] = {"data_dir": data, "admin_token": ADMIN, "rate_limit_per_minute": LIMIT, **overrides}
        settings = Settings(**values)
        app = create_app(settings, runtime=Runtime(settings, encoder, territory, knowledge_index))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", access_log=False, **uvicorn_options(settings)
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="uvicorn-ratelimit", daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        return Live(f"http://127.0.0.1:{port}")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=30)


def test_an_invented_forwarded_for_does_not_make_a_new_client(serve: Serve) -> None:
    live = serve()
    statuses = [live.networks(forwarded_for=f"203.0.113.{n}") for n in range(LIMIT + 2)]
    assert statuses == [200] * LIMIT + [429] * 2  # every address invented by one peer: still that peer


def test_a_trusted_proxy_names_the_client(serve: Serve) -> None:
    live = serve(trusted_proxies=["127.0.0.0/8"])
    assert [live.networks(forwarded_for=f"203.0.113.{n}") for n in range(LIMIT + 2)] == [200] * (LIMIT + 2)
    same = [live.networks(forwarded_for="198.51.100.7") for _ in range(LIMIT + 1)]
    assert same == [200] * LIMIT + [429]
    # The proxy appends the address it saw: what the client wrote before it proves nothing.
    assert live.networks(forwarded_for="203.0.113.250, 198.51.100.7") == 429


def test_two_processes_on_one_database_share_the_limit(serve: Serve) -> None:
    first, second = serve(rate_limit_store="database"), serve(rate_limit_store="database")
    statuses = [(first if n % 2 else second).networks() for n in range(LIMIT + 2)]
    assert statuses == [200] * LIMIT + [429] * 2
    response = httpx.get(f"{first.url}/api/networks", timeout=30)
    assert response.json()["error"] == ErrorCode.RATE_LIMITED and int(response.headers["retry-after"]) >= 1


def test_teams_users_behind_one_relay_address_each_have_their_limit(serve: Serve) -> None:
    with FakeMicrosoft() as microsoft:
        live = serve(
            teams_app_id=APP_ID,
            teams_app_secret=APP_SECRET,
            teams_tenant_id=TENANT,
            teams_openid_metadata_url=f"{microsoft.url}/v1/.well-known/openidconfiguration",
            teams_login_endpoint=microsoft.url,
        )

        def post(sender: dict[str, str], token: str | None = None) -> httpx.Response:
            # A channel message that does not mention the bot: checked, limited, then ignored (no answer to wait).
            activity = {**channel_message(microsoft.service_url, "bonjour", mentioned=False), "from": sender}
            headers = {"Authorization": f"Bearer {token or microsoft.bot_framework_token()}"}
            return httpx.post(f"{live.url}/api/messages", json=activity, headers=headers, timeout=30)

        camille = COUNSELLOR
        dominique = {"id": "29:7hYt2-conseiller", "name": "Dominique Roux", "aadObjectId": "9b2e4c1d-7a3f-4e8b"}
        assert [post(camille).status_code for _ in range(LIMIT)] == [200] * LIMIT
        refused = post(camille)
        assert refused.status_code == 429 and refused.json()["error"] == ErrorCode.RATE_LIMITED
        assert int(refused.headers["retry-after"]) >= 1
        # Same relay address, another counsellor: a limit of her own.
        assert post(dominique).status_code == 200
        # A forged token in Dominique's name spends nothing of hers: it is refused before the limit is counted.
        forged = microsoft.bot_framework_token(aud="un-autre-bot")
        assert [post(dominique, forged).status_code for _ in range(LIMIT)] == [401] * LIMIT
        assert [post(dominique).status_code for _ in range(LIMIT - 1)] == [200] * (LIMIT - 1)
        assert post(dominique).status_code == 429
