"""The Teams face's cards as values: a referral built by hand goes through `compose` (with the real networks of
the embedded base), a card's submitted value through `read_submission`; what the live Bot Connector tests
(tests/test_teams.py) cannot force."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from api.curation.store import Referent
from api.teams.compose import MESSAGE_BUDGET, compose, message_size
from api.teams.forms import Refusal, Report, Say, read_submission
from assistant.referral import (
    Clarification,
    ContactInfo,
    Excerpt,
    Freshness,
    Referral,
    SourceRef,
    StructureResult,
    Understood,
)
from knowledge.index import KnowledgeIndex
from knowledge.model import Network

NOTHING = Understood(age=None, status=None, needs=(), flags=(), commune=None, department=None)


@pytest.fixture()
def networks(knowledge_index: KnowledgeIndex) -> Mapping[str, Network]:
    return knowledge_index.networks


def result(
    id: str, name: str, network: str, *excerpts: Excerpt, contacts: tuple[ContactInfo, ...] = ()
) -> StructureResult:
    return StructureResult(
        id=id, name=name, network=network, score=1.0, reasons=("Raison",), departments=("69",),
        contacts=contacts, excerpts=excerpts,
    )


def excerpt(text: str, source: str) -> Excerpt:
    return Excerpt(text=text, source_id=source, source_title=f"Fiche {source}", url=None)


def referral(*structures: StructureResult, clarification: Clarification | None = None) -> Referral:
    sources = {e.source_id for s in structures for e in s.excerpts}
    return Referral(
        conversation_id="c",
        reply="Réponse.",
        clarification=clarification,
        understood=NOTHING,
        structures=structures,
        sources=tuple(SourceRef(id=s, title=f"Fiche {s}", url=None, as_of="2026-01-01") for s in sorted(sources)),
        confident=True,
    )


def sent(activity: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = activity.model_dump(by_alias=True, exclude_none=True)
    return dumped


def test_a_line_never_repeats_a_network_already_in_the_name(networks: Mapping[str, Network]) -> None:
    answer = sent(
        compose(
            referral(
                result("network:france_travail", "France Travail", "france_travail"),
                result("a", "Mission Locale de Lyon", "mission_locale"),
                result("b", "ML Isère Rhodanienne", "mission_locale"),
                result("c", "Centre d'information et d'orientation (CIO) - Vienne", "cio"),
            ),
            networks,
            1,
        )
    )
    lines = [line for line in answer["text"].split("\n") if line.startswith("- ")]
    assert lines == [
        "- **France Travail**",
        "- **Mission Locale de Lyon**",
        "- **ML Isère Rhodanienne** (Mission Locale)",
        "- **Centre d'information et d'orientation (CIO) - Vienne**",
    ]
    cards = [a["content"] for a in answer["attachments"]]
    # On the card too, the network's name under the structure's only when it says something more.
    assert [c["body"][1]["text"] for c in cards if c["body"][1].get("isSubtle")] == ["Missions Locales"]


def test_a_citation_never_quotes_a_keyword_list(networks: Mapping[str, Network]) -> None:
    answer = sent(
        compose(
            referral(
                result("a", "Mission Locale de Lyon", "mission_locale",
                       excerpt("Mots-clés : emploi, jeunes, 16-25 ans", "s1"),
                       excerpt("Pour qui : jeunes de 16 à 25 ans sortis de l'école.", "s1"),
                       excerpt("Mots clés : CIO, orientation", "s2")),
            ),
            networks,
            1,
        )
    )
    [root] = [e for e in answer["entities"] if e.get("type") == "https://schema.org/Message"]
    appearances = {c["position"]: c["appearance"] for c in root["citation"]}
    assert appearances[1]["abstract"] == "Pour qui : jeunes de 16 à 25 ans sortis de l'école."
    assert appearances[2]["abstract"] == "Fiche s2"  # nothing but keywords: the source's title
    assert appearances[1]["keywords"] == ["À jour en 01/2026"]


def test_any_options_the_assistant_returns_become_the_list(networks: Mapping[str, Network]) -> None:
    homonyms = ("Saint-Julien-Molin-Molette (42)", "Saint-Julien-en-Genevois (74)", "Saint-Julien (69)")
    question = Clarification("territory", "Quel Saint-Julien ?", homonyms)
    answer = sent(compose(referral(clarification=question), networks, 3))
    [case] = [a["content"] for a in answer["attachments"]]
    [choices] = [i for e in case["body"] if e["type"] == "Container" for i in e["items"]]
    assert [c["value"] for c in choices["choices"]] == list(homonyms)
    assert "Quel Saint-Julien ?" not in str(case)  # said once, in the message


def test_a_structure_card_names_its_turn_in_its_reports(networks: Mapping[str, Network]) -> None:
    contact = ContactInfo(label="Mission Locale de Lyon", phone="04 72 00 00 00", email=None, address=None,
                          commune="Lyon", department="69", url=None, source="Service-Public.fr", as_of=None)
    answer = sent(compose(referral(result("s", "Mission Locale de Lyon", "mission_locale", contacts=(contact,))),
                          networks, 4))
    card = answer["attachments"][0]["content"]
    data = [a["card"]["actions"][0]["data"] for a in card["actions"] if a["title"] != "Copier"]
    assert data == [
        {"spro": "report", "kind": "contact_errone", "structure": "s", "turn": 4},
        {"spro": "report", "kind": "non_pertinent", "structure": "s", "turn": 4},
    ]


BEFORE = {"age": "19", "status": "decrocheur", "needs": "formation", "flags": "handicap", "place": "Vienne"}


@pytest.mark.parametrize(
    ("changed", "said", "removed"),
    [
        ({"age": "22"}, "la personne a 22 ans", ()),
        ({"age": 22.0}, "la personne a 22 ans", ()),
        ({"status": "salarie"}, "la personne est salarié", ()),
        ({"needs": "vae,formation"}, "elle cherche aussi : VAE", ()),
        ({"needs": "reconversion"}, "elle cherche aussi : reconversion professionnelle. "
                                    "retirer de la situation : formation", ("formation",)),
        ({"needs": ""}, "retirer de la situation : formation", ("formation",)),
        ({"flags": ""}, "retirer de la situation : handicap / RQTH", ("handicap",)),
        ({"place": "Roanne"}, "à Roanne", ()),
        ({"age": "30", "place": "Lyon"}, "la personne a 30 ans. à Lyon", ()),
        ({"needs": "formation", "place": "vienne"}, None, ()),  # same values: nothing to say
    ],
)
def test_a_correction_says_only_what_changed_in_the_widgets_words(
    changed: dict[str, Any], said: str | None, removed: tuple[str, ...]
) -> None:
    value = {"spro": "correct", "before": BEFORE, **BEFORE, **changed}
    read = read_submission(value)
    assert read == (Say(said, removed) if said else Refusal("Rien n'a changé dans la situation : modifiez un champ "
                                                            "avant de mettre à jour."))


@pytest.mark.parametrize(
    "value",
    [
        {"spro": "correct", "before": BEFORE, **BEFORE, "age": "200"},
        {"spro": "correct", "before": BEFORE, **BEFORE, "age": "vingt"},
        {"spro": "correct", "before": BEFORE, **BEFORE, "status": "pirate"},
        {"spro": "correct", "before": BEFORE, **BEFORE, "needs": "formation,pirater"},
        {"spro": "correct", "before": {**BEFORE, "needs": "pirater"}, **BEFORE},
        {"spro": "correct", "before": BEFORE, **BEFORE, "flags": "handicap,pirate"},
        {"spro": "correct", **BEFORE},
        {"spro": "report", "kind": "contact_errone", "structure": "s", "turn": True},
        {"spro": "report", "kind": "contact_errone", "structure": "", "turn": 1},
        {"spro": "report", "kind": "autre", "structure": "s", "turn": 1},
        {"spro": "choose", "choice": "  "},
        {"spro": "effacer"},
    ],
)
def test_a_forged_or_broken_submission_is_refused_in_french(value: dict[str, Any]) -> None:
    read = read_submission(value)
    assert isinstance(read, Refusal) and read.message[0].isupper()


def test_what_is_not_one_of_our_cards_is_left_to_the_message_path() -> None:
    assert read_submission(None) is None
    assert read_submission({"action": "autre application"}) is None
    assert read_submission("texte") is None


def test_a_report_keeps_its_reason_and_its_turn() -> None:
    value = {"spro": "report", "kind": "non_pertinent", "structure": "s", "turn": 2,
             "reason_non_pertinent": "  Hors du territoire  ", "reason_contact_errone": "ignoré"}
    assert read_submission(value) == Report("non_pertinent", "s", 2, "Hors du territoire")


def test_an_answer_too_big_for_teams_gives_its_last_cards_way(networks: Mapping[str, Network]) -> None:
    # Long but plausible records: three contacts with long hours and provenance on each of six structures.
    # (example.org: a domain reserved for examples, RFC 2606.)
    contact = ContactInfo(
        label="Antenne " + "de la vallée " * 8,
        phone="04 72 00 00 00",
        email="accueil@example.org",
        address="12 rue " + "des Acacias " * 10,
        commune="Lyon",
        department="69",
        url="https://example.org/" + "a" * 150,
        source="Service-Public.fr / DILA",
        as_of="2024-05-02",
        hours=tuple(f"lundi {h} h à {h + 1} h" for h in range(20)),
    )
    big = tuple(
        result(f"s{n}", f"Mission Locale {n} " + "du territoire " * 6, "mission_locale",
               *(excerpt("Pour qui : " + "jeunes de 16 à 25 ans " * 8, f"src{n}-{k}") for k in range(3)),
               contacts=(contact, contact, contact))
        for n in range(6)
    )
    full = compose(referral(*big), networks, 1)
    assert message_size(full) <= MESSAGE_BUDGET
    shown = [a for a in sent(full)["attachments"] if a["content"]["body"][0]["text"].startswith("Mission Locale")]
    assert 0 < len(shown) < 6
    assert f"… et {6 - len(shown)} autre(s) structure(s)" in sent(full)["text"]


def test_a_card_shows_the_named_referents_and_when_the_site_was_checked(networks: Mapping[str, Network]) -> None:
    contact = ContactInfo(label="Mission Locale de Lyon", phone="04 78 00 00 00", email=None, address=None,
                          commune="Lyon", department="69", url=None, source="UNML", as_of="2026-01-01")
    checked = Freshness(
        "2026-12-03", "Mission Locale de Lyon", True, "vérifié le 3 décembre 2026 par Mission Locale de Lyon"
    )
    site = replace(result("a", "Mission Locale de Lyon", "mission_locale", contacts=(contact,)), freshness=checked)
    referent = Referent(
        id=1, structure_id="a", name="Camille Martin", role="conseillère emploi", phone="04 78 00 00 01",
        email=None, topics="CEJ", consent_on=date(2026, 11, 30), organisation="Mission Locale de Lyon",
    )
    answer = sent(compose(referral(site), networks, 1, {"a": [referent]}))
    card = str(answer["attachments"][0]["content"])
    assert "Référent·e : Camille Martin, conseillère emploi — pour : CEJ — 04 78 00 00 01" in card
    assert "Vérifié le 3 décembre 2026 par Mission Locale de Lyon." in card
    # "Copier" carries both, as the widget's "Copier la fiche" does.
    [copy] = [a for a in answer["attachments"][0]["content"]["actions"] if a["title"] == "Copier"]
    copied = copy["card"]["body"][0]["value"]
    assert "Référent·e : Camille Martin" in copied and "Vérifié le 3 décembre 2026" in copied
    # Without referents, nothing of them.
    assert "Référent·e" not in str(sent(compose(referral(site), networks, 1))["attachments"][0]["content"])
