"""The guide as a PDF booklet, laid out by WeasyPrint from the booklet template and the guide's print styles.

WeasyPrint rather than Chromium: it implements CSS Paged Media (page numbers in the table of contents with
`target-counter`, running footers), needs no browser process on the server, only the Pango library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import web

STYLESHEET = Path(web.__file__).resolve().parent / "static" / "guide.css"


def _fetch_nothing(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    """The booklet is self-contained: nothing is fetched, neither from the network nor from the disk."""
    raise ValueError(f"ressource externe refusée : {url[:80]}")


def render_pdf(html: str, base_url: str) -> bytes:
    """`base_url` (the site's address) makes the booklet's links absolute: they work from a printed copy's PDF."""
    # Imported here: loading Pango is not free, and only the booklet needs it.
    from weasyprint import CSS, HTML

    stylesheet = CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=_fetch_nothing)
    pdf: bytes = HTML(string=html, base_url=base_url, url_fetcher=_fetch_nothing).write_pdf(stylesheets=[stylesheet])
    return pdf
