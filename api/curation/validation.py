"""What an editor may write into the directory: French phone numbers, e-mails, web links, communes, plain text.

Pure functions: each takes what a form or a JSON body gave and returns the normalised value, or raises
`Invalid` with the field and a French reason. Nothing here touches a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from knowledge.model import WEEKDAYS
from knowledge.territory import Territory

TEXT_MAX = 200
OFFER_MAX = 1_500
# A digit sequence a French number can be written with: 0X XX XX XX XX, or +33 X XX XX XX XX.
_PHONE_CHARS = re.compile(r"^[0-9 .\-+()]+$")
_HOURS = re.compile(r"^[0-9hH:. \-–/àet]+$")
_MARKUP = re.compile(r"[<>]|&[a-zA-Z#][a-zA-Z0-9]*;")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_INSEE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")
_POSTCODE = re.compile(r"^[0-9]{5}$")


@dataclass(frozen=True)
class Invalid(Exception):
    """One refused field: `field` is the form's name for it, `reason` a French sentence fragment."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field} : {self.reason}"


def plain_text(field: str, value: str | None, *, required: bool = False, max_length: int = TEXT_MAX) -> str | None:
    """Trimmed text on one or several lines, without markup or control characters; None when empty."""
    text = (value or "").strip()
    if not text:
        if required:
            raise Invalid(field, "ce champ est obligatoire")
        return None
    if _MARKUP.search(text):
        raise Invalid(field, "le HTML n'est pas accepté (caractères < > ou entités)")
    if _CONTROL.search(text):
        raise Invalid(field, "caractères de contrôle refusés")
    if len(text) > max_length:
        raise Invalid(field, f"{max_length} caractères au plus")
    return re.sub(r"[ \t]+", " ", text)


def phone(field: str, value: str | None) -> str | None:
    """A French number written "04 79 60 00 00" (10 digits from 0, or +33 then 9 digits); None when empty."""
    text = (value or "").strip()
    if not text:
        return None
    if not _PHONE_CHARS.fullmatch(text):
        raise Invalid(field, "un numéro ne contient que des chiffres, des espaces, des points ou des tirets")
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+"):
        if not digits.startswith("33") or len(digits) != 11:
            raise Invalid(field, "numéro international français attendu : +33 suivi de 9 chiffres")
        digits = "0" + digits[2:]
    if len(digits) != 10 or not digits.startswith("0") or digits[1] == "0":
        raise Invalid(field, "numéro français à 10 chiffres attendu, par exemple 04 79 60 00 00")
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def email(field: str, value: str | None) -> str | None:
    """A syntactically valid e-mail address (no deliverability check: that would need the network)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise Invalid(field, "adresse électronique invalide") from None
    return checked.normalized


def web_url(field: str, value: str | None) -> str | None:
    """An http(s) link with a host; `javascript:`, `file:` or a bare word are refused."""
    text = (value or "").strip()
    if not text:
        return None
    if _CONTROL.search(text) or " " in text or _MARKUP.search(text):
        raise Invalid(field, "adresse web invalide")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise Invalid(field, "seules les adresses web en http:// ou https:// sont acceptées")
    if not parts.hostname or "." not in parts.hostname:
        raise Invalid(field, "adresse web sans nom de domaine")
    if len(text) > 500:
        raise Invalid(field, "500 caractères au plus")
    return text


def commune(field: str, value: str | None, territory: Territory, *, required: bool = False) -> str | None:
    """The INSEE code of a current commune of Auvergne-Rhône-Alpes."""
    text = (value or "").strip().upper()
    if not text:
        if required:
            raise Invalid(field, "ce champ est obligatoire")
        return None
    if not _INSEE.fullmatch(text):
        raise Invalid(field, "code INSEE à 5 caractères attendu, par exemple 73065")
    found = territory.commune(text)
    if found is None:
        raise Invalid(field, f"commune inconnue en Auvergne-Rhône-Alpes : {text}")
    return found.insee


def communes(field: str, value: str | None, territory: Territory) -> tuple[str, ...]:
    """INSEE codes separated by commas, spaces or new lines, each one checked; order kept, duplicates dropped."""
    codes = [c for c in re.split(r"[\s,;]+", (value or "").strip()) if c]
    if len(codes) > 1_000:
        raise Invalid(field, "1 000 communes au plus")
    checked = [commune(field, code, territory) for code in codes]
    return tuple(dict.fromkeys(c for c in checked if c))


def postcode(field: str, value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not _POSTCODE.fullmatch(text):
        raise Invalid(field, "code postal à 5 chiffres attendu")
    return text


def hours(field: str, values: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Opening hours per day ("09:00 - 12:00 / 13:30 - 17:00"), days in the week's order; empty days left out."""
    result: list[tuple[str, str]] = []
    unknown = set(values) - set(WEEKDAYS)
    if unknown:
        raise Invalid(field, f"jour inconnu : {sorted(unknown)[0]}")
    for day in WEEKDAYS:
        text = (values.get(day) or "").strip()
        if not text:
            continue
        if len(text) > 80 or not _HOURS.fullmatch(text):
            raise Invalid(f"{field}_{day}", "horaires attendus sous la forme 09:00 - 12:00 / 13:30 - 17:00")
        result.append((day, re.sub(r"\s+", " ", text)))
    return tuple(result)


def consent_date(field: str, value: str | None, today: date) -> date:
    """The day the referent agreed to be named: required, not in the future."""
    text = (value or "").strip()
    if not text:
        raise Invalid(field, "la date du consentement est obligatoire")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Invalid(field, "date attendue au format AAAA-MM-JJ") from None
    if day > today:
        raise Invalid(field, "la date du consentement ne peut pas être dans le futur")
    return day
