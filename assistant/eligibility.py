"""Hard rules that keep, demote or exclude a network for a case, each with a reason a person can read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assistant import messages
from assistant.understanding import Case

PUPIL_STATUSES = ("collegien", "lyceen")
EMPLOYED_STATUSES = ("salarie", "cadre", "independant", "agriculteur", "fonctionnaire")


@dataclass(frozen=True)
class Verdict:
    """factor 0 excludes the network, below 1 demotes it, above 1 promotes it; reasons explain it."""

    factor: float
    reasons: tuple[str, ...] = ()

    @property
    def excluded(self) -> bool:
        return self.factor == 0.0


def _age_range(case: Case, low: int, high: int, label: str, *, extended: int | None = None) -> Verdict:
    """An age condition: exclusion when the age is known and outside, a question mark when unknown."""
    if case.age is not None:
        if low <= case.age <= high:
            return Verdict(1.1, (messages.age_ok(label, case.age),))
        if extended is not None and "handicap" in case.flags and high < case.age <= extended:
            return Verdict(0.8, (messages.age_extended(label, case.age, extended),))
        return Verdict(0.0, (messages.age_no(label, case.age),))
    if case.age_max is not None and case.age_max < low:
        return Verdict(0.0, (messages.age_range_no(label),))
    if case.age_min is not None and case.age_min > (extended or high):
        return Verdict(0.0, (messages.age_range_no(label),))
    if case.age_min is not None or case.age_max is not None:
        return Verdict(1.0, (messages.age_probable(label),))
    return Verdict(0.9, (messages.age_unknown(label),))


def _mission_locale(case: Case) -> Verdict:
    verdict = _age_range(case, 16, 25, "16-25 ans", extended=29)
    # For 16-25 year olds out of school the Mission Locale is the usual first door (the PSAD coordinates).
    if not verdict.excluded and case.status in (None, "decrocheur", "demandeur_emploi") and case.youth:
        return Verdict(verdict.factor * 1.15, verdict.reasons)
    return verdict


def _e2c(case: Case) -> Verdict:
    verdict = _age_range(case, 16, 25, "16-25 ans")
    if case.status in ("etudiant", "cadre"):
        return Verdict(min(verdict.factor, 0.3), (*verdict.reasons, messages.E2C_QUALIFIED))
    if case.status == "decrocheur":
        return Verdict(verdict.factor, (*verdict.reasons, messages.NO_DIPLOMA_OK))
    return verdict


def _epide(case: Case) -> Verdict:
    verdict = _age_range(case, 17, 25, "17-25 ans")
    if case.status in ("etudiant", "cadre", "salarie"):
        return Verdict(min(verdict.factor, 0.3), verdict.reasons)
    return verdict


def _psad(case: Case) -> Verdict:
    if case.age is not None and case.age < 16:
        return Verdict(0.0, (messages.age_no("16 ans et plus", case.age),))
    if case.age is not None and case.age > 25:
        return Verdict(0.0, (messages.age_no("16-25 ans", case.age),))
    if case.status == "decrocheur":
        return Verdict(1.1, (messages.DROPOUT_OK,))
    if case.status in (*PUPIL_STATUSES, *EMPLOYED_STATUSES, "etudiant", "demandeur_emploi"):
        return Verdict(0.4, (messages.DROPOUT_ONLY,))
    return Verdict(0.8)


def _mdph(case: Case) -> Verdict:
    verdict = _handicap_required("la MDPH")(case)
    if verdict.excluded or "handicap" in case.needs:
        return verdict
    # With a handicap already mentioned and a job or training need, the MDPH is the second step (RQTH
    # application or renewal); Cap emploi or the Agefiph do the job search.
    if {"emploi", "formation", "reconversion", "apprentissage"} & set(case.needs):
        return Verdict(0.7, (*verdict.reasons, messages.MDPH_SECOND))
    return verdict


def _handicap_required(label: str) -> Callable[[Case], Verdict]:
    def rule(case: Case) -> Verdict:
        if "handicap" in case.flags or "handicap" in case.needs:
            return Verdict(1.3, (messages.HANDICAP_OK,))
        return Verdict(0.0, (messages.handicap_required(label),))

    return rule


def _apec(case: Case) -> Verdict:
    if case.status == "cadre":
        return Verdict(1.3, (messages.CADRE_OK,))
    if case.former_status == "cadre" and case.status in (None, "demandeur_emploi"):
        # The Apec's public: cadres "en poste ou en recherche d'emploi" (its sheet).
        return Verdict(1.2, (messages.FORMER_CADRE_OK,))
    if case.status in (*PUPIL_STATUSES, "decrocheur") or (case.age is not None and case.age < 20):
        return Verdict(0.0, (messages.CADRE_ONLY,))
    return Verdict(0.5, (messages.CADRE_TO_CHECK,))


def _apecita(case: Case) -> Verdict:
    verdict = _apec(case)
    if verdict.excluded:
        return verdict
    return Verdict(verdict.factor * 0.6, verdict.reasons)


def _employed(label: str) -> Callable[[Case], Verdict]:
    def rule(case: Case) -> Verdict:
        if case.status in EMPLOYED_STATUSES:
            return Verdict(1.25, (messages.employed_ok(label),))
        if case.status == "demandeur_emploi":
            return Verdict(0.0, (messages.EMPLOYED_ONLY_JOB_SEEKER,))
        if case.status in (*PUPIL_STATUSES, "decrocheur", "etudiant") or case.youth:
            return Verdict(0.0 if case.status else 0.4, (messages.EMPLOYED_ONLY,))
        return Verdict(0.8, (messages.EMPLOYED_TO_CHECK,))

    return rule


def _scuio(case: Case) -> Verdict:
    if case.status == "etudiant":
        return Verdict(1.3, (messages.STUDENT_OK,))
    if case.former_status == "etudiant":
        return Verdict(0.2, (messages.FORMER_STUDENT,))
    if case.status == "lyceen":
        return Verdict(0.6, (messages.STUDENT_FUTURE,))
    if case.status in ("collegien", "decrocheur", "demandeur_emploi", "salarie", "cadre", "independant"):
        return Verdict(0.2, (messages.STUDENT_ONLY,))
    return Verdict(0.7, (messages.STUDENT_ONLY,))


def _crous(case: Case) -> Verdict:
    if case.status == "etudiant" or "etudes_superieures" in case.needs:
        return Verdict(1.1, (messages.STUDENT_OK,))
    if case.status == "lyceen":
        return Verdict(0.6, (messages.STUDENT_FUTURE,))
    return Verdict(0.2, (messages.STUDENT_ONLY,))


def _cio(case: Case) -> Verdict:
    if case.status in (*PUPIL_STATUSES, "parent", "etudiant"):
        return Verdict(1.3, (messages.CIO_PUPILS,))
    if case.status == "decrocheur" and (case.age is None or case.age <= 18):
        return Verdict(1.0, (messages.CIO_ALL,))
    if case.age is not None and case.age > 25 or case.status in EMPLOYED_STATUSES:
        return Verdict(0.5, (messages.CIO_ALL,))
    return Verdict(1.0, (messages.CIO_ALL,))


def _youth_info(case: Case) -> Verdict:
    if case.age is not None and case.age > 30:
        return Verdict(0.3, (messages.YOUTH_INFO_AGE,))
    return Verdict(1.0)


def _adults(case: Case) -> Verdict:
    """Adult training and career services are not for pupils still at school."""
    if case.status in PUPIL_STATUSES or (case.age is not None and case.age < 16):
        return Verdict(0.2, (messages.ADULTS_ONLY,))
    return Verdict(1.0)


def _france_travail(case: Case) -> Verdict:
    if case.status == "demandeur_emploi":
        return Verdict(1.2, (messages.JOB_SEEKER_OK,))
    if case.age is not None and case.age < 16:
        return Verdict(0.0, (messages.age_no("16 ans et plus", case.age),))
    if case.status in PUPIL_STATUSES:
        return Verdict(0.3)
    if case.youth and case.age is not None and case.age <= 25:
        return Verdict(0.85, (messages.YOUNG_FIRST_ML,))
    return Verdict(1.0)


RULES: dict[str, Callable[[Case], Verdict]] = {
    "mission_locale": _mission_locale,
    "e2c": _e2c,
    "epide": _epide,
    "psad": _psad,
    "cap_emploi": _handicap_required("Cap emploi"),
    "agefiph": _handicap_required("l'Agefiph"),
    "mdph": _mdph,
    "apec": _apec,
    "apecita": _apecita,
    "cep_actifs": _employed("le CEP des actifs"),
    "transitions_pro": _employed("Transitions Pro"),
    "scuio": _scuio,
    "crous": _crous,
    "cio": _cio,
    "information_jeunesse": _youth_info,
    "france_travail": _france_travail,
    "greta": _adults,
    "mife": _adults,
    "cibc": _adults,
    "france_vae": _adults,
}


def judge(network: str, case: Case) -> Verdict:
    """The verdict of a network for a case; a network without a rule is open to all."""
    rule = RULES.get(network)
    return rule(case) if rule else Verdict(1.0)
