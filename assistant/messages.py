"""Every French sentence the assistant says."""

from __future__ import annotations

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


# Clarifications.
ASK_TERRITORY = "Dans quelle commune habite la personne ? Je pourrai donner le contact local."
ASK_AGE = "Quel âge a la personne ? Plusieurs dispositifs dépendent de l'âge."
ASK_STATUS = "Quelle est sa situation actuelle (élève, étudiant, demandeur d'emploi, salarié...) ?"
ASK_NEED = "Que cherche la personne (orientation, emploi, formation, reconversion, VAE...) ?"
AGE_OPTIONS = ["moins de 16 ans", "16-17 ans", "18-25 ans", "26-29 ans", "30-44 ans", "45 ans et plus"]
STATUS_OPTIONS = ["collégien ou lycéen", "étudiant", "sorti de l'école sans diplôme", "demandeur d'emploi", "salarié"]
NEED_OPTIONS = ["orientation", "emploi", "formation", "reconversion", "VAE", "création d'entreprise"]


def ask_homonym(name: str) -> str:
    return f"Plusieurs communes s'appellent « {name} ». Laquelle ?"


def place_option(name: str, department: str) -> str:
    return f"{name} ({department})"


# Replies.
NOTHING_FOUND = (
    "Je n'ai rien de fiable dans la base pour cette question, et je préfère ne pas inventer de structure. "
    "Elle ne semble pas relever de l'orientation, de la formation ou de l'emploi. Pour un cas d'orientation, "
    "décrivez la personne (âge, situation, besoin, commune) ; sinon, le CIO ou le point Info Jeunes le plus "
    "proche peut réorienter vers le bon interlocuteur."
)
LOW_CONFIDENCE = (
    "Je n'ai pas trouvé de réponse sûre dans la base pour ce cas. Précisez la situation (âge, statut, besoin) "
    "ou orientez vers un lieu généraliste du SPRO : CIO pour les élèves et les familles, Mission Locale pour "
    "les 16-25 ans, France Travail pour les demandeurs d'emploi, CEP pour les actifs."
)


def need_question(case_text: str) -> str:
    understood = f"J'ai noté : {case_text}. " if case_text else ""
    return understood + ASK_NEED


def describe_case(
    age: int | None, status: str | None, needs: list[str], flags: list[str], place: str | None
) -> str:
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


def referral_reply(case_text: str, names: list[str], local: bool, asked: str | None) -> str:
    understood = f"J'ai compris : {case_text}. " if case_text else ""
    if not names:
        return understood + LOW_CONFIDENCE
    first = names[0]
    others = names[1:3]
    text = f"{understood}Le premier interlocuteur est {first}"
    text += f", puis {' et '.join(others)}." if others else "."
    if asked:
        text += " Les structures ci-dessous sont celles du réseau ; " + asked[0].lower() + asked[1:]
    elif local:
        text += " Les contacts proposés sont ceux du territoire de la personne."
    return text
