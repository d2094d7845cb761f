"""« Quoi de neuf » : each published version records what it changed; the digest, its page, its Atom feed and its
e-mail sending (against a real SMTP server on 127.0.0.1), built by the real ingest code on a copy of the base."""

from __future__ import annotations

import html
import json
import shutil
import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from api.app import create_app
from api.digest import render, send
from ingest.build import build_index
from ingest.sources.knowledge_base import EMBEDDED
from knowledge.changes import diff, digest, read_changes
from knowledge.embedding import Encoder
from knowledge.model import Contact, Structure
from knowledge.settings import Settings

from .conftest import CACHE

DISPOSITIF = "dispositifs/vae.yaml"
SITES = "directory/france_services_anct_2024.jsonl"
NEW_PHONE = "04 00 00 00 01"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def changed_base(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> dict[str, Any]:
    """Publish the embedded base, then a copy with one dispositif section rewritten and one site's phone changed,
    then the same copy again (unchanged)."""
    work = tmp_path_factory.mktemp("news")
    root, knowledge = work / "index", work / "knowledge"
    shutil.copytree(EMBEDDED, knowledge)
    first = build_index(root, encoder, (), knowledge_root=knowledge, cache_path=CACHE)

    sheet_path = knowledge / DISPOSITIF
    sheet = yaml.safe_load(sheet_path.read_text(encoding="utf-8"))
    heading = sheet["sections"][0]["heading"]
    sheet["sections"][0]["text"] += " Depuis le 1er décembre 2026, la demande se dépose en ligne."
    sheet_path.write_text(yaml.safe_dump(sheet, allow_unicode=True, sort_keys=False), encoding="utf-8")
    lines = (knowledge / SITES).read_text(encoding="utf-8").splitlines()
    site = json.loads(lines[0])
    old_phone = site["contacts"][0]["phone"]
    site["contacts"][0]["phone"] = NEW_PHONE
    lines[0] = json.dumps(site, ensure_ascii=False)
    (knowledge / SITES).write_text("\n".join(lines) + "\n", encoding="utf-8")
    between = datetime.now(UTC)
    second = build_index(root, encoder, (), knowledge_root=knowledge, cache_path=CACHE)
    after_second = datetime.now(UTC)
    third = build_index(root, encoder, (), knowledge_root=knowledge, cache_path=CACHE)
    return {
        "root": root, "first": first, "second": second, "third": third, "between": between,
        "after_second": after_second, "sheet": sheet, "heading": heading, "site": site, "old_phone": old_phone,
    }


def test_a_version_names_exactly_the_dispositif_and_the_site_that_changed(changed_base: dict[str, Any]) -> None:
    root = changed_base["root"]
    assert changed_base["second"].published and changed_base["third"].unchanged
    sets = read_changes(root)
    assert [s.version for s in sets] == [changed_base["first"].version, changed_base["second"].version]
    assert sets[0].entries == ()  # the first version has nothing to compare with
    entries = sets[1].entries
    assert [(e.kind, e.record_id, e.change) for e in entries] == [
        ("dispositif", changed_base["sheet"]["id"], "rewritten"),
        ("structure", changed_base["site"]["id"], "contact_changed"),
    ]
    sheet, site = entries
    assert [p.heading for p in sheet.passages] == [changed_base["heading"]]
    assert sheet.passages[0].after.endswith("la demande se dépose en ligne.")
    assert [(f.field, f.before, f.after) for f in site.fields] == [
        ("phone", changed_base["old_phone"], NEW_PHONE)
    ]
    assert site.departments == (changed_base["site"]["department"],)


def test_the_digest_of_the_period_names_those_two_changes_and_an_unchanged_reindex_none(
    changed_base: dict[str, Any],
) -> None:
    root = changed_base["root"]
    period = digest(read_changes(root), changed_base["between"], datetime.now(UTC) + timedelta(seconds=1))
    titles = {network: [e.title for e in entries] for network, entries in period.by_network}
    assert titles == {
        changed_base["sheet"]["operators"][0]: [changed_base["sheet"]["title"]],
        changed_base["site"]["network"]: [changed_base["site"]["name"]],
    }
    rendered = render(period, {"france_services": "France services", "france_vae": "France VAE"},
                      "https://spro.example.fr")
    for part in (rendered.text, html.unescape(rendered.html)):
        assert changed_base["sheet"]["title"] in part and NEW_PHONE in part and changed_base["old_phone"] in part
    assert f"https://spro.example.fr/annuaire/dispositif/{changed_base['sheet']['id']}" in rendered.html
    assert f"https://spro.example.fr/annuaire/{changed_base['site']['department']}" in rendered.text
    # Grouped by department too, for the sites.
    assert [d for d, _ in period.by_department] == [changed_base["site"]["department"]]
    # Another department's digest keeps the sheet (regional) and leaves the site out.
    other = "01" if changed_base["site"]["department"] != "01" else "03"
    local = digest(read_changes(root), changed_base["between"], datetime.now(UTC), departments=[other])
    assert [e.kind for _, entries in local.by_network for e in entries] == ["dispositif"]
    # The unchanged re-index published nothing: the digest since then is empty, and says so.
    quiet = digest(read_changes(root), changed_base["after_second"], datetime.now(UTC) + timedelta(seconds=1))
    assert quiet.empty
    assert "Aucun changement" in render(quiet, {}, "https://spro.example.fr").text


def test_the_atom_feed_and_the_page_show_the_changes(changed_base: dict[str, Any], tmp_path: Path) -> None:
    settings = Settings(data_dir=changed_base["root"].parent, database_url=f"sqlite:///{tmp_path / 'spro.db'}",
                        public_url="https://spro.example.fr")
    with TestClient(create_app(settings)) as client:
        feed = client.get("/nouveautes.atom")
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
        tree = ET.fromstring(feed.content)
        entries = tree.findall(f"{ATOM}entry")
        assert len(entries) == 1  # the first version changed nothing, the third was not published
        content = entries[0].find(f"{ATOM}content")
        assert content is not None and changed_base["sheet"]["title"] in (content.text or "")
        page = client.get("/nouveautes", params={"depuis": "2026-01-01"})
        assert page.status_code == 200 and changed_base["site"]["name"] in page.text and NEW_PHONE in page.text
        wrong = client.get("/nouveautes", params={"departement": "99"})
        assert wrong.status_code == 422 and wrong.json()["error"]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []
        self.received = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        self.received.set()
        return "250 OK"


@pytest.fixture()
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_the_digest_is_sent_by_smtp_one_message_per_recipient(
    changed_base: dict[str, Any], smtp_server: tuple[int, _Inbox]
) -> None:
    port, inbox = smtp_server
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                        digest_sender="spro@example.fr")
    period = digest(read_changes(changed_base["root"]), changed_base["between"], datetime.now(UTC))
    rendered = render(period, {}, "https://spro.example.fr")
    assert send(rendered, settings, ["a@example.fr", "b@example.fr"], datetime.now(UTC)) == 2
    assert [(frm, to) for frm, to, _ in inbox.messages] == [
        ("spro@example.fr", ["a@example.fr"]), ("spro@example.fr", ["b@example.fr"])
    ]
    message = inbox.messages[0][2]
    assert str(make_header(decode_header(message["Subject"]))) == rendered.subject
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in message.walk()
             if not part.is_multipart()}
    assert NEW_PHONE in parts["text/plain"] and NEW_PHONE in parts["text/html"]


def test_nothing_is_sent_without_an_smtp_server(changed_base: dict[str, Any]) -> None:
    period = digest(read_changes(changed_base["root"]), changed_base["between"], datetime.now(UTC))
    with pytest.raises(RuntimeError):
        send(render(period, {}, "https://spro.example.fr"), Settings(), ["a@example.fr"], datetime.now(UTC))


def test_diff_tells_sites_opened_and_closed() -> None:
    contact = Contact(label="x", phone="04 00 00 00 00", source_id="s")
    kept = Structure(id="s1", name="Site gardé", network="cio", department="38", contacts=(contact,), source_id="s")
    closed = Structure(id="s2", name="Site fermé", network="cio", department="38", source_id="s")
    opened = Structure(id="s3", name="Site ouvert", network="cio", department="69", source_id="s")
    entries = diff((), (), (kept, closed), (), (), (kept, opened))
    assert [(e.record_id, e.change) for e in entries] == [("s2", "removed"), ("s3", "added")]


def _mail_settings(changed_base: dict[str, Any], tmp_path: Path, port: int | None) -> Settings:
    return Settings(
        data_dir=changed_base["root"].parent, database_url=f"sqlite:///{tmp_path / 'spro.db'}",
        public_url="http://testserver", smtp_host="127.0.0.1" if port else None, smtp_port=port or 587,
        smtp_starttls=False, digest_sender="spro@example.fr",
    )


def _link(message: Message, path: str) -> str:
    text = next(p.get_payload(decode=True).decode() for p in message.walk() if p.get_content_type() == "text/plain")
    start = text.index(f"http://testserver{path}")
    return text[start:].split()[0].removeprefix("http://testserver")


def test_subscribing_confirming_receiving_and_unsubscribing_in_one_click(
    changed_base: dict[str, Any], smtp_server: tuple[int, _Inbox], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from api.cli import app as cli
    from api.store import Store
    from api.subscriptions import Subscriptions

    port, inbox = smtp_server
    settings = _mail_settings(changed_base, tmp_path, port)
    department = changed_base["site"]["department"]
    with TestClient(create_app(settings)) as client:
        asked = client.post("/api/abonnements", json={"courriel": "conseillere@example.fr",
                                                      "departements": [department]})
        assert asked.status_code == 202, asked.text
        assert [to for _, to, _ in inbox.messages] == [["conseillere@example.fr"]]
        confirm = _link(inbox.messages[0][2], "/abonnements/confirmer")
        assert client.get(confirm).status_code == 200
        assert client.get(confirm.replace("jeton=", "jeton=x")).status_code == 404

    store = Store(settings.store_url, conversation_ttl=60)
    try:
        (subscriber,) = Subscriptions(store).confirmed()
        assert (subscriber.email, subscriber.departments) == ("conseillere@example.fr", (department,))
    finally:
        store.dispose()

    environment = {
        "SPRO_DATA_DIR": str(settings.data_dir), "SPRO_DATABASE_URL": settings.store_url,
        "SPRO_PUBLIC_URL": "http://testserver", "SPRO_SMTP_HOST": "127.0.0.1", "SPRO_SMTP_PORT": str(port),
        "SPRO_SMTP_STARTTLS": "false", "SPRO_DIGEST_SENDER": "spro@example.fr",
    }
    since = (changed_base["between"] - timedelta(days=1)).strftime("%Y-%m-%d")
    result = CliRunner().invoke(cli, ["digest", "--since", since, "--send"], env=environment)
    assert result.exit_code == 0, result.output
    digest_mail = inbox.messages[-1][2]
    assert inbox.messages[-1][1] == ["conseillere@example.fr"]
    unsubscribe = _link(digest_mail, "/abonnements/desinscrire")
    assert digest_mail["List-Unsubscribe"] == f"<http://testserver{unsubscribe}>"
    assert digest_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = next(p.get_payload(decode=True).decode() for p in digest_mail.walk()
                if p.get_content_type() == "text/plain")
    assert NEW_PHONE in text

    with TestClient(create_app(settings)) as client:
        page = client.get(unsubscribe)
        assert page.status_code == 200 and "<form" in page.text
        # The mail client's one-click POST (RFC 8058).
        done = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
    store = Store(settings.store_url, conversation_ttl=60)
    try:
        assert Subscriptions(store).confirmed() == []
    finally:
        store.dispose()


def test_subscribing_needs_a_mail_server_and_a_valid_address(changed_base: dict[str, Any], tmp_path: Path) -> None:
    with TestClient(create_app(_mail_settings(changed_base, tmp_path, None))) as client:
        unavailable = client.post("/api/abonnements", json={"courriel": "a@example.fr"})
        assert unavailable.status_code == 403 and unavailable.json()["error"] == "mail_unavailable"
        invalid = client.post("/api/abonnements", json={"courriel": "pas une adresse"})
        assert invalid.status_code == 422 and invalid.json()["error"] == "invalid_request"


def test_the_subscription_form_works_without_javascript(
    changed_base: dict[str, Any], smtp_server: tuple[int, _Inbox], tmp_path: Path
) -> None:
    port, inbox = smtp_server
    with TestClient(create_app(_mail_settings(changed_base, tmp_path, port))) as client:
        form = client.get("/abonnements")
        assert form.status_code == 200 and 'name="courriel"' in form.text and 'value="38"' in form.text
        sent = client.post("/abonnements", data={"courriel": "a@example.fr", "departements": ["38", "69"],
                                                 "reseaux": ["mission_locale"]})
        assert sent.status_code == 200 and "messagerie" in sent.text
        assert [to for _, to, _ in inbox.messages] == [["a@example.fr"]]
        wrong = client.post("/abonnements", data={"courriel": "a@example.fr", "departements": ["99"]})
        assert wrong.status_code == 422 and "invalides" in wrong.text


def test_a_link_token_that_is_not_one_is_refused_before_the_database(
    changed_base: dict[str, Any], tmp_path: Path
) -> None:
    with TestClient(create_app(_mail_settings(changed_base, tmp_path, None))) as client:
        for path in ("/abonnements/confirmer", "/abonnements/desinscrire"):
            answer = client.get(path, params={"jeton": "abc\x00defghijkl"})
            assert answer.status_code == 422 and answer.json()["error"] == "invalid_request"
