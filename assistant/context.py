"""How the words around a trigger change its reading: a status left or denied, a word used in its other sense,
a business project said without the word "entreprise". Pure functions over folded text; the rules are data in
assistant/lexicon.py, each with the misreading it prevents."""

from __future__ import annotations

import re
from typing import Literal

from assistant.lexicon import CREATION_PATTERNS, CREATION_PHRASES, CUE_FILLERS, CUES, OTHER_SENSES, PAST_FORMS

Reading = Literal["current", "former", "negated"]
# How many words before a trigger a cue may stand (fillers included).
CUE_WINDOW = 4
# What replaces a word used in its other sense: no trigger matches it.
MASK = "·"

def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(map(re.escape, words))


_CUE_TOKENS: tuple[tuple[tuple[str, ...], Reading], ...] = tuple(
    sorted(
        ((tuple(phrase.split()), cue.reading) for cue in CUES for phrase in cue.words),
        key=lambda item: -len(item[0]),  # "n est plus" before "plus"
    )
)
_SENSES = tuple(
    (re.compile(rf"(?<= ){re.escape(phrase)}(?= )"), phrase, sense.word)
    for sense in OTHER_SENSES
    for phrase in sorted(sense.phrases, key=len, reverse=True)
)
_CREATION = tuple(
    re.compile(rf" (?:{_alternatives(verbs)})(?: [a-z0-9]+){{0,3}}? (?:{_alternatives(objects)}) ")
    for verbs, objects in CREATION_PATTERNS
)


def reading_at(words: str, position: int, trigger: str) -> Reading:
    """How the trigger found at `position` of `words` (" "-padded folded text) is meant."""
    if trigger in PAST_FORMS:
        return "former"
    before = words[:position].split()[-CUE_WINDOW:]
    after = words[position + len(trigger) + 2 :].split()[:1]
    if before and before[-1] in ("ne", "n") and after:
        # French negation around the verb: "il ne travaille plus", "elle ne travaille pas".
        if after[0] == "plus":
            return "former"
        if after[0] in ("pas", "jamais", "rien"):
            return "negated"
    while before and before[-1] in CUE_FILLERS:
        before.pop()
    for tokens, reading in _CUE_TOKENS:
        if len(tokens) <= len(before) and tuple(before[-len(tokens):]) == tokens:
            return reading
    return "current"


def mask_other_senses(words: str) -> str:
    """The text with each word used in its other sense masked ("un cadre pour se remobiliser")."""
    for pattern, phrase, word in _SENSES:
        masked = " ".join(MASK if token == word else token for token in phrase.split())
        words = pattern.sub(masked, words)
    return words


def says_business_project(words: str) -> bool:
    """Whether the text speaks of creating or taking over an activity, in any of the ways people say it."""
    return any(f" {phrase} " in words for phrase in CREATION_PHRASES) or any(p.search(words) for p in _CREATION)
