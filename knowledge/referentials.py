"""Closed vocabularies: network ids, publics, themes, statuses, needs, flags, age bands.

Publics, thematiques and reseaux porteurs reuse the data·inclusion schema (``data-inclusion-schema``);
the SPRO codes that data·inclusion lacks are our own referential and are prefixed nowhere: they are
plain snake_case ids, listed here with their French labels.
"""

from __future__ import annotations

from typing import Literal, get_args

from data_inclusion.schema.v1 import publics as di_publics
from data_inclusion.schema.v1 import reseaux_porteurs as di_reseaux
from data_inclusion.schema.v1 import thematiques as di_thematiques

NetworkId = Literal[
    # Circle 1: information and guidance for pupils, students and young people.
    "cio",
    "scuio",
    "information_jeunesse",
    # Circle 2: employment and career services.
    "mission_locale",
    "france_travail",
    "cap_emploi",
    "apec",
    "cep_actifs",
    "cci",
    "cma",
    "chambre_agriculture",
    # Circle 3: labelled structures.
    "mife",
    "cidff",
    "cibc",
    # Partners.
    "transitions_pro",
    "psad",
    "e2c",
    "epide",
    "mdph",
    "france_vae",
    "via_competences",
    # Added: networks present in the official directory that counsellors also refer to.
    "greta",
    "france_services",
    "crous",
    "agefiph",
    "apecita",
]

NETWORK_IDS: tuple[str, ...] = get_args(NetworkId)

Circle = Literal["1", "2", "3", "partenaire"]

# data·inclusion "réseau porteur" codes matching our networks (where one exists).
DATA_INCLUSION_NETWORK: dict[str, str] = {
    "mission_locale": "mission-locale",
    "france_travail": "france-travail",
    "cap_emploi": "cap-emploi-reseau-cheops",
    "cidff": "cidff",
    "e2c": "ecoles-de-la-deuxieme-chance",
    "epide": "epide",
    "mdph": "mdph",
    "france_services": "france-service",
    "agefiph": "agefiph",
    "information_jeunesse": "reseau-information-jeunesse",
    "cci": "chambres-consulaires",
    "cma": "chambres-consulaires",
    "chambre_agriculture": "chambres-consulaires",
}

PUBLIC_CODES: frozenset[str] = frozenset(p.value for p in di_publics.Public)
_DETAILED_THEMES = frozenset(t.value for t in di_thematiques.Thematique)
# data·inclusion themes are "category--detail"; the bare categories are valid codes too.
THEME_CODES: frozenset[str] = _DETAILED_THEMES | {code.split("--")[0] for code in _DETAILED_THEMES}
DI_NETWORK_CODES: frozenset[str] = frozenset(r.value for r in di_reseaux.ReseauPorteur)

# SPRO themes that data·inclusion lacks (our own referential).
SPRO_THEMES: dict[str, str] = {
    "orientation-scolaire": "Orientation scolaire",
    "decrochage": "Décrochage scolaire et obligation de formation",
    "vae": "Validation des acquis de l'expérience",
    "conseil-evolution-professionnelle": "Conseil en évolution professionnelle, reconversion",
    "bilan-competences": "Bilan de compétences",
    "apprentissage-alternance": "Apprentissage et alternance",
    "enseignement-superieur": "Études supérieures",
    "international": "Mobilité internationale",
    "droits-femmes-familles": "Droits des femmes et des familles",
    "handicap": "Handicap et compensation",
}

# Publics that data·inclusion lacks.
SPRO_PUBLICS: dict[str, str] = {
    "eleves": "Collégiens et lycéens",
    "decrocheurs": "Jeunes sortis du système scolaire sans diplôme",
    "cadres": "Cadres et jeunes diplômés",
    "salaries": "Salariés du privé et agents publics",
    "independants": "Travailleurs indépendants, artisans, commerçants",
    "agriculteurs": "Exploitants et salariés agricoles",
}

ALL_PUBLICS: frozenset[str] = PUBLIC_CODES | frozenset(SPRO_PUBLICS)
ALL_THEMES: frozenset[str] = THEME_CODES | frozenset(SPRO_THEMES)

AgeBand = Literal["moins_16", "16_18", "18_25", "26_29", "30_44", "45_plus"]

AGE_BANDS: dict[str, tuple[int, int]] = {
    "moins_16": (0, 15),
    "16_18": (16, 17),
    "18_25": (18, 25),
    "26_29": (26, 29),
    "30_44": (30, 44),
    "45_plus": (45, 120),
}


def age_band(age: int) -> str:
    """The age band an age falls in."""
    for band, (low, high) in AGE_BANDS.items():
        if low <= age <= high:
            return band
    return "45_plus"


Status = Literal[
    "collegien",
    "lyceen",
    "etudiant",
    "decrocheur",
    "demandeur_emploi",
    "salarie",
    "cadre",
    "independant",
    "agriculteur",
    "parent",
    "fonctionnaire",
    "sans_activite",
]

STATUS_LABELS: dict[str, str] = {
    "collegien": "collégien",
    "lyceen": "lycéen",
    "etudiant": "étudiant",
    "decrocheur": "jeune sorti de l'école sans diplôme",
    "demandeur_emploi": "demandeur d'emploi",
    "salarie": "salarié",
    "cadre": "cadre",
    "independant": "travailleur indépendant",
    "agriculteur": "agriculteur",
    "parent": "parent",
    "fonctionnaire": "agent public",
    "sans_activite": "sans activité",
}

Need = Literal[
    "orientation_scolaire",
    "reorientation",
    "emploi",
    "formation",
    "reconversion",
    "vae",
    "bilan",
    "creation_entreprise",
    "apprentissage",
    "logement",
    "mobilite",
    "international",
    "droits",
    "demarches",
    "handicap",
    "sante",
    "financement",
    "engagement",
    "etudes_superieures",
]

NEED_LABELS: dict[str, str] = {
    "orientation_scolaire": "orientation scolaire",
    "reorientation": "réorientation",
    "emploi": "recherche d'emploi",
    "formation": "formation",
    "reconversion": "reconversion professionnelle",
    "vae": "VAE",
    "bilan": "bilan de compétences",
    "creation_entreprise": "création d'entreprise",
    "apprentissage": "apprentissage / alternance",
    "logement": "logement",
    "mobilite": "mobilité",
    "international": "mobilité internationale",
    "droits": "accès aux droits",
    "demarches": "démarches administratives",
    "handicap": "compensation du handicap",
    "sante": "santé",
    "financement": "financement",
    "engagement": "engagement, service civique",
    "etudes_superieures": "études supérieures",
}

# The theme categories (data·inclusion or SPRO) that serve each need: a sheet about none of them is off the point.
NEED_THEMES: dict[str, frozenset[str]] = {
    "orientation_scolaire": frozenset({"orientation-scolaire", "choisir-un-metier", "decrochage"}),
    "reorientation": frozenset({"orientation-scolaire", "enseignement-superieur", "choisir-un-metier"}),
    "emploi": frozenset({"trouver-un-emploi", "preparer-sa-candidature"}),
    "formation": frozenset({"se-former", "lecture-ecriture-calcul", "decrochage"}),
    "reconversion": frozenset({"conseil-evolution-professionnelle", "choisir-un-metier", "se-former"}),
    "vae": frozenset({"vae"}),
    "bilan": frozenset({"bilan-competences", "conseil-evolution-professionnelle", "choisir-un-metier"}),
    "creation_entreprise": frozenset({"creer-une-entreprise"}),
    "apprentissage": frozenset({"apprentissage-alternance"}),
    "logement": frozenset({"logement-hebergement"}),
    "mobilite": frozenset({"mobilite"}),
    "international": frozenset({"international", "souvrir-a-linternational"}),
    "droits": frozenset(
        {"difficultes-administratives-ou-juridiques", "droits-femmes-familles", "famille", "numerique"}
    ),
    "demarches": frozenset({"difficultes-administratives-ou-juridiques", "numerique"}),
    "handicap": frozenset({"handicap", "sante"}),
    "sante": frozenset({"sante"}),
    "financement": frozenset({"difficultes-financieres", "se-former"}),
    "engagement": frozenset({"remobilisation"}),
    "etudes_superieures": frozenset({"enseignement-superieur", "orientation-scolaire"}),
}

Flag = Literal[
    "handicap",
    "victime_violences",
    "sortie_ase",
    "refugie",
    "mna",
    "qpv",
    "rsa",
    "neet",
    "femme",
    "senior",
    "licenciement",
]

FLAG_LABELS: dict[str, str] = {
    "handicap": "handicap / RQTH",
    "victime_violences": "victime de violences",
    "sortie_ase": "sortie de l'ASE",
    "refugie": "réfugié",
    "mna": "mineur non accompagné",
    "qpv": "habite un QPV",
    "rsa": "bénéficiaire du RSA",
    "neet": "ni en emploi, ni en études, ni en formation",
    "femme": "femme",
    "senior": "senior",
    "licenciement": "licenciement / rupture de contrat",
}

DEPARTMENTS: dict[str, str] = {
    "01": "Ain",
    "03": "Allier",
    "07": "Ardèche",
    "15": "Cantal",
    "26": "Drôme",
    "38": "Isère",
    "42": "Loire",
    "43": "Haute-Loire",
    "63": "Puy-de-Dôme",
    "69": "Rhône",
    "73": "Savoie",
    "74": "Haute-Savoie",
}
