"""The territory guide on a real `spro serve`: page weight and time to first render of department guides in
Chromium (desktop and a throttled phone profile), and the PDF booklet's build time.

    python -m bench.guide                  # departments 38, 69 and 15, 5 loads each
    python -m bench.guide --departments 38 --loads 2
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

import httpx
from pypdf import PdfReader

from bench.corpus import WORK, prepare_data_dir, served_encoder
from bench.processes import ServerProcess

CHROMIUM = "/usr/bin/chromium"
PAINT = """() => new Promise((resolve) => {
  const nav = performance.getEntriesByType("navigation")[0];
  const done = (fcp) => resolve({ fcp, load: nav.loadEventEnd, body: nav.decodedBodySize });
  new PerformanceObserver((list) => {
    const paint = list.getEntriesByName("first-contentful-paint")[0];
    if (paint) done(paint.startTime);
  }).observe({ type: "paint", buffered: true });
  setTimeout(() => done(null), 5000);
})"""
# Chrome DevTools' "Fast 3G" profile with a 4x slower CPU: how a phone on a poor connection sees the page.
SLOW_PHONE = {"latency": 562.5, "downloadThroughput": 180_000, "uploadThroughput": 84_375, "offline": False}


def measure_pages(base_url: str, departments: list[str], loads: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        for profile in ("desktop", "phone, Fast 3G, CPU x4"):
            for department in departments:
                fcps: list[float] = []
                loads_ms: list[float] = []
                for _ in range(loads):
                    context = browser.new_context(viewport={"width": 390, "height": 844} if profile != "desktop"
                                                  else {"width": 1280, "height": 900})
                    page = context.new_page()
                    if profile != "desktop":
                        cdp = context.new_cdp_session(page)
                        cdp.send("Network.emulateNetworkConditions", SLOW_PHONE)
                        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
                    page.goto(f"{base_url}/annuaire/{department}", wait_until="load")
                    timing = page.evaluate(PAINT)
                    fcps.append(timing["fcp"])
                    loads_ms.append(timing["load"])
                    context.close()
                html = httpx.get(f"{base_url}/annuaire/{department}").content
                css = httpx.get(f"{base_url}/static/guide.css").content
                print(
                    f"{profile:24} /annuaire/{department}: HTML {len(html) / 1024:.0f} KiB + CSS "
                    f"{len(css) / 1024:.1f} KiB, no script, no image; first contentful paint "
                    f"median {statistics.median(fcps):.0f} ms, load {statistics.median(loads_ms):.0f} ms"
                )
        browser.close()


def measure_booklets(base_url: str, departments: list[str]) -> None:
    with httpx.Client(base_url=base_url, timeout=600) as client:
        for path in [f"/annuaire/{d}/livret.pdf" for d in departments] + ["/annuaire/commune/38185/livret.pdf"]:
            start = time.perf_counter()
            first = client.get(path)
            cold = time.perf_counter() - start
            start = time.perf_counter()
            client.get(path)
            cached = time.perf_counter() - start
            pages = len(PdfReader(io.BytesIO(first.content)).pages)
            print(f"{path}: built in {cold:.1f} s ({pages} pages, {len(first.content) / 1024:.0f} KiB), "
                  f"again (cached) {cached * 1000:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", default="38,69,15")
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args(argv)
    departments = args.departments.split(",")
    work: Path = WORK / "guide"
    prepare_data_dir(work / "data", served_encoder())
    with ServerProcess.spro_serve(work / "data", work / "spro-serve.log") as server:
        server.wait_ready()
        measure_pages(server.base_url, departments, args.loads)
        measure_booklets(server.base_url, departments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
