"""The data·inclusion API v1 (structures and services of Auvergne-Rhône-Alpes) -> snapshot.

GET /structures and /services take `code_region`, `page` (from 1) and `size` (at most 10 000) and answer
{"items": [...], "total", "page", "size", "pages"}, behind `Authorization: Bearer <token>`. The snapshot is
{"structures": [...], "services": [...]}, the shape ingest.sources.data_inclusion.items_from_json reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from ingest.pull.client import JsonClient, PullFailed, RetryPolicy, readable_url
from ingest.pull.snapshots import PullReport, list_snapshots, snapshot_root, write_snapshot
from knowledge.settings import Settings

REGION = "84"  # Auvergne-Rhône-Alpes in the COG
PAGE_SIZE = 1_000  # well under the API's 10 000: smaller answers, fewer timeouts
LICENCE = "Licence Ouverte 2.0 (data·inclusion), producteur de chaque structure cité"
ENDPOINTS = ("structures", "services")


def fetch_items(client: JsonClient, url: str, size: int = PAGE_SIZE) -> tuple[list[dict[str, object]], int]:
    """Every item of one listing of the region, page after page; PullFailed when the pages do not add up."""
    items: dict[tuple[str, str], dict[str, object]] = {}
    expected: int | None = None
    pages = 1
    page = 1
    while page <= pages:
        params: dict[str, str | int] = {"code_region": REGION, "page": page, "size": size}
        shown = readable_url(url, params)
        data = client.get_json(url, params)
        if not isinstance(data, dict):
            raise PullFailed("réponse inattendue : objet JSON attendu", shown)
        batch, total, declared = data.get("items"), data.get("total"), data.get("pages")
        if not isinstance(batch, list) or not isinstance(total, int) or not isinstance(declared, int):
            raise PullFailed("réponse inattendue : « items », « total » ou « pages » absent", shown)
        if expected is None:
            expected, pages = total, declared
        elif total != expected:
            raise PullFailed(f"le nombre d'éléments a changé pendant la récupération ({expected} puis {total})", shown)
        for index, item in enumerate(batch, start=1):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise PullFailed(f"réponse inattendue : élément n° {index} de la page {page} sans « id »", shown)
            # Ids are unique per producer only: (source, id) identifies a record.
            items.setdefault((str(item.get("source")), item["id"]), item)
        if page < pages and len(batch) < size:
            raise PullFailed(f"page incomplète : {len(batch)} éléments au lieu de {size} avant la dernière page", shown)
        page += 1
    if len(items) != expected:
        raise PullFailed(
            f"pagination incomplète : {len(items)} éléments distincts reçus sur {expected} annoncés",
            readable_url(url, {"code_region": REGION}),
        )
    return list(items.values()), pages


def pull_data_inclusion(
    settings: Settings,
    *,
    policy: RetryPolicy | None = None,
    size: int = PAGE_SIZE,
    today: date | None = None,
) -> PullReport:
    """Pull the region's structures and services and publish them as today's snapshot; PullFailed changes nothing."""
    api = settings.data_inclusion_api_url.rstrip("/")
    token = settings.data_inclusion_token.get_secret_value().strip() if settings.data_inclusion_token else ""
    if not token:
        raise PullFailed("jeton data·inclusion absent : renseigner SPRO_DATA_INCLUSION_TOKEN", f"{api}/structures")
    listings: dict[str, list[dict[str, object]]] = {}
    requests = 0
    with JsonClient(policy or RetryPolicy.from_settings(settings), {"Authorization": f"Bearer {token}"}) as client:
        for endpoint in ENDPOINTS:
            listings[endpoint], calls = fetch_items(client, f"{api}/{endpoint}", size)
            requests += calls
    pulled_at = datetime.now(UTC)
    payload = {
        "snapshot": {
            "kind": "data-inclusion",
            "title": "API data·inclusion — structures et services d'Auvergne-Rhône-Alpes",
            "url": api,
            "code_region": REGION,
            "pulled_at": pulled_at.isoformat(timespec="seconds"),
            "licence": LICENCE,
        },
        **listings,
    }
    root = snapshot_root(settings.data_dir)
    path = write_snapshot(root, "data-inclusion", payload, today or pulled_at.date(), settings.snapshots_kept)
    counts = {endpoint: len(records) for endpoint, records in listings.items()}
    return PullReport(path, api, counts, requests, len(list_snapshots(root, "data-inclusion")))
