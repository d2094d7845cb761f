"""The HTTP API against the real app (TestClient over create_app) and the real index built by the ingest code."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from api.app import create_app
from api.errors import ErrorCode
from api.runtime import Runtime
from api.schemas import DepartmentCode
from api.store import Store, metadata
from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex
from knowledge.referentials import DEPARTMENTS, NETWORK_IDS
from knowledge.settings import Settings
from knowledge.territory import Territory

ADMIN = "jeton-de-test"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
PG_URL = os.environ.get("SPRO_TEST_DATABASE_URL")

OpenClient = Callable[..., TestClient]


@pytest.fixture()
def data_dir(tmp_path: Path, index_root: Path) -> Path:
    """A data folder whose index/ is the session's index: the app reads it, never rebuilds it."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "index").symlink_to(index_root, target_is_directory=True)
    return data


@pytest.fixture()
def open_client(
    data_dir: Path, encoder: Encoder, territory: Territory, knowledge_index: KnowledgeIndex
) -> Iterator[OpenClient]:
    """Open a started app (lifespan run) with test settings plus overrides; closed at the end of the test."""
    with ExitStack() as stack:

        def open_(raise_server_exceptions: bool = True, **overrides: Any) -> TestClient:
            values: dict[str, Any] = {"data_dir": data_dir, "admin_token": ADMIN, "rate_limit_per_minute": 0}
            values.update(overrides)
            settings = Settings(**values)
            app = create_app(settings, runtime=Runtime(settings, encoder, territory, knowledge_index))
            return stack.enter_context(TestClient(app, raise_server_exceptions=raise_server_exceptions))

        yield open_


@pytest.fixture()
def client(open_client: OpenClient) -> TestClient:
    return open_client()


def assert_error(response: Any, status: int, code: ErrorCode | str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert body["error"] == str(code)
    assert isinstance(body["detail"], str) and body["detail"]
    return body  # type: ignore[no-any-return]


def chat(client: TestClient, message: str, conversation_id: str | None = None, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"message": message, **extra}
    if conversation_id is not None:
        payload["conversation_id"] = conversation_id
    response = client.post("/api/chat", json=payload)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# --- the chat contract ---------------------------------------------------------------------------------------


def test_chat_answer_has_exactly_the_documented_shape(client: TestClient) -> None:
    body = chat(client, "jeune de 19 ans sans diplôme qui cherche un emploi à Villeurbanne")
    assert set(body) == {
        "conversation_id", "turn", "reply", "clarification", "understood", "structures", "sources"
    }
    assert body["turn"] == 1 and body["reply"]
    assert set(body["understood"]) == {"age", "status", "needs", "flags", "commune", "department"}
    assert body["understood"]["age"] == 19
    assert body["understood"]["commune"] == {"insee": "69266", "name": "Villeurbanne"}
    assert body["structures"], body["reply"]
    for structure in body["structures"]:
        assert set(structure) == {
            "id", "name", "network", "score", "reasons", "departments", "contacts", "excerpts", "contact_reported",
            "contact_report", "distance_km", "freshness", "referents",
        }
        assert structure["contact_report"] == "none" and structure["contact_reported"] is False
        assert structure["referents"] == []
        if structure["contacts"] and structure["contacts"][0]["kind"] == "site":
            # No structure checked its site here: the newest official date and its producer.
            freshness = structure["freshness"]
            assert set(freshness) == {"on", "by", "verified", "text"} and freshness["verified"] is False
            assert freshness["text"].startswith(freshness["by"] + ", à jour ")
        assert isinstance(structure["score"], float)
        for contact in structure["contacts"]:
            assert set(contact) == {
                "label", "kind", "phone", "phone_note", "email", "address", "commune", "department", "url", "hours",
                "source", "as_of", "provenance", "stale",
            }
            assert contact["provenance"], contact
            for line in contact["provenance"]:
                assert set(line) == {"fields", "source", "as_of"}
        for excerpt in structure["excerpts"]:
            assert set(excerpt) == {"text", "source_id", "source_title", "url"}
    assert any(s["contacts"] for s in body["structures"])
    for source in body["sources"]:
        assert set(source) == {"id", "title", "url", "as_of"}
    assert "confident" not in body


def test_every_contact_says_where_it_comes_from_how_old_it_is_and_a_missing_site_leads_to_the_national_way_in(
    client: TestClient,
) -> None:
    body = chat(client, "jeune de 19 ans sans emploi à Bourgoin-Jallieu")
    contacts = [c for s in body["structures"] for c in s["contacts"]]
    # A site seen in two sources: one provenance line per (source, date), each naming its fields.
    merged = [c for c in contacts if len(c["provenance"]) > 1]
    assert merged, contacts
    assert all(line["fields"] and line["source"] for c in merged for line in c["provenance"])
    assert any(c["stale"] for c in contacts)  # the 2019 directory is more than two years old
    # A network without a local site here: its official locator and national number, with the tariff notice.
    national = [c for c in contacts if c["kind"] == "national"]
    assert national and all(c["url"] and c["url"].startswith("https://") for c in national)
    assert any(c["phone"] and c["phone_note"] for c in national)
    distances = [s["distance_km"] for s in body["structures"] if s["distance_km"] is not None]
    assert distances and all(isinstance(d, float) and d >= 0 for d in distances)

    opening = chat(client, "demandeur d'emploi de 50 ans qui a besoin d'aide pour ses démarches en ligne à Valserhône")
    hours = [c["hours"] for s in opening["structures"] for c in s["contacts"] if c["hours"]]
    assert hours and all(re.fullmatch(r"\w+ : .+", line) for lines in hours for line in lines), hours


def test_dropout_aged_17_is_asked_the_territory_then_gets_structures_in_isere(client: TestClient) -> None:
    first = chat(client, "jeune de 17 ans décrocheur")
    assert first["clarification"] is not None and first["clarification"]["slot"] == "territory"
    assert first["understood"]["age"] == 17
    second = chat(client, "à Vienne", first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"]
    assert second["turn"] == 2
    assert second["understood"]["age"] == 17
    assert second["understood"]["department"] == "38"
    local = [s for s in second["structures"] if "38" in s["departments"]]
    assert local, second["structures"]
    assert any(c["department"] == "38" for s in local for c in s["contacts"])


def test_context_from_the_widget_sets_the_territory(client: TestClient) -> None:
    body = chat(client, "lycéen qui veut se réorienter", context={"department": "69"})
    assert body["understood"]["department"] == "69"
    by_commune = chat(client, "lycéen qui veut se réorienter", context={"commune": "Vienne (38)"})
    assert by_commune["understood"]["commune"]["insee"] == "38544"


@pytest.mark.parametrize(
    "conversation_id",
    ["inconnu0123456789", "../../etc/passwd", "x'); DROP TABLE conversations; --", "a\u0000b", "é" * 150],
)
def test_unknown_or_hostile_conversation_id_starts_a_new_conversation(
    client: TestClient, conversation_id: str
) -> None:
    body = chat(client, "salarié qui veut se reconvertir", conversation_id)
    assert body["conversation_id"] != conversation_id
    assert body["turn"] == 1
    assert client.get("/healthz").status_code == 200


def test_expired_conversation_starts_again_with_a_new_id(open_client: OpenClient) -> None:
    client = open_client(conversation_ttl=1)
    first = chat(client, "jeune de 17 ans décrocheur")
    time.sleep(1.2)
    second = chat(client, "à Vienne", first["conversation_id"])
    assert second["conversation_id"] != first["conversation_id"]
    assert second["turn"] == 1


def test_delete_forgets_the_conversation(client: TestClient, data_dir: Path) -> None:
    first = chat(client, "jeune de 17 ans décrocheur")
    assert client.delete(f"/api/conversations/{first['conversation_id']}").status_code == 204
    assert client.delete(f"/api/conversations/{first['conversation_id']}").status_code == 204
    assert client.delete("/api/conversations/'%20OR%201=1%20--").status_code == 204
    second = chat(client, "à Vienne", first["conversation_id"])
    assert second["conversation_id"] != first["conversation_id"]
    store = Store(f"sqlite:///{data_dir / 'spro.db'}", conversation_ttl=60)
    assert store.load(first["conversation_id"]) is None
    store.dispose()


def test_free_text_never_reaches_the_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    marker = "Zorglubienne"
    with caplog.at_level(logging.DEBUG):
        chat(client, f"{marker} de 22 ans qui cherche une formation à Grenoble")
        client.get("/api/search", params={"q": f"{marker} demandeuse d'emploi"})
        client.post("/api/chat", json={"message": f"{marker} " * 300})
    # The test client logs its own requests (httpx): only the server side is under test.
    server_side = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert server_side == [] or all(marker not in r.getMessage() for r in server_side)


def test_stored_conversation_holds_no_free_text(client: TestClient, data_dir: Path) -> None:
    marker = "Zorglubienne"
    chat(client, f"{marker} de 22 ans qui cherche une formation à Grenoble")
    store = Store(f"sqlite:///{data_dir / 'spro.db'}", conversation_ttl=60)
    with store.engine.connect() as connection:
        states = [str(row[0]) for row in connection.execute(text("SELECT state FROM conversations"))]
    store.dispose()
    assert states and not any(marker.lower() in s.lower() for s in states)


# --- search -----------------------------------------------------------------------------------------------------


def test_search_ranks_local_structures_without_keeping_a_conversation(client: TestClient, data_dir: Path) -> None:
    response = client.get(
        "/api/search", params={"q": "jeune sans diplôme qui cherche un emploi", "department": "38", "age": 19}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"reply", "understood", "structures", "sources"}
    assert body["understood"]["age"] == 19 and body["understood"]["department"] == "38"
    networks = [s["network"] for s in body["structures"]]
    assert "mission_locale" in networks
    assert any("38" in s["departments"] for s in body["structures"] if s["network"] == "mission_locale")
    store = Store(f"sqlite:///{data_dir / 'spro.db'}", conversation_ttl=60)
    assert store.conversation_count() == 0
    store.dispose()


def test_search_filters_by_commune_and_public(client: TestClient) -> None:
    body = client.get(
        "/api/search", params={"q": "cherche un emploi", "commune": "Villeurbanne", "public": "jeunes", "age": 20}
    ).json()
    assert body["understood"]["commune"]["insee"] == "69266"
    assert body["structures"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 422, ErrorCode.INVALID_REQUEST),
        ({"q": ""}, 422, ErrorCode.INVALID_REQUEST),
        ({"q": "   "}, 422, ErrorCode.INVALID_REQUEST),
        ({"q": "x" * 501}, 422, ErrorCode.INVALID_REQUEST),
        ({"q": "emploi", "department": "99"}, 422, ErrorCode.INVALID_REQUEST),
        ({"q": "emploi", "department": "75"}, 422, ErrorCode.INVALID_REQUEST),
        ({"q": "emploi", "age": "dix-sept"}, 422, ErrorCode.INVALID_REQUEST),
        ({"q": "emploi", "age": "-4"}, 422, ErrorCode.INVALID_REQUEST),
        ({"q": "emploi", "public": "martiens"}, 422, ErrorCode.UNKNOWN_PUBLIC),
        ({"q": "emploi", "commune": "Xyzzyville-sur-Rien"}, 422, ErrorCode.UNKNOWN_COMMUNE),
    ],
)
def test_search_refuses_bad_parameters_with_the_error_shape(
    client: TestClient, params: dict[str, str], status: int, code: ErrorCode
) -> None:
    assert_error(client.get("/api/search", params=params), status, code)


def test_department_codes_of_the_api_are_those_of_the_region() -> None:
    assert set(DepartmentCode.__args__) == set(DEPARTMENTS)  # type: ignore[attr-defined]


# --- bad inputs: a 4xx or a polite reply, never a 5xx --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "status", "code", "field"),
    [
        (b'{"message": ""}', 422, ErrorCode.INVALID_REQUEST, "message"),
        (b'{"message": "   \\n\\t  "}', 422, ErrorCode.INVALID_REQUEST, "message"),
        (b'{"message": "\\u0000\\u0001\\u001f"}', 422, ErrorCode.INVALID_REQUEST, "message"),
        (b'{"message": "\\ud800"}', 422, ErrorCode.INVALID_REQUEST, "message"),
        (b'{"message": 17}', 422, ErrorCode.INVALID_REQUEST, "message"),
        (b'{"message": ["jeune"]}', 422, ErrorCode.INVALID_REQUEST, "message"),
        (b'{"message": null}', 422, ErrorCode.INVALID_REQUEST, "message"),
        (b"{}", 422, ErrorCode.INVALID_REQUEST, "message"),
        (b"[]", 422, ErrorCode.INVALID_REQUEST, None),
        (b'"jeune"', 422, ErrorCode.INVALID_REQUEST, None),
        (b'{"message": "jeune", "conversation_id": 12}', 422, ErrorCode.INVALID_REQUEST, "conversation_id"),
        (b'{"message": "jeune", "context": {"department": "99"}}', 422, ErrorCode.INVALID_REQUEST, "department"),
        (b'{"message": "jeune", "context": "69"}', 422, ErrorCode.INVALID_REQUEST, "context"),
        (b'{"message": "jeune", "context": {"commune": "Nullepart-les-Oies"}}', 422, ErrorCode.UNKNOWN_COMMUNE, None),
        (b'{"message": "jeune"', 400, ErrorCode.INVALID_JSON, None),
        (b"{'message': 'jeune'}", 400, ErrorCode.INVALID_JSON, None),
        (b'{"message": "\xff\xfe jeune"}', 400, ErrorCode.INVALID_BODY, None),
    ],
)
def test_chat_refuses_bad_bodies_with_the_error_shape(
    client: TestClient, raw: bytes, status: int, code: ErrorCode, field: str | None
) -> None:
    body = assert_error(
        client.post("/api/chat", content=raw, headers={"content-type": "application/json"}), status, code
    )
    if field is not None:
        assert field in body["detail"]
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "message",
    [
        "jeune de 17 ans\u0000 décrocheur",
        "jeune\u0007\u001b[31m de 17 ans\r\n à Lyon",
        "<script>alert('x')</script> jeune de 17 ans",
        "'; DROP TABLE conversations; -- jeune",
        "../../../../etc/passwd",
        "😀" * 500,
        "a" * 2000,
        "\u202ejeune\u200b de 20 ans",
    ],
)
def test_odd_but_valid_messages_get_a_polite_reply(client: TestClient, message: str) -> None:
    body = chat(client, message)
    assert body["reply"]
    assert "<script>" not in body["reply"]
    assert client.get("/healthz").status_code == 200


def test_a_message_over_2000_characters_is_refused_naming_the_field(open_client: OpenClient) -> None:
    client = open_client(max_body_bytes=1_000_000)
    body = assert_error(client.post("/api/chat", json={"message": "a" * 2001}), 422, ErrorCode.INVALID_REQUEST)
    assert "message" in body["detail"]


def test_a_body_of_200000_characters_is_refused_as_too_large(client: TestClient) -> None:
    assert_error(client.post("/api/chat", json={"message": "a" * 200_000}), 413, ErrorCode.PAYLOAD_TOO_LARGE)


def test_a_streamed_body_over_the_limit_is_refused_too(open_client: OpenClient) -> None:
    client = open_client(max_body_bytes=1000)

    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(20):
            yield b"a" * 100
        yield b'"}'

    response = client.post("/api/chat", content=chunks(), headers={"content-type": "application/json"})
    assert_error(response, 413, ErrorCode.PAYLOAD_TOO_LARGE)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nulle-part", 404, ErrorCode.NOT_FOUND),
        ("GET", "/api/chat", 405, ErrorCode.METHOD_NOT_ALLOWED),
        ("PUT", "/api/networks", 405, ErrorCode.METHOD_NOT_ALLOWED),
        ("GET", "/api/networks/zzz", 404, ErrorCode.UNKNOWN_NETWORK),
        ("GET", "/api/networks/..%2F..%2Fetc%2Fpasswd", 404, ErrorCode.NOT_FOUND),
        ("GET", "/api/structures/'%20OR%201=1%20--", 404, ErrorCode.UNKNOWN_STRUCTURE),
        ("GET", "/api/structures/..%5C..%5Cwindows", 404, ErrorCode.UNKNOWN_STRUCTURE),
        ("GET", "/api/dispositifs/%3Cscript%3E", 404, ErrorCode.UNKNOWN_DISPOSITIF),
        ("GET", "/api/dispositifs/" + "x" * 300, 422, ErrorCode.INVALID_REQUEST),
        ("GET", "/api/structures?limit=0", 422, ErrorCode.INVALID_REQUEST),
        ("GET", "/api/structures?limit=abc", 422, ErrorCode.INVALID_REQUEST),
        ("GET", "/api/structures?network=%27%20OR%201%3D1", 422, ErrorCode.INVALID_REQUEST),
        ("GET", "/api/territory/resolve", 422, ErrorCode.INVALID_REQUEST),
        ("GET", "/static/../../etc/passwd", 404, ErrorCode.NOT_FOUND),
        ("GET", "/static/%2e%2e/%2e%2e/etc/passwd", 404, ErrorCode.NOT_FOUND),
    ],
)
def test_bad_routes_and_ids_answer_the_error_shape(
    client: TestClient, method: str, path: str, status: int, code: ErrorCode
) -> None:
    assert_error(client.request(method, path), status, code)


def test_an_unexpected_failure_answers_500_in_the_error_shape_and_the_service_recovers(
    open_client: OpenClient, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = open_client(raise_server_exceptions=False)
    chat(client, "jeune de 17 ans décrocheur")
    outside = Store(f"sqlite:///{data_dir / 'spro.db'}", conversation_ttl=60)
    with outside.engine.begin() as connection:
        connection.execute(text("DROP TABLE conversations"))  # a real failure, below the API
    marker = "Zorglubienne"
    with caplog.at_level(logging.ERROR):
        failed = client.post("/api/chat", json={"message": f"{marker} de 17 ans"})
    assert_error(failed, 500, ErrorCode.INTERNAL_ERROR)
    logged = "\n".join(logging.Formatter().format(r) for r in caplog.records if not r.name.startswith("httpx"))
    assert "/api/chat" in logged and "Traceback" in logged
    assert marker not in logged
    outside.create_schema()
    outside.dispose()
    assert chat(client, "jeune de 17 ans décrocheur")["turn"] == 1


# --- catalogue -----------------------------------------------------------------------------------------------------


def test_networks_list_every_network_with_its_local_presence(client: TestClient) -> None:
    networks = client.get("/api/networks").json()
    assert {n["id"] for n in networks} == set(NETWORK_IDS)
    mission_locale = next(n for n in networks if n["id"] == "mission_locale")
    assert mission_locale["summary"] and mission_locale["name"]
    detail = client.get("/api/networks/mission_locale").json()
    assert detail["sections"] and detail["source"]["title"]
    assert all("mission_locale" in d["operators"] for d in detail["dispositifs"])


def test_structures_are_paginated_and_filtered(client: TestClient) -> None:
    everything = client.get("/api/structures", params={"limit": 200}).json()
    assert everything["total"] > 0 and len(everything["items"]) == min(200, everything["total"])
    first = client.get("/api/structures", params={"limit": 5, "offset": 0}).json()
    second = client.get("/api/structures", params={"limit": 5, "offset": 5}).json()
    assert len(first["items"]) == 5 and first["total"] == everything["total"]
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    beyond = client.get("/api/structures", params={"offset": 1_000_000}).json()
    assert beyond["items"] == [] and beyond["total"] == everything["total"]
    isere = client.get("/api/structures", params={"network": "mission_locale", "department": "38"}).json()
    assert isere["total"] > 0
    assert all(i["network"] == "mission_locale" and "38" in i["departments"] for i in isere["items"])
    vienne = client.get("/api/structures", params={"commune": "38544", "network": "mission_locale"}).json()
    assert vienne["total"] >= 1 and all("38" in i["departments"] for i in vienne["items"])


def test_structure_detail_has_dated_sourced_contacts(client: TestClient) -> None:
    page = client.get("/api/structures", params={"network": "cio", "department": "38", "limit": 1}).json()
    site_id = page["items"][0]["id"]
    detail = client.get(f"/api/structures/{site_id}").json()
    assert detail["id"] == site_id and detail["network"] == "cio"
    assert detail["contacts"] and all(c["source"] for c in detail["contacts"])
    assert detail["contact_reported"] is False


def test_dispositifs_and_their_sheets(client: TestClient) -> None:
    sheets = client.get("/api/dispositifs").json()
    assert sheets
    sheet = client.get(f"/api/dispositifs/{sheets[0]['id']}").json()
    assert sheet["sections"] and sheet["operators"] and sheet["source"]["id"]
    for_ml = client.get("/api/dispositifs", params={"network": "mission_locale"}).json()
    assert all("mission_locale" in s["operators"] for s in for_ml)


def test_territory_resolves_names_codes_and_departments(client: TestClient) -> None:
    vienne = client.get("/api/territory/resolve", params={"q": "Vienne"}).json()
    assert vienne["found"] and vienne["communes"][0]["insee"] == "38544"
    assert vienne["communes"][0]["department_name"] == "Isère"
    nothing = client.get("/api/territory/resolve", params={"q": "Xyzzyville-sur-Rien"}).json()
    assert nothing["found"] is False and nothing["communes"] == []
    hostile = client.get("/api/territory/resolve", params={"q": "'; DROP TABLE x; --"})
    assert hostile.status_code == 200


# --- feedback ------------------------------------------------------------------------------------------------------


def _mission_locales(client: TestClient) -> list[str]:
    body = client.get(
        "/api/search", params={"q": "jeune de 19 ans sans diplôme qui cherche un emploi", "commune": "38544"}
    ).json()
    return [s["id"] for s in body["structures"] if s["network"] == "mission_locale"]


def test_a_wrong_contact_report_waits_for_the_admins_and_changes_nothing_for_others(client: TestClient) -> None:
    conversation = chat(client, "jeune de 19 ans sans diplôme qui cherche un emploi à Vienne")
    before = _mission_locales(client)
    assert len(before) >= 2, before
    reported = next(s["id"] for s in conversation["structures"] if s["network"] == "mission_locale")
    response = client.post(
        "/api/feedback",
        json={
            "conversation_id": conversation["conversation_id"],
            "turn": 1,
            "rating": "down",
            "kind": "contact_errone",
            "structure_id": reported,
            "reason": "Le numéro n'est plus attribué",
        },
    )
    assert response.status_code == 201, response.text
    feedback_id = response.json()["id"]

    # Another counsellor sees exactly what they saw before: same order, no flag, no added reason.
    assert _mission_locales(client) == before
    other = chat(client, "jeune de 19 ans sans diplôme qui cherche un emploi à Vienne")
    assert [s["id"] for s in other["structures"]] == [s["id"] for s in conversation["structures"]]
    assert not any(s["contact_reported"] for s in other["structures"])
    assert client.get(f"/api/structures/{reported}").json()["contact_reported"] is False

    listed = client.get("/api/admin/feedback", headers=AUTH).json()
    assert listed["total"] == 1 and listed["items"][0]["structure_id"] == reported
    resolved = client.post(f"/api/admin/feedback/{feedback_id}/resolve", headers=AUTH)
    assert resolved.status_code == 200 and resolved.json()["resolved_at"]
    assert client.get("/api/admin/feedback", headers=AUTH).json()["total"] == 0
    assert client.get("/api/admin/feedback", params={"status": "all"}, headers=AUTH).json()["total"] == 1


def test_a_report_on_a_conversation_the_server_never_issued_is_refused(client: TestClient) -> None:
    site = _mission_locales(client)[0]
    forged = client.post(
        "/api/feedback",
        json={"conversation_id": "jamais-emis-par-ce-serveur", "turn": 1, "rating": "down",
              "kind": "contact_errone", "structure_id": site},
    )
    assert_error(forged, 404, ErrorCode.UNKNOWN_CONVERSATION)
    # A search is stateless: it issues no conversation a report could name.
    assert_error(
        client.post("/api/feedback", json={"conversation_id": "abcdefghijklmnop", "turn": 1, "rating": "up"}),
        404, ErrorCode.UNKNOWN_CONVERSATION,
    )
    assert client.get("/api/admin/feedback", params={"status": "all"}, headers=AUTH).json()["total"] == 0


def test_a_report_on_a_structure_the_turn_did_not_show_is_refused(client: TestClient) -> None:
    conversation = chat(client, "salarié qui veut se reconvertir à Grenoble")
    shown = {s["id"] for s in conversation["structures"]}
    elsewhere = next(s for s in _mission_locales(client) if s not in shown)
    response = client.post(
        "/api/feedback",
        json={"conversation_id": conversation["conversation_id"], "turn": 1, "rating": "down",
              "kind": "contact_errone", "structure_id": elsewhere},
    )
    assert_error(response, 422, ErrorCode.STRUCTURE_NOT_SHOWN)
    assert client.get("/api/admin/feedback", params={"status": "all"}, headers=AUTH).json()["total"] == 0


def test_thumbs_up_is_stored(client: TestClient) -> None:
    conversation = chat(client, "salarié qui veut se reconvertir à Grenoble")
    response = client.post(
        "/api/feedback", json={"conversation_id": conversation["conversation_id"], "turn": 1, "rating": "up"}
    )
    assert response.status_code == 201
    assert response.json()["rating"] == "up" and response.json()["channel"] == "widget"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"turn": 1, "rating": "down", "kind": "contact_errone"}, 422, ErrorCode.STRUCTURE_REQUIRED),
        ({"turn": 1, "rating": "down", "structure_id": "annuaire:nulle-part"}, 404, ErrorCode.UNKNOWN_STRUCTURE),
        ({"turn": 9, "rating": "up"}, 422, ErrorCode.TURN_AHEAD),
        ({"turn": 0, "rating": "up"}, 422, ErrorCode.INVALID_REQUEST),
        ({"turn": 1, "rating": "bof"}, 422, ErrorCode.INVALID_REQUEST),
        ({"turn": 1, "rating": "up", "kind": "autre chose"}, 422, ErrorCode.INVALID_REQUEST),
        ({"turn": 1, "rating": "up", "reason": "x" * 1001}, 422, ErrorCode.INVALID_REQUEST),
        ({"turn": 1, "rating": "down", "structure_id": "annuaire:\u0000cio"}, 422, ErrorCode.INVALID_REQUEST),
        ({"turn": 1, "rating": "up", "conversation_id": "'; DROP TABLE feedback; --"}, 422, ErrorCode.INVALID_REQUEST),
    ],
)
def test_feedback_refuses_what_cannot_be_taken(
    client: TestClient, payload: dict[str, Any], status: int, code: ErrorCode
) -> None:
    conversation = chat(client, "salarié qui veut se reconvertir à Grenoble")
    assert_error(
        client.post("/api/feedback", json={"conversation_id": conversation["conversation_id"], **payload}),
        status,
        code,
    )


def test_feedback_on_a_network_level_result_is_accepted(client: TestClient) -> None:
    conversation = chat(client, "jeune de 17 ans décrocheur")
    network_result = next(s["id"] for s in conversation["structures"] if s["id"].startswith("network:"))
    response = client.post(
        "/api/feedback",
        json={
            "conversation_id": conversation["conversation_id"], "turn": 1, "rating": "down",
            "kind": "non_pertinent", "structure_id": network_result,
        },
    )
    assert response.status_code == 201


# --- administration ----------------------------------------------------------------------------------------------

ADMIN_ROUTES = [
    ("POST", "/api/admin/reindex"),
    ("GET", "/api/admin/reindex/20250101T000000-abcd"),
    ("GET", "/api/admin/stats"),
    ("GET", "/api/admin/feedback"),
    ("POST", "/api/admin/feedback/1/resolve"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_routes_are_off_without_a_configured_token(open_client: OpenClient, method: str, path: str) -> None:
    client = open_client(admin_token=None)
    assert_error(client.request(method, path, headers=AUTH), 403, ErrorCode.ADMIN_DISABLED)


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer mauvais"}, {"Authorization": ADMIN}, {"Authorization": "Basic eDp5"}]
)
def test_admin_routes_need_the_right_bearer_token(
    client: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    response = client.request(method, path, headers=headers)
    assert_error(response, 401, ErrorCode.UNAUTHORIZED)
    assert response.headers["www-authenticate"] == "Bearer"


def test_admin_unknown_job_and_feedback_are_404(client: TestClient) -> None:
    assert_error(client.get("/api/admin/reindex/inconnu", headers=AUTH), 404, ErrorCode.UNKNOWN_JOB)
    assert_error(client.get("/api/admin/reindex/a%00b'%20OR%201=1", headers=AUTH), 404, ErrorCode.UNKNOWN_JOB)
    assert_error(client.post("/api/admin/feedback/424242/resolve", headers=AUTH), 404, ErrorCode.UNKNOWN_FEEDBACK)
    assert_error(client.post("/api/admin/feedback/abc/resolve", headers=AUTH), 422, ErrorCode.INVALID_REQUEST)


def test_stats_are_aggregated_and_never_hold_the_text(client: TestClient) -> None:
    marker = "Zorglubienne"
    chat(client, f"{marker} de 19 ans qui cherche un emploi à Grenoble")
    chat(client, f"{marker} salariée qui veut faire une VAE à Lyon")
    chat(client, "quelle est la recette de la tarte tatin ?")
    response = client.get("/api/admin/stats", params={"days": 7}, headers=AUTH)
    assert response.status_code == 200
    stats = response.json()
    assert stats["questions"] == 3 and len(stats["per_day"]) == 1
    assert stats["per_day"][0]["questions"] == 3
    assert 0 < stats["share_without_confident_answer"] < 1
    departments = {d["department"]: d["needs"] for d in stats["top_needs_per_department"]}
    assert "38" in departments and "69" in departments
    assert marker not in response.text and "tatin" not in response.text


# --- operations -------------------------------------------------------------------------------------------------


def test_health_readiness_and_metrics(client: TestClient, knowledge_index: KnowledgeIndex) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["index_version"] == knowledge_index.version
    assert ready["chunks"] == len(knowledge_index.chunks)
    chat(client, "jeune de 17 ans décrocheur")
    site = next(iter(knowledge_index.structures))
    client.get(f"/api/structures/{site}")
    assert_error(client.get("/metrics"), 401, ErrorCode.UNAUTHORIZED)
    assert_error(client.get("/metrics", headers={"Authorization": "Bearer faux"}), 401, ErrorCode.UNAUTHORIZED)
    metrics = client.get("/metrics", headers=AUTH)
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    exposition = metrics.text
    assert 'spro_http_requests_total{method="POST",route="/api/chat",status="200"} 1.0' in exposition
    assert 'route="/api/structures/{structure_id}"' in exposition
    assert site not in exposition
    assert "spro_http_request_duration_seconds_bucket" in exposition
    assert f'version="{knowledge_index.version}"' in exposition
    assert f"spro_index_chunks {float(len(knowledge_index.chunks))}" in exposition
    assert f'first_stage="{knowledge_index.first_stage}"' in exposition
    # Each encoder's query texts, read or from its cache: the chat turn above asked at least the first stage.
    asked: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "spro_query_encodings_total":
                asked[sample.labels["encoder"]] = asked.get(sample.labels["encoder"], 0.0) + sample.value
    assert set(asked) == {knowledge_index.first_stage, knowledge_index.manifest.encoder}
    assert asked[str(knowledge_index.first_stage)] >= 1.0


def test_metrics_are_closed_without_an_admin_token(open_client: OpenClient) -> None:
    assert_error(open_client(admin_token=None).get("/metrics"), 403, ErrorCode.ADMIN_DISABLED)


def test_rate_limit_answers_429_with_retry_after(open_client: OpenClient) -> None:
    client = open_client(rate_limit_per_minute=3)
    for _ in range(3):
        assert client.get("/api/networks").status_code == 200
    response = client.get("/api/networks")
    assert_error(response, 429, ErrorCode.RATE_LIMITED)
    assert int(response.headers["retry-after"]) >= 1
    assert client.get("/healthz").status_code == 200  # operations routes are never limited


def test_cors_allows_only_the_configured_origins(open_client: OpenClient) -> None:
    client = open_client(cors_origins=["https://widget.example.fr"])
    preflight = client.options(
        "/api/chat",
        headers={"Origin": "https://widget.example.fr", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://widget.example.fr"
    other = client.get("/api/networks", headers={"Origin": "https://ailleurs.example.com"})
    assert "access-control-allow-origin" not in other.headers
    allowed = client.get("/api/networks", headers={"Origin": "https://widget.example.fr"})
    assert allowed.headers["access-control-allow-origin"] == "https://widget.example.fr"


def test_static_widget_is_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert client.get("/static/index.html").status_code == 200
    widget = client.get("/widget.js")
    assert widget.status_code in (200, 404)
    if widget.status_code == 404:
        assert_error(widget, 404, ErrorCode.NOT_FOUND)


def test_openapi_documents_every_route_in_french(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    expected = {
        "/api/chat", "/api/search", "/api/conversations/{conversation_id}", "/api/networks",
        "/api/networks/{network_id}", "/api/structures", "/api/structures/{structure_id}", "/api/dispositifs",
        "/api/dispositifs/{dispositif_id}", "/api/territory/resolve", "/api/feedback", "/api/admin/reindex",
        "/api/admin/reindex/{job_id}", "/api/admin/stats", "/api/admin/feedback",
        "/api/admin/feedback/{feedback_id}/resolve", "/healthz", "/readyz", "/metrics",
    }
    assert expected <= set(schema["paths"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
    chat_post = schema["paths"]["/api/chat"]["post"]
    assert "422" in chat_post["responses"] and "429" in chat_post["responses"]
    assert schema["components"]["schemas"]["ChatIn"]["examples"]


def test_concurrent_turns_all_succeed(client: TestClient) -> None:
    failures: list[str] = []

    def converse(worker: int) -> None:
        for _ in range(3):
            response = client.post("/api/chat", json={"message": f"jeune de {16 + worker} ans qui cherche un emploi"})
            if response.status_code != 200:
                failures.append(response.text)

    threads = [threading.Thread(target=converse, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# --- the same conversation on PostgreSQL (CI starts one; skipped elsewhere) ---------------------------------------


def test_conversation_and_feedback_on_postgresql(open_client: OpenClient) -> None:
    if not PG_URL:
        pytest.skip("SPRO_TEST_DATABASE_URL absent : pas de PostgreSQL pour ce test")
    reset = Store(PG_URL, conversation_ttl=60)
    metadata.drop_all(reset.engine)
    reset.dispose()
    client = open_client(database_url=PG_URL)
    first = chat(client, "jeune de 17 ans décrocheur")
    second = chat(client, "à Vienne", first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"] and second["turn"] == 2
    hostile = chat(client, "salarié qui veut se reconvertir", "a\u0000b'; --")
    assert hostile["turn"] == 1
    site = next(s["id"] for s in second["structures"] if s["id"].startswith("annuaire:"))
    response = client.post(
        "/api/feedback",
        json={"conversation_id": first["conversation_id"], "turn": 2, "rating": "down",
              "kind": "contact_errone", "structure_id": site},
    )
    assert response.status_code == 201
    forged = client.post(
        "/api/feedback",
        json={"conversation_id": "jamais-emis-par-ce-serveur", "turn": 1, "rating": "down",
              "kind": "contact_errone", "structure_id": site},
    )
    assert_error(forged, 404, ErrorCode.UNKNOWN_CONVERSATION)
    assert client.get(f"/api/structures/{site}").json()["contact_reported"] is False
    assert client.get("/api/admin/stats", headers=AUTH).json()["questions"] == 3
    assert client.get("/api/admin/reindex/a%00b", headers=AUTH).status_code == 404
    nul = client.post(
        "/api/feedback",
        json={"conversation_id": first["conversation_id"], "turn": 1, "rating": "up", "reason": "a\u0000b"},
    )
    assert nul.status_code == 201 and "\u0000" not in (nul.json()["reason"] or "")
    assert client.delete(f"/api/conversations/{first['conversation_id']}").status_code == 204
