"""The living directory's whole loop in a real Chromium against the real app and a real OpenID Connect provider:
a counsellor reports a wrong phone in the widget; an editor of that network signs in at the provider, finds the
report in the queue, fixes the phone with the keyboard alone and closes the report; the counsellor's next answer
shows the new phone with "Vérifié le"; an editor of another network is refused the site (403). axe-core finds
no serious or critical violation on the editors' pages. Screenshots docs/editeurs-*.png are written when
SPRO_WIDGET_SCREENSHOTS=1.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from knowledge.embedding import Encoder
from tests.curation_support import (
    CASE,
    NEW_PHONE,
    OFFICIAL_PHONE,
    ORGANISATION,
    PUBLISH_TIMEOUT,
    SITE,
    World,
    running_world,
)
from tests.oidc_support import oidc_issuer  # noqa: F401 (fixture)
from tests.test_guide_browser import tab_to
from tests.test_widget import Session, browser, screenshot_path  # noqa: F401 (fixtures)
from tests.widget_support import ask, axe_violations, last_answer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder, oidc_issuer: str) -> Iterator[World]:  # noqa: F811
    with running_world(tmp_path_factory.mktemp("editors-browser"), encoder, oidc_issuer) as running:
        yield running


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)


def sign_in(page: Page, world: World, sub: str) -> None:
    """From the editors' home, through the provider's page, back signed in."""
    page.goto(f"{world.url}/editeurs")
    page.get_by_role("link", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/oauth2/authorize"))
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"/editeurs$"))
    page.get_by_role("heading", name="Mes sites").wait_for()


def card_of(page: Page, name: str) -> object:
    return last_answer(page).locator(".spro-card", has_text=name)


def test_a_reported_phone_is_fixed_by_its_structure_and_the_next_answer_shows_it(
    browser: Browser, world: World, tmp_path: Path  # noqa: F811
) -> None:
    counsellor = Session(browser, world.server)
    editor = Session(browser, world.server)
    other = Session(browser, world.server)
    try:
        # The counsellor asks, finds the Chambéry Mission Locale with its official phone, reports it wrong.
        page = counsellor.page
        page.goto(f"{world.url}/")
        first = ask(page, CASE)
        target = next(s for s in first["structures"] if s["id"] == SITE)
        assert target["contacts"][0]["phone"] == OFFICIAL_PHONE
        card = last_answer(page).locator(".spro-card", has_text=target["name"]).first
        card.get_by_role("button", name=re.compile("^Contact erroné")).click()
        card.get_by_label("Information concernée").select_option("phone")
        card.get_by_label("Précisez (facultatif, sans données personnelles)").fill("Le numéro ne répond plus")
        card.get_by_role("button", name="Envoyer le signalement").click()
        card.get_by_text("Merci : votre signalement sera vérifié avant toute correction du contact.").wait_for()

        # The editor of that network signs in at the provider and finds the report in the queue.
        desk = editor.page
        sign_in(desk, world, "ml73")
        assert_accessible(desk)
        desk.get_by_role("link", name="File de vérification").click()
        report = desk.locator("li.panel", has_text=target["name"])
        assert "Téléphone" in report.inner_text()
        assert "Le numéro ne répond plus" in report.inner_text()
        assert_accessible(desk)
        desk.screenshot(path=str(screenshot_path("editeurs-file.png", tmp_path)), full_page=True)

        # The site's form, with the keyboard only: Tab to the phone, type the new number, Enter saves.
        report.get_by_role("link", name=target["name"]).click()
        desk.get_by_role("heading", name=target["name"]).wait_for()
        assert_accessible(desk)
        desk.locator("#contenu").focus()
        tab_to(desk, "phone", limit=120)
        desk.keyboard.press("Control+A")
        desk.keyboard.type(NEW_PHONE)
        desk.keyboard.press("Enter")
        desk.get_by_text("Modifications enregistrées").wait_for()
        assert desk.locator("#phone").input_value() == NEW_PHONE
        assert f"Valeur officielle : {OFFICIAL_PHONE}" in desk.inner_text("body")
        desk.screenshot(path=str(screenshot_path("editeurs-fiche.png", tmp_path)), full_page=True)

        # A referent form with a bad e-mail: refused next to the field, in French.
        desk.get_by_label("Prénom et nom").fill("Alix Test")
        desk.get_by_label("Fonction").fill("Conseillère")
        desk.get_by_label("Courriel professionnel").fill("pas-une-adresse")
        desk.get_by_label("La personne a accepté d'être nommée dans les réponses d'Expert SPRO").check()
        desk.get_by_role("button", name="Ajouter la ou le référent·e").click()
        desk.get_by_role("alert").wait_for()
        assert "adresse électronique invalide" in desk.get_by_role("alert").inner_text()
        assert desk.locator("#referent_email").get_attribute("aria-invalid") == "true"
        assert_accessible(desk)
        # Put right, with the consent recorded: the referent is added.
        desk.get_by_label("Courriel professionnel").fill("alix.test@mlchambery.org")
        desk.get_by_label("La personne a accepté d'être nommée dans les réponses d'Expert SPRO").check()
        desk.get_by_role("button", name="Ajouter la ou le référent·e").click()
        desk.get_by_text("Référent·e ajouté·e").wait_for()
        assert "Alix Test" in desk.locator("ul.referents").inner_text()

        # Back to the queue: the report is closed as fixed, with what was done.
        desk.get_by_role("link", name="File de vérification").click()
        report = desk.locator("li.panel", has_text=target["name"])
        report.get_by_label("Ce que vous avez fait ou constaté").fill("Nouveau standard téléphonique")
        report.get_by_role("button", name="Corrigé").click()
        desk.get_by_text("Signalement traité").wait_for()
        assert desk.locator("li.panel", has_text=target["name"]).count() == 0

        desk.get_by_role("link", name="Historique").click()
        history = desk.inner_text("main")
        assert OFFICIAL_PHONE in history and NEW_PHONE in history and "Signalement corrigé" in history
        assert_accessible(desk)
        desk.screenshot(path=str(screenshot_path("editeurs-historique.png", tmp_path)), full_page=True)

        # The counsellor's next answer shows the new phone, checked by the structure.
        deadline = time.monotonic() + PUBLISH_TIMEOUT
        while True:
            page.get_by_role("button", name="Nouvelle conversation").click()
            answer = ask(page, CASE)
            fixed = next(s for s in answer["structures"] if s["id"] == SITE)
            if fixed["contacts"][0]["phone"] == NEW_PHONE:
                break
            assert time.monotonic() < deadline, "the fix did not reach the answers within a minute"
            time.sleep(1)
        shown = last_answer(page).locator(".spro-card", has_text=fixed["name"]).first
        assert NEW_PHONE in shown.inner_text()
        freshness = shown.locator(".spro-freshness").inner_text()
        assert freshness.startswith("Vérifié le ") and freshness.endswith(f"par {ORGANISATION}.")
        referents = shown.locator(".spro-referent").inner_text()
        assert "Référent·e : Alix Test, Conseillère" in referents and "alix.test@mlchambery.org" in referents
        shown.get_by_role("button", name=re.compile("^Copier la fiche")).click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert NEW_PHONE in copied and "Référent·e : Alix Test, Conseillère" in copied
        assert f"par {ORGANISATION}." in copied and "Vérifié le " in copied
        shown.locator(".spro-freshness").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_path("editeurs-reponse.png", tmp_path)))

        # The referent is removed: the next answer no longer names them.
        desk.get_by_role("link", name="Mes sites").click()
        desk.get_by_role("link", name=target["name"]).click()
        desk.get_by_role("button", name="Retirer Alix Test").click()
        desk.get_by_text("Référent·e retiré·e").wait_for()
        page.get_by_role("button", name="Nouvelle conversation").click()
        again = ask(page, CASE)
        assert all(s["referents"] == [] for s in again["structures"])
        assert "Alix Test" not in last_answer(page).inner_text()

        # An editor of another network signs in and is refused that site.
        sign_in(other.page, world, "cio69")
        refused = other.page.goto(f"{world.url}/editeurs/sites/{SITE}")
        assert refused is not None and refused.status == 403
        assert "pas dans votre périmètre" in other.page.inner_text("main")
        assert_accessible(other.page)

        for session in (counsellor, editor, other):
            assert session.errors == []
    finally:
        for session in (counsellor, editor, other):
            session.close()
