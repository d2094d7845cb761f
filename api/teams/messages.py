"""Every French sentence the Teams face says on its own; the referral itself comes from assistant/messages."""

from __future__ import annotations

# Refusals of /api/messages, in the API's error shape.
NOT_CONFIGURED = "Le bot Teams n'est pas configuré sur ce serveur (identifiants d'application Microsoft absents)."
UNAUTHORIZED = "Jeton Bot Framework absent ou invalide : seul le service Microsoft Teams peut appeler cette adresse."

# Said in the conversation.
EMPTY_MESSAGE = "Décrivez la situation de la personne (âge, situation, besoin, commune) et je propose les structures."
TOO_LONG = "Message trop long : {max} caractères au plus. Résumez la situation en quelques phrases."
NEW_CASE = "C'est noté, je repars de zéro. Décrivez la situation de la nouvelle personne."
INDEX_UNAVAILABLE = "La base de connaissances n'est pas encore chargée : réessayez dans un instant."
MORE_STRUCTURES = "… et {count} autre(s) structure(s) : précisez la situation pour affiner."
OTHER_SOURCES = "Autres sources : {markers}"

# Structure cards.
WHY = "Pourquoi"
ADDRESS = "Adresse"
PHONE = "Téléphone"
EMAIL = "Courriel"
CALL = "Appeler"
WRITE = "Écrire"
WEBSITE = "Site web"
NETWORK_WEBSITE = "Site du réseau"
NETWORK_LOCATOR = "Annuaire du réseau"
NATIONAL = "Contact national du réseau, pas un site local"
NATIONAL_PHONE = "Numéro national"
PHONE_WITH_NOTE = "{phone} ({note})"
HOURS = "Horaires"
STALE = "À vérifier : donnée de plus de deux ans"
REFERENT = "Référent·e : "
REPORT_FIELD = "Information concernée"
REPORT_FIELD_UNKNOWN = "Je ne sais pas ou autre"
# The fields a "Contact erroné" report may name, as the widget offers them (codes of api/schemas.ReportField).
REPORT_FIELDS = {
    "phone": "Téléphone",
    "email": "Courriel",
    "address": "Adresse",
    "hours": "Horaires",
    "website": "Site internet",
}
REFERENT_FOR = "pour : "
SOURCE = "Source : {source}"
SOURCE_DATED = "Source : {source}, {as_of}"
# Which fields a source gave: "téléphone, courriel — Service-Public.fr / DILA".
FIELDS_FROM = "{fields} — {source}"
UP_TO_DAY = "à jour au {date}"
# A date on the 1st comes from data dated to the month: "à jour en 01/2026".
UP_TO_MONTH = "à jour en {month}"
# A date the base gives in another form, shown as it is.
UP_TO_OTHER = "à jour : {date}"

# Per-card actions: copy the contact, report it, say the structure is off the point.
COPY = "Copier"
COPY_LABEL = "Le contact en texte brut"
COPY_HINT = (
    "Sélectionnez le texte du cadre puis copiez-le (Ctrl+A puis Ctrl+C sur ordinateur, appui long sur téléphone) "
    "pour le coller dans un courriel, un dossier ou un message."
)
REPORT_CONTACT = "Contact erroné"
REPORT_IRRELEVANT = "Pas pertinent"
REPORT_REASON = "Ce qui ne va pas (facultatif, sans nom ni coordonnées de la personne)"
REPORT_SEND = "Envoyer le signalement"
REPORT_THANKS = (
    "Merci, votre signalement « {kind} » sur {name} est transmis aux administrateurs. "
    "Rien ne change pour les autres conseillers avant leur vérification."
)
REPORT_REFUSED = "Signalement non enregistré : {detail}"

# The understood case, the question that matters most, and the correction form.
UNDERSTOOD = "Ce que j'ai compris"
AGE = "Âge"
AGE_VALUE = "{age} ans"
STATUS = "Situation"
NEEDS = "Besoins"
COMMUNE = "Commune"
DEPARTMENT = "Département"
FLAGS = "À noter"
NOTHING_UNDERSTOOD = "Rien de précis pour l'instant : décrivez l'âge, la situation, le besoin ou la commune."
# The label of the answer list, by the slot the question is about (the question itself is in the message).
CHOICE_LABELS = {
    "territory": "Commune de la personne",
    "age": "Âge de la personne",
    "status": "Situation de la personne",
    "need": "Ce que cherche la personne",
}
CHOICE_PLACEHOLDER = "Choisir…"
CHOICE_REQUIRED = "Choisissez une réponse dans la liste."
CHOICE_SEND = "Valider"
CORRECT = "Corriger la situation"
CORRECT_AGE = "Âge de la personne (en années)"
CORRECT_AGE_INVALID = "Indiquez un âge entre 0 et 120 ans."
CORRECT_STATUS = "Situation de la personne"
CORRECT_NEEDS = "Ce que cherche la personne (un ou plusieurs besoins)"
CORRECT_PLACE = "Commune (ou département) de la personne"
CORRECT_FLAGS = "Particularités comprises (décochez pour retirer)"
CORRECT_SEND = "Mettre à jour la réponse"
CORRECT_NOTHING = "Rien n'a changé dans la situation : modifiez un champ avant de mettre à jour."
# A correction is said to the assistant in the words the widget's chip editors use, which turn() reads.
SAY_AGE = "la personne a {age} ans"
SAY_STATUS = "la personne est {label}"
SAY_NEEDS_ADDED = "elle cherche aussi : {labels}"
SAY_PLACE = "à {place}"
SAY_REMOVED = "retirer de la situation : {labels}"
ACTION_UNKNOWN = "Cette action n'est plus reconnue : décrivez la situation dans un message."

# The welcome card, sent once when the app is added to a personal chat, a group chat or a team.
WELCOME_TITLE = "Bienvenue dans Expert SPRO"
WELCOME_WHAT = (
    "Je vous aide à savoir quelle structure du Service Public Régional de l'Orientation Auvergne-Rhône-Alpes "
    "peut accompagner une personne : les structures compétentes près de chez elle, pourquoi, leurs contacts "
    "officiels et les sources qui le justifient."
)
WELCOME_HOW = "Décrivez la situation en une phrase : âge, situation, besoin et commune. Par exemple :"
WELCOME_EXAMPLE = "jeune de 17 ans décrocheur à Villeurbanne"
WELCOME_PRIVACY = (
    "Je n'ai jamais besoin du nom de la personne : ne donnez ni son nom, ni son adresse, ni ses coordonnées."
)
WELCOME_RESET = "Pour passer à une autre personne, écrivez « nouveau cas » : je repars de zéro."
WELCOME_MENTION = "Dans une équipe ou une conversation de groupe, mentionnez @Expert SPRO dans votre message."

# The app package (`spro teams-package`).
BOT_ID_MISSING = (
    "Renseignez SPRO_TEAMS_APP_ID (l'identifiant d'application Microsoft du bot) avant de construire le paquet."
)
BOT_ID_INVALID = "Identifiant d'application Microsoft invalide : {value} (un GUID est attendu)."
WEBSITE_INVALID = "Adresse du site invalide : {value} (une adresse https:// est attendue)."

# Words that start a new case in the same chat (compared without accents, case or punctuation).
RESET_COMMANDS = frozenset({"nouveau", "nouveau cas", "nouvelle situation", "recommencer", "reset"})
