"""A fair share of the encoder: one assistant turn at a time per client, the others never behind it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.fairness import TurnBusy, TurnGate
from api.runtime import Runtime
from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex
from knowledge.settings import Settings
from knowledge.territory import Territory


def test_a_client_waits_behind_its_own_turn_and_never_behind_another_clients() -> None:
    gate = TurnGate(wait_s=0.05, per_client=1)
    with gate.turn("10.0.0.1"):
        with pytest.raises(TurnBusy):
            with gate.turn("10.0.0.1"):
                pass
        with gate.turn("10.0.0.2"):  # another client goes straight in
            pass
    with gate.turn("10.0.0.1"):  # released: the client's next turn goes in
        pass


def test_no_gate_when_turns_per_client_is_zero() -> None:
    gate = TurnGate(wait_s=0.01, per_client=0)
    with gate.turn("10.0.0.1"), gate.turn("10.0.0.1"), gate.turn("10.0.0.1"):
        pass


def test_a_waiting_turn_goes_in_as_soon_as_the_previous_one_ends() -> None:
    gate = TurnGate(wait_s=5.0, per_client=1)
    entered = threading.Event()
    release = threading.Event()

    def first() -> None:
        with gate.turn("10.0.0.1"):
            entered.set()
            release.wait(5)

    holder = threading.Thread(target=first)
    holder.start()
    entered.wait(5)
    threading.Timer(0.1, release.set).start()
    with gate.turn("10.0.0.1"):
        assert release.is_set()
    holder.join(5)


@pytest.fixture()
def client(
    tmp_path: Path, knowledge_index: KnowledgeIndex, encoder: Encoder, territory: Territory
) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, rate_limit_per_minute=0, turns_per_client=2, turn_wait_seconds=0.2)
    runtime = Runtime(settings, encoder, territory, knowledge_index)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        yield client


def test_a_second_request_while_the_clients_turn_runs_gets_a_429_with_retry_after(client: TestClient) -> None:
    gate = client.app_state["services"].gate
    with gate.turn("testclient"), gate.turn("testclient"):  # the test client's two turns, still running
        busy = client.get("/api/search", params={"q": "jeune de 17 ans décrocheur"})
        chat = client.post("/api/chat", json={"message": "jeune de 17 ans décrocheur"})
    assert busy.status_code == 429 and busy.json()["error"] == "rate_limited"
    assert busy.headers["Retry-After"] == "1" and chat.status_code == 429
    assert client.get("/api/search", params={"q": "jeune de 17 ans décrocheur"}).status_code == 200
