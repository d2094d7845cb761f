"""The `spro` command line: ingest, pull, ask, serve, eval."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from assistant.referral import ContactInfo, Referral
from ingest.pull.snapshots import PullReport, SnapshotKind
from knowledge.directory.coverage import CoverageRow
from knowledge.model import Network
from knowledge.settings import Settings

app = typer.Typer(help="Expert SPRO : qui fait quoi dans le SPRO Auvergne-Rhône-Alpes.", no_args_is_help=True)
console = Console()


class _RichProgress:
    """Adapts the ingest job's progress protocol to a rich progress bar."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def stage(self, name: str, total: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=self._progress.tasks[self._task].total)
        self._task = self._progress.add_task(name, total=max(total, 1) if total else 1)
        if total == 0:
            self._progress.update(self._task, completed=1)

    def advance(self, done: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, done)


@app.command()
def ingest(
    source: Annotated[
        list[Path] | None,
        typer.Option("--source", "-s", help="Fichier ou dossier de données à ajouter (répétable)"),
    ] = None,
    force: Annotated[bool, typer.Option(help="Publier une nouvelle version même si rien n'a changé")] = False,
    allow_shrink: Annotated[
        bool, typer.Option(help="Publier même si la version perd plus de 20 % des structures ou des passages")
    ] = False,
) -> None:
    """Construire l'index : base embarquée + sources données, nouvelle version publiée atomiquement."""
    from ingest.build import BuildFailed, BuildInProgress, build_index
    from ingest.pull.snapshots import snapshot_root, with_latest_snapshots
    from ingest.sources.corrections import corrections_file
    from knowledge.embedding import configured_encoder

    settings = Settings()
    _configure_logging()
    # The newest complete snapshot of each pulled API (`spro pull`) is read like any other source.
    sources = with_latest_snapshots([*settings.sources, *(source or [])], snapshot_root(settings.data_dir))
    missing = [str(p) for p in sources if not p.exists()]
    if missing:
        console.print(f"[red]Source introuvable : {', '.join(missing)}[/red]")
        raise typer.Exit(2)
    encoder = configured_encoder(settings.encoder, settings.encoder_threads, settings.first_stage)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            report = build_index(
                settings.index_dir, encoder, sources, progress=_RichProgress(bar), force=force,
                allow_shrink=allow_shrink, corrections=corrections_file(settings.data_dir),
            )
    except (BuildInProgress, BuildFailed) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc

    table = Table(title="Enregistrements par réseau")
    table.add_column("Réseau")
    table.add_column("Nombre", justify="right")
    for network, count in report.records_per_network.items():
        table.add_row(network, str(count))
    console.print(table)
    departments = Table(title="Structures par département")
    departments.add_column("Département")
    departments.add_column("Structures", justify="right")
    for department, count in report.records_per_department.items():
        departments.add_row(department, str(count))
    console.print(departments)
    for problem in report.problems:
        console.print(f"[yellow]ignoré[/yellow] {problem}")
    state = "inchangé (rien à recalculer)" if report.unchanged else f"version {report.version} publiée"
    first_stage = (
        f" ; premier étage {report.first_stage} : {report.first_stage_embedded} calculés, "
        f"{report.first_stage_shipped} livrés avec la base"
        if report.first_stage is not None else ""
    )
    console.print(
        f"Index {state} : {report.networks} réseaux, {report.dispositifs} dispositifs, "
        f"{report.structures} structures, {report.documents} documents ; {report.chunks} passages "
        f"({report.embedded} calculés, {report.shipped} livrés avec la base, {report.reused} repris du cache"
        f"{first_stage}) ; {len(report.problems)} problème(s) ; {report.seconds:.1f} s."
    )


@app.command()
def ask(
    message: Annotated[str | None, typer.Argument(help="Le cas, en une phrase")] = None,
    interactive: Annotated[bool, typer.Option("--interactive", "-i", help="Discuter tour après tour")] = False,
) -> None:
    """Poser un cas à l'expert SPRO et afficher l'orientation proposée."""
    from api.runtime import load_runtime
    from assistant.dialogue import MemoryStore
    from knowledge.index import IndexRefused

    if message is None and not interactive:
        console.print("[red]Donnez un cas, ou utilisez --interactive.[/red]")
        raise typer.Exit(2)
    try:
        runtime = load_runtime(Settings())
    except IndexRefused as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    assistant = runtime.assistant(MemoryStore())
    conversation: str | None = None
    pending = message
    while True:
        if pending is None:
            try:
                pending = console.input("[bold]Vous >[/bold] ").strip()
            except (EOFError, KeyboardInterrupt):
                return
            if pending in ("", "q", "quitter", "exit"):
                return
        referral = assistant.turn(pending, conversation)
        conversation = referral.conversation_id
        _print_referral(referral)
        pending = None
        if not interactive:
            return


def _print_referral(referral: Referral) -> None:
    console.print(f"[bold]Expert SPRO >[/bold] {referral.reply}")
    if referral.clarification:
        options = " · ".join(referral.clarification.options[:12])
        console.print(f"[cyan]{referral.clarification.question}[/cyan] {options}")
    if not referral.structures:
        return
    table = Table(show_lines=True)
    for column in ("#", "Structure", "Pourquoi", "Contacts", "Sources"):
        table.add_column(column)
    for rank, structure in enumerate(referral.structures, start=1):
        contacts = "\n".join(_contact_cell(c) for c in structure.contacts)
        sources = "\n".join(f"{e.source_title}" + (f" ({e.url})" if e.url else "") for e in structure.excerpts[:2])
        table.add_row(
            str(rank),
            f"{structure.name}\n[dim]{structure.network} · {structure.score:.2f}[/dim]",
            "\n".join(structure.reasons),
            contacts or "[dim]—[/dim]",
            sources,
        )
    console.print(table)


def _contact_cell(contact: ContactInfo) -> str:
    """Numbers with their tariff, hours on one line, where each field comes from and when, « à vérifier »."""
    from rich.markup import escape

    from api.teams.cards import provenance_text

    phone = f"{contact.phone} ({contact.phone_note})" if contact.phone and contact.phone_note else contact.phone
    lines = [escape(" · ".join(p for p in (phone, contact.email, contact.address, contact.url) if p))]
    if contact.kind == "national":  # never to be taken for a local site
        lines.insert(0, f"[bold]{escape(contact.label)}[/bold]")
    if contact.hours:
        lines.append(escape("Horaires : " + " ; ".join(contact.hours)))
    lines.append(f"[dim]{escape(provenance_text(contact))}[/dim]")
    if contact.stale:
        lines.append("[yellow]À vérifier : donnée de plus de deux ans[/yellow]")
    return "\n".join(lines)


@app.command()
def coverage(
    network: Annotated[str | None, typer.Option(help="Un seul réseau (identifiant : mission_locale, cio…)")] = None,
    department: Annotated[str | None, typer.Option(help="Un seul département (01, 38…)")] = None,
    markdown: Annotated[bool, typer.Option(help="Tableau Markdown par réseau (pour le README)")] = False,
) -> None:
    """Les trous de l'annuaire : sites, fraîcheur, téléphone, courriel, horaires, contacts « à vérifier »."""
    from datetime import date

    from knowledge.directory.coverage import coverage as coverage_rows
    from knowledge.embedding import load_encoder
    from knowledge.index import IndexRefused, load_latest
    from knowledge.referentials import DEPARTMENTS

    settings = Settings()
    try:
        # The encoder is only named (its weights are not loaded): the served version must match it.
        index, _ = load_latest(settings.index_dir, load_encoder(settings.encoder).name)
    except IndexRefused as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    networks = [network] if network else sorted(index.networks)
    if network and network not in index.networks:
        console.print(f"[red]Réseau inconnu : {network}[/red]")
        raise typer.Exit(2)
    if department and department not in DEPARTMENTS:
        console.print(f"[red]Département hors Auvergne-Rhône-Alpes : {department}[/red]")
        raise typer.Exit(2)
    departments = [department] if department else sorted(DEPARTMENTS)
    rows = coverage_rows(index.records.structures, networks, departments, date.today())
    if markdown:
        print(_coverage_markdown(rows, index.networks, len(departments)))
        return
    table = Table(title="Couverture de l'annuaire (sites qui reçoivent du public)")
    for column in ("Réseau", "Dépt", "Sites", "Plus récent", "Tél.", "Courriel", "Horaires", "À vérifier"):
        table.add_column(column, justify="left" if column in ("Réseau", "Dépt") else "right")
    for row in rows:
        if row.department == "" and (department or len(departments) == 1):
            continue
        label = index.networks[row.network].short_name
        if row.hole:
            table.add_row(label, row.department or "région", "[red]0 : trou[/red]", "—", "—", "—", "—", "—")
            continue
        table.add_row(
            label,
            row.department or "[bold]région[/bold]",
            str(row.sites),
            f"{row.freshest:%d/%m/%Y}" if row.freshest else "—",
            _percent(row.share(row.with_phone)),
            _percent(row.share(row.with_email)),
            _percent(row.share(row.with_hours)),
            f"[yellow]{row.stale}[/yellow]" if row.stale else "0",
        )
    console.print(table)


def _coverage_markdown(rows: list[CoverageRow], networks: dict[str, Network], departments: int) -> str:
    lines = [
        "| réseau | sites | départements couverts | plus récent | tél. | courriel | horaires | à vérifier (> 2 ans) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in (r for r in rows if r.department == ""):
        covered = sum(1 for r in rows if r.network == row.network and r.department and not r.hole)
        freshest = f"{row.freshest:%m/%Y}" if row.freshest else "—"
        lines.append(
            f"| {networks[row.network].short_name} | {row.sites} | {covered}/{departments} | {freshest} | "
            f"{_percent(row.share(row.with_phone))} | {_percent(row.share(row.with_email))} | "
            f"{_percent(row.share(row.with_hours))} | {row.stale} |"
        )
    return "\n".join(lines)


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


@app.command("eval")
def evaluate(
    cases: Annotated[Path, typer.Option(help="Fichier YAML du jeu de référence")] = Path("tests/golden/cases.yaml"),
    show_failures: Annotated[
        bool, typer.Option("--failures", help="Lister les cas manqués de la partie dev (jamais ceux du held-out)")
    ] = False,
) -> None:
    """Mesurer la qualité sur le jeu de référence (dev et held-out séparés)."""
    import yaml

    from api.runtime import load_runtime
    from assistant.dialogue import MemoryStore
    from assistant.evaluation import GoldenCase, latency_summary, run_case, score

    runtime = load_runtime(Settings())
    assistant = runtime.assistant(MemoryStore())
    golden = [GoldenCase.from_dict(c) for c in yaml.safe_load(cases.read_text(encoding="utf-8"))]
    assistant.turn("échauffement : jeune de 18 ans à Lyon")  # the first call pays one-off costs
    results = [run_case(case, assistant.turn) for case in golden]
    table = Table(title=f"Jeu de référence : {len(golden)} cas")
    columns = ("Partie", "Cas", "hit@1", "hit@3", "MRR", "Territoire", "Clarification", "Refus",
               "Hors sujet refusé", "Refus à tort", "Réseaux interdits évités", "Interdit en premier", "Contact local",
               "Contact local (réseaux en données ouvertes)")
    for column in columns:
        table.add_column(column, justify="right")
    open_data = frozenset(runtime.assistant(MemoryStore()).directory.networks())
    groups = {"dev": [r for r in results if r.case.split == "dev"],
              "held-out": [r for r in results if r.case.split != "dev"], "tout": results}
    for name, group in groups.items():
        s = score(group, open_data)
        table.add_row(
            name, str(s.cases),
            *(_pct(v) for v in (s.hit_at_1, s.hit_at_3, s.mrr, s.territory, s.clarification, s.refusal,
                                s.off_topic_refused)),
            str(s.false_refusals),
            _pct(s.forbidden),
            str(s.forbidden_first),
            *(_pct(v) for v in (s.local_contact, s.local_contact_open_data)),
        )
    console.print(table)
    latency = latency_summary(results)
    console.print(f"Latence d'un tour (encodage compris) : médiane {latency['p50_ms']:.0f} ms, "
                  f"p95 {latency['p95_ms']:.0f} ms")
    if show_failures:
        # Held-out failures stay hidden: looking at them would turn the held-out part into tuning data.
        dev = score(groups["dev"])
        for failure in dev.failures:
            console.print(f"[yellow]{failure}[/yellow]")
        for late in dev.not_first:
            console.print(f"[cyan]pas en premier : {late}[/cyan]")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Nombre de processus")] = 1,
    build_if_missing: Annotated[
        bool, typer.Option("--build-if-missing", help="Construire l'index d'abord s'il n'en existe aucun de valide")
    ] = False,
    source: Annotated[
        list[Path] | None,
        typer.Option("--source", "-s", help="Fichier ou dossier de données à ajouter (répétable)"),
    ] = None,
) -> None:
    """Servir l'API HTTP et le widget (uvicorn)."""
    from rich.markup import escape

    from api.server import serve as run_server
    from api.store import Store, StoreUnreadable

    settings = Settings()
    missing = [str(p) for p in (source or []) if not p.exists()]
    if missing:
        console.print(f"[red]Source introuvable : {', '.join(missing)}[/red]")
        raise typer.Exit(2)
    store = Store(settings.store_url, conversation_ttl=settings.conversation_ttl)
    try:
        store.create_schema()  # before any worker starts: a damaged store is said plainly, once
    except StoreUnreadable as exc:
        console.print(f"[red]{escape(str(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    finally:
        store.dispose()

    def build() -> None:
        ingest(source=source, force=False)

    run_server(
        settings,
        host=host,
        port=port,
        workers=workers,
        extra_sources=source or [],
        build=build if build_if_missing else None,
    )


@app.command()
def digest(
    since: Annotated[datetime, typer.Option("--since", help="Début de la période (AAAA-MM-JJ)", formats=["%Y-%m-%d"])],
    until: Annotated[
        datetime | None, typer.Option("--until", help="Fin de la période, exclue (défaut : maintenant)",
                                      formats=["%Y-%m-%d"])
    ] = None,
    department: Annotated[
        list[str] | None, typer.Option("--department", "-d", help="Département des sites retenus (répétable)")
    ] = None,
    network: Annotated[list[str] | None, typer.Option("--network", "-n", help="Réseau retenu (répétable)")] = None,
    html: Annotated[bool, typer.Option("--html", help="Écrire la version HTML plutôt que le texte")] = False,
    send: Annotated[
        bool, typer.Option("--send", help="Envoyer par SMTP aux abonnés confirmés et à SPRO_DIGEST_RECIPIENTS "
                                          "(ou seulement à --to)")
    ] = False,
    to: Annotated[list[str] | None, typer.Option("--to", help="Destinataire (répétable)")] = None,
) -> None:
    """« Quoi de neuf » : les changements de la base sur une période, par réseau et par département."""
    from api.digest import Outgoing, deliver, render, unsubscribe_url
    from api.store import Store
    from api.subscriptions import Subscriptions
    from knowledge.changes import digest as period_digest
    from knowledge.changes import read_changes
    from knowledge.index import Records, current_dir
    from knowledge.referentials import DEPARTMENTS, NETWORK_IDS

    settings = Settings()
    unknown = [d for d in department or [] if d not in DEPARTMENTS] + [n for n in network or [] if n not in NETWORK_IDS]
    if unknown:
        console.print(f"[red]Département ou réseau inconnu : {', '.join(unknown)}[/red]")
        raise typer.Exit(2)
    start = since.replace(tzinfo=UTC)
    end = until.replace(tzinfo=UTC) if until else datetime.now(UTC)
    changes = read_changes(settings.index_dir)
    period = period_digest(changes, start, end, departments=department or (), networks=network or ())
    served = current_dir(settings.index_dir)
    records = served / "records.json" if served else None
    names = {str(n.id): n.name for n in Records.from_json(records.read_text(encoding="utf-8")).networks} if (
        records is not None and records.is_file()) else {}
    rendered = render(period, names, settings.public_url)
    if not send:
        sys.stdout.write(rendered.html if html else rendered.text)
        return
    if settings.smtp_host is None:
        console.print("[red]Envoi impossible : aucun serveur SMTP (SPRO_SMTP_HOST).[/red]")
        raise typer.Exit(2)
    outgoing = [Outgoing(r, rendered) for r in (to or settings.digest_recipients)] if not period.empty else []
    if not to:
        # Each confirmed subscriber gets the digest of their own departments and networks, when not empty.
        store = Store(settings.store_url, conversation_ttl=settings.conversation_ttl)
        try:
            for subscriber in Subscriptions(store).confirmed():
                own = period_digest(changes, start, end, departments=subscriber.departments,
                                    networks=subscriber.networks)
                if not own.empty:
                    link = unsubscribe_url(settings.public_url, subscriber.token)
                    outgoing.append(Outgoing(subscriber.email, render(own, names, settings.public_url, link), link))
        finally:
            store.dispose()
    count = deliver(outgoing, settings, datetime.now(UTC)) if outgoing else 0
    console.print(f"Résumé envoyé à {count} destinataire(s)." if count else "Rien à envoyer : aucun changement "
                  "pour les destinataires pendant cette période.")


@app.command("teams-package")
def teams_package(
    output: Annotated[Path, typer.Option(help="Archive à créer")] = Path("expert-spro-teams.zip"),
    website: Annotated[
        str | None,
        typer.Option(help="Site de l'éditeur (https), repris comme pages de confidentialité et d'utilisation "
                          "(défaut : https://www.auvergnerhonealpes.fr)"),
    ] = None,
) -> None:
    """Construire le paquet d'application Teams (manifeste et icônes) à charger dans Teams."""
    from api.teams.app_package import DEFAULT_WEBSITE, PackageRefused, write_package

    settings = Settings()
    try:
        written = write_package(output, settings, website=website or DEFAULT_WEBSITE)
    except PackageRefused as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(
        f"Paquet Teams écrit : {written} (bot {settings.teams_app_id}). Chargez-le dans Teams : Applications > "
        "Gérer vos applications > Charger une application, ou via le centre d'administration Teams."
    )


pull_app = typer.Typer(
    help="Récupérer les données à jour des API officielles dans un instantané daté que `spro ingest` lit.",
    no_args_is_help=True,
)
app.add_typer(pull_app, name="pull")


@pull_app.command("annuaire")
def pull_annuaire() -> None:
    """Annuaire de l'administration (DILA, service-public.fr) : guichets des réseaux SPRO en Auvergne-Rhône-Alpes."""
    from ingest.pull.annuaire_api import pull_annuaire as run

    settings = Settings()
    _run_pull("annuaire", "Annuaire de l'administration (DILA)", settings, lambda: run(settings))


@pull_app.command("data-inclusion")
def pull_data_inclusion() -> None:
    """data·inclusion : structures et services d'Auvergne-Rhône-Alpes (jeton SPRO_DATA_INCLUSION_TOKEN)."""
    from ingest.pull.data_inclusion_api import pull_data_inclusion as run

    settings = Settings()
    _run_pull("data-inclusion", "data·inclusion", settings, lambda: run(settings))


def _run_pull(kind: SnapshotKind, title: str, settings: Settings, run: Callable[[], PullReport]) -> None:
    """One pull with its French report; exit code 1 when it fails, the previous snapshot left in place."""
    from rich.markup import escape

    from ingest.pull.client import PullFailed
    from ingest.pull.snapshots import list_snapshots, snapshot_root

    console.print(f"{title} : récupération en cours…")
    try:
        report = run()
    except PullFailed as exc:
        previous = list_snapshots(snapshot_root(settings.data_dir), kind)
        console.print(f"[red]Échec de la récupération ({title}) : {escape(exc.message)}[/red]", soft_wrap=True)
        console.print(f"URL : {escape(exc.url)}", soft_wrap=True)
        kept = f"le précédent reste en place : {previous[-1]}" if previous else "il n'y en avait pas de précédent"
        console.print(f"Aucun instantané n'a été écrit ; {kept}.", soft_wrap=True)
        raise typer.Exit(1) from exc
    counts = ", ".join(f"{label} : {count}" for label, count in report.records.items())
    console.print(
        f"{title} : {report.total} enregistrement(s) récupéré(s) en {report.requests} requête(s) ({counts}).",
        soft_wrap=True,
    )
    console.print(f"Instantané publié : {report.path} ({report.kept} conservé(s)).", soft_wrap=True)
    console.print("Lancez `spro ingest` (ou la réindexation d'administration) pour l'intégrer à l'index.")


if __name__ == "__main__":
    app()
