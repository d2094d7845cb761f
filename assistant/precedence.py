"""First doors: for some kinds of case one network comes first whatever the retrieval scores say (the RQTH is
asked of the MDPH that grants it; a 16-25-year-old with no job goes to the Mission Locale first). Each rule names
the class of misreading it prevents and why; tested in tests/test_reading.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant import messages
from assistant.understanding import Case

# Needs that another network answers first, even for a young person (a business project goes to the chambers,
# studies to the CIO or the university, going abroad or volunteering to Info Jeunes, a VAE to France VAE).
OWN_FIRST_DOOR_NEEDS = frozenset(
    {"creation_entreprise", "etudes_superieures", "international", "engagement", "vae", "handicap", "droits", "bilan",
     "demarches"}
)
# "inscrit à France Travail", "FT": France Travail named, for its own services.
FRANCE_TRAVAIL_NAMES = frozenset({"ft", "pe", "france travail", "pole emploi"})
MISSION_LOCALE_NAMES = frozenset({"ml", "mission locale"})
OUT_OF_WORK = (None, "decrocheur", "demandeur_emploi")
PAPERWORK_AND_ALIKE = frozenset({"demarches", "droits", "financement", "mobilite", "logement"})


@dataclass(frozen=True)
class FirstDoor:
    """`network` comes first when `applies(case)` and the network is among those proposed."""

    name: str
    network: str
    applies: Callable[[Case], bool]
    reason: str
    why: str


def _asks_for_recognition(case: Case) -> bool:
    return "handicap" in case.needs


def _job_search_with_handicap(case: Case) -> bool:
    return "handicap" in case.flags and "emploi" in case.needs and "handicap" not in case.needs


def _business_in(sector: str) -> Callable[[Case], bool]:
    def applies(case: Case) -> bool:
        return "creation_entreprise" in case.needs and case.sector == sector

    return applies


def _paperwork_only(case: Case) -> bool:
    # Paperwork is the whole question: with a job or training need as well, those networks lead.
    return "demarches" in case.needs and not set(case.needs) - PAPERWORK_AND_ALIKE


def _victim(case: Case) -> bool:
    return "victime_violences" in case.flags


def _young_out_of_work(case: Case) -> bool:
    aged = (case.age is not None and 16 <= case.age <= 25) or (
        case.age is None and case.age_min is not None and case.age_min >= 16
        and case.age_max is not None and case.age_max <= 25
    )
    named = set(case.networks_named)
    asks_france_travail = bool(named & FRANCE_TRAVAIL_NAMES) and not named & MISSION_LOCALE_NAMES
    return (
        aged
        and case.status in OUT_OF_WORK
        and not OWN_FIRST_DOOR_NEEDS & set(case.needs)
        and not asks_france_travail
    )


# In order: the first rule that applies, and whose network is proposed, decides.
FIRST_DOORS: tuple[FirstDoor, ...] = (
    FirstDoor(
        "grants", "mdph", _asks_for_recognition, messages.FIRST_DOOR_RQTH,
        "Obtenir la RQTH, l'AAH ou une orientation se demande à la MDPH : Cap emploi ou France Travail ne "
        "l'attribuent pas.",
    ),
    FirstDoor(
        "grants", "cidff", _victim, messages.FIRST_DOOR_VIOLENCE,
        "Une personne victime de violences a d'abord besoin de ses droits et de sa sécurité ; le CIDFF les "
        "traite et accompagne aussi vers l'emploi et la formation.",
    ),
    FirstDoor(
        "grants", "cap_emploi", _job_search_with_handicap, messages.FIRST_DOOR_HANDICAP_JOB,
        "Avec une RQTH déjà obtenue, la recherche d'emploi passe par Cap emploi, pas par la MDPH qui l'a "
        "attribuée.",
    ),
    FirstDoor(
        "grants", "cma", _business_in("artisanat"), messages.FIRST_DOOR_CRAFT,
        "Un projet de création ou de reprise dans un métier de l'artisanat (plomberie, coiffure, boulangerie…) "
        "relève de la CMA ; la CCI accompagne le commerce et les services.",
    ),
    FirstDoor(
        "grants", "chambre_agriculture", _business_in("agriculture"), messages.FIRST_DOOR_FARMING,
        "Une installation agricole passe par le point accueil installation de la Chambre d'agriculture.",
    ),
    FirstDoor(
        "grants", "france_services", _paperwork_only, messages.FIRST_DOOR_PAPERWORK,
        "Quand la question est de faire ses démarches (CAF, impôts, France Travail en ligne), France services "
        "accompagne ; France Travail n'est pas le guichet des autres administrations.",
    ),
    FirstDoor(
        "first_door", "mission_locale", _young_out_of_work, messages.FIRST_DOOR_YOUTH,
        "Un jeune de 16 à 25 ans sans emploi ni formation relève d'abord de la Mission Locale, même quand le texte "
        "dit « sans emploi » ; France Travail d'abord seulement à 26 ans et plus, ou pour ses propres services.",
    ),
)


def first_door(case: Case, proposed: Sequence[str]) -> FirstDoor | None:
    """The rule that puts one of the proposed networks first for this case, if any."""
    for rule in FIRST_DOORS:
        if rule.network in proposed and rule.applies(case):
            return rule
    return None
