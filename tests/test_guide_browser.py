"""The territory guide in a real Chromium against the real app: a counsellor picks a department with the keyboard,
finds a network and its local site, prints the page and downloads the booklet (the site's phone is in both PDFs),
and axe-core finds no serious or critical violation on any guide page, 404 included.

Screenshots docs/guide-departement.png, docs/guide-reseau.png and docs/guide-mobile.png are written when
SPRO_WIDGET_SCREENSHOTS=1.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pypdf import PdfReader

from knowledge.directory import Directory
from knowledge.index import KnowledgeIndex
from knowledge.model import Structure
from knowledge.territory import Territory
from tests.test_widget import Session, browser, screenshot_path, server  # noqa: F401 (fixtures)
from tests.widget_support import LiveServer, ask, axe_violations, last_answer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow

ACTIVE = """() => {
  const el = document.activeElement;
  return el ? { id: el.id, tag: el.tagName.toLowerCase(), text: (el.textContent || "").trim(),
                outline: getComputedStyle(el).outlineStyle } : null;
}"""
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture()
def session(browser: Browser, server: LiveServer) -> Iterator[Session]:  # noqa: F811
    opened = Session(browser, server, accept_downloads=True)
    yield opened
    opened.assert_clean()
    opened.close()


@pytest.fixture(scope="module")
def local_site(knowledge_index: KnowledgeIndex, territory: Territory) -> tuple[Structure, str]:
    """A Mission Locale of the Isère with a phone number, and that number."""
    directory = Directory(knowledge_index.structures.values(), territory)
    for site in directory.structures("mission_locale", "38"):
        phone = next((c.phone for c in site.contacts if c.phone), None)
        if site.reception and phone:
            return site, phone
    raise AssertionError("aucune Mission Locale de l'Isère avec un téléphone")


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)


def tab_to(page: Page, element_id: str, limit: int = 60) -> None:
    """Press Tab until the element has the focus; every focused element on the way shows it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        if active:
            assert active["outline"] != "none", f"focus invisible sur {active}"
        if active and active["id"] == element_id:
            return
    raise AssertionError(f"#{element_id} jamais atteint au clavier")


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))


def test_counsellor_picks_a_department_finds_a_local_site_prints_it_and_downloads_the_booklet(
    session: Session, local_site: tuple[Structure, str], tmp_path: Path
) -> None:
    site, phone = local_site
    page = session.page
    page.goto(f"{session.server.url}/annuaire")
    assert page.locator("h1").inner_text() == "Qui fait quoi dans le SPRO ?"
    assert_accessible(page)

    # The keyboard alone: Tab to the department list, type its number, Tab to its button, Enter.
    tab_to(page, "departement")
    page.keyboard.type("38")
    assert page.locator("#departement").input_value() == "38"
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{session.server.url}/annuaire/38"
    assert "Isère (38)" in page.locator("h1").inner_text()

    block = page.locator("#reseau-mission_locale")
    assert block.locator("h3").inner_text() == "Missions Locales"
    card = block.locator(f'[id="site-{site.id}"]')
    assert card.count() == 1
    assert site.name in card.inner_text()
    assert f"Téléphone : {phone}" in card.inner_text()
    assert re.search(r"à jour (au \d{2}/\d{2}/\d{4}|en \d{2}/\d{4})", card.inner_text())
    assert_accessible(page)
    page.screenshot(path=str(screenshot_path("guide-departement.png", tmp_path)))
    box = block.bounding_box()
    assert box is not None
    page.screenshot(
        path=str(screenshot_path("guide-reseau.png", tmp_path)),
        full_page=True,
        clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": min(box["height"], 820)},
    )

    # The browser's print (print stylesheet): the site's phone is in the printed PDF's text.
    printed = pdf_text(page.pdf(format="A4", print_background=True))
    assert phone in printed and site.name[:20] in printed
    assert "Chercher et filtrer" not in printed  # the form is not printed

    # One click on the booklet link: a PDF laid out for handing out, with the same phone.
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("link", name="Télécharger le livret PDF").click()
    download = info.value
    assert download.suggested_filename == "qui-fait-quoi-38.pdf"
    booklet = pdf_text(Path(download.path()).read_bytes())
    assert "Qui fait quoi ?" in booklet and "Sommaire" in booklet and "Sources et dates" in booklet
    assert phone in booklet


def test_filters_are_a_link_to_paste(session: Session) -> None:
    page = session.page
    page.goto(f"{session.server.url}/annuaire/38")
    page.locator("#public").select_option("personnes-en-situation-de-handicap")
    page.locator("#q").fill("Grenoble")
    with page.expect_navigation():
        page.locator("#q").press("Enter")
    assert "public=personnes-en-situation-de-handicap" in page.url and "q=Grenoble" in page.url
    shown = page.locator("article.network").evaluate_all("(els) => els.map((e) => e.id)")
    assert "reseau-mdph" in shown and "reseau-cio" not in shown
    again = session.context.new_page()
    again.goto(page.url)
    assert again.locator("article.network").evaluate_all("(els) => els.map((e) => e.id)") == shown
    again.close()
    assert_accessible(page)


@pytest.mark.parametrize(
    "path",
    ["/annuaire/commune/38185", "/annuaire/reseau/mission_locale", "/annuaire/dispositifs",
     "/annuaire?commune=Saint-Martin"],
)
def test_guide_pages_pass_axe(session: Session, path: str) -> None:
    page = session.page
    response = page.goto(f"{session.server.url}{path}")
    assert response is not None and response.status == 200
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert_accessible(page)


def test_unknown_department_is_a_french_404_page(session: Session) -> None:
    page = session.page
    response = page.goto(f"{session.server.url}/annuaire/99")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page introuvable"
    assert "Le guide ne connaît pas ce département" in page.locator("main").inner_text()
    assert_accessible(page)


def test_department_guide_on_a_phone_fits_the_screen(browser: Browser, server: LiveServer, tmp_path: Path) -> None:  # noqa: F811
    opened = Session(browser, server, **PHONE)
    try:
        page = opened.page
        page.goto(f"{server.url}/annuaire/38")
        width = page.evaluate("document.documentElement.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.locator("h1").bounding_box() is not None
        page.screenshot(path=str(screenshot_path("guide-mobile.png", tmp_path)))
        assert_accessible(page)
        opened.assert_clean()
    finally:
        opened.close()


def test_widget_page_and_each_answer_link_to_the_guide(session: Session) -> None:
    page = session.page
    page.goto(f"{session.server.url}/")
    footer_link = page.locator("footer.site").get_by_role("link", name="« Qui fait quoi ? »")
    assert footer_link.get_attribute("href") == "/annuaire"
    data = ask(page, "jeune de 18 ans à Vienne qui cherche un apprentissage")
    assert data["understood"]["department"] == "38" and data["structures"]
    link = last_answer(page).locator(".spro-guide-link a")
    assert link.get_attribute("href") == f"{session.server.url}/annuaire/38"
    assert "Isère (38)" in link.inner_text()
    with page.context.expect_page() as opened:
        link.click()
    guide = opened.value
    guide.wait_for_load_state()
    assert guide.locator("h1").inner_text() == "Qui fait quoi ? Isère (38)"
    guide.close()
