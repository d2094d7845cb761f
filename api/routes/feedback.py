"""Counsellors' feedback on a turn: thumbs up or down, and reports of wrong contacts."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.feedback import record_feedback
from api.routes import errors_doc
from api.schemas import FeedbackIn, FeedbackOut

router = APIRouter(prefix="/api", tags=["avis"])


@router.post(
    "/feedback",
    summary="Donner un avis sur une réponse",
    description=(
        "Pouce levé ou baissé sur un tour de conversation donné par ce service, avec un motif facultatif. Un "
        "signalement (« contact_errone », « non_pertinent ») ne porte que sur une structure proposée à ce tour ; "
        "il rejoint la file des administrateurs (`GET /api/admin/feedback`) et ne change rien à ce que voient "
        "les autres. Du motif ne sont gardés que les mots de la base de connaissances, effacés avec la "
        "conversation."
    ),
    status_code=201,
    response_model=FeedbackOut,
    responses=errors_doc(400, 404, 413, 422, 429),
)
def give_feedback(body: FeedbackIn, services: ServicesDep) -> FeedbackOut:
    item = record_feedback(
        services.store,
        services.slot.current,
        conversation_id=body.conversation_id,
        turn=body.turn,
        rating=body.rating,
        kind=body.kind,
        reason=body.reason,
        structure_id=body.structure_id,
        channel="widget",
    )
    if body.field is not None and item.kind in ("contact_errone", "non_pertinent"):
        services.curation.rooms.note_report_field(item.id, body.field)
    return FeedbackOut.from_domain(item)
