"""Running the API under uvicorn: logging without personal data, an index built first when asked."""

from __future__ import annotations

import copy
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn
import uvicorn.config

from knowledge.embedding import load_encoder
from knowledge.index import IndexRefused, load_latest
from knowledge.settings import Settings

log = logging.getLogger(__name__)

FACTORY = "api.app:create_app_from_env"


class DropQueryString(logging.Filter):
    """Access log lines keep the path, never the query string (/api/search?q=... holds a person's case)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own configuration, plus the query-string filter and a handler for our loggers."""
    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"drop_query_string": {"()": f"{__name__}.DropQueryString"}}
    config["loggers"]["uvicorn.access"]["filters"] = ["drop_query_string"]
    config["root"] = {"handlers": ["default"], "level": "INFO"}
    return config


def has_valid_index(settings: Settings) -> bool:
    try:
        load_latest(settings.index_dir, load_encoder(settings.encoder, settings.encoder_threads).name)
    except IndexRefused:
        return False
    return True


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn reads the client address: X-Forwarded-For only from SPRO_TRUSTED_PROXIES (uvicorn's own
    default would believe any peer on 127.0.0.1, so a local sidecar or tunnel could name any client)."""
    trusted = settings.trusted_proxies
    return {
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": ",".join(trusted) if trusted else "",
        "server_header": False,
    }


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    extra_sources: Sequence[Path] = (),
    build: Callable[[], None] | None = None,
) -> None:
    """Serve the app factory; `build` runs first when no valid index exists (`--build-if-missing`)."""
    if build is not None and not has_valid_index(settings):
        log.info("no valid index in %s: building one first", settings.index_dir)
        build()
    if extra_sources:
        # Worker processes build their own Settings from the environment: hand the extra sources over.
        sources = [*settings.sources, *extra_sources]
        os.environ["SPRO_SOURCES"] = json.dumps([str(p) for p in sources])
    if workers > 1 and settings.rate_limit_per_minute > 0 and settings.rate_limit_store == "auto":
        # Several processes: one client's requests land on any of them, so they share the buckets.
        os.environ["SPRO_RATE_LIMIT_STORE"] = "database"
    uvicorn.run(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(),
        **uvicorn_options(settings),
    )
