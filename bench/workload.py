"""What the load generators send: the counsellors' cases of the golden set, as written or made unique."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import yaml

from bench.report import ROOT

GOLDEN = ROOT / "tests" / "golden" / "cases.yaml"

# Details a counsellor adds to a case; appended to a golden case they make every query text new (so the
# query-embedding cache never hits) without turning it into something a counsellor would not type.
DETAILS = (
    "qui vit chez ses parents",
    "sans permis de conduire",
    "suivi depuis le printemps",
    "avec un enfant à charge",
    "qui parle encore peu le français",
    "reçu hier en entretien",
    "très motivé",
    "un peu perdu dans ses démarches",
    "sans ordinateur à la maison",
    "qui a déjà fait un bilan",
    "orienté par l'assistante sociale",
    "en colocation",
    "qui a arrêté ses études l'an dernier",
    "avec des soucis de santé",
    "qui veut rester dans le secteur",
    "sans voiture",
    "qui a peu d'expérience",
    "rencontré au forum",
    "qui hésite encore",
    "dont la mère m'a appelé",
)


def golden_cases() -> list[str]:
    """The first turn of every golden case (the cases a counsellor types to start a conversation)."""
    cases = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
    return [str(case["turns"][0]) for case in cases]


def repeated(seed: int = 7) -> Iterator[str]:
    """The golden cases in a shuffled loop: after the first lap, the query cache knows every text."""
    cases = golden_cases()
    random.Random(seed).shuffle(cases)
    return itertools.cycle(cases)


def unique(seed: int = 7) -> Iterator[str]:
    """Golden cases with one or two added details: no text is sent twice (about 40,000 of them)."""
    cases = golden_cases()
    rng = random.Random(seed)
    combos = [(a,) for a in DETAILS] + [(a, b) for a, b in itertools.permutations(DETAILS, 2)]
    pairs = [(case, combo) for combo in combos for case in cases]
    rng.shuffle(pairs)
    for case, combo in pairs:
        yield f"{case}, {', '.join(combo)}"
