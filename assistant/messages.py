"""Every French sentence the assistant says."""

from __future__ import annotations

from datetime import date

from knowledge.referentials import DEPARTMENTS, FLAG_LABELS, NEED_LABELS, STATUS_LABELS

# Eligibility reasons.
NO_DIPLOMA_OK = "Sans diplôme ni qualification : public prioritaire"
E2C_QUALIFIED = "Réservée aux jeunes sans diplôme ni qualification"
DROPOUT_OK = "Jeune sorti du système scolaire sans diplôme : c'est le public de la plateforme"
DROPOUT_ONLY = "Réservée aux jeunes sortis du système scolaire sans diplôme"
HANDICAP_OK = "Handicap reconnu ou en cours de reconnaissance : oui"
CADRE_OK = "Cadre ou jeune diplômé : oui"
CADRE_ONLY = "Réservé aux cadres et aux jeunes diplômés (bac+3 et plus)"
CADRE_TO_CHECK = "Pour les cadres et jeunes diplômés : statut à vérifier"
EMPLOYED_ONLY_JOB_SEEKER = (
    "Réservé aux actifs en emploi ; pour un demandeur d'emploi, le CEP est assuré par France Travail, "
    "l'Apec, Cap emploi ou la Mission Locale"
)
EMPLOYED_ONLY = "Réservé aux actifs en emploi"
EMPLOYED_TO_CHECK = "Pour les actifs en emploi : situation à vérifier"
STUDENT_OK = "Étudiant : oui"
STUDENT_FUTURE = "Pour les étudiants et futurs étudiants"
STUDENT_ONLY = "Réservé aux étudiants"
CIO_PUPILS = "Élèves, étudiants et familles : public premier du CIO"
CIO_ALL = "CIO : ouvert à tous les publics, gratuitement"
YOUTH_INFO_AGE = "D'abord pour les jeunes (jusqu'à 30 ans environ)"
ADULTS_ONLY = "Pour les adultes et les jeunes sortis de l'école"
JOB_SEEKER_OK = "Demandeur d'emploi : oui"
YOUNG_FIRST_ML = "Moins de 26 ans : la Mission Locale est le premier interlocuteur, France Travail en appui"
MDPH_SECOND = "La MDPH instruit la demande ou le renouvellement de la RQTH ; la recherche d'emploi se fait ailleurs"
FORMER_CADRE_OK = "Ancien cadre en recherche d'emploi : l'Apec accompagne aussi les cadres sans poste"
FORMER_STUDENT = "N'est plus étudiant : le service universitaire n'est plus le premier interlocuteur"

# First doors (assistant/precedence.py): who comes first for a kind of case, whatever the retrieval scores.
FIRST_DOOR_RQTH = "La reconnaissance du handicap (RQTH, AAH, orientation) se demande à la MDPH, qui l'attribue"
FIRST_DOOR_HANDICAP_JOB = "Recherche d'emploi avec un handicap reconnu : Cap emploi est le premier interlocuteur"
FIRST_DOOR_VIOLENCE = (
    "Victime de violences : le CIDFF d'abord (droits, mise en sécurité, accompagnement vers l'emploi ou la "
    "formation), les acteurs de l'emploi et de la formation ensuite"
)
FIRST_DOOR_YOUTH = "16-25 ans sans emploi ni formation : la Mission Locale est la première porte"
FIRST_DOOR_CRAFT = "Projet d'entreprise dans un métier de l'artisanat : la Chambre de métiers et de l'artisanat"
FIRST_DOOR_FARMING = "Projet d'installation agricole : la Chambre d'agriculture (point accueil installation)"
FIRST_DOOR_PAPERWORK = "Démarches administratives ou en ligne : France services accompagne pas à pas"


def age_ok(label: str, age: int) -> str:
    return f"{label} : oui ({age} ans)"


def age_no(label: str, age: int) -> str:
    return f"{label} : non ({age} ans)"


def age_extended(label: str, age: int, limit: int) -> str:
    return f"{label} : jusqu'à {limit} ans avec une RQTH ({age} ans)"


def age_range_no(label: str) -> str:
    return f"{label} : non (âge indiqué hors limites)"


def age_probable(label: str) -> str:
    return f"{label} : probablement (âge exact à confirmer)"


def age_unknown(label: str) -> str:
    return f"{label} : âge à vérifier"


def handicap_required(label: str) -> str:
    return f"Pour {label}, il faut un handicap reconnu (RQTH ou équivalent) : non mentionné"


def employed_ok(label: str) -> str:
    return f"Actif en emploi : oui ({label})"


# Relevance reasons.
def offer_matches(network_name: str) -> str:
    return f"Son offre de service correspond au besoin ({network_name})"


def dispositif_matches(titles: list[str]) -> str:
    return "Dispositif concerné : " + ", ".join(titles)


def site_level(level: str, place: str) -> str:
    return {
        "served": f"Structure qui dessert la commune ({place}) selon sa zone de couverture officielle",
        "commune": f"Structure de la commune ({place})",
        "epci": f"Structure de l'intercommunalité ({place})",
        "zone": f"Structure du bassin d'emploi ({place})",
        "department": f"Structure du département ({place})",
        "region": "Structure régionale",
    }[level]


def distance(km: float) -> str:
    shown = f"{km:.0f}" if km >= 10 else f"{km:.1f}".replace(".", ",")
    return f"À {shown} km à vol d'oiseau du centre de la commune"


def no_local_site(departments: list[str], locator: bool, phone: bool) -> str:
    way = {
        (True, True): " : voir l'annuaire officiel du réseau et son numéro national",
        (True, False): " : voir l'annuaire officiel du réseau",
        (False, True): " : voir le numéro national du réseau",
        (False, False): " : voir le site du réseau",
    }[(locator, phone)]
    if not departments:
        return f"Aucun site local de ce réseau dans la base{way}"
    names = ", ".join(DEPARTMENTS.get(d, d) for d in departments)
    return f"Pas de site local connu pour ce lieu (sites connus dans : {names}){way}"


def national_label(network_name: str, locator: bool, phone: bool, beside_site: bool = False) -> str:
    what = {
        (True, True): "annuaire officiel et numéro national",
        (True, False): "annuaire officiel des sites",
        (False, True): "numéro national et site officiel",
        (False, False): "site officiel du réseau",
    }[(locator, phone)]
    if beside_site:  # completes a local site that has an address but no number of its own
        return f"{network_name} — {what} (le site n'a pas de numéro propre dans la base)"
    return f"{network_name} — {what} (pas de contact local dans la base)"


# Labels of the fields of a site, in the order an answer lists them.
FIELD_LABELS: dict[str, str] = {
    "name": "nom",
    "address": "adresse",
    "phone": "téléphone",
    "email": "courriel",
    "website": "site internet",
    "hours": "horaires",
    "coordinates": "position",
    "served_area": "communes desservies",
}


def hours_line(day: str, hours: str) -> str:
    return f"{day} : {hours}"


# Clarifications. Each question asks for what its options offer; the reply never repeats it (the faces show it).
ASK_DEPARTMENT = "Dans quel département habite la personne ? Vous pouvez aussi écrire directement sa commune."
ASK_AGE = "Quel âge a la personne ? Plusieurs dispositifs dépendent de l'âge."
ASK_STATUS = "Quelle est sa situation actuelle (élève, étudiant, demandeur d'emploi, salarié...) ?"
ASK_NEED = "Que cherche la personne (orientation, emploi, formation, reconversion, VAE...) ?"
AGE_OPTIONS = ["moins de 16 ans", "16-17 ans", "18-25 ans", "26-29 ans", "30-44 ans", "45 ans et plus"]
STATUS_OPTIONS = ["collégien ou lycéen", "étudiant", "sorti de l'école sans diplôme", "demandeur d'emploi", "salarié"]
NEED_OPTIONS = ["orientation", "emploi", "formation", "reconversion", "VAE", "création d'entreprise"]


def ask_commune(department: str) -> str:
    """The next question once the department is known: its commune, the biggest towns as options."""
    return f"Dans quelle commune {_of_department(department)} habite la personne ? Le contact le plus proche en dépend."


def ask_homonym(name: str | None) -> str:
    if name is None:
        return "Plusieurs communes correspondent : laquelle ?"
    return f"Plusieurs communes correspondent à « {name} » : laquelle ?"


def place_option(name: str, department: str) -> str:
    return f"{name} ({department})"


def department_option(code: str) -> str:
    return f"{DEPARTMENTS[code]} ({code})"


_DEPARTMENT_IN = {
    "01": "dans l'Ain", "03": "dans l'Allier", "07": "en Ardèche", "15": "dans le Cantal", "26": "dans la Drôme",
    "38": "en Isère", "42": "dans la Loire", "43": "en Haute-Loire", "63": "dans le Puy-de-Dôme", "69": "dans le Rhône",
    "73": "en Savoie", "74": "en Haute-Savoie",
}
_DEPARTMENT_OF = {
    "01": "de l'Ain", "03": "de l'Allier", "07": "de l'Ardèche", "15": "du Cantal", "26": "de la Drôme",
    "38": "de l'Isère", "42": "de la Loire", "43": "de la Haute-Loire", "63": "du Puy-de-Dôme", "69": "du Rhône",
    "73": "de la Savoie", "74": "de la Haute-Savoie",
}


def _of_department(code: str) -> str:
    return _DEPARTMENT_OF.get(code, f"du département {code}")


def in_commune(name: str) -> str:
    return f"à {name}"


def in_department(code: str) -> str:
    return _DEPARTMENT_IN.get(code, f"dans le département {code}")


# Replies that are not a referral: each one sentence, each says what the assistant does.
NOTHING_FOUND = (
    "Cette question sort de mon domaine : je trouve, sans rien inventer, les structures qui reçoivent une "
    "personne pour son orientation, sa formation ou son emploi en Auvergne-Rhône-Alpes."
)
NOT_UNDERSTOOD = (
    "Je n'ai pas compris ce message : décrivez la personne (âge, situation, ce qu'elle cherche, commune) et je "
    "vous dis qui peut la recevoir."
)
GREETING = (
    "Bonjour ! Décrivez-moi la personne que vous accompagnez (âge, situation, ce qu'elle cherche, commune) : je "
    "vous dis quelles structures peuvent la recevoir."
)
THANKS = "Avec plaisir ; je reste là pour le cas suivant."
GOODBYE = "Au revoir, et bonne continuation !"
THANKS_GOODBYE = "Avec plaisir, au revoir et bonne continuation !"
LOW_CONFIDENCE = (
    "Je n'ai pas trouvé de réponse sûre dans la base pour ce cas. Précisez la situation (âge, statut, besoin) "
    "ou orientez vers un lieu généraliste du SPRO : CIO pour les élèves et les familles, Mission Locale pour "
    "les 16-25 ans, France Travail pour les demandeurs d'emploi, CEP pour les actifs."
)


def near_scope(subject: str, site: str) -> str:
    """A question of amounts or law, close to the counsellor's work but not a referral: where the answer is."""
    return (
        f"Je n'oriente que vers des structures, je ne donne pas de montants ni de règles de droit : pour {subject}, "
        f"la source officielle à jour est {site} (lien ci-dessous)."
    )


# How the reply speaks of the person: neutral forms, since the message rarely says whether it is a man or a woman.
_STATUS_PHRASES: dict[str, str] = {
    "collegien": "au collège",
    "lyceen": "au lycée",
    "etudiant": "en études supérieures",
    "decrocheur": "qui a quitté l'école sans diplôme",
    "demandeur_emploi": "en recherche d'emploi",
    "salarie": "en poste",
    "cadre": "cadre",
    "independant": "à son compte",
    "agriculteur": "qui travaille dans l'agriculture",
    "fonctionnaire": "dans la fonction publique",
    "sans_activite": "sans activité",
}
_NEED_GOALS: dict[str, str] = {
    "orientation_scolaire": "trouver sa voie",
    "reorientation": "se réorienter",
    "emploi": "trouver un emploi",
    "formation": "se former",
    "reconversion": "se reconvertir",
    "vae": "faire une VAE",
    "bilan": "faire un bilan de compétences",
    "creation_entreprise": "créer son entreprise",
    "apprentissage": "entrer en apprentissage",
    "logement": "trouver un logement",
    "mobilite": "gagner en mobilité",
    "international": "partir à l'étranger",
    "droits": "faire valoir ses droits",
    "handicap": "faire reconnaître son handicap",
    "sante": "être aidé pour sa santé",
    "financement": "financer son projet",
    "engagement": "s'engager (service civique)",
    "etudes_superieures": "poursuivre des études supérieures",
}
_FLAG_PHRASES: dict[str, str] = {
    "handicap": "avec un handicap",
    "victime_violences": "victime de violences",
    "sortie_ase": "sortant de l'ASE",
    "refugie": "avec un statut de réfugié",
    "mna": "mineur non accompagné",
    "rsa": "au RSA",
    "neet": "sans emploi ni formation",
}


def describe_case(
    age: int | None, status: str | None, needs: list[str], flags: list[str], place: str | None
) -> str:
    """The case spelt out with the referentials' labels (the query the retrieval reads, the CLI's summary)."""
    parts: list[str] = []
    if status:
        parts.append(STATUS_LABELS.get(status, status))
    if age is not None:
        parts.append(f"{age} ans")
    parts.extend(FLAG_LABELS.get(f, f) for f in flags)
    if needs:
        parts.append("besoin : " + ", ".join(NEED_LABELS.get(n, n) for n in needs))
    if place:
        parts.append(place)
    return " ; ".join(parts)


def _person(age: int | None, youth: bool, status: str | None, flags: list[str], needs: list[str]) -> str:
    """"ce jeune de 17 ans qui a quitté l'école sans diplôme et qui veut se former"."""
    if status == "parent":
        head = f"ce parent et son enfant de {age} ans" if age is not None else "ce parent"
    elif (age is not None and age <= 25) or (age is None and youth):
        head = f"ce jeune de {age} ans" if age is not None else "ce jeune"
    else:
        head = f"cette personne de {age} ans" if age is not None else "cette personne"
    details = [_STATUS_PHRASES[status]] if status in _STATUS_PHRASES else []
    details += [_FLAG_PHRASES[f] for f in flags if f in _FLAG_PHRASES][:1]
    text = " ".join([head, *details])
    goals = [_NEED_GOALS[n] for n in needs if n in _NEED_GOALS][:2]
    if goals:
        joined = " et ".join(goals)
        text += f", pour l'aider à {joined}" if status == "parent" else (
            f" et qui veut {joined}" if any(d.startswith("qui ") for d in details) else f" qui veut {joined}"
        )
    return text


def _listed(names: list[str]) -> str:
    return " et ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " et " + names[-1]


def need_question(age: int | None, youth: bool, where: str | None) -> str:
    """Someone is described but not what they need: what is noted (the question comes with its options).

    `where` is said with its preposition (in_commune, in_department).
    """
    place = f", {where}" if where else ""
    return f"C'est noté pour {_person(age, youth, None, [], [])}{place}."


def referral_reply(
    *,
    age: int | None,
    youth: bool,
    status: str | None,
    needs: list[str],
    flags: list[str],
    where: str | None,
    first: str | None,
    first_site: str | None,
    others: list[str],
) -> str:
    """What a counsellor would say of the answer, from its facts: for whom, who first, who next.

    `where` is the place with its preposition ("à Vienne", "en Isère"), `first` the first network's short name,
    `first_site` the local site that receives, when one does, `others` the next networks' short names. Nothing
    else is said: the cards carry the reasons and contacts.
    """
    if first is None:
        return LOW_CONFIDENCE
    person = _person(age, youth, status, flags, needs)
    if first_site is not None and where:
        opening = f"{where[0].upper()}{where[1:]}, pour {person}, le premier contact est : {first_site}."
    elif where:
        opening = f"Pour {person}, {where}, le premier interlocuteur est le réseau {first}."
    else:
        opening = f"Pour {person}, le premier interlocuteur est le réseau {first}."
    if not others:
        return opening
    return f"{opening} Autres interlocuteurs possibles : {_listed(others)}."


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def long_date(day: date) -> str:
    """"3 décembre 2026", "1er mars 2026"."""
    return f"{day.day}{'er' if day.day == 1 else ''} {MONTHS[day.month - 1]} {day.year}"


def verified_by(day: date, organisation: str) -> str:
    return f"vérifié le {long_date(day)} par {organisation}"


def official_as_of(day: date, producer: str) -> str:
    """A day 01 marks data dated to the month: "à jour en octobre 2019"."""
    when = f"en {MONTHS[day.month - 1]} {day.year}" if day.day == 1 else f"au {long_date(day)}"
    return f"{producer}, à jour {when}"
