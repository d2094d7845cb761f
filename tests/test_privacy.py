"""What the store keeps of a case: fake personal details sent over HTTP are searched for in the SQLite bytes."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterator
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
TTL = 2

# Fifteen fake formats of personal data, none of them real.
FAKES = [
    "josiane martin",  # a name typed in lower case
    "Mme Josiane Martin",  # the same, capitalised
    "1 85 05 78 006 084 36",  # a social-security number, spaced
    "185057800608436",  # the same, in one block
    "2024-03-12",  # an ISO date
    "12.03.2024",  # a dotted date
    "12/03/2024",  # a slashed date
    "douze mars",  # a date written out
    "12 rue des Lilas",  # a street address
    "1234567A",  # a France Travail identifier
    "diabète",  # a health condition
    "josiane.martin@exemple.fr",  # an e-mail
    "06 12 34 56 78",  # a phone
    "+33 6 98 76 54 32",  # an international phone
    "FR76 3000 6000 0112 3456 7890 189",  # a bank account
]
TURNS = [
    "josiane martin, 1 85 05 78 006 084 36 (185057800608436), née le 2024-03-12 ; elle a 19 ans et cherche un emploi",
    "Mme Josiane Martin habite 12 rue des Lilas à Grenoble, inscrite à France Travail sous le 1234567A",
    "rendez-vous le 12.03.2024, le 12/03/2024 ou le douze mars ; elle a du diabète ; "
    "écrire à josiane.martin@exemple.fr, au 06 12 34 56 78 ou au +33 6 98 76 54 32, "
    "RIB FR76 3000 6000 0112 3456 7890 189",
]
REASON = "Mme Josiane Martin (06 12 34 56 78, diabète, 12 rue des Lilas) dit que le numéro ne répond plus"


def _forms(value: str) -> set[bytes]:
    """The value as typed, without accents, and without spaces, in lower case (the file bytes are lowered too)."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    forms = {value, folded, value.replace(" ", ""), folded.replace(" ", "")}
    # JSON escapes accents: "diab\u00e8te".
    forms |= {value.encode("ascii", "backslashreplace").decode()}
    return {f.lower().encode() for f in forms}


NEEDLES = sorted({form for value in FAKES for form in _forms(value)} | {b"josiane", b"lilas", b"diab", b"1234567a"})


def _found(data_dir: Path) -> list[bytes]:
    """Every needle found in the bytes of the database and of its write-ahead log."""
    found = []
    for name in ("spro.db", "spro.db-wal"):
        path = data_dir / name
        data = path.read_bytes().lower() if path.exists() else b""
        found += [needle for needle in NEEDLES if needle in data]
    return found


@pytest.fixture()
def data_dir(tmp_path: Path, index_root: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "index").symlink_to(index_root, target_is_directory=True)
    return data


@pytest.fixture()
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, admin_token=SecretStr(ADMIN), rate_limit_per_minute=0, conversation_ttl=TTL)


@pytest.fixture()
def client(
    settings: Settings, encoder: Encoder, territory: Territory, knowledge_index: KnowledgeIndex
) -> Iterator[TestClient]:
    app = create_app(settings, runtime=Runtime(settings, encoder, territory, knowledge_index))
    with TestClient(app) as client:
        yield client


def _converse(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for message in TURNS:
        payload = {"message": message, **({"conversation_id": body["conversation_id"]} if body else {})}
        response = client.post("/api/chat", json=payload)
        assert response.status_code == 200, response.text
        body = response.json()
    return body


def _report(client: TestClient, last: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/api/feedback",
        json={"conversation_id": last["conversation_id"], "turn": len(TURNS), "rating": "down",
              "kind": "contact_errone", "structure_id": last["structures"][0]["id"], "reason": REASON},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_personal_details_never_reach_the_database_and_the_case_is_still_understood(
    client: TestClient, data_dir: Path
) -> None:
    last = _converse(client)
    # Three turns, one case: the age, the need and the commune carried over, the answer local.
    understood = last["understood"]
    assert understood["age"] == 19 and "emploi" in understood["needs"]
    assert understood["commune"]["insee"] == "38185" and understood["department"] == "38"
    assert last["structures"]
    report = _report(client, last)
    assert report["reason"] and "numéro" in report["reason"]
    assert not any(needle.decode() in report["reason"].lower() for needle in NEEDLES)
    assert _found(data_dir) == []

    assert client.delete(f"/api/conversations/{last['conversation_id']}").status_code == 204
    assert _found(data_dir) == []
    admin = {"Authorization": f"Bearer {ADMIN}"}
    items = client.get("/api/admin/feedback", headers=admin).json()["items"]
    assert [(i["kind"], i["reason"]) for i in items] == [("contact_errone", None)]  # the report stays, its words go


def test_an_erased_conversation_leaves_no_bytes_in_the_database_or_its_log(client: TestClient, data_dir: Path) -> None:
    last = _converse(client)
    conversation_id = last["conversation_id"].encode().lower()
    assert conversation_id in (data_dir / "spro.db-wal").read_bytes().lower()
    assert client.delete(f"/api/conversations/{last['conversation_id']}").status_code == 204
    for name in ("spro.db", "spro.db-wal"):
        path = data_dir / name
        assert not path.exists() or conversation_id not in path.read_bytes().lower(), name


def test_after_the_ttl_purge_nothing_of_the_conversation_or_its_reasons_is_left(
    client: TestClient, data_dir: Path, settings: Settings
) -> None:
    last = _converse(client)
    _report(client, last)
    time.sleep(TTL + 0.5)
    store = Store(settings.store_url, conversation_ttl=settings.conversation_ttl)
    try:
        assert store.purge_expired() == 1
        assert store.conversation_count() == 0
        items, _ = store.list_feedback("all", limit=10, offset=0)
        assert [i.reason for i in items] == [None]
    finally:
        store.dispose()
    assert _found(data_dir) == []
