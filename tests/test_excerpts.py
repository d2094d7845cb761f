"""Excerpts per structure and per case: never a keyword list, never twice in one answer, the site's offer first."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.dialogue import Assistant, MemoryStore
from assistant.excerpts import looks_like_keyword_list, shown_key
from assistant.referral import Referral
from ingest.build import build_index
from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex, load_latest
from knowledge.territory import Territory
from tests.conftest import CACHE

GOLDEN = Path(__file__).parent / "golden" / "cases.yaml"
DATA_INCLUSION = Path(__file__).parent / "data" / "sources" / "data_inclusion" / "structures_et_services.json"


def _excerpt_problems(referral: Referral) -> list[str]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for structure in referral.structures:
        for excerpt in structure.excerpts:
            heading, _, body = excerpt.text.partition(" : ")
            if heading == "Mots-clés" or looks_like_keyword_list(body):
                problems.append(f"liste de mots-clés sur « {structure.name} » : {excerpt.text[:80]}")
            key = shown_key(body)
            if key in seen:
                problems.append(f"extrait répété sur « {seen[key]} » et « {structure.name} » : {excerpt.text[:80]}")
            seen.setdefault(key, structure.name)
    return problems


def test_keyword_lists_are_recognised_and_sentences_are_not() -> None:
    assert looks_like_keyword_list("apprentissage, apprenti, alternance, alternant, contrat d'apprentissage, CFA")
    assert not looks_like_keyword_list(
        "Jeunes de 16 à 25 ans, sortis du système scolaire, sans emploi, sans formation, ou en difficulté. Ils "
        "sont reçus sur rendez-vous."
    )
    assert not looks_like_keyword_list("Accueil, information et orientation des jeunes")


def test_no_answer_of_the_golden_set_repeats_an_excerpt_or_shows_a_keyword_list(
    knowledge_index: KnowledgeIndex, encoder: Encoder, territory: Territory
) -> None:
    assistant = Assistant(knowledge_index, encoder, territory, MemoryStore())
    cases = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))
    problems: list[str] = []
    answers = excerpts = 0
    for case in cases:
        conversation: str | None = None
        for message in case["turns"]:
            referral = assistant.turn(message, conversation)
            conversation = referral.conversation_id
            answers += 1
            excerpts += sum(len(s.excerpts) for s in referral.structures)
            problems += [f"{case['id']} « {message} » : {p}" for p in _excerpt_problems(referral)]
    assert answers >= 150 and excerpts >= 500  # the whole set was played, and it shows excerpts
    assert not problems, "\n".join(problems[:20])


def test_two_cards_of_one_network_show_different_passages(assistant: Assistant) -> None:
    referral = assistant.turn("jeune de 17 ans décrocheur à Vienne")
    sites = [s for s in referral.structures if s.network == "mission_locale" and not s.id.startswith("network:")]
    assert len(sites) == 2
    first, second = ({shown_key(e.text) for e in s.excerpts} for s in sites)
    assert first and second and not first & second


@pytest.fixture(scope="module")
def index_with_offers(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> KnowledgeIndex:
    """The embedded base plus data·inclusion fixtures: a (fictitious) Mission Locale with its own services."""
    root = tmp_path_factory.mktemp("index-offers")
    build_index(root, encoder, (DATA_INCLUSION,), cache_path=CACHE)
    index, _ = load_latest(root, encoder.name)
    return index


def test_a_site_with_its_own_offer_shows_it_first(
    index_with_offers: KnowledgeIndex, encoder: Encoder, territory: Territory
) -> None:
    assistant = Assistant(index_with_offers, encoder, territory, MemoryStore())
    referral = assistant.turn("jeune de 19 ans sorti du lycée qui cherche un emploi à Villeurbanne")
    # The fixture's site is merged with the same Mission Locale of the other sources; it keeps their id.
    site = next(s for s in referral.structures if s.name == "Mission Locale Fictive de Villeurbanne (test)")
    offer = {f"{section.heading} : " for section in index_with_offers.structures[site.id].offer}
    assert offer
    assert any(site.excerpts[0].text.startswith(heading) for heading in offer), site.excerpts
    # Then why its network fits the case, from the base's sheets.
    assert len(site.excerpts) == 2 and not any(site.excerpts[1].text.startswith(h) for h in offer)
    assert not _excerpt_problems(referral)
