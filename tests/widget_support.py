"""Helpers of the widget tests: a real API server in a thread, and a few steps of a counsellor in Chromium."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn
from pydantic import SecretStr

from api.app import create_app
from api.runtime import Runtime
from knowledge.settings import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Page

# axe-core from npm (web/package.json; `make test` runs `npm ci --prefix web`), injected from the file: no network.
AXE = Path(__file__).resolve().parents[1] / "web" / "node_modules" / "axe-core" / "axe.min.js"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_TOKEN = "jeton-admin-des-tests-du-widget"
ANSWER_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """The real app (real index, real store) served by uvicorn on 127.0.0.1, in a thread."""

    url: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread
    partner: PartnerSite = field(repr=False)

    @property
    def other_origin(self) -> str:
        """The partner site's origin (allowed by the API's CORS settings)."""
        return self.partner.origin

    def admin_feedback(self) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.url}/api/admin/feedback",
            params={"status": "all", "limit": 200},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30,
        )
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.partner.stop()


class PartnerSite:
    """Another web site (another origin) that embeds the widget: serves one page, set by the test, at any path."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.html = "<!doctype html><title>vide</title>"
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                body = site.html.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"partner-{port}", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=30)


def start_server(settings: Settings, runtime: Runtime, port: int, partner_port: int) -> LiveServer:
    app = create_app(settings, runtime)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, ws="none", lifespan="on"
    )
    server = uvicorn.Server(config)
    partner = PartnerSite(partner_port)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            partner.stop()
            raise RuntimeError("le serveur de test n'a pas démarré")
        time.sleep(0.05)
    return LiveServer(url=f"http://127.0.0.1:{port}", port=port, server=server, thread=thread, partner=partner)


def widget_settings(data_dir: Any, partner_port: int, **extra: Any) -> Settings:
    """Test settings: an admin token, no rate limit, the partner site allowed to call the API."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "admin_token": SecretStr(ADMIN_TOKEN),
        "rate_limit_per_minute": 0,
        "maintenance_interval": 3600,
        "cors_origins": [f"http://127.0.0.1:{partner_port}"],
    }
    values.update(extra)
    return Settings(**values)


# --- the counsellor's steps -----------------------------------------------------------------------

DEEP_ACTIVE = """() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  if (!el) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.textContent || "").replace(/\\s+/g, " ").trim(),
    label: el.getAttribute("aria-label") || "",
    slot: el.getAttribute("data-slot") || "",
    cls: el.getAttribute("class") || "",
    type: el.getAttribute("type") || "",
    inWidget: el.getRootNode() !== document,
    outline: style.outlineStyle + " " + style.outlineWidth,
  };
}"""


def deep_active(page: Page) -> dict[str, Any]:
    active: dict[str, Any] = page.evaluate(DEEP_ACTIVE)
    return active


def focus_by_keyboard(page: Page, matches: Any, *, backwards: bool = False, limit: int = 200) -> dict[str, Any]:
    """Press Tab (Shift+Tab) until the focused element satisfies `matches`; every focus in the widget
    along the way must be visible (an outline)."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        active = deep_active(page)
        if active and active["inWidget"]:
            assert not active["outline"].startswith("none"), f"focus invisible sur {active}"
        if active and matches(active):
            return active
    raise AssertionError("élément jamais atteint au clavier")


def answers(page: Page) -> int:
    count: int = page.locator(".spro-msg--bot[data-turn]").count()
    return count


def wait_for_answer(page: Page, before: int) -> None:
    page.wait_for_function(
        """(before) => {
          const root = document.querySelector("expert-spro").shadowRoot;
          const shown = root.querySelectorAll(".spro-msg--bot[data-turn]").length;
          return shown > before && !root.querySelector(".spro-typing");
        }""",
        arg=before,
        timeout=ANSWER_TIMEOUT_MS,
    )


def chat_response(page: Page, action: Any) -> dict[str, Any]:
    """Run `action` (which sends one message), wait for the answer to be shown, return the API's JSON."""
    before = answers(page)
    with page.expect_response(
        lambda r: r.url.endswith("/api/chat") and r.request.method == "POST", timeout=ANSWER_TIMEOUT_MS
    ) as info:
        action()
    data: dict[str, Any] = info.value.json()
    wait_for_answer(page, before)
    return data


def ask(page: Page, text: str) -> dict[str, Any]:
    def send() -> None:
        page.get_by_label("Décrivez la situation").fill(text)
        page.get_by_label("Décrivez la situation").press("Enter")

    return chat_response(page, send)


def last_answer(page: Page) -> Any:
    return page.locator(".spro-msg--bot[data-turn]").last


# "Source : téléphone — Service-Public.fr / DILA, à jour au 22/10/2019 ; adresse — UNML, à jour en 01/2026".
_DATED = r"[^;]+, à jour (?:au \d{2}/\d{2}/\d{4}|en \d{2}/\d{4})"
SOURCE_LINE = re.compile(rf"^Source : {_DATED}(?: ; {_DATED})*$")

CONTRAST = """() => {
  const root = document.querySelector("expert-spro").shadowRoot;
  const parse = (c) => { const m = c.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement || (node.getRootNode().host || null)) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c.length < 4 || c[3] > 0.9) return c;
    }
    return [255, 255, 255, 1];
  };
  const failures = [];
  let checked = 0;
  root.querySelectorAll("*").forEach((el) => {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) return;
    if (el.closest(".spro-sr-only")) return;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || el.closest("[disabled]")) return;  // disabled controls are exempt
    const fg = parse(style.color), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    checked += 1;
    const what = `${el.className || el.tagName}: ${ratio.toFixed(2)}`;
    if (ratio < needed) failures.push(`${what} « ${el.textContent.trim().slice(0, 40)} »`);
  });
  return { checked, failures };
}"""

OVERFLOW = """() => {
  const root = document.querySelector("expert-spro").shadowRoot;
  const wide = [];
  const width = document.documentElement.clientWidth;
  const boxes = ".spro-panel, .spro-card, .spro-msg, .spro-composer, .spro-case, .spro-header";
  root.querySelectorAll(boxes).forEach((el) => {
    const box = el.getBoundingClientRect();
    if (!box.width) return;
    if (el.scrollWidth > el.clientWidth + 1 || box.right > width + 1 || box.left < -1)
      wide.push(`${el.className}: ${el.scrollWidth}/${el.clientWidth}, ${box.left}-${box.right}`);
  });
  return { page: document.documentElement.scrollWidth, viewport: width, wide };
}"""


AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 5),
  }));
}"""


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of the page (open shadow roots included) at the given impacts."""
    assert AXE.is_file(), f"{AXE} absent : lancez `npm ci --prefix web` (make test le fait)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return [v for v in found if v["impact"] in impacts]
