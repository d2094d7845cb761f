"""`spro pull` against real HTTP servers on 127.0.0.1 speaking the DILA (Opendatasoft Explore v2.1) and the
data·inclusion v1 protocols: pagination, totals, 429/503 with Retry-After, 500, a body cut mid-way, invalid JSON,
a bad token. Snapshots are read back by the real loaders; a failed pull leaves the previous snapshot as it was.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from api.cli import app
from ingest.pull.annuaire_api import PAGE_LIMIT, WINDOW, pull_annuaire
from ingest.pull.client import PullFailed, RetryPolicy
from ingest.pull.data_inclusion_api import pull_data_inclusion
from ingest.pull.snapshots import latest_snapshots, list_snapshots, snapshot_root, with_latest_snapshots, write_snapshot
from ingest.sources.discovery import load_paths
from knowledge.settings import Settings

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_wait=5.0, timeout=5.0)
TODAY = date(2026, 12, 2)
TOKEN = "jeton-de-test"


# --- a tiny real HTTP server ----------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: object = None  # JSON-serialised unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None  # send only this many bytes of the announced body, then close


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


Route = Callable[[Seen], Reply]


class FakeApi:
    """ThreadingHTTPServer on a free port of 127.0.0.1; `route` answers every GET and `seen` records them."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.seen: list[Seen] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-api", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                seen = Seen(parts.path, query, {k.lower(): v for k, v in self.headers.items()})
                api.seen.append(seen)
                reply = api.route(seen)
                body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(body if reply.cut_after is None else body[: reply.cut_after])
                except OSError:
                    pass  # the client gave up first
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's naming)
                pass

        return Handler


@pytest.fixture()
def serve() -> Iterator[Callable[[Route], FakeApi]]:
    servers: list[FakeApi] = []

    def start(route: Route) -> FakeApi:
        server = FakeApi(route)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


# --- the DILA annuaire as Opendatasoft serves it --------------------------------------------------------------


def dila_record(number: int, insee: str, pivot: str = "mission_locale") -> dict[str, object]:
    """A record of api-lannuaire-administration: list fields serialised as JSON strings, as the API sends them."""
    return {
        "id": f"ml-{insee}-{number:04d}",
        "nom": f"Mission Locale fictive n° {number}",
        "pivot": json.dumps([{"type_service_local": pivot, "code_insee_commune": [insee, "38053"]}]),
        "adresse": json.dumps(
            [
                {
                    "type_adresse": "Adresse",
                    "complement1": "",
                    "complement2": "",
                    "numero_voie": f"{number} rue Fictive",
                    "service_distribution": "",
                    "code_postal": "38200",
                    "nom_commune": "Vienne",
                    "pays": "France",
                    "longitude": "4.8742",
                    "latitude": "45.5255",
                }
            ]
        ),
        "telephone": json.dumps([{"valeur": "04 74 00 00 00", "description": ""}]),
        "adresse_courriel": "accueil@ml-fictive.example.fr",
        "site_internet": json.dumps([{"libelle": "", "valeur": "https://ml-fictive.example.fr"}]),
        "plage_ouverture": json.dumps(
            [
                {
                    "nom_jour_debut": "Lundi",
                    "nom_jour_fin": "Vendredi",
                    "valeur_heure_debut_1": "09:00:00",
                    "valeur_heure_fin_1": "12:00:00",
                    "valeur_heure_debut_2": "13:30:00",
                    "valeur_heure_fin_2": "17:00:00",
                    "commentaire": "",
                }
            ]
        ),
        "code_insee_commune": insee,
        "date_modification": "2026-11-20T10:00:00",
    }


def opendatasoft(records: list[dict[str, object]]) -> Route:
    """The records endpoint: startswith(code_insee_commune, ...) filter, limit <= 100, offset + limit <= 10 000."""

    def route(seen: Seen) -> Reply:
        if not seen.path.endswith("/catalog/datasets/api-lannuaire-administration/records"):
            return Reply(404, {"error_code": "UnknownDatasetError", "message": "Unknown dataset"})
        limit, offset = int(seen.query.get("limit", "10")), int(seen.query.get("offset", "0"))
        if limit > PAGE_LIMIT or offset + limit > WINDOW:
            message = f"Invalid value for limit API parameter: {limit} was found but -1 <= limit <= 100 is expected."
            return Reply(400, {"error_code": "InvalidRESTParameterError", "message": message})
        prefix = re.search(r'startswith\(code_insee_commune, "(\d\w)"\)', seen.query.get("where", ""))
        assert prefix is not None, seen.query
        matching = [r for r in records if str(r["code_insee_commune"]).startswith(prefix.group(1))]
        return Reply(body={"total_count": len(matching), "results": matching[offset : offset + limit]})

    return route


def settings_for(tmp_path: Path, server: FakeApi, token: str = TOKEN) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        annuaire_api_url=f"{server.url}/api/explore/v2.1",
        data_inclusion_api_url=f"{server.url}/api/v1",
        data_inclusion_token=SecretStr(token),
    )


def previous_annuaire_snapshot(settings: Settings) -> Path:
    """Yesterday's snapshot, published the normal way, which a failed pull must leave as it is."""
    payload = {"service": [dila_record(1, "38544")]}
    return write_snapshot(snapshot_root(settings.data_dir), "annuaire", payload, date(2026, 12, 1), keep=5)


def assert_untouched(previous: Path, content: bytes) -> None:
    assert previous.read_bytes() == content
    assert [p.name for p in previous.parent.iterdir()] == [previous.name]  # no new snapshot, no temp file


def test_annuaire_pages_through_each_department_and_ingest_reads_the_snapshot(
    tmp_path: Path, serve: Callable[[Route], FakeApi]
) -> None:
    records = [dila_record(n, "38544") for n in range(250)] + [dila_record(n, "69123") for n in range(3)]
    records.append(dila_record(999, "75056"))  # Paris: never asked for
    server = serve(opendatasoft(records))
    settings = settings_for(tmp_path, server)

    report = pull_annuaire(settings, policy=FAST, today=TODAY)

    assert report.path.name == "annuaire-api_2026-12-02.json"
    assert report.records["38"] == 250 and report.records["69"] == 3 and report.total == 253
    pages_38 = [s.query["offset"] for s in server.seen if '"38"' in s.query["where"]]
    assert pages_38 == ["0", "100", "200"]
    assert all(s.query["limit"] == "100" for s in server.seen)
    assert all('pivot LIKE "mission_locale"' in s.query["where"] for s in server.seen)
    assert latest_snapshots(snapshot_root(settings.data_dir)) == [report.path]

    loaded = load_paths(latest_snapshots(snapshot_root(settings.data_dir)))
    assert len(loaded.structures) == 253
    site = next(s for s in loaded.structures if s.id == "annuaire:ml-38544-0007")
    assert site.network == "mission_locale"
    assert site.department == "38"
    assert site.postcode == "38200"
    assert site.contacts[0].phone == "04 74 00 00 00"
    assert site.serves.communes == ("38544", "38053")
    assert loaded.sources[0].as_of == TODAY  # the date in the snapshot's name


def test_429_with_retry_after_is_waited_then_the_pull_completes(
    tmp_path: Path, serve: Callable[[Route], FakeApi]
) -> None:
    answer = opendatasoft([dila_record(1, "38544")])
    refused: list[Seen] = []

    def route(seen: Seen) -> Reply:
        if not refused:
            refused.append(seen)
            return Reply(429, {"error_code": "TooManyRequests", "message": "Too many requests"}, {"Retry-After": "1"})
        return answer(seen)

    server = serve(route)
    started = time.monotonic()
    report = pull_annuaire(settings_for(tmp_path, server), policy=FAST, today=TODAY)
    assert time.monotonic() - started >= 1.0
    assert report.total == 1
    assert len(server.seen) == 12 + 1  # one query per department, one of them tried twice


def test_retry_after_beyond_the_cap_fails_at_once_and_keeps_the_previous_snapshot(
    tmp_path: Path, serve: Callable[[Route], FakeApi]
) -> None:
    server = serve(lambda seen: Reply(429, {"message": "quota"}, {"Retry-After": "3600"}))
    settings = settings_for(tmp_path, server)
    previous = previous_annuaire_snapshot(settings)
    content = previous.read_bytes()

    with pytest.raises(PullFailed) as failure:
        pull_annuaire(settings, policy=FAST, today=TODAY)

    assert "3600 s" in failure.value.message and "5 s" in failure.value.message
    assert len(server.seen) == 1
    assert_untouched(previous, content)


def test_503_that_lasts_fails_after_the_bounded_attempts(tmp_path: Path, serve: Callable[[Route], FakeApi]) -> None:
    server = serve(lambda seen: Reply(503, b"Service Unavailable"))
    settings = settings_for(tmp_path, server)
    previous = previous_annuaire_snapshot(settings)
    content = previous.read_bytes()

    with pytest.raises(PullFailed) as failure:
        pull_annuaire(settings, policy=FAST, today=TODAY)

    assert "HTTP 503" in failure.value.message and "3 tentative(s)" in failure.value.message
    assert len(server.seen) == FAST.attempts
    assert_untouched(previous, content)


def test_server_error_fails_cleanly_and_the_report_names_the_url(
    tmp_path: Path, serve: Callable[[Route], FakeApi]
) -> None:
    answer = opendatasoft([dila_record(1, "38544")])

    def route(seen: Seen) -> Reply:
        if '"38"' in seen.query["where"]:
            return Reply(500, {"error_code": "InternalError", "message": "Erreur interne"})
        return answer(seen)

    server = serve(route)
    settings = settings_for(tmp_path, server)
    previous = previous_annuaire_snapshot(settings)
    content = previous.read_bytes()

    with pytest.raises(PullFailed) as failure:
        pull_annuaire(settings, policy=FAST, today=TODAY)

    assert failure.value.message.startswith("erreur HTTP 500")
    assert "Erreur interne" in failure.value.message
    assert failure.value.url.startswith(f"{server.url}/api/explore/v2.1/catalog/datasets/api-lannuaire-administration")
    assert 'startswith(code_insee_commune, "38")' in failure.value.url
    assert sum(1 for s in server.seen if '"38"' in s.query["where"]) == 1  # a 500 is not retried
    assert_untouched(previous, content)


def test_a_page_cut_in_the_middle_publishes_nothing(tmp_path: Path, serve: Callable[[Route], FakeApi]) -> None:
    answer = opendatasoft([dila_record(n, "38544") for n in range(150)])

    def route(seen: Seen) -> Reply:
        reply = answer(seen)
        if seen.query["offset"] == "100":
            reply.cut_after = 200  # the second page stops after 200 bytes of its announced length
        return reply

    server = serve(route)
    settings = settings_for(tmp_path, server)
    previous = previous_annuaire_snapshot(settings)
    content = previous.read_bytes()

    with pytest.raises(PullFailed) as failure:
        pull_annuaire(settings, policy=FAST, today=TODAY)

    assert "connexion impossible ou interrompue" in failure.value.message
    assert "offset=100" in failure.value.url
    assert_untouched(previous, content)


def test_invalid_json_publishes_nothing(tmp_path: Path, serve: Callable[[Route], FakeApi]) -> None:
    server = serve(lambda seen: Reply(body=b'{"total_count": 3, "results": [{"id": "a"'))
    settings = settings_for(tmp_path, server)
    previous = previous_annuaire_snapshot(settings)
    content = previous.read_bytes()

    with pytest.raises(PullFailed) as failure:
        pull_annuaire(settings, policy=FAST, today=TODAY)

    assert failure.value.message.startswith("réponse JSON invalide ou tronquée")
    assert_untouched(previous, content)


def test_pages_that_do_not_add_up_to_the_total_publish_nothing(
    tmp_path: Path, serve: Callable[[Route], FakeApi]
) -> None:
    records = [dila_record(n, "38544") for n in range(150)]

    def route(seen: Seen) -> Reply:
        offset = int(seen.query["offset"])
        if '"38"' not in seen.query["where"]:
            return Reply(body={"total_count": 0, "results": []})
        # The announced total says 150, but the second page comes back short.
        return Reply(body={"total_count": 150, "results": records[offset : offset + (100 if offset == 0 else 20)]})

    server = serve(route)
    settings = settings_for(tmp_path, server)
    with pytest.raises(PullFailed) as failure:
        pull_annuaire(settings, policy=FAST, today=TODAY)
    assert "incomplète" in failure.value.message
    assert list_snapshots(snapshot_root(settings.data_dir), "annuaire") == []


# --- data·inclusion v1 ------------------------------------------------------------------------------------------


def di_structure(number: int) -> dict[str, object]:
    return {
        "source": "test",
        "id": f"st{number}",
        "nom": f"Mission Locale Fictive {number}",
        "date_maj": "2026-11-15",
        "code_insee": "38185",
        "commune": "Grenoble",
        "code_postal": "38000",
        "reseaux_porteurs": ["mission-locale"],
        "score_qualite": 0.5,
        "doublons": [],
    }


def di_service(number: int, structure: int) -> dict[str, object]:
    return {
        "source": "test",
        "id": f"sv{number}",
        "structure_id": f"st{structure}",
        "nom": f"Accompagnement fictif {number}",
        "description": "Un accompagnement fictif vers l'emploi pour les jeunes.",
        "date_maj": "2026-11-15",
        "zone_eligibilite": ["38"],
        "score_qualite": 0.5,
    }


def data_inclusion(structures: list[dict[str, object]], services: list[dict[str, object]]) -> Route:
    """GET /api/v1/structures|services?code_region=&page=&size= behind a bearer token, FastAPI error shapes."""

    def route(seen: Seen) -> Reply:
        if seen.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, {"detail": "Not authenticated"})
        listing = {"/api/v1/structures": structures, "/api/v1/services": services}.get(seen.path)
        if listing is None:
            return Reply(404, {"detail": "Not Found"})
        assert seen.query["code_region"] == "84"
        page, size = int(seen.query["page"]), int(seen.query["size"])
        items = listing[(page - 1) * size : page * size]
        pages = -(-len(listing) // size)
        return Reply(body={"items": items, "total": len(listing), "page": page, "size": len(items), "pages": pages})

    return route


def test_data_inclusion_pages_both_listings_and_ingest_reads_structures_with_their_services(
    tmp_path: Path, serve: Callable[[Route], FakeApi]
) -> None:
    structures = [di_structure(n) for n in range(1, 4)]
    services = [di_service(n, structure=1 + n % 3) for n in range(1, 6)]
    server = serve(data_inclusion(structures, services))
    settings = settings_for(tmp_path, server)

    report = pull_data_inclusion(settings, policy=FAST, size=2, today=TODAY)

    assert report.path.name == "data-inclusion-api_2026-12-02.json"
    assert report.records == {"structures": 3, "services": 5}
    assert [(s.path, s.query["page"]) for s in server.seen] == [
        ("/api/v1/structures", "1"),
        ("/api/v1/structures", "2"),
        ("/api/v1/services", "1"),
        ("/api/v1/services", "2"),
        ("/api/v1/services", "3"),
    ]
    loaded = load_paths(latest_snapshots(snapshot_root(settings.data_dir)))
    assert loaded.problems == []
    by_id = {s.id: s for s in loaded.structures}
    assert set(by_id) == {"data_inclusion:st1", "data_inclusion:st2", "data_inclusion:st3"}
    assert by_id["data_inclusion:st2"].network == "mission_locale"
    assert [section.heading for section in by_id["data_inclusion:st2"].offer] == [
        "Accompagnement fictif 1",
        "Accompagnement fictif 4",
    ]


def test_a_bad_token_fails_with_401_named_and_keeps_the_previous_snapshot(
    tmp_path: Path, serve: Callable[[Route], FakeApi]
) -> None:
    server = serve(data_inclusion([di_structure(1)], []))
    settings = settings_for(tmp_path, server, token="mauvais")
    root = snapshot_root(settings.data_dir)
    previous = write_snapshot(root, "data-inclusion", {"structures": [di_structure(1)]}, date(2026, 11, 30), 5)
    content = previous.read_bytes()

    with pytest.raises(PullFailed) as failure:
        pull_data_inclusion(settings, policy=FAST, today=TODAY)

    assert failure.value.message.startswith("accès refusé (HTTP 401)")
    assert "Not authenticated" in failure.value.message
    assert failure.value.url.startswith(f"{server.url}/api/v1/structures?")
    assert TOKEN not in failure.value.url and "mauvais" not in str(failure.value)
    assert len(server.seen) == 1  # a refused token is not retried
    assert_untouched(previous, content)


# --- snapshots: newest read, old ones pruned ----------------------------------------------------------------------


def test_ingest_reads_only_the_newest_snapshot_and_five_are_kept(tmp_path: Path) -> None:
    root = snapshot_root(tmp_path)
    for day in range(1, 8):
        payload = {"service": [dila_record(day, "38544")]}
        write_snapshot(root, "annuaire", payload, date(2026, 12, day), keep=5)
    (root / "annuaire" / ".annuaire-api_2026-12-08.json.x1.tmp").write_text("{", encoding="utf-8")  # a killed pull

    kept = list_snapshots(root, "annuaire")
    assert [p.name for p in kept] == [f"annuaire-api_2026-12-0{day}.json" for day in range(3, 8)]
    assert latest_snapshots(root) == [kept[-1]]

    # A snapshot named by an old manifest, or the whole snapshot folder, gives way to the newest snapshot.
    other = tmp_path / "autre.csv"
    sources = with_latest_snapshots([other, kept[0], root], root)
    assert sources == [other, kept[-1]]
    loaded = load_paths(with_latest_snapshots([root], root))
    assert [s.id for s in loaded.structures] == ["annuaire:ml-38544-0007"]


# --- the command line -----------------------------------------------------------------------------------------


def test_spro_pull_reports_in_french_and_exits_nonzero_on_failure(
    tmp_path: Path, serve: Callable[[Route], FakeApi], monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy = serve(opendatasoft([dila_record(1, "38544")]))
    broken = serve(lambda seen: Reply(500, {"error_code": "InternalError", "message": "Erreur interne"}))
    monkeypatch.setenv("SPRO_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SPRO_PULL_ATTEMPTS", "1")
    runner = CliRunner()

    monkeypatch.setenv("SPRO_ANNUAIRE_API_URL", f"{healthy.url}/api/explore/v2.1")
    done = runner.invoke(app, ["pull", "annuaire"])
    assert done.exit_code == 0, done.output
    assert "1 enregistrement(s) récupéré(s) en 12 requête(s)" in done.output
    (published,) = list_snapshots(snapshot_root(tmp_path / "var"), "annuaire")
    assert f"Instantané publié : {published}" in done.output

    monkeypatch.setenv("SPRO_ANNUAIRE_API_URL", f"{broken.url}/api/explore/v2.1")
    failed = runner.invoke(app, ["pull", "annuaire"])
    assert failed.exit_code == 1
    assert "Échec de la récupération" in failed.output and "erreur HTTP 500" in failed.output
    assert (
        f"URL : {broken.url}/api/explore/v2.1/catalog/datasets/api-lannuaire-administration/records?" in failed.output
    )
    assert f"le précédent reste en place : {published}" in failed.output

    monkeypatch.delenv("SPRO_DATA_INCLUSION_TOKEN", raising=False)
    no_token = runner.invoke(app, ["pull", "data-inclusion"])
    assert no_token.exit_code == 1
    assert "SPRO_DATA_INCLUSION_TOKEN" in no_token.output
