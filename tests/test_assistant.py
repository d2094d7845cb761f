"""The referral engine on real cases: understanding, eligibility, local sites, dialogue, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.dialogue import Assistant, TurnContext
from assistant.eligibility import judge
from assistant.understanding import Case, Reader
from knowledge.territory import Territory
from tests.recording import RecordingEncoder


@pytest.fixture(scope="module")
def reader(territory: Territory) -> Reader:
    return Reader(territory)


def networks(referral) -> list[str]:  # type: ignore[no-untyped-def]
    return list(dict.fromkeys(s.network for s in referral.structures))


def test_reads_age_status_need_and_place_from_a_typed_sentence(reader: Reader) -> None:
    case = reader.read("jeun 17ans decrocher cherch formation mecanik a vienne").case
    assert case.age == 17 and case.status == "decrocheur" and "formation" in case.needs
    assert case.commune is not None and case.commune.insee == "38544"


@pytest.mark.parametrize(
    ("message", "status", "flags"),
    [
        ("DE 45 ans RQTH cherche emploi", "demandeur_emploi", {"handicap"}),
        ("DELD au RSA, 52 ans", "demandeur_emploi", {"rsa", "senior"}),
        ("MNA de 16 ans suivi par l'ASE", None, {"mna", "sortie_ase"}),
        ("salariée en CDI, TH, veut un bilan", "salarie", {"handicap"}),
        ("cadre licencié de 50 ans", "cadre", {"licenciement", "senior"}),
    ],
)
def test_reads_counsellor_abbreviations(reader: Reader, message: str, status: str | None, flags: set[str]) -> None:
    case = reader.read(message).case
    assert case.status == status
    assert flags <= set(case.flags)


def test_durations_are_not_ages(reader: Reader) -> None:
    case = reader.read("au chômage depuis 2 ans, il a 34 ans").case
    assert case.age == 34
    assert reader.read("salarié depuis 10 ans").case.age is None


def test_minors_and_young_adults_get_age_bounds(reader: Reader) -> None:
    assert reader.read("un mineur sans solution").case.age_max == 17
    case = reader.read("jeune majeure sortie de l'ASE").case
    assert case.age_min == 18 and "sortie_ase" in case.flags


def test_eligibility_reasons_are_readable() -> None:
    verdict = judge("mission_locale", Case(age=17))
    assert not verdict.excluded and "16-25 ans : oui (17 ans)" in verdict.reasons
    assert judge("mission_locale", Case(age=26)).excluded
    assert not judge("mission_locale", Case(age=27, flags=("handicap",))).excluded
    assert judge("cap_emploi", Case(age=40)).excluded
    assert judge("epide", Case(age=16)).excluded
    assert judge("cep_actifs", Case(status="demandeur_emploi")).excluded
    assert judge("apec", Case(status="lyceen")).excluded


def test_dropout_aged_17_in_vienne_goes_to_local_mission_locale(assistant: Assistant) -> None:
    referral = assistant.turn("jeune de 17 ans décrocheur à Vienne")
    assert referral.clarification is None
    assert referral.understood.commune is not None and referral.understood.commune.insee == "38544"
    assert set(networks(referral)[:3]) & {"mission_locale", "psad"}
    for structure in referral.structures:
        assert structure.reasons and structure.excerpts
        assert all(e.source_title for e in structure.excerpts)
    ml = next(s for s in referral.structures if s.network == "mission_locale")
    assert any("16-25 ans : oui (17 ans)" == r for r in ml.reasons)
    assert "38" in ml.departments
    assert referral.sources


def test_local_sites_come_with_official_contacts_and_their_sources(assistant: Assistant) -> None:
    referral = assistant.turn("jeune de 17 ans décrocheur à Vienne")
    local = [s for s in referral.structures if not s.id.startswith("network:")]
    assert local, "un site local était attendu à Vienne"
    contacts = [c for s in local for c in s.contacts if c.kind == "site"]
    assert contacts and all(c.source and c.as_of and c.provenance for c in contacts)
    assert all(c.department in (None, "38") for c in contacts)
    ml = next(s for s in local if s.network == "mission_locale")
    assert any("zone de couverture" in r for r in ml.reasons)  # the UNML coverage decided
    (contact,) = [c for c in ml.contacts if c.kind == "site"]
    sources = {p.source for p in contact.provenance}
    assert len(sources) >= 2 and all(p.as_of for p in contact.provenance)  # phone of 2019, address of 2026
    assert contact.stale  # a 2019 phone is to be checked


def test_a_network_without_a_local_site_gives_its_official_locator_never_a_dead_end(assistant: Assistant) -> None:
    referral = assistant.turn("personne avec une RQTH qui cherche un emploi à Chambéry")
    cap_emploi = next(s for s in referral.structures if s.network == "cap_emploi")
    (national,) = cap_emploi.contacts
    assert national.kind == "national" and national.url is not None
    assert national.url.startswith("https://lannuaire.service-public.gouv.fr/")
    assert "pas de contact local" in national.label
    agency = next(s for s in referral.structures if s.network == "france_travail")
    numbers = [c for c in agency.contacts if c.kind == "national"]
    assert [c.phone for c in numbers] == ["3949"]  # an agency with no number of its own: the national one


def test_after_the_town_in_a_second_turn_the_three_first_structures_are_local(assistant: Assistant) -> None:
    conversation = assistant.turn("jeune de 19 ans qui a arrêté ses études, sans emploi").conversation_id
    referral = assistant.turn("à Bourgoin-Jallieu", conversation)
    assert referral.understood.commune is not None and referral.understood.commune.insee == "38053"
    for structure in referral.structures[:3]:
        assert any(c.kind == "site" and (c.phone or c.address) for c in structure.contacts), structure.name


def test_missing_town_is_asked_and_the_network_answer_still_shown(assistant: Assistant) -> None:
    referral = assistant.turn("jeune de 18 ans qui cherche un apprentissage")
    assert referral.clarification is not None and referral.clarification.slot == "territory"
    assert referral.clarification.options
    assert referral.structures


def test_later_turns_refine_the_case(assistant: Assistant) -> None:
    first = assistant.turn("DE 24 ans cherche emploi à Grenoble")
    assert "mission_locale" in networks(first)
    second = assistant.turn("il a 26 ans en fait", first.conversation_id)
    assert second.understood.age == 26
    assert "mission_locale" not in networks(second)
    third = assistant.turn("et à Roanne ?", first.conversation_id)
    assert third.understood.commune is not None and third.understood.commune.insee == "42187"
    assert third.understood.age == 26


def test_a_new_need_replaces_the_old_one(assistant: Assistant) -> None:
    first = assistant.turn("bac+5 cherche emploi à Chambéry")
    second = assistant.turn("plutôt pour une reconversion", first.conversation_id)
    assert second.understood.needs == ("reconversion",)


def test_homonym_towns_are_offered_as_choices_not_guessed(assistant: Assistant) -> None:
    referral = assistant.turn("salarié qui veut une VAE à Saint-Priest")
    assert referral.clarification is not None and referral.clarification.slot == "territory"
    assert len(referral.clarification.options) >= 2
    assert referral.understood.commune is None


def test_nothing_relevant_is_said_plainly_without_structures(assistant: Assistant) -> None:
    referral = assistant.turn("donne-moi la recette de la tarte tatin")
    assert referral.structures == () and referral.clarification is None
    # One sentence, which says what the assistant does instead of inventing a structure.
    assert referral.reply.count(". ") == 0 and referral.reply.endswith(".")
    assert "sans rien inventer" in referral.reply and "orientation" in referral.reply


def test_context_from_the_widget_supplies_the_department(assistant: Assistant) -> None:
    referral = assistant.turn("cadre qui veut un bilan de compétences", context=TurnContext(department="74"))
    assert referral.understood.department == "74"
    local = [s for s in referral.structures if not s.id.startswith("network:")]
    assert all("74" in s.departments for s in local)


def test_ask_command_prints_a_referral(index_root: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    data = tmp_path / "data"
    data.mkdir()
    (data / "index").symlink_to(index_root)
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "ask", "jeune de 17 ans décrocheur à Vienne"],
        env={**os.environ, "SPRO_DATA_DIR": str(data), "COLUMNS": "200"},
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Mission" in done.stdout and "Vienne" in done.stdout


def test_conversation_state_keeps_no_personal_details(knowledge_index, encoder, territory) -> None:  # type: ignore[no-untyped-def]
    from assistant.dialogue import MemoryStore

    store = MemoryStore()
    brain = Assistant(knowledge_index, encoder, territory, store)
    message = "Mme Josiane Martin, 06 12 34 56 78, josiane.martin@exemple.fr, 22 ans, cherche une formation à Grenoble"
    referral = brain.turn(message)
    state = store.load(referral.conversation_id)
    assert state is not None
    stored = str(state.to_dict())
    for personal in ("Josiane", "Martin", "06 12", "exemple.fr"):
        assert personal not in stored
    assert "formation" in stored and state.age == 22


def test_a_very_long_message_costs_the_encoder_a_bounded_text_and_is_still_understood(
    knowledge_index, encoder, territory  # type: ignore[no-untyped-def]
) -> None:
    from assistant.dialogue import DENSE_QUERY_CHARS, MemoryStore

    recording = RecordingEncoder(encoder)
    brain = Assistant(knowledge_index, recording, territory, MemoryStore())
    padding = " ".join(["Elle explique longuement son parcours, ses envies et ses contraintes de transport."] * 25)
    message = f"jeune de 17 ans décrocheur à Vienne. {padding}"
    assert len(message) > 2000
    referral = brain.turn(message)
    assert recording.queries and all(len(q) <= DENSE_QUERY_CHARS + 200 for q in recording.queries)
    assert referral.understood.age == 17 and referral.understood.commune is not None
    assert {"mission_locale", "psad"} & {s.network for s in referral.structures[:3]}
