"""Whether a case is among the publics a sheet is for: a dispositif for 16-25-year-olds does not explain a card
shown for a 26-year-old, nor does a refugees' programme for someone who is not one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from assistant.understanding import Case

Fit = Literal["yes", "no", "unknown"]

EMPLOYED = frozenset({"salarie", "cadre", "independant", "agriculteur", "fonctionnaire"})
PUPILS = frozenset({"collegien", "lyceen"})
# Above this age a "jeunes" public no longer fits (up to 29 with a disability: CEJ, Mission Locale, apprenticeship).
YOUTH_LIMIT = 25
YOUTH_LIMIT_HANDICAP = 29
SENIOR_AGE = 45


def _status(yes: frozenset[str], no: frozenset[str]) -> Callable[[Case], Fit]:
    """A public said by the status: unknown while the status is."""

    def fit(case: Case) -> Fit:
        if case.status in yes or (case.status is None and case.former_status in yes):
            return "yes"
        return "no" if case.status in no else "unknown"

    return fit


def _flag(*flags: str) -> Callable[[Case], Fit]:
    """A public said by a situation the counsellor would have mentioned (a refugee, the RSA, a QPV)."""

    def fit(case: Case) -> Fit:
        return "yes" if set(flags) & {*case.flags, *case.needs} else "no"

    return fit


def _young(case: Case) -> Fit:
    limit = YOUTH_LIMIT_HANDICAP if "handicap" in case.flags else YOUTH_LIMIT
    if case.age is not None:
        return "yes" if case.age <= limit else "no"
    if case.age_min is not None and case.age_min > limit:
        return "no"
    return "yes" if case.age_max is not None and case.age_max <= limit else "unknown"


def _senior(case: Case) -> Fit:
    if "senior" in case.flags or (case.age is not None and case.age >= SENIOR_AGE):
        return "yes"
    return "no" if case.age is not None or (case.age_max is not None and case.age_max < SENIOR_AGE) else "unknown"


def _school_leaver(case: Case) -> Fit:
    if _young(case) == "no":
        return "no"
    return _status(frozenset({"decrocheur"}), PUPILS | EMPLOYED | {"etudiant"})(case)


FITS: dict[str, Callable[[Case], Fit]] = {
    "jeunes": _young,
    "seniors": _senior,
    "decrocheurs": _school_leaver,
    "demandeurs-emploi": _status(frozenset({"demandeur_emploi"}), PUPILS | EMPLOYED | {"etudiant"}),
    "salaries": _status(EMPLOYED, PUPILS | {"demandeur_emploi", "etudiant", "decrocheur"}),
    "actifs": _status(EMPLOYED | {"demandeur_emploi"}, PUPILS | {"etudiant"}),
    "etudiants": _status(frozenset({"etudiant"}), frozenset({"collegien", "demandeur_emploi", *EMPLOYED})),
    "eleves": _status(PUPILS, frozenset({"etudiant", "demandeur_emploi", "decrocheur", *EMPLOYED})),
    "cadres": _status(frozenset({"cadre"}), PUPILS | {"decrocheur", "etudiant", "salarie", "independant"}),
    "independants": _status(frozenset({"independant", "agriculteur"}), PUPILS | {"etudiant", "salarie", "cadre"}),
    "agriculteurs": _status(frozenset({"agriculteur"}), PUPILS | {"etudiant", "cadre"}),
    "personnes-en-situation-de-handicap": _flag("handicap"),
    "personnes-exilees": _flag("refugie", "mna"),
    "beneficiaires-des-minimas-sociaux": _flag("rsa"),
    "residents-qpv-frr": _flag("qpv"),
    "personnes-en-situation-juridique-specifique": _flag("sortie_ase", "mna", "refugie"),
    "personnes-en-situation-durgence": _flag("victime_violences", "logement"),
}


# Publics that define a sheet when it lists one of them first (the sheets list their main public first): the
# case must then be among them (a refugees' programme for a refugee, the RQTH for people with a disability);
# listed further down ("demandeurs-emploi, jeunes, …, personnes-en-situation-de-handicap"), they are one public
# among others.
DEFINING = frozenset({
    "personnes-en-situation-de-handicap", "personnes-exilees", "beneficiaires-des-minimas-sociaux",
    "residents-qpv-frr", "personnes-en-situation-juridique-specifique", "personnes-en-situation-durgence",
})
# Publics of adults: a sheet that lists "jeunes" first and names none of these is for young people only (the AIJ,
# the CEJ, the E2C's parcours).
ADULTS = frozenset({"salaries", "actifs", "seniors", "cadres", "independants", "agriculteurs", "tous-publics"})
STATUSES = frozenset({"demandeurs-emploi", "salaries", "actifs", "etudiants", "eleves", "cadres", "independants",
                      "agriculteurs", "decrocheurs"})


def fits(publics: Iterable[str], case: Case) -> bool:
    """Whether the case can be among a sheet's publics: a defining public it has, the age of a youth-only
    sheet, one of the statuses it names; what the case does not say is given the benefit of the doubt."""
    listed = list(publics)
    named = set(listed)
    if not named or "tous-publics" in named:
        return True
    defining = named & DEFINING
    if listed[0] in DEFINING and not any(FITS[p](case) == "yes" for p in defining):
        return False
    if listed[0] == "jeunes" and not named & ADULTS and _young(case) == "no":
        return False
    statuses = named & STATUSES
    return not statuses or any(FITS[p](case) != "no" for p in statuses)
