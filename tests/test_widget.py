"""The chat widget in a real browser (Chromium driven by Playwright) against the real API on a real index.

Skipped when Playwright or /usr/bin/chromium is missing. Screenshots go to docs/ when SPRO_WIDGET_SCREENSHOTS=1
(to refresh docs/widget-desktop.png and docs/widget-mobile-panel.png; docs/widget-mobile.png comes from
tests/test_widget_phone_first.py), to a temporary folder otherwise.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from api.runtime import Runtime
from ingest.build import build_index
from knowledge.embedding import Encoder, TwoStageEncoder
from knowledge.index import KnowledgeIndex, load_latest
from knowledge.territory import Territory
from tests.conftest import CACHE, ROOT
from tests.widget_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CONTRAST,
    OVERFLOW,
    SOURCE_LINE,
    LiveServer,
    answers,
    ask,
    chat_response,
    deep_active,
    focus_by_keyboard,
    free_port,
    last_answer,
    start_server,
    wait_for_answer,
    widget_settings,
)
from web.build import OUTPUT, render

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

DOCS = ROOT / "docs"
FIRST_CASE = "jeune de 18 ans qui cherche un apprentissage"


# --- what needs no browser -----------------------------------------------------------------------------------


def test_committed_widget_is_the_build_of_its_sources() -> None:
    """web/static/widget.js is generated (CSS and French labels inlined): run `python -m web.build`."""
    assert OUTPUT.read_text(encoding="utf-8") == render(), "lancez `python -m web.build` et committez le résultat"


def test_widget_labels_cover_every_code_of_the_referentials() -> None:
    from knowledge.referentials import DEPARTMENTS, FLAG_LABELS, NEED_LABELS, NETWORK_IDS, STATUS_LABELS

    text = OUTPUT.read_text(encoding="utf-8")
    start = text.index("var LABELS = ") + len("var LABELS = ")
    table, _ = json.JSONDecoder().raw_decode(text[start:])
    assert table["statuses"] == STATUS_LABELS
    assert table["needs"] == NEED_LABELS
    assert table["flags"] == FLAG_LABELS
    assert table["departments"] == DEPARTMENTS
    assert set(table["networks"]) == set(NETWORK_IDS)


def test_static_files_fetch_nothing_from_elsewhere() -> None:
    """No CDN, no web font: the only absolute URLs are the SVG namespace, the icons' licence notice and links
    a person follows (<a href>, to the knowledge base's own sources), never something the page loads."""
    allowed = {"http://www.w3.org/2000/svg", "https://remixicon.com"}
    for path in (ROOT / "web" / "static").iterdir():
        text = path.read_text(encoding="utf-8")
        links = set(re.findall(r"<a href=\"(https?://[^\"]+)\"", text))
        urls = set(re.findall(r"https?://[A-Za-z0-9][^\s\"'<>)]*", text)) - allowed - links
        urls = {u for u in urls if not u.startswith("https://expert-spro.example.fr")}
        assert not urls, f"{path.name} : {urls}"
        assert "@import" not in text and "fonts.googleapis" not in text


# --- the browser and the servers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright absent (pip install playwright)")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} absent (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _data_dir(tmp_path_factory: pytest.TempPathFactory, index_root: Path, name: str) -> Path:
    data = tmp_path_factory.mktemp(name)
    (data / "index").symlink_to(index_root, target_is_directory=True)
    return data


@pytest.fixture(scope="module")
def server(
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
    index_root: Path,
    encoder: Encoder,
    territory: Territory,
    knowledge_index: KnowledgeIndex,
) -> Iterator[LiveServer]:
    port, partner_port = free_port(), free_port()
    settings = widget_settings(_data_dir(tmp_path_factory, index_root, "widget-data"), partner_port)
    live = start_server(settings, Runtime(settings, encoder, territory, knowledge_index), port, partner_port)
    yield live
    live.stop()


TRAPPED_DOCUMENT = """---
title: Fiche piégée <img src=x onerror="alert('titre')">
network: mission_locale
url: https://exemple.invalid/fiche?<script>window.__spro_xss='lien'</script>
as_of: 2025-03-01
licence: Licence Ouverte (document fictif de test)
origin: Expert SPRO — jeu de test
---
# Apprentissage en Mission Locale

## Pour qui ?

Les jeunes de 16 à 25 ans qui cherchent un apprentissage <img src=x onerror="window.__spro_xss='texte'"> trouvent
un employeur avec la Mission Locale. <script>window.__spro_xss='script'</script> Contrat d'apprentissage,
alternance, CFA. <a href="javascript:window.__spro_xss='ancre'">Cliquez ici</a>
"""


@pytest.fixture(scope="module")
def trapped_server(
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
    encoder: Encoder,
    territory: Territory,
) -> Iterator[LiveServer]:
    """A server on an index whose knowledge holds HTML and markup in links (a hostile or careless source).

    Served by the full encoder alone: the test needs the trapped passage among the excerpts, and USE, the first
    stage, reads a passage that full of markup as far from the case (12th instead of 1st); where it would answer,
    the network's own sheet fills the card."""
    full = encoder.full if isinstance(encoder, TwoStageEncoder) else encoder
    sources = tmp_path_factory.mktemp("trapped-sources")
    (sources / "ml-piege.md").write_text(TRAPPED_DOCUMENT, encoding="utf-8")
    root = tmp_path_factory.mktemp("trapped-index")
    build_index(root, full, [sources], cache_path=CACHE)  # plus the embedded directory, always read
    index, _ = load_latest(root, full.name)
    port, partner_port = free_port(), free_port()
    settings = widget_settings(_data_dir(tmp_path_factory, root, "trapped-data"), partner_port)
    live = start_server(settings, Runtime(settings, full, territory, index), port, partner_port)
    yield live
    live.stop()


class Session:
    """A browser context and its page; collects page errors and every URL the page asked for."""

    def __init__(self, browser: Browser, server: LiveServer, **options: Any) -> None:
        defaults: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "locale": "fr-FR"}
        defaults.update(options)
        self.context: BrowserContext = browser.new_context(**defaults)
        self.context.set_default_timeout(20_000)
        for origin in (server.url, server.other_origin):
            self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.requested: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.requested.append(request.url))

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        self.page.on("dialog", on_dialog)
        self.server = server

    def close(self) -> None:
        self.context.close()

    def assert_clean(self) -> None:
        assert not self.errors, self.errors
        assert not self.dialogs, self.dialogs
        allowed = {urlsplit(self.server.url).netloc, urlsplit(self.server.other_origin).netloc}
        elsewhere = [u for u in self.requested if not u.startswith("data:") and urlsplit(u).netloc not in allowed]
        assert not elsewhere, f"requêtes hors du service : {elsewhere}"


@pytest.fixture()
def session(browser: Browser, server: LiveServer) -> Iterator[Session]:
    opened = Session(browser, server)
    yield opened
    opened.assert_clean()
    opened.close()


def site_contacts(structure: dict[str, Any]) -> list[dict[str, Any]]:
    """The local sites' contacts of a structure (a national way in has no department)."""
    return [c for c in structure["contacts"] if c["kind"] == "site"]


def show_the_cards(page: Page) -> None:
    """Scroll the conversation to the last answer's case chips, just above its cards."""
    page.evaluate(
        """() => {
          const root = document.querySelector("expert-spro").shadowRoot;
          const log = root.querySelector(".spro-log");
          const cases = root.querySelectorAll(".spro-case");
          const target = cases[cases.length - 1];
          log.scrollTop += target.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;
        }"""
    )


def screenshot_path(name: str, tmp_path: Path) -> Path:
    return DOCS / name if os.environ.get("SPRO_WIDGET_SCREENSHOTS") == "1" else tmp_path / name


# --- serving -------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_api_serves_the_demo_page_the_script_and_the_static_folder(server: LiveServer) -> None:
    page = httpx.get(f"{server.url}/", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="/widget.js"' in page.text
    script = httpx.get(f"{server.url}/widget.js", timeout=30)
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "window.ExpertSPRO" in script.text
    example = httpx.get(f"{server.url}/static/exemple-integration.html", timeout=30)
    assert example.status_code == 200


# --- the conversation ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_case_without_town_is_clarified_by_a_chip_refined_by_chips_and_rated(
    session: Session, server: LiveServer
) -> None:
    page = session.page
    page.goto(f"{server.url}/")

    first = ask(page, FIRST_CASE)
    clarification = first["clarification"]
    assert clarification is not None and clarification["slot"] == "territory"
    answer = last_answer(page)
    # The question is shown once: in the reply when it asks it, else above the options.
    shown = answer.inner_text().lower().count(clarification["question"].lower())
    in_reply = clarification["question"].lower() in first["reply"].lower()
    assert shown == 1 and answer.locator(".spro-clarify__question").count() == (0 if in_reply else 1)
    assert answer.locator(".spro-clarify .spro-tag").all_inner_texts() == clarification["options"]
    live = page.locator("[aria-live=polite]")
    live.filter(has_text="Réponse d'Expert SPRO").wait_for(state="attached")
    assert first["reply"] in (live.text_content() or "")

    # The clarification answered with a chip: the department's contacts come.
    second = chat_response(page, lambda: answer.get_by_role("button", name="Isère (38)", exact=True).click())
    assert second["conversation_id"] == first["conversation_id"] and second["turn"] == 2
    assert second["understood"]["department"] == "38"
    located = [s for s in second["structures"] if site_contacts(s)]
    assert located, second["reply"]
    assert {c["department"] for s in located for c in site_contacts(s)} == {"38"}
    answer = last_answer(page)
    cards = answer.locator(".spro-card")
    assert cards.count() == len(second["structures"])
    for rank, structure in enumerate(second["structures"], start=1):
        card = cards.nth(rank - 1)
        assert card.locator(".spro-rank").inner_text() == str(rank)
        assert card.locator(".spro-card__name").inner_text().endswith(structure["name"])
        for reason in structure["reasons"]:
            if reason != "Contact signalé comme erroné, à vérifier":  # shown as a badge
                assert reason in card.locator(".spro-reasons").inner_text()
        for contact in structure["contacts"]:
            if contact["phone"]:
                digits = re.sub(r"[^\d+]", "", contact["phone"])
                assert card.locator(f'a[href="tel:{digits}"]').inner_text().endswith(contact["phone"])
            if contact["email"]:
                assert card.locator(f'a[href="mailto:{contact["email"]}"]').count() == 1
        for shown in card.locator(".spro-contact[data-kind=site]").all():
            assert shown.get_attribute("data-department") == "38"
        for shown in card.locator(".spro-contact").all():
            assert SOURCE_LINE.search(shown.locator(".spro-source").inner_text())
    first_card = cards.first
    excerpts = first_card.locator("details")
    assert excerpts.get_attribute("open") is None
    excerpts.locator("summary").click()
    assert excerpts.get_attribute("open") == ""
    excerpt = second["structures"][0]["excerpts"][0]
    shown = first_card.locator(".spro-excerpt__text").first.inner_text()
    assert shown.split() == excerpt["text"].split()
    case = answer.locator(".spro-case")
    assert case.get_by_role("button", name=re.compile(r"^Département : Isère \(38\)")).count() == 1

    # Editing the age chip sends a refining message: the answer changes (26: no longer a Mission Locale case).
    case.locator("button[data-slot=age]").click()
    case.get_by_label("Âge de la personne (en années)").fill("26")
    third = chat_response(page, lambda: case.get_by_label("Âge de la personne (en années)").press("Enter"))
    assert third["understood"]["age"] == 26 and third["turn"] == 3
    assert page.locator(".spro-msg--user").last.inner_text().endswith("la personne a 26 ans")
    answer = last_answer(page)
    assert answer.locator("button[data-slot=age]").inner_text().strip() == "Âge : 26 ans"
    names = [s["name"] for s in third["structures"]]
    assert names != [s["name"] for s in second["structures"]]
    assert answer.locator(".spro-card__name").all_inner_texts()[0].endswith(names[0])
    assert "16-25 ans : oui" not in answer.inner_text()
    assert page.locator(".spro-case").count() == 1, "seule la dernière réponse garde la situation à corriger"

    # Editing the place chip: from the department to a town.
    answer.locator("button[data-slot=place]").click()
    field = answer.get_by_label("Commune (ou département) de la personne")
    field.fill("Grenoble")
    fourth = chat_response(page, lambda: field.press("Enter"))
    assert fourth["understood"]["commune"] == {"insee": "38185", "name": "Grenoble"}
    answer = last_answer(page)
    assert answer.locator("button[data-slot=place]").inner_text().strip() == "Commune : Grenoble"
    assert "Structure de la commune (Grenoble)" in answer.inner_text()

    # Feedback: thumb up on the answer, "contact erroné" on a card with contacts.
    answer.get_by_role("button", name="Oui, cette réponse m'aide").click()
    answer.get_by_text("Merci pour votre avis.").wait_for()
    assert answer.get_by_role("button", name="Oui, cette réponse m'aide").get_attribute("aria-pressed") == "true"
    reported_rank = next(i for i, s in enumerate(fourth["structures"]) if s["contacts"])
    reported = fourth["structures"][reported_rank]
    card = answer.locator(".spro-card").nth(reported_rank)
    card.get_by_role("button", name=re.compile("^Contact erroné")).click()
    card.get_by_label("Précisez (facultatif, sans données personnelles)").fill("Le numéro n'est plus attribué")
    card.get_by_role("button", name="Envoyer le signalement").click()
    card.get_by_text("Merci : votre signalement sera vérifié avant toute correction du contact.").wait_for()

    stored = [f for f in server.admin_feedback() if f["conversation_id"] == fourth["conversation_id"]]
    assert {(f["turn"], f["rating"], f["kind"], f["structure_id"], f["reason"]) for f in stored} == {
        (4, "up", None, None, None),
        (4, "down", "contact_errone", reported["id"], "Le numéro n'est plus attribué"),
    }
    assert all(f["channel"] == "widget" for f in stored)

    # "Copier la fiche": plain text ready for an e-mail.
    card.get_by_role("button", name=re.compile("^Copier la fiche")).click()
    card.get_by_text("Fiche copiée").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(reported["name"] + "\n")
    contact = reported["contacts"][0]
    for value in (contact["phone"], contact["email"]):
        if value:
            assert value in copied
    assert re.search(r"^Source : .+, à jour (au|en) ", copied, re.MULTILINE)


@pytest.mark.slow
def test_homonym_communes_are_told_apart_with_a_chip(session: Session, server: LiveServer) -> None:
    page = session.page
    page.goto(f"{server.url}/")
    first = ask(page, "jeune de 17 ans décrocheur à Montagny")
    clarification = first["clarification"]
    assert clarification is not None and clarification["slot"] == "territory"
    assert "Montagny (42)" in clarification["options"] and "Montagny (69)" in clarification["options"]
    second = chat_response(
        page, lambda: last_answer(page).get_by_role("button", name="Montagny (42)", exact=True).click()
    )
    assert second["understood"]["department"] == "42"
    assert second["understood"]["commune"]["name"] == "Montagny"
    chip = last_answer(page).locator("button[data-slot=place]")
    assert chip.inner_text().strip() == "Commune : Montagny"
    assert {c["department"] for s in second["structures"] for c in site_contacts(s)} <= {"42"}


def up_to(iso: str | None) -> str:
    """What the card says of a date: day 01 is month-precision data (« à jour en 01/2026 »)."""
    if not iso:
        return ""
    year, month, day = iso[:10].split("-")
    return f"à jour en {month}/{year}" if day == "01" else f"à jour au {day}/{month}/{year}"


def source_line(contact: dict[str, Any]) -> str:
    parts = []
    for line in contact["provenance"]:
        text = (", ".join(line["fields"]) + " — " if line["fields"] else "") + line["source"]
        parts.append(f"{text}, {up_to(line['as_of'])}" if line["as_of"] else text)
    return "Source : " + " ; ".join(parts)


def assert_contacts_shown(card: Any, structure: dict[str, Any]) -> None:
    """Each contact of the API, in order: its kind, number and tariff, locator, hours, provenance, age."""
    shown = card.locator(".spro-contact")
    assert shown.count() == len(structure["contacts"])
    for i, contact in enumerate(structure["contacts"]):
        box = shown.nth(i)
        assert box.get_attribute("data-kind") == contact["kind"]
        assert box.locator(".spro-source").inner_text() == source_line(contact)
        assert (box.get_by_text("À vérifier : donnée de plus de deux ans").count() == 1) == contact["stale"]
        if contact["phone"]:
            phone = box.locator(".spro-contact__phone").inner_text()
            expected = contact["phone"] + (f" ({contact['phone_note']})" if contact["phone_note"] else "")
            assert phone.endswith(expected), phone
            assert phone.startswith("Numéro national : ") == (contact["kind"] == "national")
        if contact["kind"] == "national":
            assert box.locator(".spro-contact__kind").inner_text() == "Contact national du réseau, pas un site local"
            assert contact["label"] in box.inner_text()
            if contact["url"]:
                link = box.locator("a.spro-contact__locator")
                assert (link.get_attribute("href") or "").rstrip("/") == contact["url"].rstrip("/")
                assert re.match(r"^(Annuaire|Site) officiel du réseau", link.inner_text()), link.inner_text()
                assert link.get_attribute("target") == "_blank"
        hours = box.locator("details.spro-hours")
        assert hours.count() == (1 if contact["hours"] else 0)
        if contact["hours"]:
            assert hours.get_attribute("open") is None, "les horaires restent repliés"
            assert hours.locator("summary").inner_text() == "Horaires d'ouverture"
    reasons = " ".join(structure["reasons"])
    if "à vol d'oiseau" in reasons:
        assert card.inner_text().count("à vol d'oiseau") == 1, "la distance n'est dite qu'une fois"


@pytest.mark.slow
def test_each_contact_shows_its_sources_age_tariff_hours_and_a_national_way_in_is_labelled(
    session: Session, server: LiveServer
) -> None:
    page = session.page
    page.goto(f"{server.url}/")

    # A site merged from two sources (one provenance line each), a month-precision date, the national
    # number of a network whose local site has no phone of its own.
    data = ask(page, "jeune de 19 ans sans emploi à Bourgoin-Jallieu")
    structures = data["structures"]
    contacts = [c for s in structures for c in s["contacts"]]
    assert any(len(c["provenance"]) > 1 and all(p["fields"] for p in c["provenance"]) for c in contacts), contacts
    assert any(p["as_of"] and p["as_of"].endswith("-01") for c in contacts for p in c["provenance"])
    assert any(c["kind"] == "national" and c["phone"] and c["phone_note"] for c in contacts)
    assert any(c["stale"] for c in contacts)
    cards = last_answer(page).locator(".spro-card")
    for rank, structure in enumerate(structures):
        assert_contacts_shown(cards.nth(rank), structure)
    merged = next(c for c in contacts if len(c["provenance"]) > 1)
    assert " ; " in source_line(merged) and " — " in source_line(merged)

    # "Copier la fiche" carries all of it: national number and its tariff, locator, provenance, the warning.
    rank, national = next(
        (rank, c) for rank, s in enumerate(structures) for c in s["contacts"] if c["kind"] == "national" and c["phone"]
    )
    card = cards.nth(rank)
    card.get_by_role("button", name=re.compile("^Copier la fiche")).click()
    card.get_by_text("Fiche copiée").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "Contact national du réseau, pas un site local :\n" + national["label"] in copied
    assert f"Numéro national : {national['phone']} ({national['phone_note']})" in copied
    assert re.search(r"^(Annuaire|Site) officiel du réseau : " + re.escape(national["url"]) + "$", copied, re.M)
    for contact in structures[rank]["contacts"]:
        assert source_line(contact) in copied.splitlines()
    if any(c["stale"] for c in structures[rank]["contacts"]):
        assert "⚠ À vérifier : donnée de plus de deux ans" in copied

    # Opening hours: folded under a summary reached and opened from the keyboard, one line per day.
    page.get_by_role("button", name="Nouvelle conversation").click()
    data = ask(page, "demandeur d'emploi de 50 ans qui a besoin d'aide pour ses démarches en ligne à Valserhône")
    rank, contact = next(
        (rank, c) for rank, s in enumerate(data["structures"]) for c in s["contacts"] if c["hours"]
    )
    answer = last_answer(page)
    cards = answer.locator(".spro-card")
    for i, structure in enumerate(data["structures"]):
        assert_contacts_shown(cards.nth(i), structure)
    focus_by_keyboard(page, lambda a: a["tag"] == "summary" and a["text"] == "Horaires d'ouverture", backwards=True)
    page.keyboard.press("Enter")
    hours = cards.nth(rank).locator("details.spro-hours")
    assert hours.get_attribute("open") == ""
    assert hours.locator("li").all_inner_texts() == contact["hours"]
    contrast = page.evaluate(CONTRAST)
    assert contrast["failures"] == [], contrast["failures"]
    card = cards.nth(rank)
    card.get_by_role("button", name=re.compile("^Copier la fiche")).click()
    card.get_by_text("Fiche copiée").wait_for()
    assert "Horaires : " + " ; ".join(contact["hours"]) in page.evaluate("navigator.clipboard.readText()")


@pytest.mark.slow
def test_the_whole_flow_with_the_keyboard_only(session: Session, server: LiveServer) -> None:
    page = session.page
    page.goto(f"{server.url}/")

    field = focus_by_keyboard(page, lambda a: a["tag"] == "textarea")
    assert field["inWidget"] and not field["outline"].startswith("none")
    before = answers(page)
    page.keyboard.type(FIRST_CASE)
    page.keyboard.press("Enter")
    wait_for_answer(page, before)

    # Back from the text field to the department chip, chosen with Space.
    focus_by_keyboard(page, lambda a: a["text"] == "Rhône (69)", backwards=True)
    second = chat_response(page, lambda: page.keyboard.press("Space"))
    assert second["understood"]["department"] == "69"
    assert deep_active(page)["tag"] == "textarea", "le focus revient au champ de saisie"

    # The age chip, edited with Enter, the field, Enter.
    focus_by_keyboard(page, lambda a: a["slot"] == "age", backwards=True)
    page.keyboard.press("Enter")
    assert deep_active(page)["tag"] == "input"
    page.keyboard.press("Escape")
    assert deep_active(page)["slot"] == "age", "Échap referme l'éditeur et rend le focus à l'étiquette"
    page.keyboard.press("Enter")
    page.keyboard.press("Control+A")
    page.keyboard.type("27")
    third = chat_response(page, lambda: page.keyboard.press("Enter"))
    assert third["understood"]["age"] == 27 and third["understood"]["department"] == "69"
    answer = last_answer(page)
    assert answer.locator("button[data-slot=age]").inner_text().strip() == "Âge : 27 ans"

    # Excerpts open with Enter on their summary.
    focus_by_keyboard(page, lambda a: a["tag"] == "summary" and a["text"].startswith("Voir"), backwards=True)
    page.keyboard.press("Enter")
    assert answer.locator("details[open]").count() == 1

    # Thumb down with a reason, then a "contact erroné" report, all from the keyboard.
    focus_by_keyboard(page, lambda a: a["label"] == "Non, cette réponse ne m'aide pas")
    page.keyboard.press("Space")
    assert deep_active(page)["tag"] == "textarea"
    page.keyboard.type("Il manque le CIO")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    answer.get_by_text("Merci pour votre avis.").wait_for()

    reported_rank = next(i for i, s in enumerate(third["structures"]) if s["contacts"])
    first_copy = "Copier la fiche : " + third["structures"][0]["name"]
    focus_by_keyboard(page, lambda a: a["text"] == first_copy, backwards=True)
    target = third["structures"][reported_rank]
    focus_by_keyboard(page, lambda a: a["text"] == "Contact erroné : " + target["name"])
    page.keyboard.press("Enter")
    # The form opens on "Information concernée" (a list: arrows choose), then the reason.
    assert deep_active(page)["tag"] == "select"
    page.keyboard.press("Tab")
    assert deep_active(page)["tag"] == "textarea"
    page.keyboard.type("Adresse fausse")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    answer.locator(".spro-card").nth(reported_rank).get_by_text(
        "Merci : votre signalement sera vérifié avant toute correction du contact."
    ).wait_for()

    stored = [f for f in server.admin_feedback() if f["conversation_id"] == third["conversation_id"]]
    # Reasons keep only the words of the knowledge base (the privacy allow-list): "fausse" is not one of them.
    assert {(f["turn"], f["rating"], f["kind"], f["structure_id"], f["reason"]) for f in stored} == {
        (3, "down", None, None, "Il manque le CIO"),
        (3, "down", "contact_errone", target["id"], "Adresse"),
    }

    # "Nouvelle conversation" from the keyboard: a fresh start, focus back in the text field.
    focus_by_keyboard(page, lambda a: a["text"] == "Nouvelle conversation")
    page.keyboard.press("Enter")
    assert deep_active(page)["tag"] == "textarea"
    assert answers(page) == 0


@pytest.mark.slow
def test_the_launcher_opens_and_closes_with_the_keyboard_on_a_partner_page(
    session: Session, server: LiveServer
) -> None:
    page = session.page
    page.goto(f"{server.url}/static/exemple-integration.html")
    launcher = focus_by_keyboard(page, lambda a: a["cls"] == "spro-launcher")
    assert launcher["inWidget"]
    page.keyboard.press("Enter")
    assert deep_active(page)["tag"] == "textarea"
    assert page.locator(".spro-panel").is_visible()
    page.keyboard.press("Escape")
    assert page.locator(".spro-panel").is_hidden()
    active = deep_active(page)
    assert active["cls"] == "spro-launcher"
    assert page.locator(".spro-launcher").get_attribute("aria-expanded") == "false"


PARTNER_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Partenaire</title>
<style>
  html {{ font-size: 62.5%; }}
  * {{ font-family: Georgia, serif !important; color: #5a2d0c !important; line-height: 1.1 !important; }}
  button {{ background: rgb(255, 212, 0) !important; text-transform: uppercase !important; }}
  div, p {{ margin: 3em !important; }}
  [hidden] {{ display: block !important; }}
  svg {{ width: 100px !important; }}
</style>
<script>window.__before = Object.keys(window);</script>
</head><body>
<h1>RésOpro (page d'essai)</h1>
<p><button type="button" id="host-button">Bouton du site</button></p>
<script src="{api}/widget.js" data-api="{api}" data-department="63"></script>
</body></html>"""


@pytest.mark.slow
def test_embedded_on_another_origin_it_works_and_neither_side_breaks_the_other(
    session: Session, server: LiveServer
) -> None:
    page = session.page
    server.partner.html = PARTNER_PAGE.format(api=server.url)
    page.goto(f"{server.other_origin}/partenaire-fictif")

    # The host page: one element and one global added, its own styles untouched.
    added = page.evaluate("Object.keys(window).filter((k) => !window.__before.includes(k) && k !== '__before')")
    assert added == ["ExpertSPRO"]
    assert page.evaluate("document.querySelectorAll('style, link[rel=stylesheet]').length") == 1
    assert page.evaluate("[...document.body.children].map((e) => e.tagName.toLowerCase())") == [
        "h1", "p", "script", "expert-spro"
    ]
    host_button = page.locator("#host-button")
    assert host_button.evaluate("(b) => getComputedStyle(b).backgroundColor") == "rgb(255, 212, 0)"

    page.get_by_role("button", name="Expert SPRO : trouver le bon interlocuteur").click()
    data = ask(page, FIRST_CASE)
    # data-department="63" is sent as context: no department asked (at most a town of the Puy-de-Dôme), its contacts.
    assert data["understood"]["department"] == "63"
    clarification = data["clarification"]
    if clarification is not None and clarification["slot"] == "territory":
        assert clarification["options"] and all(o.endswith("(63)") for o in clarification["options"]), clarification
    departments = {c["department"] for s in data["structures"] for c in site_contacts(s)}
    assert departments == {"63"}

    # The widget: its own font, colours and sizes despite the page's `* { … !important }` rules.
    reply = page.locator(".spro-reply").last
    style = reply.evaluate(
        "(e) => { const s = getComputedStyle(e); return [s.fontFamily, s.color, s.lineHeight, s.fontSize]; }"
    )
    assert style[0].startswith("Marianne") and "Georgia" not in style[0]
    assert style[1] == "rgb(22, 22, 22)"
    assert style[3] == "16px" and style[2] == "24px"
    assert page.locator(".spro-card svg").first.evaluate("(e) => e.getBoundingClientRect().width") < 30
    assert page.locator(".spro-typing").count() == 0 and page.locator(".spro-alert").count() == 0
    assert host_button.evaluate("(b) => getComputedStyle(b).backgroundColor") == "rgb(255, 212, 0)"


# --- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_real_outage_and_a_real_rate_limit_are_explained_in_french(
    browser: Browser,
    tmp_path: Path,
    index_root: Path,
    encoder: Encoder,
    territory: Territory,
    knowledge_index: KnowledgeIndex,
) -> None:
    """Real servers: one stopped under the page then started again, one limited to 2 requests a minute."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "index").symlink_to(index_root, target_is_directory=True)
    port, partner_port = free_port(), free_port()
    settings = widget_settings(data, partner_port)
    live = start_server(settings, Runtime(settings, encoder, territory, knowledge_index), port, partner_port)
    opened = Session(browser, live)
    page = opened.page
    try:
        page.goto(f"{live.url}/")
        live.stop()
        field = page.get_by_label("Décrivez la situation")
        field.fill(FIRST_CASE)
        field.press("Enter")
        alert = page.locator(".spro-alert").last
        alert.get_by_text("Le service Expert SPRO ne répond pas").wait_for()
        live = start_server(settings, Runtime(settings, encoder, territory, knowledge_index), port, partner_port)
        answer = chat_response(page, lambda: alert.get_by_role("button", name="Réessayer").click())
        assert answer["turn"] == 1 and page.locator(".spro-alert").count() == 0
        opened.assert_clean()
    finally:
        opened.close()
        live.stop()

    # Rate limited, seen from a partner site (cross-origin): Retry-After is not exposed by CORS, the detail says it.
    limited = widget_settings(data, partner_port, rate_limit_per_minute=2)
    live = start_server(limited, Runtime(limited, encoder, territory, knowledge_index), port, partner_port)
    live.partner.html = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f'<title>Partenaire</title></head><body><script src="{live.url}/widget.js" data-api="{live.url}" '
        'data-open="true"></script></body></html>'
    )
    opened = Session(browser, live)
    page = opened.page
    try:
        page.goto(f"{live.other_origin}/")
        ask(page, FIRST_CASE)
        ask(page, "à Vienne")
        field = page.get_by_label("Décrivez la situation")
        field.fill("il a 19 ans")
        field.press("Enter")
        alert = page.locator(".spro-alert").last
        alert.wait_for()
        text = alert.inner_text()
        seconds = int(re.search(r"réessayer dans (\d+) secondes", text).group(1))  # type: ignore[union-attr]
        assert 20 <= seconds <= 30, text
        assert alert.get_by_role("button", name=re.compile("^Réessayer")).is_disabled()
        assert page.locator(".spro-composer button[type=submit]").is_disabled()
        opened.assert_clean()
    finally:
        opened.close()
        live.stop()


@pytest.mark.slow
def test_error_states_retry_after_countdown_empty_answer_and_new_conversation(
    session: Session, server: LiveServer
) -> None:
    page = session.page
    page.goto(f"{server.url}/")
    field = page.get_by_label("Décrivez la situation")

    # The network fails.
    page.route("**/api/chat", lambda route: route.abort("connectionrefused"))
    field.fill(FIRST_CASE)
    field.press("Enter")
    alert = page.locator(".spro-alert").last
    alert.get_by_text("Le service Expert SPRO ne répond pas").wait_for()
    assert page.locator(".spro-msg--user").last.inner_text().startswith("Vous — Message non envoyé")
    page.unroute("**/api/chat")
    first = chat_response(page, lambda: alert.get_by_role("button", name="Réessayer").click())
    assert first["turn"] == 1 and page.locator(".spro-alert").count() == 0
    assert page.locator(".spro-msg--user").count() == 1, "le message réessayé n'est pas dupliqué"

    # Rate limited: the delay of Retry-After is shown, sending waits for it, then the retry goes through.
    limited = {"error": "rate_limited", "detail": "Trop de requêtes : réessayez dans 2 s."}
    page.route(
        "**/api/chat",
        lambda route: route.fulfill(
            status=429, headers={"Retry-After": "2"}, content_type="application/json", body=json.dumps(limited)
        ),
    )
    field.fill("à Vienne")
    field.press("Enter")
    alert = page.locator(".spro-alert").last
    alert.get_by_text("Vous pourrez réessayer dans 2 secondes.").wait_for()
    retry = alert.get_by_role("button", name=re.compile("^Réessayer"))
    assert retry.is_disabled() and "dans" in retry.inner_text()
    assert page.locator(".spro-composer button[type=submit]").is_disabled()
    page.unroute("**/api/chat")
    page.wait_for_function(
        "() => !document.querySelector('expert-spro').shadowRoot.querySelector('.spro-alert button').disabled",
        timeout=10_000,
    )
    assert retry.inner_text().strip() == "Réessayer"
    second = chat_response(page, lambda: retry.click())
    assert second["understood"]["commune"]["name"] == "Vienne" and second["turn"] == 2

    # The knowledge base not loaded yet (503): the server's French detail is shown.
    unavailable = {"error": "index_unavailable", "detail": "La base de connaissances n'est pas encore chargée."}
    page.route(
        "**/api/chat",
        lambda route: route.fulfill(status=503, content_type="application/json", body=json.dumps(unavailable)),
    )
    field.fill("il a 19 ans")
    field.press("Enter")
    page.locator(".spro-alert").last.get_by_text(unavailable["detail"]).wait_for()
    page.unroute("**/api/chat")

    # New conversation: the server forgets the case, the next message starts a new one.
    with page.expect_request(lambda r: r.method == "DELETE" and first["conversation_id"] in r.url):
        page.get_by_role("button", name="Nouvelle conversation").click()
    assert page.locator(".spro-msg--user").count() == 0 and answers(page) == 0
    assert page.locator(".spro-alert").count() == 0

    # An answer without any structure.
    empty = ask(page, "quelle est la recette de la tarte tatin ?")
    assert empty["turn"] == 1 and empty["conversation_id"] != first["conversation_id"]
    assert empty["structures"] == [] and empty["clarification"] is None
    answer = last_answer(page)
    assert empty["reply"] in answer.inner_text()
    # The reply says why nothing is proposed; no second, generic text under it (issue 13).
    assert "Aucune structure proposée pour ce cas" not in answer.inner_text()


# --- safety ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_html_in_knowledge_and_in_messages_stays_inert_text(browser: Browser, trapped_server: LiveServer) -> None:
    opened = Session(browser, trapped_server)
    page = opened.page
    try:
        page.goto(f"{trapped_server.url}/")
        typed = "<img src=x onerror=\"window.__spro_xss='message'\"> " + FIRST_CASE + " en Mission Locale <b>vite</b>"
        data = ask(page, typed)
        trapped = [
            (rank, e)
            for rank, s in enumerate(data["structures"])
            for e in s["excerpts"]
            if e["source_id"] == "document/ml-piege"
        ]
        assert trapped, "le document piégé doit être cité"
        rank, excerpt = trapped[0]
        # A javascript: link in front matter is refused at ingest; a web link full of markup is kept as text.
        assert "<img src=x" in excerpt["text"] and excerpt["url"].startswith("https://exemple.invalid/")

        card = last_answer(page).locator(".spro-card").nth(rank)
        card.locator("details summary").click()
        shown = card.locator(".spro-excerpt__text").all_inner_texts()
        assert any('<img src=x onerror="window.__spro_xss=\'texte\'">' in text for text in shown)
        assert any("<script>window.__spro_xss='script'</script>" in text for text in shown)
        assert "Fiche piégée <img src=x onerror=\"alert('titre')\">" in card.inner_text()
        assert page.locator(".spro-msg--user").last.inner_text().endswith(typed)

        # Open every details, give the browser time to load images and run handlers, then look.
        page.evaluate(
            "() => document.querySelector('expert-spro').shadowRoot.querySelectorAll('details')"
            ".forEach((d) => { d.open = true; })"
        )
        page.wait_for_timeout(500)
        assert page.evaluate("window.__spro_xss") is None
        counts = page.evaluate(
            """() => {
              const root = document.querySelector("expert-spro").shadowRoot;
              const hrefs = [...root.querySelectorAll("a[href]")].map((a) => a.getAttribute("href"));
              return {
                img: root.querySelectorAll("img, script, iframe, object, embed").length + document.images.length,
                bad: hrefs.filter((h) => !/^(https?:|tel:|mailto:)/.test(h)),
                links: hrefs.length,
              };
            }"""
        )
        assert counts["img"] == 0 and counts["bad"] == [] and counts["links"] > 0
        opened.assert_clean()
    finally:
        opened.close()


# --- layout: desktop, phone, 200 % zoom, contrast -------------------------------------------------------------


@pytest.mark.slow
def test_desktop_layout_contrast_and_screenshot(session: Session, server: LiveServer, tmp_path: Path) -> None:
    page = session.page
    page.goto(f"{server.url}/")
    ask(page, FIRST_CASE)
    chat_response(page, lambda: last_answer(page).get_by_role("button", name="Isère (38)", exact=True).click())
    contrast = page.evaluate(CONTRAST)
    assert contrast["checked"] > 100 and contrast["failures"] == [], contrast["failures"]
    overflow = page.evaluate(OVERFLOW)
    assert overflow["wide"] == [] and overflow["page"] <= overflow["viewport"], overflow
    page.evaluate("document.querySelector('expert-spro').scrollIntoView()")
    show_the_cards(page)
    page.screenshot(path=screenshot_path("widget-desktop.png", tmp_path))


@pytest.mark.slow
def test_phone_layout_390px_and_screenshot(browser: Browser, server: LiveServer, tmp_path: Path) -> None:
    opened = Session(
        browser, server, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = opened.page
    try:
        page.goto(f"{server.url}/static/exemple-integration.html")
        page.get_by_role("button", name="Expert SPRO : trouver le bon interlocuteur").click()
        panel = page.locator(".spro-panel")
        box = panel.bounding_box()
        assert box is not None and box["width"] == 390, "le panneau occupe tout l'écran du téléphone"
        ask(page, FIRST_CASE)
        chat_response(page, lambda: last_answer(page).get_by_role("button", name="Isère (38)", exact=True).click())
        overflow = page.evaluate(OVERFLOW)
        assert overflow["wide"] == [], overflow
        # Earlier turns are folded: the cards shown are the last answer's.
        assert page.locator(".spro-composer").is_visible()
        assert last_answer(page).locator(".spro-card").first.is_visible()
        show_the_cards(page)
        page.screenshot(path=screenshot_path("widget-mobile-panel.png", tmp_path))
        opened.assert_clean()
    finally:
        opened.close()


@pytest.mark.slow
def test_200_percent_zoom_keeps_everything_usable(browser: Browser, server: LiveServer) -> None:
    """1280 × 800 at 200 %: a 640 × 400 CSS-pixel viewport with twice the device pixels."""
    opened = Session(browser, server, viewport={"width": 640, "height": 400}, device_scale_factor=2)
    page = opened.page
    try:
        page.goto(f"{server.url}/")
        ask(page, FIRST_CASE)
        overflow = page.evaluate(OVERFLOW)
        assert overflow["wide"] == [] and overflow["page"] <= overflow["viewport"], overflow

        page.goto(f"{server.url}/static/exemple-integration.html")
        page.get_by_role("button", name="Expert SPRO : trouver le bon interlocuteur").click()
        box = page.locator(".spro-panel").bounding_box()
        assert box is not None and box["width"] == 640 and box["height"] == 400
        ask(page, FIRST_CASE)
        overflow = page.evaluate(OVERFLOW)
        assert overflow["wide"] == [], overflow
        composer = page.locator(".spro-composer").bounding_box()
        assert composer is not None and composer["y"] + composer["height"] <= 400
        assert composer["height"] < 200, "la zone de saisie laisse de la place à la conversation"
        opened.assert_clean()
    finally:
        opened.close()
