"""A real OpenID Connect provider on 127.0.0.1 (oidc-provider-mock: discovery, signed ID tokens, nonce, userinfo)
for the editors' tests, and the steps of a sign-in as a browser takes them.

Import the fixture into a test module: `from tests.oidc_support import oidc_issuer  # noqa: F401 (fixture)`.
The app under test needs `oidc_issuer=<the fixture's value>`, any `oidc_client_id` (the provider accepts any
client) and `public_url` = the address the test client reaches the app at (its redirect URI is built from it)."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from urllib.parse import urljoin

import httpx
import httpx2
import pytest
import werkzeug.serving
from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # oidc-provider-mock imports authlib.jose, which Authlib deprecates for joserfc (Authlib's own filter shows it
    # whatever pytest's filters say).
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    import oidc_provider_mock

CLIENT_ID = "expert-spro-tests"
CLIENT_SECRET = "secret-du-client-de-test"


@pytest.fixture(scope="session")
def oidc_issuer() -> Iterator[str]:
    """The provider's issuer URL (http://127.0.0.1:<port>); it accepts any client id and secret."""
    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(require_nonce=True), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="oidc-provider",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def register_user(issuer: str, sub: str, email: str | None, name: str | None = None, **claims: object) -> None:
    """The provider's account `sub` with these claims (what it puts in the ID token and userinfo)."""
    values: dict[str, object] = dict(claims)
    if email is not None:
        values["email"] = email
    if name is not None:
        values["name"] = name
    httpx.put(f"{issuer}/users/{sub}", json=values, timeout=10).raise_for_status()


def authorize(location: str, sub: str) -> str:
    """On the provider's authorization page at `location`, sign in as `sub`: the address it sends the browser
    back to (the app's /editeurs/retour with a code and the state)."""
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        page = browser.get(location)
        assert page.status_code == 200, page.text[:500]
        # The page's form posts to itself.
        answer = browser.post(location, data={"sub": sub})
        assert answer.status_code in (302, 303), answer.text[:500]
        return urljoin(location, answer.headers["location"])


def sign_in_editor(
    app: httpx.Client | httpx2.Client, sub: str, suite: str = "/editeurs"
) -> httpx.Response | httpx2.Response:
    """The whole sign-in of `sub` by `app` (a client of the running app keeping its cookies: an httpx.Client with
    the live server's base_url, or a TestClient, which is an httpx2 client): /editeurs/connexion, the provider's
    page, back to /editeurs/retour. Returns that last answer (303 to `suite` when signed in); the session cookie is
    then in `app`'s cookies."""
    start = app.get("/editeurs/connexion", params={"suite": suite}, follow_redirects=False)
    assert start.status_code == 302, start.text[:500]
    back = authorize(start.headers["location"], sub)
    return app.get(back, follow_redirects=False)
