"""The DILA "API Annuaire de l'administration et des services publics" (Opendatasoft Explore v2.1) -> snapshot.

The records endpoint gives at most 100 records a call and offset + limit <= 10 000, so the pull asks one
department of Auvergne-Rhône-Alpes at a time, for the pivots our networks use, and pages through each answer.
Records are kept as the API sends them (pivot, adresse, telephone, plage_ouverture... are JSON strings):
ingest.sources.annuaire.load_annuaire_json reads them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from ingest.pull.client import JsonClient, PullFailed, RetryPolicy, readable_url
from ingest.pull.snapshots import PullReport, list_snapshots, snapshot_root, write_snapshot
from ingest.sources.annuaire import PIVOT_NETWORK
from knowledge.referentials import DEPARTMENTS
from knowledge.settings import Settings

DATASET = "api-lannuaire-administration"
PAGE_LIMIT = 100  # the records endpoint refuses more
WINDOW = 10_000  # offset + limit may not exceed it

# The pivots (type_service_local) of our networks, plus those the directory also uses for France Travail
# (pole_emploi, then france_travail), Cap emploi and France Services, kept for the loaders to come.
PIVOTS: tuple[str, ...] = tuple(
    sorted({*PIVOT_NETWORK, "pole_emploi", "france_travail", "cap_emploi", "france_services"})
)

LICENCE = "Licence Ouverte 2.0 — « Service-Public.fr / DILA »"


def records_url(api_url: str) -> str:
    return f"{api_url.rstrip('/')}/catalog/datasets/{DATASET}/records"


def where_clause(department: str, pivots: Sequence[str]) -> str:
    """ODSQL: the sites whose commune lies in the department and whose pivot is one of ours.

    `pivot` is a JSON text field, matched with LIKE as the DILA's documented examples do; the loader then
    keeps only the pivots it knows, so a loose match costs bytes, never wrong records.
    """
    pivot_clause = " OR ".join(f'pivot LIKE "{pivot}"' for pivot in pivots)
    return f'startswith(code_insee_commune, "{department}") AND ({pivot_clause})'


def fetch_records(
    client: JsonClient, url: str, where: str, page_limit: int = PAGE_LIMIT
) -> tuple[list[dict[str, object]], int]:
    """Every record of one query, paged with limit/offset; PullFailed when the pages do not add up."""
    records: dict[str, dict[str, object]] = {}
    expected: int | None = None
    offset = 0
    requests = 0
    while True:
        params: dict[str, str | int] = {"where": where, "limit": page_limit, "offset": offset}
        shown = readable_url(url, params)
        data = client.get_json(url, params)
        requests += 1
        if not isinstance(data, dict):
            raise PullFailed("réponse inattendue : objet JSON attendu", shown)
        total, results = data.get("total_count"), data.get("results")
        if not isinstance(total, int) or not isinstance(results, list):
            raise PullFailed("réponse inattendue : « total_count » ou « results » absent", shown)
        if expected is None:
            expected = total
            if total > WINDOW:
                raise PullFailed(
                    f"{total} enregistrements pour cette requête, plus que les {WINDOW} que l'API laisse parcourir",
                    shown,
                )
        elif total != expected:
            raise PullFailed(
                f"le nombre d'enregistrements a changé pendant la récupération ({expected} puis {total})", shown
            )
        for index, record in enumerate(results):
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                raise PullFailed(f"réponse inattendue : enregistrement n° {offset + index + 1} sans « id »", shown)
            records.setdefault(record["id"], record)
        offset += len(results)
        if offset >= expected or not results:
            break
        if len(results) < page_limit:
            raise PullFailed(
                f"page incomplète : {len(results)} enregistrements au lieu de {page_limit} avant la fin", shown
            )
    if len(records) != expected:
        raise PullFailed(
            f"pagination incomplète : {len(records)} enregistrements distincts reçus sur {expected} annoncés",
            readable_url(url, {"where": where}),
        )
    return list(records.values()), requests


def pull_annuaire(
    settings: Settings,
    *,
    policy: RetryPolicy | None = None,
    departments: Iterable[str] = DEPARTMENTS,
    pivots: Sequence[str] = PIVOTS,
    page_limit: int = PAGE_LIMIT,
    today: date | None = None,
) -> PullReport:
    """Pull the AURA sites of our networks and publish them as today's snapshot; PullFailed leaves disk as it was."""
    url = records_url(settings.annuaire_api_url)
    services: dict[str, dict[str, object]] = {}
    counts: dict[str, int] = {}
    requests = 0
    with JsonClient(policy or RetryPolicy.from_settings(settings)) as client:
        for department in sorted(departments):
            records, calls = fetch_records(client, url, where_clause(department, pivots), page_limit)
            requests += calls
            counts[department] = len(records)
            for record in records:
                services.setdefault(str(record["id"]), record)
    pulled_at = datetime.now(UTC)
    payload = {
        "snapshot": {
            "kind": "annuaire",
            "title": "API Annuaire de l'administration et des services publics (DILA)",
            "url": url,
            "dataset": DATASET,
            "pivots": list(pivots),
            "records_per_department": counts,
            "pulled_at": pulled_at.isoformat(timespec="seconds"),
            "licence": LICENCE,
        },
        "service": list(services.values()),
    }
    root = snapshot_root(settings.data_dir)
    path = write_snapshot(root, "annuaire", payload, today or pulled_at.date(), settings.snapshots_kept)
    return PullReport(path, url, counts, requests, len(list_snapshots(root, "annuaire")))
