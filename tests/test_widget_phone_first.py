"""Issue 13 in a real Chromium, at 1280 px and at 390 px: the chat above the fold, earlier turns folded, the
full-screen panel a modal dialog, the place question said once, chip editors that replace, reports that mark
nothing, /docs offline, a footer for counsellors; axe-core finds no serious or critical violation on the way.

Screenshot docs/widget-mobile.png is written when SPRO_WIDGET_SCREENSHOTS=1 (see tests/test_widget.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import ROOT
from tests.test_widget import (  # noqa: F401 (fixtures)
    FIRST_CASE,
    Session,
    browser,
    screenshot_path,
    server,
    site_contacts,
)
from tests.widget_support import (
    OVERFLOW,
    LiveServer,
    answers,
    ask,
    axe_violations,
    chat_response,
    deep_active,
    focus_by_keyboard,
    last_answer,
    wait_for_answer,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SCREENS: dict[str, dict[str, Any]] = {
    "1280px": {"viewport": {"width": 1280, "height": 900}},
    "390px": {
        "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True
    },
}
pytestmark = pytest.mark.slow


class Screen(Session):
    """A browser session at one of the two widths."""

    def __init__(self, browser: Browser, server: LiveServer, name: str) -> None:  # noqa: F811
        super().__init__(browser, server, **SCREENS[name])
        self.name = name
        self.phone = name == "390px"


@pytest.fixture(params=list(SCREENS))
def screen(request: pytest.FixtureRequest, browser: Browser, server: LiveServer) -> Iterator[Screen]:  # noqa: F811
    opened = Screen(browser, server, request.param)
    yield opened
    opened.assert_clean()
    opened.close()


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def in_viewport(page: Page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["height"] > 0


def choose_an_option(page: Page, data: dict[str, Any]) -> dict[str, Any]:
    """Answer the clarification with its first one-click option, whatever the API offers."""
    option = data["clarification"]["options"][0]
    return chat_response(page, lambda: last_answer(page).get_by_role("button", name=option, exact=True).click())


# --- 1. phone-first layout ---------------------------------------------------------------------------------------


def test_the_chat_is_above_the_fold_and_earlier_turns_fold_to_one_line(screen: Screen, tmp_path: Path) -> None:
    page = screen.page
    page.goto(f"{screen.server.url}/")
    assert page.evaluate("window.scrollY") == 0
    assert in_viewport(page, ".spro-welcome"), "le premier message se voit sans défiler"
    assert in_viewport(page, ".spro-composer textarea"), "le champ de saisie se voit sans défiler"
    assert page.get_by_role("heading", name=re.compile("^Pour les développeurs")).bounding_box()["y"] > (  # type: ignore[index]
        page.locator("expert-spro").bounding_box()["y"]  # type: ignore[index]
    ), "le texte d'intégration vient après l'assistant"
    assert_accessible(page)

    first = ask(page, FIRST_CASE)
    second = choose_an_option(page, first)
    third = ask(page, "il a 19 ans")
    assert third["turn"] == 3 and third["structures"]

    # The two earlier exchanges: one line each (the question, the first structure), closed, their content hidden.
    toggles = page.locator("button.spro-turn")
    assert toggles.count() == 2
    for toggle, (asked, data) in zip(
        toggles.all(), [(FIRST_CASE, first), (first["clarification"]["options"][0], second)], strict=True
    ):
        assert toggle.get_attribute("aria-expanded") == "false"
        text = toggle.inner_text()
        assert f"« {asked} »" in text and data["structures"][0]["name"] in text
        assert toggle.evaluate("(b) => b.getBoundingClientRect().height") < 60, "une seule ligne"
    bots = page.locator(".spro-msg--bot[data-turn]")
    assert [b.is_visible() for b in bots.all()] == [False, False, True]
    visible_cards = page.locator(".spro-card:visible").count()
    assert visible_cards == len(third["structures"]), "seule la dernière réponse a ses fiches"
    assert in_viewport(page, ".spro-composer textarea"), "après trois tours le champ de saisie reste à portée"
    overflow = page.evaluate(OVERFLOW)
    assert overflow["wide"] == [] and overflow["page"] <= overflow["viewport"], overflow

    # Reopened and closed again from the keyboard.
    focus_by_keyboard(page, lambda a: a["cls"] == "spro-turn" and FIRST_CASE in a["text"], backwards=True)
    page.keyboard.press("Enter")
    assert toggles.first.get_attribute("aria-expanded") == "true"
    assert bots.first.is_visible() and bots.first.locator(".spro-card").count() == len(first["structures"])
    assert page.locator(".spro-msg--user").first.is_visible()
    assert_accessible(page)
    page.keyboard.press("Space")
    assert toggles.first.get_attribute("aria-expanded") == "false" and not bots.first.is_visible()
    assert deep_active(page)["cls"] == "spro-turn"

    if screen.phone:
        # The folded exchanges, then the last answer, with the text field at the bottom of the screen.
        page.evaluate("window.scrollTo(0, 0)")
        toggles.first.evaluate("(b) => window.scrollTo(0, b.getBoundingClientRect().top - 16)")
        page.screenshot(path=screenshot_path("widget-mobile.png", tmp_path))


def test_the_floating_panel_is_a_modal_dialog_when_it_fills_the_screen(screen: Screen) -> None:
    page = screen.page
    phone = screen.phone
    page.goto(f"{screen.server.url}/static/exemple-integration.html")
    focus_by_keyboard(page, lambda a: a["cls"] == "spro-launcher")
    page.keyboard.press("Enter")
    panel = page.locator(".spro-panel")
    assert panel.get_attribute("role") == "dialog"
    assert panel.get_attribute("aria-modal") == ("true" if phone else None)
    before = answers(page)
    page.keyboard.type(FIRST_CASE)
    page.keyboard.press("Enter")
    wait_for_answer(page, before)
    assert_accessible(page)

    if phone:
        # Tab from the last control (send) comes back to the first (new conversation), Shift+Tab the other way,
        # and a whole round of Tab never leaves the panel.
        send = page.locator(".spro-composer button[type=submit]")
        send.focus()
        page.keyboard.press("Tab")
        assert deep_active(page)["text"] == "Nouvelle conversation"
        page.keyboard.press("Shift+Tab")
        assert deep_active(page)["text"] == "Envoyer"
        seen = 0
        for _ in range(400):
            page.keyboard.press("Tab")
            active = deep_active(page)
            assert active["inWidget"], f"le focus est sorti du panneau : {active}"
            if active["text"] == "Envoyer":
                seen += 1
                if seen == 2:
                    break
        assert seen == 2, "Tab fait le tour du panneau et y revient"
        for _ in range(30):
            page.keyboard.press("Shift+Tab")
            assert deep_active(page)["inWidget"]
    else:
        # Beside a desktop page the panel is not modal: the host page stays reachable.
        focus_by_keyboard(page, lambda a: not a["inWidget"] and a["text"] == "Un bouton du site hôte", limit=400)

    focus_by_keyboard(page, lambda a: a["tag"] == "textarea", limit=400)
    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert deep_active(page)["cls"] == "spro-launcher"
    assert page.locator(".spro-launcher").get_attribute("aria-expanded") == "false"
    assert panel.get_attribute("aria-modal") is None


# --- 2. the place question and the chips ------------------------------------------------------------------------


def test_the_place_question_is_shown_once_read_once_and_answered_in_one_click(screen: Screen) -> None:
    page = screen.page
    page.goto(f"{screen.server.url}/")
    first = ask(page, FIRST_CASE)
    clarification = first["clarification"]
    assert clarification is not None and clarification["slot"] == "territory" and clarification["options"]
    question = squash(clarification["question"])
    answer = last_answer(page)
    assert squash(answer.inner_text()).count(question) == 1, "la question n'est affichée qu'une fois"

    # Every live region together says it once (the reply may already ask it).
    page.locator("[aria-live=polite]").filter(has_text="Réponse d'Expert SPRO").wait_for(state="attached")
    spoken = page.evaluate(
        """() => [...document.querySelector("expert-spro").shadowRoot
              .querySelectorAll("[aria-live], [role=status], [role=alert], [role=log]")]
              .map((el) => el.textContent).join(" ")"""
    )
    assert squash(spoken).count(question) == 1, spoken

    buttons = answer.locator(".spro-clarify button")
    assert buttons.all_inner_texts() == clarification["options"]
    group = answer.locator(".spro-clarify ul")
    assert group.get_attribute("aria-labelledby"), "les options sont un groupe nommé"
    assert_accessible(page)

    second = choose_an_option(page, first)
    assert second["turn"] == 2 and second["understood"]["department"] is not None
    assert page.locator(".spro-msg--user").last.inner_text().endswith(clarification["options"][0])


def test_the_commune_and_age_editors_replace_the_old_value(screen: Screen) -> None:
    page = screen.page
    page.goto(f"{screen.server.url}/")
    first = ask(page, "jeune de 18 ans qui cherche un apprentissage à Lyon")
    assert first["understood"]["commune"]["name"] == "Lyon"

    chip = last_answer(page).locator("button[data-slot=place]")
    chip.click()
    field = last_answer(page).get_by_label("Commune (ou département) de la personne")
    assert field.evaluate("(f) => [f.value, f.selectionStart, f.selectionEnd]") == ["Lyon", 0, 4]
    assert_accessible(page)
    page.keyboard.type("Villeurbanne")
    second = chat_response(page, lambda: page.keyboard.press("Enter"))
    assert page.locator(".spro-msg--user").last.inner_text().endswith("à Villeurbanne")
    assert second["understood"]["commune"] == {"insee": "69266", "name": "Villeurbanne"}
    assert last_answer(page).locator("button[data-slot=place]").inner_text().strip() == "Commune : Villeurbanne"
    communes = {c["commune"] for s in second["structures"] for c in site_contacts(s)}
    assert "Villeurbanne" in communes, communes

    last_answer(page).locator("button[data-slot=age]").click()
    age = last_answer(page).get_by_label("Âge de la personne (en années)")
    assert age.evaluate("(f) => [f.value, f.selectionStart, f.selectionEnd]") == ["18", 0, 2]
    page.keyboard.type("26")
    third = chat_response(page, lambda: page.keyboard.press("Enter"))
    assert third["understood"]["age"] == 26
    assert third["understood"]["commune"]["name"] == "Villeurbanne"


def test_chips_take_a_flag_or_a_need_off_the_case(screen: Screen) -> None:
    page = screen.page
    page.goto(f"{screen.server.url}/")
    first = ask(page, "demandeur d'emploi de 30 ans avec une RQTH qui cherche une formation et un bilan à Grenoble")
    assert "handicap" in first["understood"]["flags"] and len(first["understood"]["needs"]) == 2
    flag_label = "handicap / RQTH"

    # A flag: its chip opens an editor whose one action takes it off.
    chip = last_answer(page).locator("button[data-slot=flag][data-code=handicap]")
    chip.click()
    assert chip.get_attribute("aria-expanded") == "true"
    assert_accessible(page)
    remove = last_answer(page).get_by_role("button", name=f"Retirer la particularité : {flag_label}")
    with page.expect_request(lambda r: r.url.endswith("/api/chat") and r.method == "POST") as sent:
        second = chat_response(page, remove.click)
    assert sent.value.post_data_json["remove"] == ["handicap"]
    assert second["understood"]["flags"] == [] and second["understood"]["needs"] == first["understood"]["needs"]
    assert page.locator(".spro-msg--user").last.inner_text().endswith(f"retirer de la situation : {flag_label}")
    assert last_answer(page).locator("button[data-slot=flag]").count() == 0

    # A need: the needs editor lists one remove button per need.
    kept, dropped = second["understood"]["needs"]
    last_answer(page).locator("button[data-slot=need]").click()
    removes = last_answer(page).locator(".spro-editor").get_by_role("button", name=re.compile("^Retirer le besoin : "))
    assert removes.count() == 2
    third = chat_response(page, lambda: removes.nth(1).click())
    assert third["understood"]["needs"] == [kept], (kept, dropped)
    assert third["understood"]["age"] == 30 and third["understood"]["commune"]["name"] == "Grenoble"


# --- 3. reports ---------------------------------------------------------------------------------------------------


def test_a_contact_report_is_thanked_and_marks_nothing_until_the_api_says_so(screen: Screen) -> None:
    page = screen.page
    page.goto(f"{screen.server.url}/")
    data = ask(page, "jeune de 19 ans sans emploi à Grenoble")
    rank = next(i for i, s in enumerate(data["structures"]) if s["contacts"])
    target = data["structures"][rank]
    card = last_answer(page).locator(".spro-card").nth(rank)
    card.get_by_role("button", name=re.compile("^Contact erroné")).click()
    card.get_by_role("button", name="Envoyer le signalement").click()
    card.get_by_text("Merci : votre signalement sera vérifié avant toute correction du contact.").wait_for()
    assert card.locator(".spro-badge").filter(has_text="signalé").count() == 0
    reports = [f for f in screen.server.admin_feedback() if f["conversation_id"] == data["conversation_id"]]
    assert [(f["kind"], f["structure_id"]) for f in reports] == [("contact_errone", target["id"])]
    assert_accessible(page)

    # The same case again: one report changed nothing for anyone.
    page.get_by_role("button", name="Nouvelle conversation").click()
    again = ask(page, "jeune de 19 ans sans emploi à Grenoble")
    same = next(s for s in again["structures"] if s["id"] == target["id"])
    assert same["contact_reported"] is False
    assert page.locator(".spro-badge").filter(has_text="signalé").count() == 0

    # When the API does say so (a reviewed or repeated report), the card shows it: the real answer, one field set.
    def flag(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        for structure in body["structures"]:
            structure["contact_reported"] = structure["id"] == target["id"]
        route.fulfill(response=response, json=body)

    page.route("**/api/chat", flag)
    page.get_by_role("button", name="Nouvelle conversation").click()
    flagged = ask(page, "jeune de 19 ans sans emploi à Grenoble")
    page.unroute("**/api/chat")
    shown = next(i for i, s in enumerate(flagged["structures"]) if s["id"] == target["id"])
    badges = last_answer(page).locator(".spro-card .spro-badge").filter(has_text="signalé")
    assert badges.all_inner_texts() == ["Contact signalé, à vérifier"]
    card = last_answer(page).locator(".spro-card").nth(shown)
    assert card.locator(".spro-badge").filter(has_text="signalé").count() == 1


# --- 4. /docs offline -----------------------------------------------------------------------------------------------


def test_docs_render_the_operations_with_every_outside_request_blocked(screen: Screen) -> None:
    page = screen.page
    blocked: list[str] = []

    def only_here(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1" or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_here)
    page.goto(f"{screen.server.url}/docs")
    operations = page.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() >= 10
    assert page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/chat$")).count() == 1
    assert page.get_by_text("Un tour de conversation").first.is_visible()

    # ReDoc is dropped (its bundle fetches its logo from a CDN): no page that cannot work offline.
    assert page.goto(f"{screen.server.url}/redoc").status == 404  # type: ignore[union-attr]
    assert blocked == [], blocked


# --- 5. the footer --------------------------------------------------------------------------------------------------


def test_the_footer_speaks_to_counsellors_before_developers(screen: Screen) -> None:
    page = screen.page
    page.goto(f"{screen.server.url}/")
    footer = page.locator("footer")
    headings = footer.get_by_role("heading").all_inner_texts()
    assert headings[:3] == ["Ce qu'est Expert SPRO", "D'où viennent les informations", "Signaler une erreur"]
    assert headings[3].startswith("Pour les développeurs")
    assert footer.get_by_role("link", name="Documentation de l'API").get_attribute("href") == "/docs"

    # Every outside link of the footer is one of the knowledge base's own sources (no URL made up).
    sources = json.loads((ROOT / "knowledge" / "data" / "directory" / "sources.json").read_text(encoding="utf-8"))
    known = {s["url"] for s in sources if s.get("url")}
    outside = [h for h in footer.locator("a[href^=http]").evaluate_all("(a) => a.map((e) => e.href)")]
    assert outside and set(outside) <= known, set(outside) - known

    # The buttons the footer names are the ones the cards have.
    ask(page, "jeune de 19 ans sans emploi à Grenoble")
    report = footer.get_by_role("region", name="Signaler une erreur").inner_text().replace("\xa0", " ")
    for name in ("Contact erroné", "Pas pertinent"):
        assert f"« {name} »" in report
        assert last_answer(page).get_by_role("button", name=re.compile(f"^{name}")).count() >= 1
    assert_accessible(page)


@pytest.mark.parametrize("message", ["bonjour", "qsdfgh jklm", "quel temps fera-t-il demain ?"])
def test_a_short_answer_shows_one_text_and_no_empty_chips(screen: Screen, message: str) -> None:
    page = screen.page
    page.goto(f"{screen.server.url}/")
    body = ask(page, message)
    assert body["structures"] == [] and body["clarification"] is None
    answer = last_answer(page)
    assert squash(answer.inner_text()).count(squash(body["reply"])) == 1
    assert answer.locator(".spro-note").count() == 0, "pas de second texte sous la réponse"
    assert answer.locator(".spro-case").count() == 0, "pas de bandeau de puces vide"
    assert_accessible(page)
