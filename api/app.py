"""The app factory: `create_app(settings)` builds the app; its lifespan loads the encoder and the index once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from api.curation.pages import mount_editor_pages
from api.editors import admin as editors_admin
from api.editors import signin as editors_signin
from api.editors.session import install_session
from api.errors import install_error_handlers
from api.middleware import BodyLimitMiddleware, MetricsMiddleware, RateLimitMiddleware
from api.routes import admin, catalogue, chat, docs, feedback, health, news, subscriptions, web
from api.routes.guide import mount_guide
from api.runtime import Runtime
from api.services import LifespanState, Services
from api.teams import MESSAGES_PATH, mount_teams
from knowledge.settings import Settings

log = logging.getLogger(__name__)

DESCRIPTION = """
**Expert SPRO** aide les conseillers du Service Public Régional de l'Orientation Auvergne-Rhône-Alpes à savoir
*qui fait quoi* : à partir d'une situation décrite en quelques mots, il propose les structures compétentes
près de chez la personne, avec les raisons, les contacts officiels et les extraits qui les justifient.

* Toutes les erreurs ont la même forme : `{"error": "code", "detail": "message en français"}`.
* Le texte des messages n'est ni conservé ni journalisé ; les conversations expirent (24 h par défaut).
* Les routes `/api/admin/...` demandent le jeton d'administration (`Authorization: Bearer …`).
"""

TAGS = [
    {
        "name": "assistant",
        "description": "Conversation et recherche : une situation en entrée, des structures en sortie.",
    },
    {"name": "catalogue", "description": "Réseaux, annuaire des structures, fiches dispositifs, territoire."},
    {"name": "avis", "description": "Avis des conseillers et signalements de contacts erronés."},
    {"name": "administration", "description": "Réindexation, statistiques agrégées, suivi des avis (jeton requis)."},
    {"name": "exploitation", "description": "Santé, disponibilité et métriques du service."},
    {"name": "éditeurs", "description": "Connexion des éditeurs de l'annuaire (OpenID Connect, ProConnect)."},
]


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """Cheap to call: nothing is loaded until the lifespan starts. Pass `runtime` to reuse a loaded one."""
    services = Services.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[LifespanState]:
        await run_in_threadpool(services.start, runtime)
        settings = services.settings
        tasks = [
            # Purge of expired conversations (and a pick-up of a newer index, in case the watch missed it).
            asyncio.create_task(_every(settings.maintenance_interval, services.maintain, "periodic maintenance")),
            # A version published by another process (spro ingest, another worker) is served within seconds.
            asyncio.create_task(_every(settings.index_watch_interval, services.pick_up_published, "index pick-up")),
        ]
        try:
            yield {"services": services}
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            services.stop()

    app = FastAPI(
        title="Expert SPRO",
        version="0.1.0",
        summary="Qui fait quoi dans le SPRO Auvergne-Rhône-Alpes",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        # FastAPI's own pages load their scripts from a CDN: blank offline. docs.mount_docs serves them locally.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.openapi = _openapi_with_one_error_shape(app)  # type: ignore[method-assign]
    for router in (chat.router, catalogue.router, feedback.router, admin.router, health.router, news.router,
                   subscriptions.router, editors_admin.router, editors_signin.router):
        app.include_router(router)
    web.mount_web(app)
    mount_guide(app)
    docs.mount_docs(app)
    mount_teams(app, services)
    mount_editor_pages(app, services)
    # Added first = innermost: the editors' session cookie, inside the others (their answers keep their shape).
    install_session(app, settings)
    # Added last = outermost: metrics see every answer, CORS headers reach the 413 and 429 answers too.
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(RateLimitMiddleware, limiter=services.limiter, exempt=(MESSAGES_PATH,))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "Authorization"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
    app.add_middleware(MetricsMiddleware, metrics=services.metrics)
    return app


def _openapi_with_one_error_shape(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI documents its own 422 body; ours is the one error shape: say so in the schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                # A page route documents its own HTML 422 (a form sent back); the others answer the error shape.
                page = responses.get("422", {}).get("x-page", False)
                if "422" in responses and not page:
                    responses["422"] = {
                        "description": "Paramètre ou champ invalide (le champ fautif est nommé)",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
                    }
        components = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    return openapi


def create_app_from_env() -> FastAPI:
    """The uvicorn factory (`uvicorn --factory api.app:create_app_from_env`): settings from SPRO_ variables."""
    return create_app(Settings())


async def _every(interval: float, job: Callable[[], None], what: str) -> None:
    """Run a blocking upkeep job off the event loop every `interval` seconds; a failure is logged, not fatal."""
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(job)
        except Exception:
            log.exception("%s failed", what)
