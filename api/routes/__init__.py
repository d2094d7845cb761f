"""The routers of the HTTP API, one module per area; `errors_doc` documents the shared error shape."""

from __future__ import annotations

from typing import Any

from api.schemas import ErrorOut

_DESCRIPTIONS = {
    400: "Corps illisible (JSON invalide)",
    401: "Jeton d'administration absent ou invalide",
    403: "Fonction désactivée par la configuration (administration sans jeton, courriel sans serveur SMTP)",
    404: "Ressource inconnue",
    409: "Conflit (une réindexation est déjà en cours)",
    413: "Requête trop volumineuse",
    422: "Paramètre ou champ invalide (le champ fautif est nommé)",
    429: "Trop de requêtes (voir l'en-tête Retry-After)",
    503: "Base de connaissances pas encore chargée",
}


def errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer, all with the one error shape."""
    return {status: {"model": ErrorOut, "description": _DESCRIPTIONS[status]} for status in statuses}


def html_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the statuses a page route answers with an HTML page."""
    return {
        status: {"content": {"text/html": {}}, "description": _DESCRIPTIONS[status], "x-page": True}
        for status in statuses
    }
