"""The territory guide ("qui fait quoi ?") as server-rendered pages under /annuaire, and its PDF booklet."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from pathlib import Path
from threading import Lock
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

import web
from api.deps import ServedDep, SettingsDep
from api.guide.booklet import render_pdf
from api.guide.view import (
    PUBLIC_LABELS,
    Filters,
    Place,
    build_guide,
    dispositifs_az,
    local_sites,
    need_labels,
    operated_by,
    public_labels,
    sort_key,
)
from api.runtime import Served
from knowledge.referentials import DEPARTMENTS
from knowledge.settings import Settings
from knowledge.territory import Commune

TEMPLATES_DIR = Path(web.__file__).resolve().parent / "templates"
CIRCLE_LABELS = {
    "1": "Premier cercle du SPRO",
    "2": "Deuxième cercle du SPRO",
    "3": "Troisième cercle du SPRO : structures labellisées",
    "partenaire": "Partenaires du SPRO",
}
# Booklets kept per (index version, place): a counsellor printing the same department twice waits once.
BOOKLET_CACHE_SIZE = 16
TextQuery = Annotated[str, Query(max_length=100)]


def up_to(iso: str | None) -> str:
    """As on the chat's cards: "à jour au 22/10/2019"; a day 01 marks month-precision data: "à jour en 01/2026"."""
    if not iso or len(iso) < 10:
        return ""
    year, month, day = iso[:4], iso[5:7], iso[8:10]
    return f"à jour en {month}/{year}" if day == "01" else f"à jour au {day}/{month}/{year}"


def french_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def templates() -> Jinja2Templates:
    engine = Jinja2Templates(directory=TEMPLATES_DIR)
    engine.env.filters["up_to"] = up_to
    engine.env.filters["french_date"] = french_date
    engine.env.filters["public_label"] = lambda code: PUBLIC_LABELS.get(code, code)
    engine.env.globals.update(
        circle_labels=CIRCLE_LABELS, departments=DEPARTMENTS, need_labels=need_labels(), sort_key=sort_key
    )
    return engine


def mount_guide(app: FastAPI) -> None:
    router = APIRouter(prefix="/annuaire", include_in_schema=False)
    pages = templates()
    booklets: OrderedDict[tuple[str, str], bytes] = OrderedDict()
    booklets_lock = Lock()

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return pages.TemplateResponse(request, f"guide/{name}", context, status_code=status)

    def not_found(request: Request, what: str) -> HTMLResponse:
        return page(request, "not_found.html", 404, what=what)

    def commune_place(served: Served, insee: str) -> Place | None:
        commune = served.assistant.territory.commune(insee)
        if commune is None:
            return None
        return Place(commune.department, DEPARTMENTS[commune.department], commune)

    def guide_context(served: Served, settings: Settings, place: Place, filters: Filters) -> dict[str, Any]:
        index = served.runtime.index
        guide = build_guide(
            place,
            index,
            served.assistant.directory,
            show_personal_emails=settings.show_personal_emails,
            today=date.today(),
            filters=filters,
        )
        return {
            "guide": guide,
            "filters": filters,
            "publics": public_labels(index),
            "network_names": {n.id: n.name for n in index.networks.values()},
            "shown_ids": {b.network.id for g in guide.circles for b in g.blocks},
        }

    def booklet(served: Served, settings: Settings, place: Place, request: Request) -> Response:
        key = (served.version, place.commune.insee if place.commune else place.department)
        with booklets_lock:
            pdf = booklets.get(key)
        if pdf is None:
            context = guide_context(served, settings, place, Filters())
            html = pages.get_template("guide/booklet.html").render(
                **context, today=date.today(), page_url=str(request.url).removesuffix("/livret.pdf")
            )
            pdf = render_pdf(html, str(request.base_url))
            with booklets_lock:
                booklets[key] = pdf
                while len(booklets) > BOOKLET_CACHE_SIZE:
                    booklets.popitem(last=False)
        slug = place.commune.insee if place.commune else place.department
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="qui-fait-quoi-{slug}.pdf"'},
        )

    @router.get("", response_class=HTMLResponse)
    def home(
        request: Request,
        served: ServedDep,
        departement: TextQuery = "",
        commune: TextQuery = "",
    ) -> Response:
        territory = served.assistant.territory
        if departement:
            if departement not in DEPARTMENTS:
                return not_found(request, f"le département « {departement} »")
            return RedirectResponse(f"/annuaire/{departement}", status_code=303)
        if commune:
            exact = territory.commune(commune.strip())
            resolution = territory.resolve(commune)
            found: Commune | None = exact or resolution.commune
            if found is not None and found.department in DEPARTMENTS:
                return RedirectResponse(f"/annuaire/commune/{found.insee}", status_code=303)
            if resolution.ambiguous:
                return page(request, "home.html", asked=commune, candidates=resolution.communes[:12])
            if resolution.department is not None and resolution.department in DEPARTMENTS:
                return RedirectResponse(f"/annuaire/{resolution.department}", status_code=303)
            return not_found(request, f"la commune « {commune} »")
        return page(request, "home.html", asked="", candidates=())

    @router.get("/dispositifs", response_class=HTMLResponse)
    def dispositifs(request: Request, served: ServedDep) -> Response:
        index = served.runtime.index
        sheets = dispositifs_az(index)
        letters: OrderedDict[str, list[Any]] = OrderedDict()
        for sheet in sheets:
            letters.setdefault(sort_key(sheet.title)[:1].upper(), []).append(sheet)
        return page(request, "dispositifs.html", letters=letters, networks=index.networks)

    @router.get("/dispositif/{dispositif_id}", response_class=HTMLResponse)
    def dispositif(
        request: Request, dispositif_id: str, served: ServedDep, settings: SettingsDep, departement: TextQuery = ""
    ) -> Response:
        index = served.runtime.index
        sheet = index.dispositifs.get(dispositif_id)
        if sheet is None:
            return not_found(request, "ce dispositif")
        local: list[Any] = []
        if departement in DEPARTMENTS:
            place = Place(departement, DEPARTMENTS[departement])
            for network_id in sheet.operators:
                network = index.networks[network_id]
                sites = local_sites(
                    network, place, index, served.assistant.directory, settings.show_personal_emails, date.today()
                )
                local.append((network, sites))
        return page(
            request,
            "dispositif.html",
            sheet=sheet,
            networks=index.networks,
            departement=departement if departement in DEPARTMENTS else "",
            local=local,
        )

    @router.get("/reseau/{network_id}", response_class=HTMLResponse)
    def network(request: Request, network_id: str, served: ServedDep) -> Response:
        index = served.runtime.index
        found = index.networks.get(network_id)
        if found is None:
            return not_found(request, "ce réseau")
        directory = served.assistant.directory
        return page(
            request,
            "network.html",
            network=found,
            covered=directory.departments_covered(found.id),
            sheets=operated_by(index, found.id),
            publics=public_labels(index),
        )

    @router.get("/commune/{insee}", response_class=HTMLResponse)
    def commune_guide(request: Request, insee: str, served: ServedDep, settings: SettingsDep) -> Response:
        place = commune_place(served, insee)
        if place is None:
            return not_found(request, "cette commune")
        return page(request, "place.html", **guide_context(served, settings, place, Filters()), query="")

    @router.get("/commune/{insee}/livret.pdf")
    def commune_booklet(request: Request, insee: str, served: ServedDep, settings: SettingsDep) -> Response:
        place = commune_place(served, insee)
        if place is None:
            return not_found(request, "cette commune")
        return booklet(served, settings, place, request)

    @router.get("/{department}", response_class=HTMLResponse)
    def department_guide(
        request: Request,
        department: str,
        served: ServedDep,
        settings: SettingsDep,
        q: TextQuery = "",
        public: TextQuery = "",
        besoin: TextQuery = "",
    ) -> Response:
        if department not in DEPARTMENTS:
            return not_found(request, "ce département")
        publics = public_labels(served.runtime.index)
        filters = Filters(
            text=q.strip(),
            public=public if public in publics else None,
            need=besoin if besoin in need_labels() else None,
        )
        kept = {k: v for k, v in (("q", filters.text), ("public", filters.public), ("besoin", filters.need)) if v}
        context = guide_context(served, settings, Place(department, DEPARTMENTS[department]), filters)
        return page(request, "place.html", **context, query=urlencode(kept))

    @router.get("/{department}/livret.pdf")
    def department_booklet(request: Request, department: str, served: ServedDep, settings: SettingsDep) -> Response:
        if department not in DEPARTMENTS:
            return not_found(request, "ce département")
        return booklet(served, settings, Place(department, DEPARTMENTS[department]), request)

    @router.get("/{rest:path}", response_class=HTMLResponse)
    def anything_else(request: Request, rest: str) -> Response:
        if rest.endswith("/") or not rest:
            # A pasted link with a trailing slash ("/annuaire/38/") shows the page it means.
            trimmed = rest.rstrip("/")
            return RedirectResponse(f"/annuaire/{trimmed}" if trimmed else "/annuaire", status_code=308)
        return not_found(request, "cette page")

    app.include_router(router)
