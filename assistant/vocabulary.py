"""The words of a case worth keeping between turns, chosen by an allow-list: what the knowledge base can match.

The conversation state and the feedback reasons are stored, so they hold no free text: a word is kept only when
the offers and dispositif sheets or the lexicon use it. Names, dates, numbers, addresses, identifiers and anything
else the base does not speak of are dropped whatever their format (an age, "18 ans", stays); no list of personal
formats is needed, so none can be incomplete. Words that say a person's health or that they suffered violence are
not kept either, even when the base uses them: the lexicon reads them as a need or a flag, whose code is kept.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from rapidfuzz import fuzz, process

from assistant.lexicon import (
    ABBREVIATIONS,
    ADD_MARKERS,
    CASE_WORDS,
    CRAFT_TRADES,
    FLAG_WORDS,
    NEED_WORDS,
    NETWORK_MENTIONS,
    OUT_OF_SCOPE_WORDS,
    REPLACE_MARKERS,
    STATUS_WORDS,
)
from knowledge.lexical import analyse, fold
from knowledge.model import Chunk

# Kinds of passage whose words are the base's own vocabulary: the sites' passages name places and people's
# namesakes (Saint-Martin, Pierre-Bénite…), imported documents may name anyone.
VOCABULARY_KINDS = frozenset({"network", "dispositif"})
# Needs and flags whose trigger words say health or violence suffered (RGPD art. 9 and the like): kept as the
# code only.
SENSITIVE = frozenset({("need", "handicap"), ("need", "sante"), ("flag", "handicap"), ("flag", "victime_violences")})
# A word of a sensitive phrase that this many passages of the base use is general language ("demande",
# "situation" of "demande de rqth", "en situation de handicap"), not what says the condition ("maladie").
GENERAL_PASSAGES = 10
# Parts of a date: they carry no meaning for retrieval, and with a day they would keep a birth date.
DATE_WORDS = frozenset(
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre "
    "lundi mardi mercredi jeudi vendredi samedi dimanche premier deux trois quatre cinq six sept huit neuf dix "
    "onze douze treize quatorze quinze seize vingt trente quarante cinquante soixante cent mille".split()
)
# French elisions ("l'emploi", "qu'elle") glue a known word to a letter.
ELISIONS = frozenset({"l", "d", "j", "n", "s", "c", "m", "t", "qu", "jusqu", "lorsqu", "puisqu"})
AGE_UNITS = frozenset({"an", "ans"})
_AGE = re.compile(r"[0-9]{1,2}(?:ans|an|a)")
_EDGES = ".,;:!?()[]{}«»\"“”…*/\\"
_PARTS = re.compile(r"['’-]")
_LEXICON_TOKEN = re.compile(r"[a-z0-9+]+")
# A misspelt word is replaced by the closest word of the base (never kept as typed): the typo tolerance of
# the retrieval, without storing what the base does not know.
SPELLING_CUTOFF = 88
SPELLING_MIN_LENGTH = 6


class CaseVocabulary:
    """Built once per index version from its passages and the lexicon; holds no request state."""

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        passages = Counter(
            word
            for chunk in chunks
            if chunk.kind in VOCABULARY_KINDS
            for word in set(_PARTS.sub(" ", fold(chunk.passage())).split())
            if word.isalpha()
        )
        base = set(passages)
        lexicon = set(_lexicon_tokens())
        sensitive = _sensitive_words(passages)
        # Their other forms too ("victimes", "handicapés"): same stem, same meaning.
        sensitive_stems = {stem for word in sensitive for stem in analyse(word)}
        words = (base | {w for w in lexicon if w.isalpha()}) - sensitive - DATE_WORDS
        self._words = frozenset(w for w in words if not sensitive_stems.intersection(analyse(w)))
        self._sensitive = frozenset(sensitive)
        # Lexicon tokens with digits ("3e", "bac+5", "e2c"), never a bare number.
        self._codes = frozenset(w for w in lexicon if not w.isalpha() and not w.isdigit()) - sensitive
        self._spellings = sorted(w for w in self._words if len(w) >= SPELLING_MIN_LENGTH)

    def __contains__(self, word: str) -> bool:
        return fold(word) in self._words

    def kept(self, text: str) -> str:
        """The text reduced to the base's words, in their order and as typed; everything else is dropped."""
        kept: list[str] = []
        tokens = text.split()
        for position, token in enumerate(tokens):
            word = token.strip(_EDGES)
            if not word:
                continue
            folded = fold(word)
            # Punctuation stays with a kept word: it says nothing of anyone, and the encoder reads it.
            if _is_age(folded, tokens[position + 1 : position + 2]) or folded in self._codes:
                kept.append(token)
                continue
            parts = [p for p in _PARTS.split(folded) if p]
            if parts and all(self._known(p) for p in parts):
                kept.append(token)
                continue
            corrected = self._spelled(folded)
            if corrected is not None:
                kept.append(corrected)
        return " ".join(kept)

    def _known(self, part: str) -> bool:
        return part in self._words or part in ELISIONS

    def _spelled(self, folded: str) -> str | None:
        """The base's word closest to a long unknown word ("reconvertion"), or None (a sensitive word too)."""
        if len(folded) < SPELLING_MIN_LENGTH or not folded.isalpha() or folded in self._sensitive:
            return None
        best = process.extractOne(folded, self._spellings, scorer=fuzz.ratio, score_cutoff=SPELLING_CUTOFF)
        return str(best[0]) if best is not None else None


def _is_age(folded: str, following: list[str]) -> bool:
    """ "18 ans", "17ans": the age the reader parses, which the encoder reads better in the words of the case."""
    if _AGE.fullmatch(folded):
        return True
    return folded.isdigit() and len(folded) <= 2 and bool(following) and fold(following[0]).strip(_EDGES) in AGE_UNITS


def _lexicon_tokens() -> Iterable[str]:
    tables: list[Iterable[str]] = [
        ABBREVIATIONS, ABBREVIATIONS.values(), NETWORK_MENTIONS, CRAFT_TRADES, CASE_WORDS, REPLACE_MARKERS,
        ADD_MARKERS, OUT_OF_SCOPE_WORDS,
    ]
    tables += [words for table in (STATUS_WORDS, NEED_WORDS, FLAG_WORDS) for words in table.values()]
    for phrases in tables:
        for phrase in phrases:
            yield from _LEXICON_TOKEN.findall(fold(phrase))


def _sensitive_words(passages: Mapping[str, int]) -> frozenset[str]:
    """The words by which the lexicon reads a sensitive need or flag.

    A single-word trigger counts whatever else uses it ("handicap", "th", "psy"); in a phrase, a word that a
    non-sensitive entry uses ("travail" of "accident du travail"), general language of the base or a short
    glue word ("de", "du") stays.
    """
    others = {t for phrases in STATUS_WORDS.values() for p in phrases for t in _LEXICON_TOKEN.findall(fold(p))}
    phrases_of: list[list[str]] = []
    sensitive: set[str] = set()
    for kind, table in (("need", NEED_WORDS), ("flag", FLAG_WORDS)):
        for code, phrases in table.items():
            for phrase in phrases:
                tokens = _LEXICON_TOKEN.findall(fold(phrase))
                if (kind, code) not in SENSITIVE:
                    others.update(tokens)
                elif len(tokens) == 1:
                    sensitive.update(tokens)
                else:
                    phrases_of.append(tokens)
    for tokens in phrases_of:
        sensitive.update(
            t for t in tokens if len(t) > 3 and t not in others and passages.get(t, 0) < GENERAL_PASSAGES
        )
    return frozenset(sensitive)
