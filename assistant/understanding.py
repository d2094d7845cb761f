"""From a counsellor's message to a Case: age, status, needs, flags, place; tolerant of typos and abbreviations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from assistant.lexicon import (
    ABBREVIATIONS,
    ADD_MARKERS,
    CRAFT_EXPANSION,
    CRAFT_TRADES,
    FLAG_WORDS,
    NEED_WORDS,
    NETWORK_MENTIONS,
    OUT_OF_SCOPE_WORDS,
    REPLACE_MARKERS,
    STATUS_WORDS,
)
from knowledge.lexical import fold
from knowledge.territory import Commune, Territory

_AGE = re.compile(r"(?<![\d+])(\d{1,2})\s?(?:ans|an|a|yo)\b")
# "depuis 2 ans", "il y a 3 ans", "10 ans d'expérience" are durations, not ages.
_DURATION_BEFORE = re.compile(r"(depuis|pendant|il y a|y a|plus de|moins de|durant|environ|apres|sur)\s*$")
_DURATION_AFTER = re.compile(r"^\s*(d experience|de metier|d anciennete|de carriere|de vie active|de maison|dans)")
# "elle est secrétaire depuis 15 ans": a trade held for years, said without the word "salariée".
_EMPLOYED_FOR = re.compile(r" (est|travaille comme|bosse comme|en tant que|fait) [a-z]+ depuis \d+ (ans|an|mois) ")
_TOKEN = re.compile(r"[a-z0-9+]+")


@dataclass(frozen=True)
class Case:
    """What is known of the person being helped, after one or several turns."""

    age: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    status: str | None = None
    needs: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    commune: Commune | None = None
    department: str | None = None
    place_candidates: tuple[Commune, ...] = ()
    out_of_scope: bool = False
    networks_named: tuple[str, ...] = ()

    @property
    def youth(self) -> bool:
        """Young person by age or by the words used ("jeune", "mineur"...)."""
        return (self.age is not None and self.age <= 25) or (self.age_max is not None and self.age_max <= 25)


@dataclass(frozen=True)
class Understanding:
    """One message, understood: the slots it sets, and the text left once the place is removed."""

    case: Case
    topic: str
    expansions: tuple[str, ...]
    replaces_needs: bool
    adds_needs: bool


class Reader:
    """Parses messages; built once (it indexes the trigger vocabulary for typo tolerance)."""

    def __init__(self, territory: Territory) -> None:
        self._territory = territory
        self._single_words: dict[str, tuple[str, str]] = {}
        for kind, table in (("status", STATUS_WORDS), ("need", NEED_WORDS), ("flag", FLAG_WORDS)):
            for code, words in table.items():
                for word in words:
                    if " " not in word and len(word) >= 7:
                        self._single_words.setdefault(word, (kind, code))
        self._fuzzy_vocab = list(self._single_words)

    def read(self, message: str) -> Understanding:
        folded = fold(message)
        resolution = self._territory.find(message)
        topic_folded = folded
        if resolution.matched:
            topic_folded = topic_folded.replace(fold(resolution.matched), " ")
        words = " " + " ".join(_TOKEN.findall(topic_folded.replace("'", " ").replace("’", " "))) + " "
        corrected = self._corrected(words)

        age, age_min, age_max = _age(words)
        status = _first_match(corrected, STATUS_WORDS)
        needs = _all_matches(corrected, NEED_WORDS)
        flags = _all_matches(corrected, FLAG_WORDS)
        if status is None and _EMPLOYED_FOR.search(corrected):
            status = "salarie"
        if _job_seeker_abbreviation(message):
            status = status if status not in (None, "demandeur_emploi") else "demandeur_emploi"
        if re.search(r" (th|rqth) ", corrected) and "handicap" not in flags:
            flags = (*flags, "handicap")
        if age is not None and age >= 50 and "senior" not in flags:
            flags = (*flags, "senior")
        if status is None and age is not None and age <= 15:
            status = "collegien"
        if status is None and "neet" in flags:
            status = "decrocheur"

        commune = resolution.commune
        department = resolution.department
        candidates = resolution.communes if resolution.ambiguous else ()
        expansions = tuple(
            ABBREVIATIONS[t] for t in dict.fromkeys(corrected.split()) if t in ABBREVIATIONS and t not in ("de",)
        )
        if _job_seeker_abbreviation(message):
            expansions = (*expansions, ABBREVIATIONS["de"])
        if any(f" {trade} " in corrected for trade in CRAFT_TRADES):
            expansions = (*expansions, CRAFT_EXPANSION)
        named = tuple(w for w in NETWORK_MENTIONS if f" {w} " in corrected)
        scope_words = [w for w in OUT_OF_SCOPE_WORDS if f" {w} " in corrected]
        out_of_scope = bool(scope_words) and not (needs or status or flags)
        topic = re.sub(r"\s+", " ", _strip_place_words(message, resolution.matched)).strip()
        case = Case(
            age=age,
            age_min=age_min,
            age_max=age_max,
            status=status,
            needs=needs,
            flags=tuple(dict.fromkeys(flags)),
            commune=commune,
            department=department,
            place_candidates=candidates,
            out_of_scope=out_of_scope,
            networks_named=named,
        )
        return Understanding(
            case=case,
            topic=topic,
            expansions=expansions,
            replaces_needs=any(f" {m} " in words for m in REPLACE_MARKERS),
            adds_needs=any(f" {m} " in words for m in ADD_MARKERS),
        )

    def _corrected(self, words: str) -> str:
        """Replace long misspelt words by the trigger word they are closest to ("reconvertion")."""
        out = []
        for token in words.split():
            if len(token) >= 7 and token not in self._single_words and not token.isdigit():
                best = process.extractOne(token, self._fuzzy_vocab, scorer=fuzz.ratio, score_cutoff=88)
                if best is not None:
                    out.append(best[0])
                    continue
            out.append(token)
        return " " + " ".join(out) + " "


def _age(words: str) -> tuple[int | None, int | None, int | None]:
    """Exact age when stated, else the bounds implied by "mineur", "jeune majeure", "jeune"."""
    for match in _AGE.finditer(words):
        value = int(match.group(1))
        if _DURATION_BEFORE.search(words[: match.start()]) or _DURATION_AFTER.search(words[match.end() :]):
            continue
        if 12 <= value <= 75:
            return value, value, value
    if any(w in words for w in (" mineur ", " mineure ", " mineurs ", " mna ")):
        return None, 15, 17
    if any(w in words for w in (" jeune majeur ", " jeune majeure ", " vient d avoir 18 ", " jeunes majeurs ")):
        return None, 18, 21
    if any(w in words for w in (" majeur ", " majeure ")):
        return None, 18, None
    if any(w in words for w in (" jeune ", " jeunes ", " ado ", " adolescent ", " adolescente ", " jeun ")):
        return None, 15, 25
    return None, None, None


def _first_match(words: str, table: dict[str, tuple[str, ...]]) -> str | None:
    """The code whose trigger appears first in the message (the counsellor states the status up front)."""
    best: tuple[int, int, str] | None = None
    for code, triggers in table.items():
        for trigger in triggers:
            position = words.find(f" {trigger} ")
            if position >= 0:
                key = (position, -len(trigger), code)
                if best is None or key < best:
                    best = key
    return best[2] if best else None


def _all_matches(words: str, table: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    found: list[tuple[int, str]] = []
    for code, triggers in table.items():
        positions = [words.find(f" {t} ") for t in triggers if f" {t} " in words]
        if positions:
            found.append((min(positions), code))
    return tuple(code for _, code in sorted(found))


def _job_seeker_abbreviation(message: str) -> bool:
    """"DE" / "DELD" typed in capitals is the job-seeker abbreviation; lower-case "de" is the preposition."""
    return bool(re.search(r"(?<![\w'’])(DE|DELD|DENA)(?![\w'’])", message))


def _strip_place_words(message: str, matched: str | None) -> str:
    """The message without the place: place names would pull in unrelated passages that mention them."""
    if not matched:
        return message
    cue = r"(\b(a|à|au|aux|sur|vers|secteur( de)?|pres de|près de|dans le|dans la|en)\s+)?"
    pattern = re.compile(cue + re.escape(matched), re.IGNORECASE)
    return pattern.sub(" ", message)
