"""The living directory over HTTP: editors signed in through a real OpenID Connect provider on 127.0.0.1 change
a site's contact, add and remove a referent, work the review queue; the next answers show it.

The app is the real one (uvicorn in a thread, the real index built by the real ingest code, the real store);
the editors' changes go through the real re-index. Nothing of the project is mocked.
"""

from __future__ import annotations

import csv
import html
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ingest.build import build_index
from ingest.sources.corrections import corrections_file
from knowledge.embedding import Encoder
from tests.curation_support import (
    CASE,
    NEW_PHONE,
    OFFICIAL_PHONE,
    ORGANISATION,
    PUBLISH_TIMEOUT,
    REFERENT,
    SITE,
    World,
    csrf,
    running_world,
)
from tests.oidc_support import oidc_issuer  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder, oidc_issuer: str) -> Iterator[World]:  # noqa: F811
    with running_world(tmp_path_factory.mktemp("curation"), encoder, oidc_issuer) as running:
        yield running


def site_form(client: httpx.Client, site: str = SITE) -> dict[str, str]:
    """The site's form as the page fills it (every input's current value), ready to post back."""
    page = client.get(f"/editeurs/sites/{site}")
    assert page.status_code == 200, page.text[:500]
    form = page.text.split('<h2 id="fiche">', 1)[1].split("</form>", 1)[0]
    inputs = re.findall(r'<input type="[a-z]+" id="[^"]+" name="([^"]+)" value="([^"]*)"', form)
    areas = re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', form)
    values = {name: value for name, value in [*inputs, *areas]}
    checked = re.search(r'name="status" value="([a-z]+)" checked', form)
    values["status"] = checked.group(1) if checked else "open"
    values["csrf"] = csrf(page.text)
    return {k: html.unescape(v) for k, v in values.items()}


def search(world: World) -> dict[str, Any]:
    answer = httpx.get(f"{world.url}/api/search", params={"q": CASE}, timeout=60)
    assert answer.status_code == 200, answer.text[:300]
    found = [s for s in answer.json()["structures"] if s["id"] == SITE]
    assert found, "the Chambéry Mission Locale is not in the answer"
    return found[0]


def wait_for(world: World, check: Any) -> dict[str, Any]:
    deadline = time.monotonic() + PUBLISH_TIMEOUT
    while True:
        card = search(world)
        if check(card):
            return card
        assert time.monotonic() < deadline, f"not published within {PUBLISH_TIMEOUT} s: {card['contacts'][:1]}"
        time.sleep(0.5)


def history(client: httpx.Client) -> str:
    page = client.get("/editeurs/historique")
    assert page.status_code == 200
    return page.text


def test_the_editors_pages_ask_to_sign_in_first(world: World) -> None:
    home = httpx.get(f"{world.url}/editeurs", timeout=30)
    assert home.status_code == 200 and "Se connecter" in home.text
    page = httpx.get(f"{world.url}/editeurs/sites/{SITE}", timeout=30)
    assert page.status_code == 401 and "Se connecter" in page.text
    post = httpx.post(f"{world.url}/editeurs/sites/{SITE}", data={"phone": NEW_PHONE}, timeout=30)
    assert post.status_code == 401


def test_an_editor_sees_only_the_sites_of_their_network_and_departments(world: World) -> None:
    with world.editor("ml73") as client:
        home = client.get("/editeurs", params={"q": "chambérien"})
        assert home.status_code == 200
        assert "Mission locale jeunes du bassin chambérien" in home.text
        everything = client.get("/editeurs").text
        assert "Aix-les-Bains" in everything and "MLJ" in everything
        assert "CIO" not in re.sub(r"<footer.*", "", everything.split("<tbody>", 1)[1], flags=re.S)
    with world.editor("cio69") as other:
        refused = other.get(f"/editeurs/sites/{SITE}")
        assert refused.status_code == 403
        assert "pas dans votre périmètre" in html.unescape(refused.text)
        form_token = csrf(other.get("/editeurs").text)
        post = other.post(f"/editeurs/sites/{SITE}", data={"csrf": form_token, "phone": NEW_PHONE})
        assert post.status_code == 403
    with world.editor("nobody") as nobody:
        assert "Aucun réseau ne vous est encore ouvert" in html.unescape(nobody.get("/editeurs").text)
        assert nobody.get(f"/editeurs/sites/{SITE}").status_code == 403


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("phone", "04 79 33", "numéro français à 10 chiffres"),
        ("phone", "appelez-nous", "que des chiffres"),
        ("email", "pas-une-adresse", "adresse électronique invalide"),
        ("website", "javascript:alert(1)", "http:// ou https://"),
        ("offer", "<script>alert(1)</script>", "le HTML n'est pas accepté"),
        ("commune_insee", "99999", "commune inconnue"),
    ],
)
def test_bad_input_is_refused_in_french_and_changes_nothing(world: World, field: str, value: str, reason: str) -> None:
    with world.editor("ml73") as client:
        before = history(client)
        form = site_form(client)
        form[field] = value
        answer = client.post(f"/editeurs/sites/{SITE}", data=form)
        assert answer.status_code == 422
        assert reason in html.unescape(answer.text)
        assert 'aria-invalid="true"' in answer.text
        assert history(client) == before


def test_unknown_site_and_expired_form(world: World) -> None:
    with world.editor("ml73") as client:
        missing = client.get("/editeurs/sites/annuaire:nulle-part")
        assert missing.status_code == 404 and "Structure inconnue" in missing.text
        form = site_form(client)
        form["csrf"] = "faux"
        form["phone"] = NEW_PHONE
        expired = client.post(f"/editeurs/sites/{SITE}", data=form)
        assert expired.status_code == 403 and "rechargez la page" in html.unescape(expired.text)


def test_a_report_reaches_the_queue_and_the_fix_reaches_the_answers(world: World) -> None:
    chat = httpx.post(f"{world.url}/api/chat", json={"message": CASE}, timeout=60).json()
    assert any(s["id"] == SITE for s in chat["structures"]), [s["id"] for s in chat["structures"]]
    report = httpx.post(f"{world.url}/api/feedback", timeout=30, json={
        "conversation_id": chat["conversation_id"], "turn": chat["turn"], "rating": "down",
        "kind": "contact_errone", "structure_id": SITE, "field": "phone",
    })
    assert report.status_code == 201, report.text
    with world.editor("ml73") as client:
        queue = client.get("/editeurs/file")
        assert queue.status_code == 200
        assert "Mission locale jeunes du bassin chambérien" in queue.text
        assert "champ concerné : <strong>Téléphone</strong>" in queue.text
        with world.editor("cio69") as other:
            assert "bassin chambérien" not in other.get("/editeurs/file").text

        form = site_form(client)
        assert form["phone"] == OFFICIAL_PHONE
        form["phone"] = "04.79.96.00.00"
        saved = client.post(f"/editeurs/sites/{SITE}", data=form, follow_redirects=False)
        assert saved.status_code == 303
        assert "apparaîtront dans les réponses d'ici une minute" in html.unescape(
            client.get(saved.headers["location"]).text)

        card = wait_for(world, lambda c: c["contacts"][0]["phone"] == NEW_PHONE)
        assert card["freshness"]["verified"] is True
        assert card["freshness"]["by"] == ORGANISATION
        assert card["freshness"]["text"].startswith("vérifié le ") and card["freshness"]["text"].endswith(ORGANISATION)

        page = client.get(f"/editeurs/sites/{SITE}").text
        assert f"Valeur officielle : {OFFICIAL_PHONE}" in page
        audit = history(client)
        assert "c.dupont@mlchambery.org" in audit and OFFICIAL_PHONE in audit and NEW_PHONE in audit

        feedback_id = re.search(r'action="/editeurs/signalements/(\d+)"', client.get("/editeurs/file").text).group(1)
        token = csrf(client.get("/editeurs/file").text)
        no_reason = client.post(f"/editeurs/signalements/{feedback_id}", data={"csrf": token, "outcome": "fixed"})
        assert no_reason.status_code == 422
        done = client.post(f"/editeurs/signalements/{feedback_id}", follow_redirects=False,
                           data={"csrf": token, "outcome": "fixed", "reason": "Nouveau standard depuis novembre"})
        assert done.status_code == 303
        assert f"/editeurs/signalements/{feedback_id}" not in client.get("/editeurs/file").text
    resolved = [f for f in world.server.admin_feedback() if str(f["id"]) == feedback_id]
    assert resolved and resolved[0]["resolved_at"] is not None


def test_a_referent_appears_at_once_and_disappears_at_once(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with world.editor("ml73") as client:
        token = csrf(client.get(f"/editeurs/sites/{SITE}").text)
        referent = {
            "csrf": token, "referent_name": REFERENT, "referent_role": "Conseillère emploi",
            "referent_phone": "04 79 33 50 90", "referent_email": "c.zebulonne@mlchambery.org",
            "referent_topics": "Contrat d'engagement jeune", "referent_consent": "2026-11-30",
        }
        without_consent = client.post(f"/editeurs/sites/{SITE}/referents", data=referent)
        assert without_consent.status_code == 422 and "accord" in html.unescape(without_consent.text)
        future = client.post(f"/editeurs/sites/{SITE}/referents",
                             data={**referent, "referent_agreed": "oui", "referent_consent": "2999-01-01"})
        assert future.status_code == 422 and "futur" in future.text
        added = client.post(f"/editeurs/sites/{SITE}/referents", data={**referent, "referent_agreed": "oui"},
                            follow_redirects=False)
        assert added.status_code == 303
        shown = search(world)["referents"]
        assert [r["name"] for r in shown] == [REFERENT]
        assert shown[0]["organisation"] == ORGANISATION
        chat = httpx.post(f"{world.url}/api/chat", json={"message": CASE}, timeout=60).json()
        assert any(r["name"] == REFERENT for s in chat["structures"] for r in s["referents"])

        page = client.get(f"/editeurs/sites/{SITE}").text
        referent_id = re.search(r'action="/editeurs/referents/(\d+)/retirer"', page).group(1)
        removed = client.post(f"/editeurs/referents/{referent_id}/retirer", data={"csrf": csrf(page)},
                              follow_redirects=False)
        assert removed.status_code == 303
        assert search(world)["referents"] == []
        assert REFERENT not in history(client)
        assert client.post(f"/editeurs/referents/{referent_id}/retirer", data={"csrf": csrf(page)}).status_code == 404
    assert REFERENT not in caplog.text


def test_an_editor_adds_a_site_missing_from_the_open_data(world: World) -> None:
    with world.editor("ml73") as client:
        page = client.get("/editeurs/nouveau-site")
        assert page.status_code == 200
        form = {
            "csrf": csrf(page.text), "network": "mission_locale", "name": "Mission Locale — permanence de Challes",
            "address": "1 place de la Mairie", "postcode": "73190", "commune_insee": "73064",
            "phone": "04 79 72 00 00", "email": "", "website": "", "served_communes": "", "offer": "",
        }
        wrong_place = client.post("/editeurs/nouveau-site", data={**form, "commune_insee": "69123"})
        assert wrong_place.status_code == 403  # Lyon is outside this editor's departments
        added = client.post("/editeurs/nouveau-site", data=form, follow_redirects=False)
        assert added.status_code == 303
        site_id = added.headers["location"].split("/editeurs/sites/", 1)[1].split("?", 1)[0]
        deadline = time.monotonic() + PUBLISH_TIMEOUT
        while True:
            detail = httpx.get(f"{world.url}/api/structures/{site_id}", timeout=30)
            if detail.status_code == 200:
                break
            assert time.monotonic() < deadline, detail.text[:300]
            time.sleep(0.5)
        assert detail.json()["name"] == "Mission Locale — permanence de Challes"


def test_a_changed_official_value_under_a_correction_is_shown_to_the_editor_who_settles_it(
    world: World, encoder: Encoder
) -> None:
    with world.editor("ml73") as client:
        form = site_form(client)
        official_email = form["email"]
        form["email"] = "accueil@mlchambery.org"
        assert client.post(f"/editeurs/sites/{SITE}", data=form, follow_redirects=False).status_code == 303
        wait_for(world, lambda c: c["contacts"][0]["email"] == "accueil@mlchambery.org")

        # A re-import of the official data, fresher than both, gives the site another address.
        reimport = world.data_dir / "sources" / "mission_locale_reimport.csv"
        reimport.parent.mkdir(parents=True, exist_ok=True)
        with reimport.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["source_id", "network", "name", "address", "postcode", "commune", "insee_commune",
                             "department", "phone", "email", "website", "as_of", "ml_code"])
            writer.writerow(["reimport:1", "mission_locale", "Mission locale jeunes du bassin chambérien", "", "",
                             "Chambéry", "73065", "73", "", "contact@mlchambery.org", "", "2026-11-20", "73065"])
        report = build_index(world.data_dir / "index", encoder, [reimport],
                             corrections=corrections_file(world.data_dir))
        assert report.published

        # The correction is kept; the editor sees the conflict on the site's page and in the queue.
        deadline = time.monotonic() + PUBLISH_TIMEOUT
        while "Conflits avec les données officielles" not in (page := client.get(f"/editeurs/sites/{SITE}").text):
            assert time.monotonic() < deadline, "the conflict never reached the editors' page"
            time.sleep(0.5)
        text = html.unescape(page)
        assert f"Valeur officielle quand vous l'avez corrigée : {official_email}" in text
        assert "Nouvelle valeur officielle : <strong>contact@mlchambery.org</strong>" in text
        assert search(world)["contacts"][0]["email"] == "accueil@mlchambery.org"
        assert "contact@mlchambery.org" in html.unescape(client.get("/editeurs/file").text)

        # Keeping their value settles it: the next version has no conflict and still the editor's address.
        settled = client.post(f"/editeurs/sites/{SITE}/conflits", follow_redirects=False,
                              data={"csrf": csrf(page), "field": "email", "choice": "keep"})
        assert settled.status_code == 303
        deadline = time.monotonic() + PUBLISH_TIMEOUT
        while "Conflits avec les données officielles" in client.get(f"/editeurs/sites/{SITE}").text:
            assert time.monotonic() < deadline, "the settled conflict is still shown"
            time.sleep(0.5)
        assert search(world)["contacts"][0]["email"] == "accueil@mlchambery.org"
        assert "conflit : valeur de la structure maintenue" in html.unescape(history(client))


def test_a_closed_site_leaves_the_answers_stays_on_the_editors_list_and_reopens(world: World) -> None:
    aix = "annuaire:mission_locale-73008-01"  # Siège MLJ - Aix-les-Bains

    def listed() -> bool:
        found = httpx.get(f"{world.url}/api/structures", params={"network": "mission_locale", "department": "73",
                                                                  "limit": 200}, timeout=30)
        assert found.status_code == 200, found.text[:300]
        return aix in {s["id"] for s in found.json()["items"]}

    def until(check: Any) -> None:
        deadline = time.monotonic() + PUBLISH_TIMEOUT
        while not check():
            assert time.monotonic() < deadline, "not published within a minute"
            time.sleep(0.5)

    assert listed()
    with world.editor("ml73") as client:
        form = site_form(client, aix)
        moved = {**form, "status": "moved"}
        refused = client.post(f"/editeurs/sites/{aix}", data=moved)
        assert refused.status_code == 422 and "nouvelle adresse" in html.unescape(refused.text)
        assert client.post(f"/editeurs/sites/{aix}", data={**form, "status": "closed"},
                           follow_redirects=False).status_code == 303
        until(lambda: not listed())
        home = client.get("/editeurs", params={"q": "Aix-les-Bains"}).text
        assert "Siège MLJ - Aix-les-Bains" in home and ">fermé<" in home
        page = html.unescape(client.get(f"/editeurs/sites/{aix}").text)
        assert "il n'apparaît plus dans les réponses" in page
        assert client.post(f"/editeurs/sites/{aix}", data={**site_form(client, aix), "status": "open"},
                           follow_redirects=False).status_code == 303
        until(listed)
