"""The chat widget's static files: the page at /, the script at /widget.js, the folder at /static."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

import web
from api import messages
from api.errors import ApiError, ErrorCode

STATIC_DIR = Path(web.__file__).resolve().parent / "static"


def mount_web(app: FastAPI, static_dir: Path = STATIC_DIR) -> None:
    router = APIRouter(include_in_schema=False)

    def _file(name: str, media_type: str) -> FileResponse:
        path = static_dir / name
        if not path.is_file():
            raise ApiError(ErrorCode.NOT_FOUND, messages.NOT_FOUND)
        return FileResponse(path, media_type=media_type)

    @router.get("/")
    async def index() -> FileResponse:
        return _file("index.html", "text/html; charset=utf-8")

    @router.get("/widget.js")
    async def widget() -> FileResponse:
        return _file("widget.js", "text/javascript; charset=utf-8")

    app.include_router(router)
    if static_dir.is_dir():  # StaticFiles fails every request (500) when its folder is missing
        app.mount("/static", StaticFiles(directory=static_dir), name="static")
