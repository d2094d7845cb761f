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
CHOOSE = "Pour préciser, choisissez ou écrivez : {options}"
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
SOURCE = "Source : {source}"
SOURCE_DATED = "Source : {source}, {as_of}"
# Which fields a source gave: "téléphone, courriel — Service-Public.fr / DILA".
FIELDS_FROM = "{fields} — {source}"
UP_TO_DAY = "à jour au {date}"
# A date on the 1st comes from data dated to the month: "à jour en 01/2026".
UP_TO_MONTH = "à jour en {month}"
UP_TO_DATE = "À jour au {date}"

# The app package (`spro teams-package`).
BOT_ID_MISSING = (
    "Renseignez SPRO_TEAMS_APP_ID (l'identifiant d'application Microsoft du bot) avant de construire le paquet."
)
BOT_ID_INVALID = "Identifiant d'application Microsoft invalide : {value} (un GUID est attendu)."
WEBSITE_INVALID = "Adresse du site invalide : {value} (une adresse https:// est attendue)."

# Words that start a new case in the same chat (compared without accents, case or punctuation).
RESET_COMMANDS = frozenset({"nouveau", "nouveau cas", "nouvelle situation", "recommencer", "reset"})
