"""Messages that are not a case: greetings, thanks and goodbyes, and questions of amounts or law near the scope.

They get a short answer of their own instead of a referral or the refusal: "merci" is not an off-topic
question, and "c'est quoi le montant du Smic ?" is answered by an official page, not by France Travail's
sites. The conversation's case is left as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from knowledge.lexical import fold

Courtesy = Literal["greeting", "thanks", "goodbye", "thanks_goodbye"]

_GREETINGS = frozenset({"bonjour", "bonsoir", "salut", "hello", "coucou", "bjr", "hey", "re"})
_THANKS = frozenset({"merci", "mrc", "thanks", "remercie", "remerciements"})
_GOODBYES = frozenset({"revoir", "bientot", "bye", "ciao", "journee", "soiree", "weekend"})
# Words that go with those and change nothing ("merci beaucoup", "ok, bonne journée à vous").
_FILLERS = frozenset(
    """
    a au bonne bon beaucoup bien ok okay d accord super parfait top tres vous toi tous toutes et encore cool
    genial nickel c est oui madame monsieur mille fois pour tout la aide votre ton fin de plus week end
    """.split()
)
_WORD = re.compile(r"[a-z]+")


def courtesy(message: str) -> Courtesy | None:
    """What a message made only of courtesy words is; None as soon as it says anything else."""
    words = _WORD.findall(fold(message).replace("'", " ").replace("’", " "))
    if not words or any(w not in _GREETINGS | _THANKS | _GOODBYES | _FILLERS for w in words):
        return None
    thanks = any(w in _THANKS for w in words)
    goodbye = any(w in _GOODBYES for w in words) or (words[-2:] == ["a", "plus"])
    if thanks and goodbye:
        return "thanks_goodbye"
    if thanks:
        return "thanks"
    if goodbye:
        return "goodbye"
    return "greeting" if any(w in _GREETINGS for w in words) else None


@dataclass(frozen=True)
class OfficialSource:
    """Where a question of amounts or law is answered, officially and kept up to date."""

    id: str
    subject: str
    site: str
    title: str
    url: str


# Every URL below was checked to exist (pages cited by public administrations and the public web).
SMIC = OfficialSource(
    "official:smic", "le montant du Smic", "la fiche Smic de service-public.fr",
    "Smic (salaire minimum de croissance) — Service-Public.fr", "https://www.service-public.fr/particuliers/vosdroits/F2300",
)
RSA = OfficialSource(
    "official:rsa", "le RSA (montant, conditions)", "le dossier RSA de service-public.fr",
    "Revenu de solidarité active (RSA) — Service-Public.fr", "https://www.service-public.fr/particuliers/vosdroits/N19775",
)
UNEMPLOYMENT = OfficialSource(
    "official:chomage", "les allocations chômage", "le dossier « Allocations chômage » de service-public.fr",
    "Allocations chômage — Service-Public.fr", "https://www.service-public.fr/particuliers/vosdroits/N549",
)
LABOUR_LAW = OfficialSource(
    "official:code-travail", "une question de droit du travail", "le Code du travail numérique du ministère du Travail",
    "Code du travail numérique — ministère du Travail", "https://code.travail.gouv.fr/",
)

# (words of the topic, whether the topic alone is a question of law, its source); folded forms.
_TOPICS: tuple[tuple[tuple[str, ...], bool, OfficialSource], ...] = (
    (("smic", "salaire minimum"), False, SMIC),
    (("rsa", "revenu de solidarite active"), False, RSA),
    (("chomage", "are", "allocation chomage", "allocations chomage", "indemnisation"), False, UNEMPLOYMENT),
    (
        (
            "code du travail", "droit du travail", "preavis", "conges payes", "rupture conventionnelle",
            "heures supplementaires", "heures sup", "periode d essai", "indemnite de licenciement",
            "indemnites de licenciement", "convention collective", "duree legale",
        ),
        True,
        LABOUR_LAW,
    ),
)
# Words that ask for an amount, a rate or a rule, not for someone to receive the person.
_ASKS = (
    "montant", "combien", "taux", "bareme", "calcul", "calculer", "c est quoi", "quel est", "quelle est",
    "touche", "toucher", "percevoir", "brut", "net", "loi", "legal", "legale", "article", "que dit", "a t on droit",
)


def near_scope(message: str) -> OfficialSource | None:
    """The official source of a question of amounts or law ("montant du RSA", "préavis de démission")."""
    words = " " + " ".join(_WORD.findall(fold(message).replace("'", " ").replace("’", " "))) + " "
    asks = any(f" {cue} " in words for cue in _ASKS)
    for triggers, law, source in _TOPICS:
        if any(f" {t} " in words for t in triggers) and (asks or law):
            return source
    return None
