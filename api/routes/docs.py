"""The API's documentation page, /docs (Swagger UI), with its assets served from here (no CDN).

ReDoc is not offered: its bundle loads its sidebar logo from cdn.redoc.ly (seen with outside requests blocked).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

# The fastapi-offline wheel ships the Swagger UI 5 bundle; only its files are used, not its app class.
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
ASSETS_URL = "/static-docs"


def mount_docs(app: FastAPI) -> None:
    """Create the app with docs_url=None and redoc_url=None, then call this: the same page, local assets."""
    router = APIRouter(include_in_schema=False)
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} — documentation de l'API"
    favicon = f"{ASSETS_URL}/favicon.png"

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=favicon,
            # Swagger UI would otherwise send the schema to validator.swagger.io for its badge.
            swagger_ui_parameters={"validatorUrl": None},
        )

    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
