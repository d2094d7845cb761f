"""Every French sentence the HTTP face says on its own (errors, flags); the assistant's are in assistant/messages."""

from __future__ import annotations

from datetime import datetime

NOT_FOUND = "Aucune ressource à cette adresse."
METHOD_NOT_ALLOWED = "Méthode HTTP non autorisée sur cette adresse."
INVALID_JSON = "Le corps de la requête n'est pas un JSON valide."
INVALID_BODY = "Le corps de la requête est illisible (JSON en UTF-8 attendu)."
PAYLOAD_TOO_LARGE = "Requête trop volumineuse : {limit} octets au plus."
RATE_LIMITED = "Trop de requêtes : réessayez dans {seconds} s."
INTERNAL_ERROR = "Erreur interne du service : réessayez dans un instant."
INDEX_UNAVAILABLE = "La base de connaissances n'est pas encore chargée : réessayez dans un instant."
ADMIN_DISABLED = "L'administration est désactivée : aucun jeton SPRO_ADMIN_TOKEN n'est configuré."
UNAUTHORIZED = "Jeton d'administration absent ou invalide (en-tête « Authorization: Bearer … »)."
REINDEX_RUNNING = "Une réindexation est déjà en cours : attendez qu'elle se termine."
UNKNOWN_NETWORK = "Réseau inconnu : {value}."
UNKNOWN_STRUCTURE = "Structure inconnue : {value}."
UNKNOWN_DISPOSITIF = "Dispositif inconnu : {value}."
TURN_BUSY = (
    "Une demande de ce poste est encore en cours de traitement : réessayez dans un instant, une demande à la fois."
)
JOB_STALE = "Tâche interrompue : le processus qui la menait s'est arrêté (arrêt brutal ou panne) ; relancez-la."
SOURCES_MISSING = "Source introuvable : {value} ; la version servie reste en place."
UNKNOWN_JOB = "Tâche de réindexation inconnue : {value}."
UNKNOWN_FEEDBACK = "Avis inconnu : {value}."
UNKNOWN_COMMUNE = "Commune introuvable en Auvergne-Rhône-Alpes : {value}."
AMBIGUOUS_COMMUNE = "Plusieurs communes portent ce nom ({value}) : donnez le code INSEE ou le département."
UNKNOWN_PUBLIC = "Public inconnu : {value}."
STRUCTURE_REQUIRED = "Un signalement « contact erroné » doit indiquer la structure (structure_id)."
TURN_AHEAD = "Cette conversation ne compte que {turns} tour(s)."
UNKNOWN_CONVERSATION = (
    "Conversation inconnue ou effacée : un avis ne porte que sur une réponse donnée par ce service (30 jours au plus)."
)
STRUCTURE_NOT_SHOWN = "La structure {value} n'a pas été proposée à ce tour de la conversation."

# Validation messages: the field is named, the reason is French.
FIELD_INVALID = "Champ « {field} » invalide : {reason}."
EMPTY_TEXT = "le texte est vide"
UNKNOWN_CASE_CODE = "code inconnu : ni un besoin ni une particularité du référentiel"
TEXT_TOO_LONG = "{max} caractères au plus"

# Pydantic error types -> French reasons; anything else falls back to GENERIC_REASON.
VALIDATION_REASONS: dict[str, str] = {
    "missing": "champ obligatoire",
    "string_type": "texte attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "bool_type": "booléen attendu",
    "bool_parsing": "booléen attendu",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "dict_type": "objet JSON attendu",
    "model_type": "objet JSON attendu",
    "model_attributes_type": "objet JSON attendu",
    "list_type": "liste attendue",
    "literal_error": "valeur non autorisée",
    "enum": "valeur non autorisée",
    "string_too_short": "texte trop court",
    "string_too_long": "texte trop long",
    "string_pattern_mismatch": "format non reconnu",
    "greater_than_equal": "valeur trop petite",
    "greater_than": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "less_than": "valeur trop grande",
    "extra_forbidden": "champ non prévu",
    "json_invalid": "JSON invalide",
    "string_unicode": "texte Unicode invalide",
}
GENERIC_REASON = "valeur invalide"

# "Quoi de neuf": the digest, its page and its Atom feed.
CHANGE_LABELS: dict[str, str] = {
    "added": "Nouveau",
    "removed": "Retiré",
    "rewritten": "Modifié",
    "contact_changed": "Contact modifié",
}
CHANGE_FIELD_LABELS: dict[str, str] = {
    "phone": "téléphone",
    "email": "courriel",
    "address": "adresse",
    "postcode": "code postal",
    "commune": "commune",
    "url": "site internet",
    "hours": "horaires",
}
FEED_TITLE = "Expert SPRO — Quoi de neuf"
FEED_SUBTITLE = (
    "Dispositifs, offres de service et sites du SPRO Auvergne-Rhône-Alpes ajoutés, retirés ou modifiés à chaque "
    "mise à jour de la base"
)
DIGEST_EMPTY = "Aucun changement dans la base pendant cette période."


def digest_subject(since: datetime, until: datetime, empty: bool) -> str:
    period = f"du {since:%d/%m/%Y} au {until:%d/%m/%Y}"
    return f"Expert SPRO — Quoi de neuf {period}" + (" : aucun changement" if empty else "")


def feed_entry_title(published: datetime, count: int) -> str:
    plural = "s" if count > 1 else ""
    return f"Mise à jour du {published:%d/%m/%Y} : {count} changement{plural}"


CONFIRM_SUBJECT = "Expert SPRO — confirmez votre abonnement à « Quoi de neuf »"
MAIL_UNAVAILABLE = (
    "L'envoi de courriels n'est pas configuré sur ce service : l'abonnement est impossible pour l'instant."
)
SUBSCRIPTION_PENDING = "Un courriel de confirmation a été envoyé à cette adresse : suivez son lien pour vous abonner."

# The directory's editors: sign-in through OpenID Connect, and the grants admins manage.
EDITOR_REQUIRED = "Connectez-vous comme éditeur pour accéder à cette page."
EDITORS_DISABLED = (
    "La connexion des éditeurs est désactivée : aucun fournisseur OpenID Connect n'est configuré (SPRO_OIDC_ISSUER)."
)
FORM_EXPIRED = "Formulaire expiré ou invalide : rechargez la page."
SIGNIN_FAILED = "La connexion a échoué : recommencez."
SIGNIN_EMAIL_MISSING = (
    "Le fournisseur d'identité n'a pas transmis d'adresse électronique : la connexion est impossible sans elle."
)
SIGNIN_EMAIL_UNVERIFIED = (
    "Le fournisseur d'identité n'a pas vérifié cette adresse électronique : la connexion est impossible."
)
IDENTITY_PROVIDER_UNAVAILABLE = "Le fournisseur d'identité ne répond pas : réessayez dans un instant."
SIGNIN_FAILED_TITLE = "Connexion impossible"
GRANT_EXISTS = "Ce droit d'édition existe déjà : {match} pour le réseau {network}."
UNKNOWN_GRANT = "Droit d'édition inconnu : {value}."
GRANT_MATCH_INVALID = "adresse électronique ou domaine précédé de « @ » attendu (p. ex. « @capemploi73.fr »)"
GRANT_NETWORK_UNKNOWN = "réseau inconnu (identifiant d'un réseau du SPRO, ou « * » pour un administrateur régional)"
GRANT_DEPARTMENT_UNKNOWN = "département hors d'Auvergne-Rhône-Alpes : {value}"
GRANT_REGIONAL_DEPARTMENTS = "un administrateur régional (réseau « * ») couvre toute la région, sans départements"
TEXT_TOO_SHORT = "{min} caractères au moins"
NO_ANGLE_BRACKETS = "les caractères « < » et « > » ne sont pas permis"

# --- the living directory (editors' pages) -------------------------------------------------------------------
EDITOR_FORBIDDEN = (
    "Ce site n'est pas dans votre périmètre : vous pouvez modifier les sites de votre réseau, dans vos départements."
)
UNKNOWN_REFERENT = "Référent·e inconnu·e ou déjà retiré·e."
SAVED = "Modifications enregistrées : elles apparaîtront dans les réponses d'ici une minute."
NOTHING_CHANGED = "Aucune modification : la fiche est inchangée."
VERIFIED = "Merci : la fiche est marquée « vérifiée » aujourd'hui."
REFERENT_ADDED = "Référent·e ajouté·e : la personne apparaît dès la prochaine réponse."
REFERENT_REMOVED = "Référent·e retiré·e : la personne n'apparaît plus dans les réponses."
SITE_ADDED = "Site ajouté : il apparaîtra dans les réponses d'ici une minute."
CONFLICT_SETTLED = "Conflit réglé : la fiche sera republiée d'ici une minute."
REPORT_DECIDED = "Signalement traité : il quitte la file."
