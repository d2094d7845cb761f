"""The territory guide (/annuaire) over the real app and the real index: pages, filters, deep links, French 404
pages, and the PDF booklet read back with pypdf."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.app import create_app
from api.runtime import Runtime
from knowledge.directory import Directory
from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex
from knowledge.model import Structure
from knowledge.settings import Settings
from knowledge.territory import Territory, fold

GRENOBLE = "38185"


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory,
    index_root: Path,
    encoder: Encoder,
    territory: Territory,
    knowledge_index: KnowledgeIndex,
) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("guide-data")
    (data / "index").symlink_to(index_root, target_is_directory=True)
    settings = Settings(data_dir=data, rate_limit_per_minute=0)
    app = create_app(settings, runtime=Runtime(settings, encoder, territory, knowledge_index))
    with TestClient(app) as opened:
        yield opened


@pytest.fixture(scope="module")
def directory(knowledge_index: KnowledgeIndex, territory: Territory) -> Directory:
    return Directory(knowledge_index.structures.values(), territory)


def text_of(page: str) -> str:
    """The page's visible text, tags dropped and entities decoded, spaces squashed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def block(page: str, network_id: str) -> str:
    """The text of one network's block on a guide page."""
    match = re.search(rf'<article class="network" id="reseau-{network_id}".*?</article>', page, flags=re.S)
    assert match, f"pas de bloc pour {network_id}"
    return text_of(match.group(0))


def phoned_site(directory: Directory, network: str, department: str) -> Structure:
    sites = [s for s in directory.structures(network, department) if s.reception and any(c.phone for c in s.contacts)]
    assert sites, f"aucun site {network} avec téléphone dans le {department}"
    return sites[0]


def test_department_guide_shows_every_network_by_circle_with_its_local_sites(
    client: TestClient, knowledge_index: KnowledgeIndex, directory: Directory
) -> None:
    response = client.get("/annuaire/38")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="fr">' in page
    headings = re.findall(r'<h2 id="cercle-([^"]+)"', page)
    assert headings == ["1", "2", "3", "partenaire"]
    for network in knowledge_index.networks.values():
        assert f'id="reseau-{network.id}"' in page, network.id
    site = phoned_site(directory, "mission_locale", "38")
    text = block(page, "mission_locale")
    assert knowledge_index.networks["mission_locale"].summary in text
    assert site.name in text
    phone = next(c.phone for c in site.contacts if c.phone)
    assert f"Téléphone : {phone}" in text
    # The contact's date as the chat's cards say it.
    assert re.search(r"Source : [^;]+, à jour (au \d{2}/\d{2}/\d{4}|en \d{2}/\d{4})", text)


def test_a_network_without_a_site_in_the_department_gives_its_national_access(
    client: TestClient, knowledge_index: KnowledgeIndex, directory: Directory
) -> None:
    absent = [
        n for n in knowledge_index.networks.values()
        if n.national is not None and not [s for s in directory.structures(n.id, "38") if s.reception]
    ]
    assert absent, "chaque réseau a un site dans le 38 : choisir un autre département pour ce test"
    network = absent[0]
    text = block(client.get("/annuaire/38").text, network.id)
    assert "Aucun site de ce réseau n'est connu pour Isère (38)" in text
    assert "Accès national" in text
    national = network.national
    assert national is not None
    assert (national.locator_url or network.website or national.phone or "") in text


def test_commune_guide_gives_the_sites_the_directory_matches_for_the_commune(
    client: TestClient, territory: Territory, directory: Directory
) -> None:
    commune = territory.commune(GRENOBLE)
    assert commune is not None
    response = client.get(f"/annuaire/commune/{GRENOBLE}")
    assert response.status_code == 200
    text = block(response.text, "mission_locale")
    expected = [m.structure.name for m in directory.sites("mission_locale", commune, "38", limit=3)]
    assert expected
    for name in expected:
        assert name in text
    others = {s.name for s in directory.structures("mission_locale", "38")} - set(expected)
    assert not any(f" {name} " in f" {text} " for name in others if len(name) > 25)


def test_department_filters_come_from_the_query_string(client: TestClient, knowledge_index: KnowledgeIndex) -> None:
    handicap = "personnes-en-situation-de-handicap"
    page = client.get("/annuaire/38", params={"public": handicap}).text
    shown = set(re.findall(r'<article class="network" id="reseau-([^"]+)"', page))
    expected = {n.id for n in knowledge_index.networks.values() if handicap in n.publics}
    assert shown == expected and "cap_emploi" in shown
    assert f'<option value="{handicap}" selected>' in page

    page = client.get("/annuaire/38", params={"besoin": "vae"}).text
    shown = set(re.findall(r'<article class="network" id="reseau-([^"]+)"', page))
    assert "france_vae" in shown and "crous" not in shown

    page = client.get("/annuaire/38", params={"q": "grenoble"}).text
    shown = set(re.findall(r'<article class="network" id="reseau-([^"]+)"', page))
    assert "mission_locale" in shown and len(shown) < len(knowledge_index.networks)
    assert "Mission Locale de Grenoble" in block(page, "mission_locale")
    assert "Effacer les filtres" in page

    # An unknown filter value is ignored, not an error: a mistyped pasted link still shows the guide.
    page = client.get("/annuaire/38", params={"public": "inconnu"}).text
    assert len(re.findall(r'<article class="network"', page)) == len(knowledge_index.networks)


def test_choosing_a_place_on_the_home_page_leads_to_its_deep_link(client: TestClient, territory: Territory) -> None:
    home = client.get("/annuaire")
    assert home.status_code == 200
    assert 'href="/annuaire/38"' in home.text
    assert client.get("/annuaire", params={"departement": "38"}, follow_redirects=False).headers["location"] == (
        "/annuaire/38"
    )
    vienne = territory.resolve("Vienne").commune
    assert vienne is not None
    moved = client.get("/annuaire", params={"commune": "Vienne"}, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/annuaire/commune/{vienne.insee}"
    assert client.get("/annuaire", params={"commune": "38200"}, follow_redirects=False).status_code == 303
    homonyms = territory.resolve("Saint-Martin")
    assert homonyms.ambiguous
    page = client.get("/annuaire", params={"commune": "Saint-Martin"})
    assert page.status_code == 200
    assert "Plusieurs communes s'appellent" in page.text
    for candidate in homonyms.communes[:3]:
        assert f'href="/annuaire/commune/{candidate.insee}"' in page.text


def test_a_trailing_slash_leads_to_the_page_meant(client: TestClient) -> None:
    for url, target in (("/annuaire/", "/annuaire"), ("/annuaire/38/", "/annuaire/38")):
        moved = client.get(url, follow_redirects=False)
        assert moved.status_code == 308 and moved.headers["location"] == target
    assert client.get("/annuaire/reseau/cio/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/annuaire/99",
        "/annuaire/2A",
        "/annuaire/commune/75056",
        "/annuaire/commune/00000",
        "/annuaire/reseau/inconnu",
        "/annuaire/dispositif/inconnu",
        "/annuaire/38/inconnu",
        "/annuaire/99/livret.pdf",
        "/annuaire?departement=75",
        "/annuaire?commune=Zzzzqqq",
    ],
)
def test_unknown_places_and_pages_are_french_404_pages(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in response.text
    assert "<h1>Page introuvable</h1>" in response.text
    assert 'href="/annuaire/38"' in response.text


def test_dispositifs_a_to_z_with_their_operators(client: TestClient, knowledge_index: KnowledgeIndex) -> None:
    page = client.get("/annuaire/dispositifs").text
    found = re.findall(r'<a href="/annuaire/dispositif/[^"]+"><strong>(.*?)</strong>', page)
    titles = [html.unescape(t) for t in found]
    assert len(titles) == len(knowledge_index.dispositifs)
    assert titles == sorted(titles, key=lambda t: fold(t).lower())
    sheet = next(iter(knowledge_index.dispositifs.values()))
    detail = client.get(f"/annuaire/dispositif/{sheet.id}", params={"departement": "38"})
    assert detail.status_code == 200
    text = text_of(detail.text)
    assert sheet.title in text and sheet.summary in text
    for operator in sheet.operators:
        assert knowledge_index.networks[operator].name in text
    assert "Dans le département Isère (38)" in text


def test_network_page_links_to_the_departments_it_serves(
    client: TestClient, knowledge_index: KnowledgeIndex, directory: Directory
) -> None:
    page = client.get("/annuaire/reseau/mission_locale")
    assert page.status_code == 200
    network = knowledge_index.networks["mission_locale"]
    assert network.summary in text_of(page.text)
    for code in directory.departments_covered("mission_locale"):
        assert f'href="/annuaire/{code}#reseau-mission_locale"' in page.text


def pdf_pages(content: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(content)).pages]


@pytest.mark.slow
def test_commune_booklet_is_a_pdf_with_cover_contents_networks_and_sources(
    client: TestClient, territory: Territory, directory: Directory, knowledge_index: KnowledgeIndex
) -> None:
    commune = territory.commune(GRENOBLE)
    assert commune is not None
    response = client.get(f"/annuaire/commune/{GRENOBLE}/livret.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    texts = pdf_pages(response.content)
    flat = re.sub(r"\s+", " ", "\n".join(texts))
    pages = len(texts)
    assert pages > 3
    # Numbered pages ("2 / 20") after a cover that has no number.
    assert f"1 / {pages}" not in texts[0] and f"2 / {pages}" in texts[1] and f"{pages} / {pages}" in texts[-1]
    assert "Qui fait quoi ?" in flat and "Grenoble (38)" in flat
    # The table of contents gives each network's page number.
    assert re.search(r"Missions Locales ?\.{3,} ?\d+", flat), flat[:2000]
    site = directory.sites("mission_locale", commune, "38", limit=1)[0].structure
    phone: Any = next(c.phone for c in site.contacts if c.phone)
    assert phone in flat
    assert "Sources et dates" in flat
    for network in knowledge_index.networks.values():
        assert network.name.split(" (")[0][:30] in flat, network.name
