"""The Teams bot as Teams drives it: Bot Framework activities posted to /api/messages of a real uvicorn on
127.0.0.1, the replies caught by a small local server playing the Bot Connector, the Bot Framework's OpenID keys
and Entra ID's token endpoint. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from api.app import create_app
from api.curation.store import CurationStore
from api.errors import ErrorCode
from api.runtime import Runtime
from api.store import Store
from api.teams.bot import conversation_key
from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex
from knowledge.settings import Settings
from knowledge.territory import Territory

pytestmark = pytest.mark.slow

ADMIN = "jeton-de-test"
APP_ID = "6f1c2b7e-0d2a-4c51-9a4e-3b8f2d6e1a90"
APP_SECRET = "secret-de-test"
TENANT = "8a3d9f1e-5b2c-4e7a-9c6d-1f0e2b3a4c5d"
BOT = {"id": f"28:{APP_ID}", "name": "Expert SPRO"}
COUNSELLOR = {"id": "29:1kQf3WbGz-conseillere", "name": "Camille Martin", "aadObjectId": "3c1a7a4e-2f0b-4f4e-8a56"}
PERSONAL_CHAT = "a:1Xq9wGmZ7dVv-conversation-personnelle"
CHANNEL_THREAD = "19:5f0e7c1d2b3a@thread.tacv2;messageid=1736935300000"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
CARD = "application/vnd.microsoft.card.adaptive"


# --- the Microsoft side, played on 127.0.0.1 ------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """One activity the bot sent to the Bot Connector."""

    conversation: str
    reply_to: str | None
    authorization: str | None
    activity: dict[str, Any]
    id: str


class FakeMicrosoft:
    """Bot Connector (/emea/v3/...), Bot Framework OpenID metadata and keys (/v1/.well-known/...), Entra ID token
    endpoint (/{tenant}/oauth2/v2.0/token): the protocols the bot speaks, answered by a real HTTP server."""

    ACTIVITIES = re.compile(r"^/emea/v3/conversations/([^/]+)/activities(?:/([^/]+))?$")
    TOKEN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "cle-de-test"
        self.entra_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.posted: list[Posted] = []
        self.token_requests: list[tuple[str, dict[str, str]]] = []
        self.issued: list[str] = []
        self.key_requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-microsoft", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def service_url(self) -> str:
        return f"{self.url}/emea/"

    def __enter__(self) -> FakeMicrosoft:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def jwks(self) -> dict[str, Any]:
        key = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**key, "kid": self.kid, "use": "sig", "alg": "RS256", "endorsements": ["msteams"]}]}

    def bot_framework_token(self, *, key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
        """A token as the Bot Framework signs it for an activity sent to our bot."""
        now = int(time.time())
        payload = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": APP_ID,
            "serviceurl": self.service_url,
            "iat": now - 10,
            "nbf": now - 10,
            "exp": now + 3600,
            **claims,
        }
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def connector_token(self, tenant: str, app_id: str) -> str:
        """The token Entra ID issues the bot for the Bot Connector (a JWT, which the SDK reads)."""
        now = int(time.time())
        payload = {"aud": "https://api.botframework.com", "iss": f"https://sts.windows.net/{tenant}/",
                   "appid": app_id, "tid": tenant, "iat": now, "nbf": now, "exp": now + 3600}
        return jwt.encode(payload, self.entra_key, algorithm="RS256")

    def sent(self, conversation: str) -> list[Posted]:
        with self._lock:
            return [p for p in self.posted if p.conversation == conversation]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path == "/v1/.well-known/openidconfiguration":
                    self._json(200, {"issuer": BOT_FRAMEWORK_ISSUER, "jwks_uri": f"{fake.url}/v1/.well-known/keys",
                                     "id_token_signing_alg_values_supported": ["RS256"]})
                elif self.path == "/v1/.well-known/keys":
                    with fake._lock:
                        fake.key_requests += 1
                    self._json(200, fake.jwks())
                else:
                    self._json(404, {"error": {"code": "NotFound", "message": self.path}})

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if match := fake.TOKEN.match(self.path):
                    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                    with fake._lock:
                        fake.token_requests.append((match.group(1), form))
                    if form.get("client_secret") != APP_SECRET:
                        self._json(401, {"error": "invalid_client"})
                        return
                    token = fake.connector_token(match.group(1), form["client_id"])
                    with fake._lock:
                        fake.issued.append(token)
                    self._json(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})
                elif match := fake.ACTIVITIES.match(self.path):
                    with fake._lock:
                        new_id = str(1_736_935_400_000 + len(fake.posted))
                        fake.posted.append(Posted(match.group(1), match.group(2), self.headers.get("Authorization"),
                                                  json.loads(body), new_id))
                    self._json(201, {"id": new_id})
                else:
                    self._json(404, {"error": {"code": "NotFound", "message": self.path}})

            def _json(self, status: int, payload: object) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


@pytest.fixture()
def microsoft() -> Iterator[FakeMicrosoft]:
    with FakeMicrosoft() as fake:
        yield fake


# --- the app under a real uvicorn --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Live:
    url: str
    settings: Settings

    def post(self, activity: dict[str, Any], token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{self.url}/api/messages", json=activity, headers=headers, timeout=60)


StartApp = Callable[..., Live]


@pytest.fixture()
def start_app(
    tmp_path: Path, index_root: Path, encoder: Encoder, territory: Territory, knowledge_index: KnowledgeIndex
) -> Iterator[StartApp]:
    """Start the app (settings plus overrides) under uvicorn on a free port of 127.0.0.1; stopped after the test."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "index").symlink_to(index_root, target_is_directory=True)
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**overrides: Any) -> Live:
        values: dict[str, Any] = {"data_dir": data, "admin_token": ADMIN, "rate_limit_per_minute": 0, **overrides}
        settings = Settings(**values)
        app = create_app(settings, runtime=Runtime(settings, encoder, territory, knowledge_index))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, name="uvicorn-teams", daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        return Live(f"http://127.0.0.1:{port}", settings)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=30)


# --- activities as Teams sends them ------------------------------------------------------------------------------

_ids = iter(range(1_736_935_200_000, 1_736_935_300_000))


def personal_message(service_url: str, text: str, conversation: str = PERSONAL_CHAT) -> dict[str, Any]:
    return {
        "text": text,
        "textFormat": "plain",
        "type": "message",
        "timestamp": "2025-01-15T10:00:00.1234567Z",
        "localTimestamp": "2025-01-15T11:00:00.1234567+01:00",
        "id": str(next(_ids)),
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": COUNSELLOR,
        "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": conversation},
        "recipient": BOT,
        "entities": [
            {"locale": "fr-FR", "country": "FR", "platform": "Web", "timezone": "Europe/Paris", "type": "clientInfo"}
        ],
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "fr-FR",
        "localTimezone": "Europe/Paris",
    }


def channel_message(service_url: str, text: str, mentioned: bool) -> dict[str, Any]:
    activity = personal_message(service_url, text, CHANNEL_THREAD)
    activity["conversation"] = {
        "isGroup": True, "conversationType": "channel", "tenantId": TENANT, "id": CHANNEL_THREAD,
    }
    activity["channelData"] = {
        "teamsChannelId": "19:5f0e7c1d2b3a@thread.tacv2",
        "teamsTeamId": "19:0a9b8c7d6e5f@thread.tacv2",
        "channel": {"id": "19:5f0e7c1d2b3a@thread.tacv2"},
        "team": {"id": "19:0a9b8c7d6e5f@thread.tacv2"},
        "tenant": {"id": TENANT},
    }
    activity["textFormat"] = "plain"
    if mentioned:
        activity["entities"].insert(0, {"mentioned": BOT, "text": "<at>Expert SPRO</at>", "type": "mention"})
    return activity


def feedback_invoke(service_url: str, reply_to: str, reaction: str, text: str) -> dict[str, Any]:
    activity = personal_message(service_url, "")
    del activity["text"], activity["textFormat"]
    activity.update(
        {
            "type": "invoke",
            "name": "message/submitAction",
            "replyToId": reply_to,
            "channelData": {"tenant": {"id": TENANT}, "source": {"name": "message"}, "legacy": {"replyToId": reply_to}},
            "value": {
                "actionName": "feedback",
                "actionValue": {"reaction": reaction, "feedback": json.dumps({"feedbackText": text})},
            },
        }
    )
    return activity


def card_submit(
    service_url: str, value: dict[str, Any], reply_to: str, conversation: str = PERSONAL_CHAT
) -> dict[str, Any]:
    """What Teams posts when an Action.Submit of one of the bot's cards is clicked: a message without text, the
    action's data and the card's inputs in `value`; in a channel, no @mention."""
    activity = personal_message(service_url, "", conversation)
    if conversation == CHANNEL_THREAD:
        activity = channel_message(service_url, "", mentioned=False)
    del activity["text"], activity["textFormat"]
    activity["replyToId"] = reply_to
    activity["channelData"] = {
        **activity["channelData"], "source": {"name": "message"}, "legacy": {"replyToId": reply_to},
    }
    activity["value"] = value
    return activity


def team_conversation(activity: dict[str, Any], conversation: str) -> dict[str, Any]:
    activity["conversation"] = {
        "isGroup": True, "conversationType": "channel", "tenantId": TENANT, "id": conversation,
    }
    activity["channelData"] = {
        "team": {"aadGroupId": "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", "id": conversation},
        "tenant": {"id": TENANT},
        "settings": {"selectedChannel": {"id": conversation}},
        "source": {"name": "message"},
    }
    return activity


def conversation_update(
    service_url: str,
    conversation: str,
    *,
    added: Sequence[dict[str, Any]] = (),
    removed: Sequence[dict[str, Any]] = (),
    team: bool = False,
) -> dict[str, Any]:
    """conversationUpdate as Teams sends it when members (the bot among them, or not) join or leave."""
    activity = personal_message(service_url, "", conversation)
    for field in ("text", "textFormat", "entities", "locale", "localTimezone", "localTimestamp"):
        activity.pop(field, None)
    activity["type"] = "conversationUpdate"
    if added:
        activity["membersAdded"] = list(added)
    if removed:
        activity["membersRemoved"] = list(removed)
    if team:
        team_conversation(activity, conversation)
        activity["channelData"]["eventType"] = "teamMemberAdded" if added else "teamMemberRemoved"
        del activity["channelData"]["settings"], activity["channelData"]["source"]
    return activity


def installation_update(service_url: str, conversation: str, action: str, *, team: bool = False) -> dict[str, Any]:
    """installationUpdate ("add" or "remove") as Teams sends it when the app is added to or removed from a
    personal chat or a team."""
    activity = personal_message(service_url, "", conversation)
    for field in ("text", "textFormat", "entities", "localTimestamp"):
        activity.pop(field, None)
    activity.update({"type": "installationUpdate", "action": action})
    activity["channelData"] = {"tenant": {"id": TENANT}, "source": {"name": "message"}}
    if team:
        team_conversation(activity, conversation)
    return activity


# --- reading what the bot sent -------------------------------------------------------------------------------------


def messages_of(posted: list[Posted]) -> list[Posted]:
    return [p for p in posted if p.activity["type"] == "message"]


def root_message_entity(activity: dict[str, Any]) -> dict[str, Any]:
    roots: list[dict[str, Any]] = [e for e in activity.get("entities", []) if e.get("type") == "https://schema.org/Message"]
    assert len(roots) == 1, activity.get("entities")  # Teams refuses two root message entities
    return roots[0]


def channel_data(posted: Posted) -> dict[str, Any]:
    data: dict[str, Any] = posted.activity.get("channelData", {})
    return data


def card_actions(element: Any) -> list[dict[str, Any]]:
    """Every action of a card, wherever it sits."""
    found: list[dict[str, Any]] = []
    if isinstance(element, dict):
        if str(element.get("type", "")).startswith("Action."):
            found.append(element)
        for value in element.values():
            found.extend(card_actions(value))
    elif isinstance(element, list):
        for value in element:
            found.extend(card_actions(value))
    return found


def card_texts(element: Any) -> list[str]:
    texts: list[str] = []
    if isinstance(element, dict):
        for key, value in element.items():
            if key in ("text", "title", "value") and isinstance(value, str):
                texts.append(value)
            else:
                texts.extend(card_texts(value))
    elif isinstance(element, list):
        for value in element:
            texts.extend(card_texts(value))
    return texts


def split_cards(activity: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The structure cards of an answer, and its case card (the one that offers "Corriger la situation")."""
    cards = [a["content"] for a in activity.get("attachments", [])]
    assert all(a["contentType"] == CARD for a in activity.get("attachments", []))
    cases = [c for c in cards if any(a.get("title") == "Corriger la situation" for a in c.get("actions", []))]
    assert len(cases) <= 1 and (not cases or cards[-1] is cases[0])  # at most one, after the structures
    return [c for c in cards if c not in cases], (cases[0] if cases else None)


def inputs(element: Any) -> dict[str, dict[str, Any]]:
    """Every input of a card (shown cards included), by id."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(element, dict):
        if str(element.get("type", "")).startswith("Input."):
            found[element["id"]] = element
        for value in element.values():
            found.update(inputs(value))
    elif isinstance(element, list):
        for value in element:
            found.update(inputs(value))
    return found


def facts_of(card: dict[str, Any]) -> dict[str, str]:
    return {f["title"]: f["value"] for e in card["body"] if e["type"] == "FactSet" for f in e["facts"]}


def show_card(card: dict[str, Any], title: str) -> dict[str, Any]:
    [action] = [a for a in card.get("actions", []) if a["type"] == "Action.ShowCard" and a["title"] == title]
    shown: dict[str, Any] = action["card"]
    return shown


def submit_data(card: dict[str, Any]) -> dict[str, Any]:
    [action] = [a for a in card_actions(card) if a["type"] == "Action.Submit"]
    data: dict[str, Any] = action["data"]
    return data


@contextmanager
def no_more_sent(microsoft: FakeMicrosoft, conversation: str) -> Iterator[None]:
    before = len(microsoft.sent(conversation))
    yield
    assert len(microsoft.sent(conversation)) == before


# --- the tests -----------------------------------------------------------------------------------------------------


def test_personal_message_gets_cited_answer_cards_feedback_buttons_and_the_place_question_as_a_list(
    start_app: StartApp, microsoft: FakeMicrosoft
) -> None:
    live = start_app(teams_dev_mode=True)
    response = live.post(personal_message(microsoft.service_url, "jeune de 19 ans sans diplôme qui veut se former"))
    assert response.status_code == 200, response.text

    sent = microsoft.sent(PERSONAL_CHAT)
    assert [p.activity["type"] for p in sent] == ["typing", "message"]  # one message a turn, question included
    answer = sent[1].activity
    assert answer["from"]["id"] == BOT["id"] and answer["conversation"]["id"] == PERSONAL_CHAT

    # The answer: the assistant's reply, a line per structure with its citations, the AI label, the citations.
    text = answer["text"]
    assert "19 ans" in text and "[1]" in text
    entity = root_message_entity(answer)
    assert entity["@type"] == "Message" and entity["additionalType"] == ["AIGeneratedContent"]
    citations = entity["citation"]
    assert [c["position"] for c in citations] == list(range(1, len(citations) + 1))
    assert {int(n) for n in re.findall(r"\[(\d+)\]", text)} == {c["position"] for c in citations}
    for citation in citations:
        assert citation["@type"] == "Claim" and citation["appearance"]["@type"] == "DigitalDocument"
        assert 0 < len(citation["appearance"]["name"]) <= 80 and 0 < len(citation["appearance"]["abstract"]) <= 160
    # Teams' native feedback buttons (the SDK writes the current `feedbackLoop` form of `feedbackLoopEnabled`).
    assert answer["channelData"]["feedbackLoop"] == {"type": "default"}
    assert "feedbackLoopEnabled" not in answer["channelData"]

    # One Adaptive Card per structure: name, network, why, contacts as buttons, source and date.
    cards, case = split_cards(answer)
    assert cards and answer["attachmentLayout"] == "list"
    for card in cards:
        assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
        assert card["body"][0]["weight"] == "Bolder"
        assert card["body"][0]["text"] in text  # the structure named in the answer is the card's title
        assert "Pourquoi" in card_texts(card)

    # The place question: a compact list of the options the assistant returned, and its button, on the case card
    # (no quick replies: Teams shows three at most, and none in channels).
    assert case is not None and "suggestedActions" not in answer
    [choice] = [e for e in inputs(case["body"]).values() if e["id"] == "choice"]
    assert choice["type"] == "Input.ChoiceSet" and choice["style"] == "compact" and choice["isRequired"] is True
    options = [c["value"] for c in choice["choices"]]
    assert len(options) >= 2 and all(c["title"] == c["value"] for c in choice["choices"])
    [send] = [a for e in case["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    assert send["type"] == "Action.Submit" and send["data"]["spro"] == "choose" and send["data"]["slot"] == "territory"
    # The question itself is said once, in the answer; the list has a label of its own.
    assert choice["label"] == "Commune de la personne" and choice["label"] not in text
    assert facts_of(case)["Âge"] == "19 ans"

    # The chosen option comes back as a message of the same conversation: the case goes on, now local.
    chosen = options[0]
    response = live.post(card_submit(microsoft.service_url, {**send["data"], "choice": chosen}, sent[1].id))
    assert response.status_code == 200, response.text
    local = messages_of(microsoft.sent(PERSONAL_CHAT))[1].activity
    place = chosen.split(" (")[0]
    assert "19 ans" in local["text"] and place in local["text"]
    cards, case = split_cards(local)
    assert case is not None and place in (facts_of(case).get("Commune") or facts_of(case)["Département"])
    # Local sites now, with their contacts as buttons: call, write; and where the contact comes from, and when.
    urls = [a["url"] for card in cards for a in card_actions(card) if a["type"] == "Action.OpenUrl"]
    assert any(re.fullmatch(r"tel:\+33\d{9}", u) for u in urls) and any(u.startswith("mailto:") for u in urls)
    assert any(re.search(r"Source : .+, à jour (au \d\d/\d\d/\d{4}|en \d\d/\d{4})", t)
               for card in cards for t in card_texts(card))

    # "nouveau cas" forgets the case: the next message starts from nothing.
    live.post(personal_message(microsoft.service_url, "Nouveau cas !"))
    assert messages_of(microsoft.sent(PERSONAL_CHAT))[-1].activity["text"].startswith("C'est noté")
    live.post(personal_message(microsoft.service_url, "elle cherche une formation"))
    assert "19 ans" not in messages_of(microsoft.sent(PERSONAL_CHAT))[-1].activity["text"]


def up_to(iso: str) -> str:
    year, month, day = iso[:10].split("-")
    return f"à jour en {month}/{year}" if day == "01" else f"à jour au {day}/{month}/{year}"


def source_line(contact: dict[str, Any]) -> str:
    parts = []
    for line in contact["provenance"]:
        text = (", ".join(line["fields"]) + " — " if line["fields"] else "") + line["source"]
        parts.append(f"{text}, {up_to(line['as_of'])}" if line["as_of"] else text)
    return "Source : " + " ; ".join(parts)


def contact_containers(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in card["body"] if e["type"] == "Container"]


def test_cards_label_national_ways_in_and_say_where_each_contact_comes_from_and_how_old(
    start_app: StartApp, microsoft: FakeMicrosoft
) -> None:
    live = start_app(teams_dev_mode=True)
    cases = (
        "jeune de 19 ans sans emploi à Bourgoin-Jallieu",
        "demandeur d'emploi de 50 ans qui a besoin d'aide pour ses démarches en ligne à Valserhône",
    )
    seen = {"national": 0, "merged": 0, "month": 0, "stale": 0, "hours": 0, "note": 0}
    for n, case in enumerate(cases):
        conversation = f"{PERSONAL_CHAT}-{n}"
        assert live.post(personal_message(microsoft.service_url, case, conversation)).status_code == 200
        answer = messages_of(microsoft.sent(conversation))[0].activity
        # The same brain behind the widget's API: what the cards must show, contact by contact.
        expected = httpx.post(f"{live.url}/api/chat", json={"message": case}, timeout=60).json()["structures"]
        cards, _ = split_cards(answer)
        assert [c["body"][0]["text"] for c in cards] == [s["name"] for s in expected[: len(cards)]]
        for card, structure in zip(cards, expected, strict=False):
            containers = contact_containers(card)
            assert len(containers) == min(len(structure["contacts"]), 3)
            for box, contact in zip(containers, structure["contacts"], strict=False):
                national = contact["kind"] == "national"
                texts = card_texts(box)
                facts = {f["title"]: f["value"] for e in box["items"] if e["type"] == "FactSet" for f in e["facts"]}
                buttons = {a["title"]: a["url"] for a in card_actions(box)}
                assert (box.get("style") == "emphasis") == national
                assert (box["items"][0].get("text") == "Contact national du réseau, pas un site local") == national
                assert box["items"][-1]["text"] == source_line(contact)
                assert ("À vérifier : donnée de plus de deux ans" in texts) == contact["stale"]
                if contact["phone"]:
                    note = f" ({contact['phone_note']})" if contact["phone_note"] else ""
                    assert facts["Numéro national" if national else "Téléphone"] == contact["phone"] + note
                    assert buttons["Appeler"].startswith("tel:")
                if contact["hours"]:
                    assert facts["Horaires"] == " · ".join(contact["hours"])
                if national and contact["url"]:
                    title = "Annuaire du réseau" if "annuaire" in contact["label"] else "Site du réseau"
                    assert buttons[title] == contact["url"]
                seen["national"] += national
                seen["merged"] += len(contact["provenance"]) > 1
                seen["month"] += "à jour en " in source_line(contact)
                seen["stale"] += contact["stale"]
                seen["hours"] += bool(contact["hours"])
                seen["note"] += bool(contact["phone_note"])
    assert all(seen.values()), seen


def test_teams_feedback_lands_in_the_widgets_feedback_store(start_app: StartApp, microsoft: FakeMicrosoft) -> None:
    live = start_app(teams_dev_mode=True)
    live.post(personal_message(microsoft.service_url, "femme de 45 ans qui veut changer de métier, à Grenoble"))
    live.post(personal_message(microsoft.service_url, "elle est salariée"))
    first, second = [p for p in messages_of(microsoft.sent(PERSONAL_CHAT)) if "feedbackLoop" in channel_data(p)]

    response = live.post(feedback_invoke(microsoft.service_url, first.id, "dislike", "Le numéro ne répond plus"))
    assert response.status_code == 200 and response.json() == {}
    live.post(feedback_invoke(microsoft.service_url, second.id, "like", ""))
    # Feedback on a message this bot never sent is acknowledged, and stored nowhere.
    assert live.post(feedback_invoke(microsoft.service_url, "1736935999999", "like", "")).status_code == 200

    page = httpx.get(f"{live.url}/api/admin/feedback", params={"status": "all"},
                     headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30).json()
    assert page["total"] == 2
    liked, disliked = page["items"]  # most recent first
    assert (disliked["rating"], disliked["turn"], disliked["reason"]) == ("down", 1, "Le numéro ne répond plus")
    assert (liked["rating"], liked["turn"], liked["reason"]) == ("up", 2, None)
    assert disliked["channel"] == liked["channel"] == "teams"
    assert disliked["conversation_id"] == liked["conversation_id"]
    store = Store(live.settings.store_url, conversation_ttl=60)
    try:
        assert store.turns(disliked["conversation_id"]) == 2  # the same conversation state as the turns
    finally:
        store.dispose()


def admin_feedback(live: Live) -> list[dict[str, Any]]:
    page = httpx.get(
        f"{live.url}/api/admin/feedback",
        params={"status": "all"},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=30,
    ).json()
    items: list[dict[str, Any]] = page["items"]
    return items


WELCOME_TITLE = "Bienvenue dans Expert SPRO"
TEAM_GENERAL = "19:0a9b8c7d6e5f@thread.tacv2"
ANOTHER_COUNSELLOR = {"id": "29:2mRt4XcHa-collegue", "name": "Dominique Roux", "aadObjectId": "5e2b8b5f-3a1c-4f6d"}


def welcomes(microsoft: FakeMicrosoft, conversation: str) -> list[dict[str, Any]]:
    return [
        p.activity
        for p in messages_of(microsoft.sent(conversation))
        if any(a["content"]["body"][0].get("text") == WELCOME_TITLE for a in p.activity.get("attachments", []))
    ]


def test_the_app_added_to_a_chat_or_a_team_says_welcome_once(start_app: StartApp, microsoft: FakeMicrosoft) -> None:
    live = start_app(teams_dev_mode=True)
    url = microsoft.service_url
    # Installed in a personal chat: Teams announces it twice, in no set order; one welcome card.
    assert live.post(conversation_update(url, PERSONAL_CHAT, added=[BOT])).status_code == 200
    assert live.post(installation_update(url, PERSONAL_CHAT, "add")).status_code == 200
    [welcome] = welcomes(microsoft, PERSONAL_CHAT)
    assert len(messages_of(microsoft.sent(PERSONAL_CHAT))) == 1
    [attachment] = welcome["attachments"]
    assert attachment["contentType"] == CARD and attachment["content"]["version"] == "1.5"
    said = " ".join(card_texts(attachment["content"]))
    # What it does, how to describe a case (one example), no name needed, how to start over.
    assert "Service Public Régional de l'Orientation" in said and "contacts" in said
    assert "âge, situation, besoin et commune" in said
    [example] = re.findall(r"« ([^»]+) »", attachment["content"]["body"][3]["text"])
    assert "nom de la personne" in said and "« nouveau cas »" in said
    # Announced again (a retry, a second client): nothing more.
    with no_more_sent(microsoft, PERSONAL_CHAT):
        live.post(installation_update(url, PERSONAL_CHAT, "add"))
        live.post(conversation_update(url, PERSONAL_CHAT, added=[BOT]))

    # The welcome's example is a case the bot answers, with local structures.
    live.post(personal_message(url, example.strip()))
    answer = messages_of(microsoft.sent(PERSONAL_CHAT))[-1].activity
    cards, _ = split_cards(answer)
    assert cards and any(c["type"] == "Container" for card in cards for c in card["body"])

    # Added to a team: the welcome goes to the team's channel, once; a colleague joining later gets none.
    live.post(installation_update(url, TEAM_GENERAL, "add", team=True))
    live.post(conversation_update(url, TEAM_GENERAL, added=[BOT], team=True))
    [team_welcome] = welcomes(microsoft, TEAM_GENERAL)
    assert team_welcome["conversation"]["id"] == TEAM_GENERAL
    with no_more_sent(microsoft, TEAM_GENERAL):
        live.post(conversation_update(url, TEAM_GENERAL, added=[ANOTHER_COUNSELLOR], team=True))
        live.post(conversation_update(url, TEAM_GENERAL, removed=[ANOTHER_COUNSELLOR], team=True))

    # Removed, then added again: a new install, a new welcome.
    live.post(conversation_update(url, TEAM_GENERAL, removed=[BOT], team=True))
    live.post(installation_update(url, TEAM_GENERAL, "remove", team=True))
    live.post(installation_update(url, TEAM_GENERAL, "add", team=True))
    live.post(conversation_update(url, TEAM_GENERAL, added=[BOT], team=True))
    assert len(welcomes(microsoft, TEAM_GENERAL)) == 2
    # The welcome table holds a digest of the conversation id, nothing of Teams' own identifiers.
    store = Store(live.settings.store_url, conversation_ttl=60)
    try:
        with store.engine.connect() as connection:
            rows = [tuple(r) for r in connection.exec_driver_sql("SELECT conversation_id FROM teams_welcomes")]
    finally:
        store.dispose()
    assert len(rows) == 2 and not any("thread" in row[0] or "conversation" in row[0] for row in rows)


def test_each_card_copies_its_contact_and_takes_the_widgets_reports(
    start_app: StartApp, microsoft: FakeMicrosoft
) -> None:
    live = start_app(teams_dev_mode=True)
    case = "jeune de 19 ans sans diplôme qui veut se former, à Vienne"
    live.post(personal_message(microsoft.service_url, case))
    sent = messages_of(microsoft.sent(PERSONAL_CHAT))[0]
    cards, _ = split_cards(sent.activity)
    expected = httpx.post(f"{live.url}/api/chat", json={"message": case}, timeout=60).json()["structures"]
    assert [c["body"][0]["text"] for c in cards] == [s["name"] for s in expected[: len(cards)]]

    for card, structure in zip(cards, expected, strict=False):
        titles = [a["title"] for a in card["actions"]]
        assert titles == (["Copier", "Contact erroné", "Pas pertinent"] if structure["contacts"] else
                          ["Copier", "Pas pertinent"])
        # "Copier": the contact as plain text in a field (selectable and copyable in every Teams client), which
        # no button of the card sends.
        shown = show_card(card, "Copier")
        field = inputs(shown)["copy"]
        assert field["type"] == "Input.Text" and field["isMultiline"] is True
        assert not [a for a in card_actions(shown) if a["type"] == "Action.Submit"]
        lines = field["value"].split("\n")
        assert lines[0] == structure["name"]
        for contact in structure["contacts"][:3]:
            for value in (contact["phone"], contact["email"], contact["url"]):
                assert not value or any(value in line for line in lines)
            assert source_line(contact) in lines

    # "Contact erroné" on the first card with a contact: the widget's report, through the same function.
    reported = next(n for n, s in enumerate(expected[: len(cards)]) if s["contacts"])
    form = show_card(cards[reported], "Contact erroné")
    assert inputs(form)["reason_contact_errone"]["type"] == "Input.Text"
    # Which information is wrong, as the widget asks it: it goes with the report to the editors' queue.
    field = inputs(form)["field_contact_errone"]
    assert field["type"] == "Input.ChoiceSet" and field["label"] == "Information concernée"
    assert [c["value"] for c in field["choices"]] == ["phone", "email", "address", "hours", "website"]
    value = {**submit_data(form), "reason_contact_errone": "Le numéro ne répond plus", "field_contact_errone": "phone"}
    assert live.post(card_submit(microsoft.service_url, value, sent.id)).status_code == 200
    thanks = messages_of(microsoft.sent(PERSONAL_CHAT))[-1].activity["text"]
    assert thanks.startswith("Merci") and "« Contact erroné »" in thanks and expected[reported]["name"] in thanks
    # "Pas pertinent" on another card, without a reason.
    irrelevant = len(cards) - 1
    value = submit_data(show_card(cards[irrelevant], "Pas pertinent"))
    assert live.post(card_submit(microsoft.service_url, value, sent.id)).status_code == 200
    assert "« Pas pertinent »" in messages_of(microsoft.sent(PERSONAL_CHAT))[-1].activity["text"]

    items = admin_feedback(live)
    assert [(i["kind"], i["structure_id"], i["turn"], i["rating"], i["channel"]) for i in items] == [
        ("non_pertinent", expected[irrelevant]["id"], 1, "down", "teams"),
        ("contact_errone", expected[reported]["id"], 1, "down", "teams"),
    ]
    assert items[1]["reason"] is not None and "numéro" in items[1]["reason"]  # words of the base only
    store = Store(live.settings.store_url, conversation_ttl=3600)
    try:
        rooms = CurationStore(store.engine, lambda: datetime.now(UTC), date.today)
        details = rooms.report_details([i["id"] for i in items])
    finally:
        store.dispose()
    assert {i: d.field for i, d in details.items()} == {items[1]["id"]: "phone"}

    # A report on a structure this turn never showed is refused in French, and stored nowhere.
    forged = {"spro": "report", "kind": "contact_errone", "structure": "network:apec", "turn": 1}
    assert "network:apec" not in [s["id"] for s in expected[: len(cards)]]
    assert live.post(card_submit(microsoft.service_url, forged, sent.id)).status_code == 200
    assert messages_of(microsoft.sent(PERSONAL_CHAT))[-1].activity["text"].startswith("Signalement non enregistré")
    garbled = {"spro": "report", "kind": "tout_effacer", "structure": expected[0]["id"], "turn": "1"}
    live.post(card_submit(microsoft.service_url, garbled, sent.id))
    assert "n'est plus reconnue" in messages_of(microsoft.sent(PERSONAL_CHAT))[-1].activity["text"]
    assert len(admin_feedback(live)) == 2


def test_correcting_the_situation_changes_the_answer(start_app: StartApp, microsoft: FakeMicrosoft) -> None:
    live = start_app(teams_dev_mode=True)
    live.post(personal_message(microsoft.service_url, "jeune de 19 ans sans diplôme qui veut se former, à Vienne"))
    first = messages_of(microsoft.sent(PERSONAL_CHAT))[0]
    cards, case = split_cards(first.activity)
    assert case is not None
    assert facts_of(case) == {
        "Âge": "19 ans",
        "Situation": "jeune sorti de l'école sans diplôme",
        "Besoins": "formation",
        "Commune": "Vienne",
    }
    assert any("Missions Locales" in card_texts(card) for card in cards)  # a 16-25 case

    # The form shows what was understood, prefilled.
    form = show_card(case, "Corriger la situation")
    fields = inputs(form)
    assert fields["age"]["type"] == "Input.Number" and fields["age"]["value"] == 19
    assert fields["status"]["value"] == "decrocheur" and fields["needs"]["value"] == "formation"
    assert fields["needs"]["isMultiSelect"] is True and fields["place"]["value"] == "Vienne"

    # Sent back unchanged: nothing to say, and the answer stays.
    unchanged = {**submit_data(form), "age": "19", "status": "decrocheur", "needs": "formation", "place": "Vienne"}
    live.post(card_submit(microsoft.service_url, unchanged, first.id))
    assert messages_of(microsoft.sent(PERSONAL_CHAT))[-1].activity["text"].startswith("Rien n'a changé")

    # She is 45, in work, and wants to change careers (not to train), in Grenoble: another case, another answer.
    corrected = {**submit_data(form), "age": "45", "status": "salarie", "needs": "reconversion", "place": "Grenoble"}
    assert live.post(card_submit(microsoft.service_url, corrected, first.id)).status_code == 200
    second = messages_of(microsoft.sent(PERSONAL_CHAT))[-1].activity
    cards, case = split_cards(second)
    assert case is not None
    assert facts_of(case)["Âge"] == "45 ans" and facts_of(case)["Situation"] == "salarié"
    assert facts_of(case)["Besoins"] == "reconversion professionnelle" and facts_of(case)["Commune"] == "Grenoble"
    assert "45 ans" in second["text"] and "19 ans" not in second["text"]
    assert cards and not any("Missions Locales" in card_texts(card) for card in cards)  # no longer a 16-25 case
    # The same conversation, one turn further: the widget's store counts it.
    store = Store(live.settings.store_url, conversation_ttl=60)
    try:
        assert store.turns(conversation_key(PERSONAL_CHAT)) == 2
    finally:
        store.dispose()

    # Only what changed is said: on the new card, a new place keeps the age, the status and the need.
    form = show_card(case, "Corriger la situation")
    moved = {**submit_data(form), **{k: v.get("value") for k, v in inputs(form).items()}, "place": "Lyon"}
    live.post(card_submit(microsoft.service_url, moved, first.id))
    case = split_cards(messages_of(microsoft.sent(PERSONAL_CHAT))[-1].activity)[1]
    assert case is not None and facts_of(case)["Commune"] == "Lyon" and facts_of(case)["Âge"] == "45 ans"
    assert facts_of(case)["Situation"] == "salarié"


def test_lines_and_citations_read_clean(start_app: StartApp, microsoft: FakeMicrosoft) -> None:
    live = start_app(teams_dev_mode=True)
    cases = (
        "demandeur d'emploi de 50 ans qui veut se reconvertir, à Vienne",
        "femme de 45 ans qui veut changer de métier, à Grenoble",
        "jeune de 22 ans qui cherche un emploi",
    )
    for n, case in enumerate(cases):
        conversation = f"{PERSONAL_CHAT}-propre-{n}"
        live.post(personal_message(microsoft.service_url, case, conversation))
        answer = messages_of(microsoft.sent(conversation))[0].activity
        bullets = [line for line in answer["text"].split("\n") if line.startswith("- **")]
        assert bullets
        for bullet in bullets:
            match = re.fullmatch(r"- \*\*(.+?)\*\*(?: \((.+?)\))?(?: (?:\[\d+\])+)?", bullet)
            assert match, bullet
            name, network = match.groups()
            assert network is None or network.casefold() not in name.casefold(), bullet  # "X (X)" never
        for citation in root_message_entity(answer)["citation"]:
            appearance = citation["appearance"]
            assert not re.match(r"\W*mots?[- ]cl", appearance["abstract"], re.IGNORECASE), appearance
            for keyword in appearance.get("keywords", []):
                assert re.fullmatch(r"À jour (au \d\d/\d\d/\d{4}|en \d\d/\d{4})", keyword), keyword
        for card in split_cards(answer)[0]:
            assert not any(t.lower().startswith("mots-clés") for t in card_texts(card))


def test_in_a_channel_the_bot_answers_only_when_mentioned(start_app: StartApp, microsoft: FakeMicrosoft) -> None:
    live = start_app(teams_dev_mode=True)
    with no_more_sent(microsoft, CHANNEL_THREAD):
        response = live.post(channel_message(microsoft.service_url, "un homme de 30 ans à Valence", mentioned=False))
        assert response.status_code == 200

    text = "<at>Expert SPRO</at> un homme de 30 ans à Valence\n"
    assert live.post(channel_message(microsoft.service_url, text, mentioned=True)).status_code == 200
    [answer] = messages_of(microsoft.sent(CHANNEL_THREAD))
    # The mention was stripped before understanding: the case is a need question about Valence, nothing else.
    assert "Valence" in answer.activity["text"] and "Expert" not in answer.activity["text"]
    assert answer.conversation == CHANNEL_THREAD  # in the thread it came from
    # No structure card here (the need is unknown): the case card alone, with the need question as a list.
    cards, case = split_cards(answer.activity)
    assert cards == [] and case is not None and "suggestedActions" not in answer.activity
    assert facts_of(case) == {"Âge": "30 ans", "Commune": "Valence"}
    choice = inputs(case["body"])["choice"]
    assert choice["label"] == "Ce que cherche la personne" and len(choice["choices"]) == 6

    # Clicking the list's button in the channel is no @mention, and still answered, in the same thread.
    [send] = [a for e in case["body"] if e["type"] == "ActionSet" for a in e["actions"]]
    value = {**send["data"], "choice": "emploi"}
    assert live.post(card_submit(microsoft.service_url, value, answer.id, CHANNEL_THREAD)).status_code == 200
    [_, followed] = messages_of(microsoft.sent(CHANNEL_THREAD))
    assert followed.conversation == CHANNEL_THREAD
    cards, case = split_cards(followed.activity)
    assert cards and case is not None and facts_of(case)["Besoins"] == "recherche d'emploi"
    assert facts_of(case)["Âge"] == "30 ans" and facts_of(case)["Commune"] == "Valence"


def test_without_credentials_the_endpoint_refuses_everything(start_app: StartApp, microsoft: FakeMicrosoft) -> None:
    live = start_app()
    with no_more_sent(microsoft, PERSONAL_CHAT):
        response = live.post(personal_message(microsoft.service_url, "jeune de 17 ans à Lyon"))
    assert response.status_code == 401
    assert response.json()["error"] == ErrorCode.UNAUTHORIZED and set(response.json()) == {"error", "detail"}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert microsoft.token_requests == [] and microsoft.key_requests == 0


def test_with_credentials_only_a_bot_framework_token_signed_by_its_keys_gets_in(
    start_app: StartApp, microsoft: FakeMicrosoft
) -> None:
    live = start_app(
        teams_app_id=APP_ID,
        teams_app_secret=APP_SECRET,
        teams_tenant_id=TENANT,
        teams_openid_metadata_url=f"{microsoft.url}/v1/.well-known/openidconfiguration",
        teams_login_endpoint=microsoft.url,
        teams_dev_mode=True,  # ignored once credentials are set
    )
    activity = personal_message(microsoft.service_url, "jeune de 17 ans décrocheur à Villeurbanne")
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = {
        "absent": None,
        "forged": microsoft.bot_framework_token(key=forger),
        "other bot": microsoft.bot_framework_token(aud="un-autre-bot"),
        "other issuer": microsoft.bot_framework_token(iss="https://login.exemple.org"),
        "expired": microsoft.bot_framework_token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "other service url": microsoft.bot_framework_token(serviceurl="https://smba.trafficmanager.net/emea/"),
    }
    with no_more_sent(microsoft, PERSONAL_CHAT):
        for case, token in refused.items():
            response = live.post(activity, token)
            assert response.status_code == 401, case
            assert response.json()["error"] == ErrorCode.UNAUTHORIZED and set(response.json()) == {"error", "detail"}

    response = live.post(activity, microsoft.bot_framework_token())
    assert response.status_code == 200, response.text
    sent = microsoft.sent(PERSONAL_CHAT)
    assert [p.activity["type"] for p in sent] == ["typing", "message"]
    assert "Villeurbanne" in sent[1].activity["text"]
    # The bot called the connector with its own token, obtained from Entra ID with its app id and secret.
    [(tenant, form)] = microsoft.token_requests
    assert {p.authorization for p in sent} == {f"Bearer {microsoft.issued[0]}"}
    assert tenant == TENANT
    assert form == {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": APP_SECRET,
        "scope": "https://api.botframework.com/.default",
    }


def test_a_body_that_is_not_an_activity_is_refused_in_the_error_shape(
    start_app: StartApp, microsoft: FakeMicrosoft
) -> None:
    live = start_app(teams_dev_mode=True)
    broken = httpx.post(f"{live.url}/api/messages", content=b"{pas du json", timeout=30,
                        headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"] == ErrorCode.INVALID_JSON
    listed = httpx.post(f"{live.url}/api/messages", json=["message"], timeout=30)
    assert listed.status_code == 422 and listed.json()["error"] == ErrorCode.INVALID_REQUEST
