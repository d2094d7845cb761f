"""Editors: grants matched to an address or a domain, the grants store (SQLite, and PostgreSQL when
SPRO_TEST_DATABASE_URL is set), the admin API that manages them, and the OpenID Connect sign-in against a real
provider on 127.0.0.1."""

from __future__ import annotations

import html
import logging
import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.requests import Request

from api.app import create_app
from api.editors.grants import GrantExists, GrantStore, metadata
from api.editors.identity import ALL_NETWORKS, Editor, Grant, grant_matches
from api.editors.session import SESSION_COOKIE, current_editor
from api.editors.signin import local_path
from api.store import Store
from knowledge.settings import Settings
from tests.oidc_support import CLIENT_ID, CLIENT_SECRET, authorize, oidc_issuer, register_user, sign_in_editor  # noqa: F401 (fixture)

ADMIN = "jeton-admin-des-tests-editeurs"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
PG_URL = os.environ.get("SPRO_TEST_DATABASE_URL")
APP_URL = "http://testserver"  # the TestClient's address: the redirect URI the provider sends the browser back to


def grant(id: int, match: str, network: str, departments: tuple[str, ...] = (), organisation: str = "") -> Grant:
    return Grant(id, match, network, departments, organisation or f"org-{id}", datetime(2026, 1, 5, tzinfo=UTC))


# --- grants and editors, pure ------------------------------------------------------------------------------------


def test_a_domain_grant_matches_its_exact_domain_and_not_a_subdomain() -> None:
    domain = grant(1, "@capemploi73.fr", "cap_emploi")
    assert grant_matches(domain, "A.Martin@CapEmploi73.fr")
    assert not grant_matches(domain, "x@sub.capemploi73.fr")
    assert not grant_matches(domain, "x@capemploi73.fr.example")
    assert not grant_matches(domain, "@capemploi73.fr")
    address = grant(2, "a.martin@capemploi73.fr", "cap_emploi")
    assert grant_matches(address, " A.MARTIN@capemploi73.fr")
    assert not grant_matches(address, "b.martin@capemploi73.fr")


def test_a_department_grant_edits_its_departments_only_and_never_a_regional_site() -> None:
    editor = Editor("s", "a@capemploi73.fr", None, (grant(1, "@capemploi73.fr", "cap_emploi", ("73",)),))
    assert editor.can_edit("cap_emploi", "73")
    assert not editor.can_edit("cap_emploi", "74")
    assert not editor.can_edit("mission_locale", "73")
    assert not editor.can_edit("cap_emploi", None)
    regional = Editor("s", "a@capemploi.fr", None, (grant(2, "@capemploi.fr", "cap_emploi"),))
    assert regional.can_edit("cap_emploi", None) and regional.can_edit("cap_emploi", "01")
    admin = Editor("s", "r@region.fr", None, (grant(3, "r@region.fr", ALL_NETWORKS),))
    assert admin.is_regional_admin and admin.can_edit("cio", None) and admin.can_edit("mission_locale", "15")
    assert not Editor("s", "n@nowhere.fr", None, ()).can_edit("cio", "38")


def test_the_most_specific_grant_names_the_organisation() -> None:
    grants = (
        grant(1, "r@capemploi73.fr", ALL_NETWORKS, (), "Région"),
        grant(2, "@capemploi73.fr", "cap_emploi", (), "Cap emploi (tous départements)"),
        grant(3, "@capemploi73.fr", "mission_locale", ("73",), "Mission Locale Savoie"),
        grant(4, "r@capemploi73.fr", "cap_emploi", ("73",), "Cap emploi Savoie, référente"),
    )
    editor = Editor("s", "r@capemploi73.fr", "R", grants)
    assert editor.organisation_for("cap_emploi", "73") == "Cap emploi Savoie, référente"  # exact address
    assert editor.organisation_for("cap_emploi", "38") == "Région"  # exact address beats domain
    domain_only = Editor("s", "x@capemploi73.fr", None, grants[1:3])
    assert domain_only.organisation_for("cap_emploi", "38") == "Cap emploi (tous départements)"
    assert domain_only.organisation_for("mission_locale", "73") == "Mission Locale Savoie"
    assert domain_only.organisation_for("cio", "73") is None
    both = Editor("s", "x@capemploi73.fr", None, (grant(5, "@capemploi73.fr", ALL_NETWORKS, (), "Région"),
                                                  grant(6, "@capemploi73.fr", "cio", (), "CIO")))
    assert both.organisation_for("cio", "73") == "CIO"  # a network beats "*"
    assert editor.networks == ("*", "cap_emploi", "mission_locale")


def test_a_redirect_after_sign_in_stays_on_this_site() -> None:
    assert local_path("/editeurs/sites?d=38") == "/editeurs/sites?d=38"
    for foreign in ("//evil.example", "https://evil.example", "/\\evil.example", "evil", "", None, "/\x00x"):
        assert local_path(foreign) == "/editeurs"


# --- the grants store ----------------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'spro.db'}"
    elif not PG_URL:
        pytest.skip("SPRO_TEST_DATABASE_URL absent : pas de PostgreSQL pour ce test")
    else:
        url = PG_URL
    opened = Store(url, conversation_ttl=60)
    metadata.drop_all(opened.engine)
    yield opened
    metadata.drop_all(opened.engine)
    opened.dispose()


def test_the_grants_store_adds_finds_refuses_a_duplicate_and_removes(store: Store) -> None:
    grants = GrantStore(store)
    domain = grants.add("@CapEmploi73.fr", "cap_emploi", ["74", "73", "73"], "Cap emploi Savoie")
    assert (domain.match, domain.departments) == ("@capemploi73.fr", ("73", "74"))
    address = grants.add("a.martin@capemploi73.fr", "mission_locale", [], "Mission Locale")
    grants.add("@autre.fr", "cio", [], "CIO")
    assert domain.id != address.id
    assert [g.id for g in grants.for_email("A.Martin@capemploi73.fr")] == [domain.id, address.id]
    assert [g.id for g in grants.for_email("b@capemploi73.fr")] == [domain.id]
    assert grants.for_email("x@sub.capemploi73.fr") == ()
    assert grants.for_email("pas une adresse") == ()
    with pytest.raises(GrantExists):
        grants.add("@capemploi73.fr", "cap_emploi", [], "Encore")
    assert len(grants.list()) == 3
    stored = next(g for g in grants.list() if g.id == domain.id)
    assert stored == domain and stored.created_at.tzinfo is not None
    assert grants.remove(domain.id) and not grants.remove(domain.id)
    assert [g.id for g in grants.for_email("b@capemploi73.fr")] == []


def test_a_sign_in_older_than_the_session_length_is_over(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, editor_session_hours=8)
    store = Store(settings.store_url, conversation_ttl=60)
    grants = GrantStore(store)
    grants.add("@capemploi73.fr", "cap_emploi", [], "Cap emploi Savoie")
    signed = time.time()
    session: dict[str, Any] = {"editor": {"sub": "s", "email": "a@capemploi73.fr", "name": None, "since": signed}}
    request = Request({"type": "http", "session": session})
    editor = current_editor(request, grants, settings, now=signed + 7.9 * 3600)
    assert editor is not None and editor.networks == ("cap_emploi",)
    assert current_editor(request, grants, settings, now=signed + 8.1 * 3600) is None
    assert session == {}  # the stale sign-in is forgotten
    store.dispose()


# --- the admin API ------------------------------------------------------------------------------------------------


def app_settings(tmp_path: Path, **extra: Any) -> Settings:
    (tmp_path / "data").mkdir(exist_ok=True)
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "admin_token": SecretStr(ADMIN),
        "rate_limit_per_minute": 0,
        "maintenance_interval": 3600,
        "public_url": APP_URL,
        "session_secret": SecretStr("clé-de-session-des-tests"),
    }
    values.update(extra)
    return Settings(**values)


@pytest.fixture()
def admin_client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings(tmp_path))) as client:
        yield client


def test_admins_give_list_and_remove_grants(admin_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    body = {"match": "@CapEmploi73.fr", "network": "cap_emploi", "departments": ["73"],
            "organisation": "  Cap emploi   Savoie "}
    assert admin_client.post("/api/admin/editeurs", json=body).status_code == 401
    with caplog.at_level(logging.INFO, logger="api.editors.admin"):
        created = admin_client.post("/api/admin/editeurs", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    out = created.json()
    assert (out["match"], out["network"], out["departments"], out["organisation"]) == (
        "@capemploi73.fr", "cap_emploi", ["73"], "Cap emploi Savoie"
    )
    assert f"grant {out['id']} added: network cap_emploi" in caplog.text and "capemploi73" not in caplog.text
    again = admin_client.post("/api/admin/editeurs", json={**body, "match": "@capemploi73.fr"}, headers=AUTH)
    assert again.status_code == 409 and again.json()["error"] == "grant_exists"
    admin = admin_client.post("/api/admin/editeurs", headers=AUTH, json={
        "match": "Referente@Region.example.fr", "network": "*", "organisation": "Région Auvergne-Rhône-Alpes"})
    assert admin.status_code == 201 and admin.json()["match"] == "referente@region.example.fr"
    listed = admin_client.get("/api/admin/editeurs", headers=AUTH)
    assert [g["network"] for g in listed.json()] == ["*", "cap_emploi"]
    assert admin_client.delete(f"/api/admin/editeurs/{out['id']}", headers=AUTH).status_code == 204
    gone = admin_client.delete(f"/api/admin/editeurs/{out['id']}", headers=AUTH)
    assert gone.status_code == 404 and gone.json()["error"] == "unknown_grant"
    assert admin_client.get("/api/admin/editeurs").status_code == 401


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("match", "pas-une-adresse"),
        ("match", "@localhost"),
        ("match", "@capemploi73..fr"),
        ("match", "a@b@capemploi73.fr"),
        ("network", "pole_emploi"),
        ("departments", ["75"]),
        ("organisation", "<b>Cap emploi</b>"),
        ("organisation", " x "),
    ],
)
def test_an_invalid_grant_is_refused_naming_the_field(admin_client: TestClient, field: str, value: Any) -> None:
    body = {"match": "@capemploi73.fr", "network": "cap_emploi", "departments": [], "organisation": "Cap emploi"}
    answer = admin_client.post("/api/admin/editeurs", json={**body, field: value}, headers=AUTH)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid_request" and f"« {field}" in answer.json()["detail"]


def test_a_regional_admin_grant_takes_no_departments(admin_client: TestClient) -> None:
    body = {"match": "r@region.example.fr", "network": "*", "departments": ["38"], "organisation": "Région"}
    answer = admin_client.post("/api/admin/editeurs", json=body, headers=AUTH)
    assert answer.status_code == 422 and "departments" in answer.json()["detail"]


# --- sign-in through OpenID Connect -------------------------------------------------------------------------------


@pytest.fixture()
def client(tmp_path: Path, oidc_issuer: str) -> Iterator[TestClient]:  # noqa: F811
    settings = app_settings(tmp_path, oidc_issuer=oidc_issuer, oidc_client_id=CLIENT_ID,
                            oidc_client_secret=SecretStr(CLIENT_SECRET))
    with TestClient(create_app(settings)) as opened:
        yield opened


def add_grant(client: TestClient, match: str, network: str, organisation: str, departments: list[str] | None = None
              ) -> int:
    body = {"match": match, "network": network, "departments": departments or [], "organisation": organisation}
    answer = client.post("/api/admin/editeurs", json=body, headers=AUTH)
    assert answer.status_code == 201, answer.text
    grant_id: int = answer.json()["id"]
    return grant_id


def test_an_editor_signs_in_and_sees_the_grants_of_their_address_and_domain(
    client: TestClient, oidc_issuer: str  # noqa: F811
) -> None:
    add_grant(client, "@capemploi73.fr", "cap_emploi", "Cap emploi Savoie", ["73"])
    add_grant(client, "a.martin@capemploi73.fr", "mission_locale", "Mission Locale Savoie")
    add_grant(client, "@autre.example.fr", "cio", "CIO d'ailleurs")
    register_user(oidc_issuer, "sub-martin", "A.Martin@capemploi73.fr", "Anne Martin")
    assert client.get("/api/editeurs/moi").json()["error"] == "editor_required"

    back = sign_in_editor(client, "sub-martin", suite="/editeurs/sites?departement=73")
    assert back.status_code == 303, back.text
    assert back.headers["location"] == "/editeurs/sites?departement=73"
    assert SESSION_COOKIE in client.cookies
    me = client.get("/api/editeurs/moi")
    assert me.status_code == 200
    out = me.json()
    assert (out["email"], out["name"], out["regional_admin"]) == ("a.martin@capemploi73.fr", "Anne Martin", False)
    assert out["networks"] == ["cap_emploi", "mission_locale"]
    assert out["organisations"] == ["Cap emploi Savoie", "Mission Locale Savoie"]
    assert len(out["csrf"]) >= 32 and client.get("/api/editeurs/moi").json()["csrf"] == out["csrf"]


def test_an_address_of_a_subdomain_is_signed_in_but_may_edit_nothing(
    client: TestClient, oidc_issuer: str  # noqa: F811
) -> None:
    add_grant(client, "@capemploi73.fr", "cap_emploi", "Cap emploi Savoie")
    register_user(oidc_issuer, "sub-sous-domaine", "x@sub.capemploi73.fr")
    assert sign_in_editor(client, "sub-sous-domaine").headers["location"] == "/editeurs"
    out = client.get("/api/editeurs/moi").json()
    assert (out["email"], out["networks"], out["organisations"]) == ("x@sub.capemploi73.fr", [], [])


def test_a_revoked_grant_takes_effect_without_signing_out(client: TestClient, oidc_issuer: str) -> None:  # noqa: F811
    grant_id = add_grant(client, "@mission-locale.example.fr", "mission_locale", "Mission Locale")
    register_user(oidc_issuer, "sub-ml", "c@mission-locale.example.fr", "Claire")
    sign_in_editor(client, "sub-ml")
    assert client.get("/api/editeurs/moi").json()["networks"] == ["mission_locale"]
    assert client.delete(f"/api/admin/editeurs/{grant_id}", headers=AUTH).status_code == 204
    assert client.get("/api/editeurs/moi").json()["networks"] == []
    add_grant(client, "c@mission-locale.example.fr", "*", "Région")
    assert client.get("/api/editeurs/moi").json()["regional_admin"] is True


def test_signing_out_needs_the_form_token_and_ends_the_session(client: TestClient, oidc_issuer: str) -> None:  # noqa: F811
    register_user(oidc_issuer, "sub-depart", "d@cio.example.fr")
    sign_in_editor(client, "sub-depart")
    token = client.get("/api/editeurs/moi").json()["csrf"]
    forged = client.post("/editeurs/deconnexion", data={"csrf": "autre-chose"}, follow_redirects=False)
    assert forged.status_code == 403 and forged.json()["error"] == "form_expired"
    assert client.get("/api/editeurs/moi").status_code == 200
    done = client.post("/editeurs/deconnexion", data={"csrf": token}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/")
    assert client.get("/api/editeurs/moi").json()["error"] == "editor_required"


@pytest.mark.parametrize("suite", ["//evil.example/editeurs", "https://evil.example/", "/\\evil.example"])
def test_a_redirect_to_another_site_after_sign_in_is_ignored(
    client: TestClient, oidc_issuer: str, suite: str  # noqa: F811
) -> None:
    register_user(oidc_issuer, "sub-suite", "e@cio.example.fr")
    assert sign_in_editor(client, "sub-suite", suite=suite).headers["location"] == "/editeurs"


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_tampered_state_or_a_denied_sign_in_is_a_400_not_a_500(
    client: TestClient, oidc_issuer: str  # noqa: F811
) -> None:
    register_user(oidc_issuer, "sub-etat", "f@cio.example.fr")
    start = client.get("/editeurs/connexion", follow_redirects=False)
    back = authorize(start.headers["location"], "sub-etat")
    tampered = client.get(_with_query(back, state="etat-forge"), follow_redirects=False)
    assert tampered.status_code == 400 and tampered.json()["error"] == "signin_failed"
    page = client.get(_with_query(back, state="etat-forge"), headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 400 and "La connexion a échoué" in html.unescape(page.text)
    assert client.get("/editeurs/retour", follow_redirects=False).status_code == 400
    denied = client.get("/editeurs/retour", params={"error": "access_denied"}, follow_redirects=False)
    assert denied.status_code == 400 and denied.json()["error"] == "signin_failed"
    # The code was not spent by the tampered tries: the real answer still signs in, once.
    assert client.get(back, follow_redirects=False).status_code == 303
    assert client.get(back, follow_redirects=False).status_code == 400
    assert client.get("/api/editeurs/moi").json()["email"] == "f@cio.example.fr"


def test_an_account_without_a_verified_address_is_refused(client: TestClient, oidc_issuer: str) -> None:  # noqa: F811
    register_user(oidc_issuer, "sub-sans-adresse", None, "Sans Adresse")
    missing = sign_in_editor(client, "sub-sans-adresse")
    assert missing.status_code == 403 and missing.json()["error"] == "signin_email_missing"
    register_user(oidc_issuer, "sub-non-verifiee", "g@cio.example.fr", email_verified=False)
    unverified = sign_in_editor(client, "sub-non-verifiee")
    assert unverified.status_code == 403 and unverified.json()["error"] == "signin_email_unverified"
    assert client.get("/api/editeurs/moi").json()["error"] == "editor_required"


def test_without_a_provider_editor_sign_in_is_disabled(admin_client: TestClient) -> None:
    start = admin_client.get("/editeurs/connexion", follow_redirects=False)
    assert start.status_code == 403 and start.json()["error"] == "editors_disabled"
    assert admin_client.get("/api/editeurs/moi").json()["error"] == "editors_disabled"
    assert admin_client.get("/editeurs/retour", follow_redirects=False).json()["error"] == "editors_disabled"


def test_the_app_starts_while_the_provider_is_down_and_sign_in_answers_503(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nothing listens there once the probe is closed
    settings = app_settings(tmp_path, oidc_issuer=f"http://127.0.0.1:{closed}", oidc_client_id=CLIENT_ID)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        down = client.get("/editeurs/connexion", follow_redirects=False)
        assert down.status_code == 503 and down.json()["error"] == "identity_provider_unavailable"
        page = client.get("/editeurs/connexion", headers={"Accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 503 and "Le fournisseur d'identité ne répond pas" in html.unescape(page.text)
