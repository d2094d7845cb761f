"""The conversation a busy counsellor keeps using: courtesy, near-scope questions, the place question, the reply."""

from __future__ import annotations

import re

import pytest

from assistant import messages
from assistant.dialogue import Assistant, TurnContext
from assistant.referral import Referral
from knowledge.territory import Territory


def _squash(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", text))


# --- courtesy, gibberish, off-topic, near-scope ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "reply"),
    [
        ("bonjour", messages.GREETING),
        ("Bonjour !", messages.GREETING),
        ("merci", messages.THANKS),
        ("merci beaucoup", messages.THANKS),
        ("merci, au revoir", messages.THANKS_GOODBYE),
        ("au revoir", messages.GOODBYE),
    ],
)
def test_courtesy_gets_a_short_answer_not_the_refusal(assistant: Assistant, message: str, reply: str) -> None:
    referral = assistant.turn(message)
    assert referral.reply == reply and reply != messages.NOTHING_FOUND
    assert referral.structures == () and referral.clarification is None


def test_thanks_in_the_middle_of_a_case_keep_the_case(assistant: Assistant) -> None:
    first = assistant.turn("jeune de 17 ans décrocheur à Vienne")
    thanks = assistant.turn("merci !", first.conversation_id)
    assert thanks.reply == messages.THANKS and thanks.understood == first.understood
    again = assistant.turn("et s'il a 19 ans ?", first.conversation_id)
    assert again.understood.age == 19 and again.understood.commune == first.understood.commune


def test_a_greeting_with_a_case_is_a_case(assistant: Assistant) -> None:
    referral = assistant.turn("Bonjour, jeune de 17 ans décrocheur à Vienne")
    assert referral.structures and referral.understood.age == 17


def test_gibberish_gets_one_clear_sentence_and_nothing_to_click(assistant: Assistant) -> None:
    referral = assistant.turn("qsdfgh")
    assert referral.reply == messages.NOT_UNDERSTOOD and _sentences(referral.reply) == 1
    assert referral.clarification is None and referral.structures == () and referral.sources == ()


def test_off_topic_is_refused_in_one_sentence_that_says_what_the_assistant_does(assistant: Assistant) -> None:
    referral = assistant.turn("tu as une bonne recette de tartiflette ?")
    assert referral.reply == messages.NOTHING_FOUND and _sentences(referral.reply) == 1
    assert "orientation" in referral.reply and referral.structures == ()


@pytest.mark.parametrize(
    ("message", "url"),
    [
        ("c'est quoi le montant du smic ?", "https://www.service-public.fr/particuliers/vosdroits/F2300"),
        ("quel est le montant du RSA pour une personne seule ?", "https://www.service-public.fr/particuliers/vosdroits/N19775"),
        ("combien touche-t-on au chômage ?", "https://www.service-public.fr/particuliers/vosdroits/N549"),
        ("combien de jours de préavis pour une démission ?", "https://code.travail.gouv.fr/"),
    ],
)
def test_a_question_of_amounts_or_law_is_pointed_to_its_official_page(
    assistant: Assistant, message: str, url: str
) -> None:
    referral = assistant.turn(message)
    assert referral.structures == () and referral.clarification is None
    assert [s.url for s in referral.sources] == [url]
    assert _sentences(referral.reply) == 1 and "source officielle" in referral.reply


def test_a_case_that_names_a_benefit_is_still_a_case(assistant: Assistant) -> None:
    referral = assistant.turn("jeune de 22 ans au RSA qui cherche un emploi à Grenoble")
    assert referral.structures
    assert not any(s.url and "service-public.fr/particuliers" in s.url for s in referral.sources)


# --- the place question --------------------------------------------------------------------------------------------


def test_the_place_question_asks_the_department_then_the_commune_with_its_biggest_towns(assistant: Assistant) -> None:
    first = assistant.turn("jeune de 18 ans qui cherche un apprentissage")
    asked = first.clarification
    assert asked is not None and asked.slot == "territory"
    assert "département" in asked.question and "Isère (38)" in asked.options and len(asked.options) == 12
    assert _squash(asked.question) not in _squash(first.reply)  # said once, by the clarification

    second = assistant.turn("Isère (38)", first.conversation_id)
    asked = second.clarification
    assert asked is not None and asked.slot == "territory" and "commune" in asked.question
    assert asked.options[:3] == ("Grenoble (38)", "Saint-Martin-d'Hères (38)", "Échirolles (38)")
    assert len(asked.options) == 8 and _squash(asked.question) not in _squash(second.reply)
    networks = [s.network for s in second.structures]
    assert len(networks) == len(set(networks)) <= 5  # one card per network, no "20 autres sites"
    assert not any("autre" in r and "site" in r for s in second.structures for r in s.reasons)

    third = assistant.turn(asked.options[0], first.conversation_id)
    assert third.understood.commune is not None and third.understood.commune.insee == "38185"
    assert third.clarification is None or third.clarification.slot != "territory"


def test_the_widget_department_goes_straight_to_the_commune_question(assistant: Assistant) -> None:
    context = TurnContext(department="42")
    referral = assistant.turn("jeune de 19 ans sans diplôme qui cherche un emploi", context=context)
    assert referral.clarification is not None and referral.clarification.options[0] == "Saint-Étienne (42)"


@pytest.mark.parametrize(
    ("message", "stem", "included"),
    [
        ("jeune de 20 ans qui cherche un emploi, à st jean", "Saint-Jean-", "Saint-Jean-de-Maurienne (73)"),
        ("jeune de 20 ans qui cherche un emploi, il habite st julien", "Saint-Julien", "Saint-Julien-en-Genevois (74)"),
    ],
)
def test_a_saint_name_said_short_offers_its_communes_never_picks_one(
    assistant: Assistant, message: str, stem: str, included: str
) -> None:
    referral = assistant.turn(message)
    asked = referral.clarification
    assert referral.understood.commune is None
    assert asked is not None and asked.slot == "territory" and included in asked.options
    assert len(asked.options) >= 2 and all(o.startswith(stem) for o in asked.options)
    assert "Saint-" in asked.question
    chosen = assistant.turn(included, referral.conversation_id)
    assert chosen.understood.commune is not None and chosen.understood.commune.name == included.rsplit(" (", 1)[0]


def test_homonyms_stay_homonyms_and_a_commune_bigger_than_its_namesakes_keeps_its_name(territory: Territory) -> None:
    julien = territory.find("habite st julien")
    assert {"69", "74"} <= {c.department for c in julien.communes} and julien.commune is None
    assert "Saint-Julien" in {c.name for c in julien.communes}  # the Rhône one is not forgotten
    for name, insee in (("St Etienne", "42218"), ("Saint-Flour", "15187"), ("st chamond", "42207")):
        found = territory.find(f"à {name}").commune
        assert found is not None and found.insee == insee, name


@pytest.mark.parametrize("message", ["roane", "à roane", "jeune de 20 ans à roane", "il habite roane"])
def test_a_misspelt_town_is_still_found(territory: Territory, message: str) -> None:
    found = territory.find(message).commune
    assert found is not None and found.insee == "42187"


def test_an_ordinary_word_near_a_town_is_not_a_typo(territory: Territory) -> None:
    assert territory.find("un tiers temps à faire").communes == ()
    assert territory.find("à terme").communes == ()


def test_the_typo_answer_to_the_place_question_gives_the_local_sites(assistant: Assistant) -> None:
    first = assistant.turn("jeune de 19 ans sans diplôme qui cherche un emploi")
    second = assistant.turn("roane", first.conversation_id)
    assert second.understood.commune is not None and second.understood.commune.insee == "42187"
    assert second.structures[0].reasons and any("Roanne" in r for r in second.structures[0].reasons)


# --- the reply -------------------------------------------------------------------------------------------------------


def _said_once(referral: Referral) -> bool:
    return referral.clarification is None or _squash(referral.clarification.question) not in _squash(referral.reply)


def test_the_reply_speaks_like_a_counsellor_from_the_facts_of_the_answer(assistant: Assistant) -> None:
    referral = assistant.turn("jeune de 17 ans décrocheur à Vienne")
    first = referral.structures[0]
    assert not referral.reply.startswith("J'ai compris") and "premier interlocuteur est" not in referral.reply
    assert referral.reply.startswith("À Vienne, pour ce jeune de 17 ans")
    assert first.name in referral.reply  # the site that receives, by its name in the directory
    assert _said_once(referral)


def test_replies_differ_with_the_case(assistant: Assistant) -> None:
    replies = {
        assistant.turn(message).reply
        for message in (
            "jeune de 15 ans à Vichy, le parent demande de l'aide pour son orientation",
            "DE 45 ans RQTH cherche emploi à Annecy",
            "salarié qui veut faire un bilan de compétences",
            "cadre de 50 ans licencié qui veut se reconvertir en Isère",
        )
    }
    assert len(replies) == 4
    openings = {reply.split(",")[0] for reply in replies}
    assert len(openings) >= 3
    assert all(reply.endswith(".") and "  " not in reply for reply in replies)


def test_a_need_question_notes_the_person_without_repeating_the_question(assistant: Assistant) -> None:
    referral = assistant.turn("j'ai une personne de 40 ans à Valence")
    assert referral.clarification is not None and referral.clarification.slot == "need"
    assert referral.reply == "C'est noté pour cette personne de 40 ans, à Valence."
    assert _said_once(referral)
