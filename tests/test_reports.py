"""Reports of a wrong contact: counted per conversation, shown only after several or after an admin's review."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.runtime import Runtime
from api.store import Store
from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex
from knowledge.settings import Settings
from knowledge.territory import Territory

ADMIN = "jeton-de-test"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
CASE = "jeune de 19 ans sans diplôme qui cherche un emploi à Vienne"


@pytest.fixture()
def client(tmp_path: Path, index_root: Path, encoder: Encoder, territory: Territory,
           knowledge_index: KnowledgeIndex) -> Iterator[TestClient]:
    data = tmp_path / "data"
    data.mkdir()
    (data / "index").symlink_to(index_root, target_is_directory=True)
    settings = Settings(
        data_dir=data, admin_token=SecretStr(ADMIN), rate_limit_per_minute=0, contact_report_threshold=2
    )
    app = create_app(settings, runtime=Runtime(settings, encoder, territory, knowledge_index))
    with TestClient(app) as client:
        yield client


def _chat(client: TestClient, message: str = CASE) -> dict[str, Any]:
    response = client.post("/api/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _report(client: TestClient, conversation: dict[str, Any], structure_id: str) -> int:
    response = client.post(
        "/api/feedback",
        json={
            "conversation_id": conversation["conversation_id"],
            "turn": conversation["turn"],
            "rating": "down",
            "kind": "contact_errone",
            "structure_id": structure_id,
        },
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _status(client: TestClient, structure_id: str) -> tuple[str, bool]:
    card = next(s for s in _chat(client)["structures"] if s["id"] == structure_id)
    return card["contact_report"], card["contact_reported"]


def test_one_click_never_marks_a_contact_as_wrong_for_everyone(client: TestClient) -> None:
    first = _chat(client)
    site = next(s["id"] for s in first["structures"] if s["contacts"] and not s["id"].startswith("network:"))
    assert _status(client, site) == ("none", False)

    _report(client, first, site)
    _report(client, first, site)  # the same conversation twice is still one counsellor
    assert _status(client, site) == ("pending", False)
    assert client.get(f"/api/structures/{site}").json()["contact_reported"] is False

    second = _chat(client)  # another conversation: a second, independent report reaches the threshold (2)
    _report(client, second, site)
    assert _status(client, site) == ("reported", True)
    assert client.get(f"/api/structures/{site}").json()["contact_reported"] is True
    searched = client.get("/api/search", params={"q": CASE}).json()
    assert any(s["id"] == site and s["contact_reported"] for s in searched["structures"])


def test_resolved_reports_stop_counting(client: TestClient) -> None:
    conversations = [_chat(client), _chat(client)]
    site = next(s["id"] for s in conversations[0]["structures"] if not s["id"].startswith("network:"))
    ids = [_report(client, c, site) for c in conversations]
    assert _status(client, site) == ("reported", True)
    for feedback_id in ids:
        assert client.post(f"/api/admin/feedback/{feedback_id}/resolve", headers=AUTH).status_code == 200
    assert _status(client, site) == ("none", False)


def test_an_admin_review_confirms_or_clears_a_contact(tmp_path: Path) -> None:
    now = [datetime(2026, 12, 1, tzinfo=UTC)]
    store = Store(f"sqlite:///{tmp_path / 'spro.db'}", conversation_ttl=3600, clock=lambda: now[0])
    store.create_schema()

    def report(conversation: str) -> None:
        store.add_feedback(conversation_id=conversation, turn=1, rating="down", kind="contact_errone",
                           reason=None, structure_id="site-a", channel="widget")
        now[0] += timedelta(minutes=1)

    assert store.contact_reports(["site-a", "site-b"], threshold=3) == {}
    store.review_contact("site-b", "confirmed")  # an admin saw it is wrong: no report needed
    assert store.contact_reports(["site-a", "site-b"], threshold=3) == {"site-b": "confirmed"}

    for conversation in ("c1", "c2", "c3"):
        report(conversation)
    assert store.contact_reports(["site-a"], threshold=3) == {"site-a": "reported"}
    store.review_contact("site-a", "cleared")  # checked, the contact is right: those reports are done
    now[0] += timedelta(minutes=1)
    assert store.contact_reports(["site-a"], threshold=3) == {}
    report("c4")  # a new report after the review counts anew, alone
    assert store.contact_reports(["site-a"], threshold=3) == {"site-a": "pending"}
