"""The living directory's test world: the real app on its own index, a real OpenID Connect provider, editors.

Shared by the HTTP tests (tests/test_curation.py) and the browser loop (tests/test_editors_browser.py).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from api.runtime import load_runtime
from ingest.build import build_index
from knowledge.embedding import Encoder
from knowledge.settings import Settings
from tests.conftest import CACHE
from tests.oidc_support import CLIENT_ID, CLIENT_SECRET, register_user, sign_in_editor
from tests.widget_support import ADMIN_TOKEN, LiveServer, free_port, start_server

SITE = "annuaire:mission_locale-73065-01"  # Mission locale jeunes du bassin chambérien (official data)
OFFICIAL_PHONE = "04 79 33 50 84"
NEW_PHONE = "04 79 96 00 00"
CASE = "jeune de 19 ans sans diplôme qui cherche un emploi à Chambéry"
ORGANISATION = "Mission Locale du bassin chambérien"
REFERENT = "Camille Zébulonne"
PUBLISH_TIMEOUT = 60.0


@dataclass
class World:
    server: LiveServer
    issuer: str
    data_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    @contextmanager
    def editor(self, sub: str) -> Iterator[httpx.Client]:
        """A browser of the editor `sub`, signed in through the provider."""
        with httpx.Client(base_url=self.url, timeout=60) as client:
            answer = sign_in_editor(client, sub)
            assert answer.status_code == 303, answer.text[:500]
            yield client


def admin(method: str, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30, **kwargs)


@contextmanager
def running_world(data_dir: Path, encoder: Encoder, oidc_issuer: str) -> Iterator[World]:
    """The real app on its own index (the editors' changes re-index it), three editors at the provider: one of
    the Mission Locale network in Savoie, one of the CIO in the Rhône, one with no grant."""
    port = free_port()
    settings = Settings(
        data_dir=data_dir,
        admin_token=SecretStr(ADMIN_TOKEN),
        rate_limit_per_minute=0,
        maintenance_interval=3600,
        index_watch_interval=0.5,
        oidc_issuer=oidc_issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr(CLIENT_SECRET),
        session_secret=SecretStr("secret-de-session-des-tests-curation"),
        public_url=f"http://127.0.0.1:{port}",
    )
    settings.index_dir.mkdir(parents=True)
    if CACHE.is_file():
        shutil.copy2(CACHE, settings.index_dir / "embeddings.sqlite")
    build_index(settings.index_dir, encoder, ())
    server = start_server(settings, load_runtime(settings, encoder), port, free_port())
    register_user(oidc_issuer, "ml73", "c.dupont@mlchambery.org", "Claire Dupont")
    register_user(oidc_issuer, "cio69", "j.martin@ac-lyon.fr", "Jean Martin")
    register_user(oidc_issuer, "nobody", "x.y@exemple.fr", "Sans Droit")
    for grant in (
        {"match": "@mlchambery.org", "network": "mission_locale", "departments": ["73"], "organisation": ORGANISATION},
        {"match": "@ac-lyon.fr", "network": "cio", "departments": ["69"], "organisation": "CIO de Lyon"},
    ):
        assert admin("POST", f"{server.url}/api/admin/editeurs", json=grant).status_code == 201
    try:
        yield World(server, oidc_issuer, data_dir)
    finally:
        server.stop()


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)
