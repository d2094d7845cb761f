"""The editors' pages under /editeurs: my sites, a site's form, referents, the review queue, the history.

Server-rendered forms (they work with the keyboard alone and without JavaScript), each POST guarded by the
session's CSRF token; a refused field re-renders the form with a 422 and the French reason next to the field,
and nothing is written. Who may see or change what is the service's business (api/curation/service.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from api import messages
from api.curation.service import PARIS, Curation, SiteView, form_value, paris_today
from api.curation.sites import FIELDS, STATUS_LABELS, display
from api.curation.validation import Invalid
from api.editors.identity import Editor
from api.editors.session import check_csrf, csrf_token, current_editor
from api.errors import ApiError, ErrorCode
from api.routes.guide import TEMPLATES_DIR
from api.services import Services
from assistant import messages as messages_fr
from assistant.ranking import freshness
from knowledge.index import KnowledgeIndex
from knowledge.model import WEEKDAYS, Structure
from knowledge.referentials import DEPARTMENTS

SITES_SHOWN = 200
NOTICES = {
    "enregistre": messages.SAVED,
    "inchange": messages.NOTHING_CHANGED,
    "verifie": messages.VERIFIED,
    "referent-ajoute": messages.REFERENT_ADDED,
    "referent-retire": messages.REFERENT_REMOVED,
    "site-ajoute": messages.SITE_ADDED,
    "conflit": messages.CONFLICT_SETTLED,
    "signalement": messages.REPORT_DECIDED,
}
KINDS = {"contact_errone": "Contact erroné", "non_pertinent": "Pas pertinent"}
ACTIONS = {
    "correct": "Correction", "revert": "Retour à la donnée officielle", "verify": "Fiche vérifiée",
    "add_site": "Site ajouté", "update_site": "Site modifié", "add_referent": "Référent·e ajouté·e",
    "remove_referent": "Référent·e retiré·e", "fix_report": "Signalement corrigé",
    "dismiss_report": "Signalement écarté",
}
HEADINGS = {401: "Connexion nécessaire", 403: "Accès refusé", 404: "Page introuvable", 422: "Formulaire invalide"}


def long_date(value: date | datetime | None) -> str:
    """"3 décembre 2026" (a datetime is read in Paris time), as the answers write it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return messages_fr.long_date(value)


def long_datetime(value: datetime) -> str:
    local = value.astimezone(PARIS)
    return f"{long_date(local)} à {local:%H:%M}"


def freshness_text(site: Structure, index: KnowledgeIndex) -> str:
    """As the answers say it: "vérifié le 3 décembre 2026 par …" or "Service-Public.fr, à jour au …"."""
    found = freshness(site, index)
    return found.text if found is not None else "aucune date connue"


def audit_value(field: str | None, value: Any) -> str:
    if value is None:
        return ""
    if field is None:
        if isinstance(value, dict) and "referent" in value:
            return f"référent·e n° {value['referent']}"
        if isinstance(value, dict) and "report" in value:
            return f"signalement n° {value['report']}"
        if isinstance(value, dict):
            return ", ".join(str(v) for v in value.values() if v and not isinstance(v, list | dict))
        return str(value)
    return display(field, value)


def _templates() -> Jinja2Templates:
    engine = Jinja2Templates(directory=TEMPLATES_DIR)
    engine.env.filters["long_date"] = long_date
    engine.env.filters["long_datetime"] = long_datetime
    engine.env.globals.update(
        show=display, audit_value=audit_value, weekdays=WEEKDAYS, statuses=STATUS_LABELS, kinds=KINDS,
        field_labels=FIELDS, actions=ACTIONS, departments=DEPARTMENTS,
    )
    return engine


def mount_editor_pages(app: FastAPI, services: Services) -> None:
    router = APIRouter(prefix="/editeurs", include_in_schema=False)
    pages = _templates()

    def curation() -> Curation:
        return services.curation

    def render(request: Request, name: str, editor: Editor | None, status: int = 200, **context: Any) -> Response:
        context.setdefault("errors", [])
        context.setdefault("field_errors", {})
        context.setdefault("form", {})
        notice = NOTICES.get(request.query_params.get("ok", ""))
        return pages.TemplateResponse(
            request, f"editors/{name}",
            {"editor": editor, "csrf": csrf_token(request) if editor else "", "notice": notice, **context},
            status_code=status,
        )

    def error_page(request: Request, editor: Editor | None, error: ApiError, welcome: bool = False) -> Response:
        if error.status == 401 or editor is None:
            return render(request, "signin.html", None, status=200 if welcome else error.status,
                          enabled=services.settings.oidc_issuer is not None, suite=request.url.path)
        return render(request, "error.html", editor, status=error.status,
                      heading=HEADINGS.get(error.status, "Erreur"), detail=error.detail)

    async def run(
        request: Request, action: Callable[[Editor], Response], *, post: bool = False, welcome: bool = False
    ) -> Response:
        """Sign-in check, CSRF check for a form, then the action in a worker thread; ApiError → an HTML page."""
        form: dict[str, str] = {}
        if post:
            data = await request.form()
            form = {k: v for k, v in data.items() if isinstance(v, str)}
        request.state.form = form

        def guarded() -> Response:
            editor = None
            try:
                if services.settings.oidc_issuer is None:
                    raise ApiError(ErrorCode.EDITORS_DISABLED, messages.EDITORS_DISABLED)
                editor = current_editor(request, services.grants, services.settings)
                if editor is None:
                    raise ApiError(ErrorCode.EDITOR_REQUIRED, messages.EDITOR_REQUIRED)
                if post:
                    check_csrf(request, form.get("csrf"))
                return action(editor)
            except ApiError as error:
                return error_page(request, editor, error, welcome)

        return await run_in_threadpool(guarded)

    def back(path: str, notice: str) -> Response:
        return RedirectResponse(f"{path}?ok={notice}", status_code=303)

    def site_page(request: Request, editor: Editor, view: SiteView, status: int = 200,
                  invalid: Invalid | None = None, form: Mapping[str, str] | None = None) -> Response:
        values: dict[str, str] = {}
        for fv in view.fields:
            values.update(form_value(fv.field, fv.value))
        if form is not None:
            values.update({k: v for k, v in form.items() if k != "csrf"})
        errors = [{"field": invalid.field, "label": _label(invalid.field), "reason": invalid.reason}] if invalid else []
        index = services.served().runtime.index
        network = index.networks.get(view.site.network)
        return render(
            request, "site.html", editor, status=status, view=view, form=values, errors=errors,
            field_errors={invalid.field: invalid.reason} if invalid else {},
            freshness=freshness_text(view.site, index), network_name=network.name if network else view.site.network,
            today=paris_today().isoformat(),
        )

    @router.get("", response_class=HTMLResponse)
    async def home(request: Request, q: str = "", departement: str = "") -> Response:
        def action(editor: Editor) -> Response:
            department = departement if departement in DEPARTMENTS else None
            served = services.served()
            sites = curation().sites(editor, served, q[:100], department)
            withdrawn = served.runtime.index.withdrawn
            shown = [
                {"site": s, "closed": s.id in withdrawn, "freshness": freshness_text(s, served.runtime.index)}
                for s in sites[:SITES_SHOWN]
            ]
            return render(request, "home.html", editor, current="sites", shown=shown, total=len(sites), q=q[:100],
                          department=department or "", organisations=editor.organisations)

        return await run(request, action, welcome=True)

    @router.get("/sites/{structure_id}", response_class=HTMLResponse)
    async def site(request: Request, structure_id: str) -> Response:
        def action(editor: Editor) -> Response:
            return site_page(request, editor, curation().site(editor, services.served(), structure_id))

        return await run(request, action)

    @router.post("/sites/{structure_id}", response_class=HTMLResponse)
    async def save(request: Request, structure_id: str) -> Response:
        def action(editor: Editor) -> Response:
            served = services.served()
            try:
                changed = curation().save(editor, served, structure_id, request.state.form)
            except Invalid as invalid:
                view = curation().site(editor, served, structure_id)
                return site_page(request, editor, view, 422, invalid, request.state.form)
            return back(_site_path(structure_id), "enregistre" if changed else "inchange")

        return await run(request, action, post=True)

    @router.post("/sites/{structure_id}/verifier", response_class=HTMLResponse)
    async def verify(request: Request, structure_id: str) -> Response:
        def action(editor: Editor) -> Response:
            curation().verify(editor, services.served(), structure_id)
            return back(_site_path(structure_id), "verifie")

        return await run(request, action, post=True)

    @router.post("/sites/{structure_id}/conflits", response_class=HTMLResponse)
    async def settle(request: Request, structure_id: str) -> Response:
        def action(editor: Editor) -> Response:
            served = services.served()
            form = request.state.form
            try:
                choice = form.get("choice")
                if choice not in ("keep", "official"):
                    raise Invalid("choice", "choisissez de garder votre valeur ou de reprendre la valeur officielle")
                curation().settle(editor, served, structure_id, form.get("field", ""), keep=choice == "keep")
            except Invalid as invalid:
                return site_page(request, editor, curation().site(editor, served, structure_id), 422, invalid)
            return back(_site_path(structure_id), "conflit")

        return await run(request, action, post=True)

    @router.post("/sites/{structure_id}/referents", response_class=HTMLResponse)
    async def add_referent(request: Request, structure_id: str) -> Response:
        def action(editor: Editor) -> Response:
            served = services.served()
            try:
                curation().add_referent(editor, served, structure_id, request.state.form)
            except Invalid as invalid:
                view = curation().site(editor, served, structure_id)
                return site_page(request, editor, view, 422, invalid, request.state.form)
            return back(_site_path(structure_id), "referent-ajoute")

        return await run(request, action, post=True)

    @router.post("/referents/{referent_id}/retirer", response_class=HTMLResponse)
    async def remove_referent(request: Request, referent_id: int) -> Response:
        def action(editor: Editor) -> Response:
            structure_id = curation().remove_referent(editor, services.served(), referent_id)
            return back(_site_path(structure_id), "referent-retire")

        return await run(request, action, post=True)

    @router.get("/nouveau-site", response_class=HTMLResponse)
    async def new_site(request: Request) -> Response:
        def action(editor: Editor) -> Response:
            return render(request, "new_site.html", editor, current="new", networks=_networks(editor, services))

        return await run(request, action)

    @router.post("/nouveau-site", response_class=HTMLResponse)
    async def add_site(request: Request) -> Response:
        def action(editor: Editor) -> Response:
            form = request.state.form
            try:
                site_id = curation().add_site(editor, form)
            except Invalid as invalid:
                return render(
                    request, "new_site.html", editor, status=422, current="new", networks=_networks(editor, services),
                    form=form, field_errors={invalid.field: invalid.reason},
                    errors=[{"field": invalid.field, "label": _label(invalid.field), "reason": invalid.reason}],
                )
            return back(_site_path(site_id), "site-ajoute")

        return await run(request, action, post=True)

    @router.get("/file", response_class=HTMLResponse)
    async def queue(request: Request) -> Response:
        def action(editor: Editor) -> Response:
            return render(request, "queue.html", editor, current="queue",
                          queue=curation().queue(editor, services.served()))

        return await run(request, action)

    @router.post("/signalements/{feedback_id}", response_class=HTMLResponse)
    async def decide(request: Request, feedback_id: int) -> Response:
        def action(editor: Editor) -> Response:
            served = services.served()
            form = request.state.form
            try:
                curation().decide(editor, served, feedback_id, form.get("outcome", ""), form.get("reason"))
            except Invalid as invalid:
                return render(
                    request, "queue.html", editor, status=422, current="queue", queue=curation().queue(editor, served),
                    errors=[{"field": f"reason-{feedback_id}", "label": _label(invalid.field),
                             "reason": invalid.reason}],
                )
            return back("/editeurs/file", "signalement")

        return await run(request, action, post=True)

    @router.get("/historique", response_class=HTMLResponse)
    async def history(request: Request) -> Response:
        def action(editor: Editor) -> Response:
            served = services.served()
            entries = curation().history(editor, served)
            names = {s.id: s.name for s in served.runtime.index.structures.values()}
            names.update({r.id: str(r.data.get("name") or r.id) for r in curation().rooms.editor_sites()})
            return render(request, "history.html", editor, current="history", entries=entries, names=names)

        return await run(request, action)

    app.include_router(router)


def _site_path(structure_id: str) -> str:
    return f"/editeurs/sites/{quote(structure_id, safe='')}"


def _networks(editor: Editor, services: Services) -> list[tuple[str, str]]:
    networks = services.served().runtime.index.networks
    return [
        (n.id, n.name) for n in sorted(networks.values(), key=lambda n: n.name)
        if editor.is_regional_admin or n.id in editor.networks
    ]


FORM_LABELS = {
    **FIELDS, "postcode": "Code postal", "commune_insee": "Commune", "name": "Nom du site", "network": "Réseau",
    "referent_name": "Prénom et nom", "referent_role": "Fonction", "referent_phone": "Téléphone professionnel",
    "referent_email": "Courriel professionnel", "referent_topics": "À contacter pour",
    "referent_consent": "Date du consentement", "referent_agreed": "Accord de la personne", "reason": "Motif",
    "outcome": "Décision", "choice": "Choix", "field": "Champ",
    **{f"hours_{d}": f"Horaires du {d}" for d in WEEKDAYS},
}


def _label(field: str) -> str:
    return FORM_LABELS.get(field, field)
