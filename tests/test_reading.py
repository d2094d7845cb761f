"""Reading the case in context (issue 12): each test names the class of misreading its rule prevents."""

from __future__ import annotations

import pytest

from assistant.context import mask_other_senses, reading_at, says_business_project
from assistant.eligibility import judge
from assistant.lexicon import CUES, OTHER_SENSES
from assistant.precedence import FIRST_DOORS, first_door
from assistant.understanding import Case, Reader
from knowledge.territory import Territory


@pytest.fixture(scope="module")
def reader(territory: Territory) -> Reader:
    return Reader(territory)


def read(reader: Reader, message: str) -> Case:
    return reader.read(message).case


# Class "past_status": a status the person has left is where they come from, not where they are.


@pytest.mark.parametrize(
    ("message", "former", "current"),
    [
        ("ancien cadre de 50 ans au chômage depuis un an", "cadre", "demandeur_emploi"),
        ("ex-salarié de l'industrie, inscrit à France Travail", "salarie", "demandeur_emploi"),
        ("elle n'est plus à la fac depuis juin et cherche du travail", "etudiant", None),
        ("il était cadre avant, il est maintenant salarié en CDI", "cadre", "salarie"),
        ("elle était aide-soignante, aujourd'hui sans emploi", "salarie", "demandeur_emploi"),
        ("ex-fonctionnaire qui a démissionné de la fonction publique", "fonctionnaire", None),
        ("ancienne responsable marketing, elle managait une équipe, au chômage", "cadre", "demandeur_emploi"),
        ("il ne travaille plus depuis son accident", "salarie", None),
    ],
)
def test_past_status_is_read_as_former_not_current(reader: Reader, message: str, former: str,
                                                    current: str | None) -> None:
    case = read(reader, message)
    assert (case.former_status, case.status) == (former, current)


def test_past_status_leaving_school_without_a_diploma_is_a_school_leaver(reader: Reader) -> None:
    assert read(reader, "une gamine de 16 ans a lâché le lycée en novembre").status == "decrocheur"
    assert read(reader, "il a quitté le lycée l'an dernier sans le bac").status == "decrocheur"
    # With the diploma, leaving school is just finishing it.
    assert read(reader, "il a quitté le lycée avec son bac en poche").status is None


def test_past_status_denied_is_neither_current_nor_former(reader: Reader) -> None:
    case = read(reader, "salarié non cadre qui veut se reconvertir")
    assert (case.status, case.former_status) == ("salarie", None)
    assert read(reader, "elle n'est pas en situation de handicap, elle cherche un emploi").flags == ()


def test_past_status_cue_needs_to_stand_right_before_the_word() -> None:
    # "plus de 3 ans au chômage": "plus" is a quantity there, and the unemployment is current.
    words = " plus de 3 ans au chomage "
    assert reading_at(words, words.find(" chomage "), "chomage") == "current"
    words = " a quitte le lycee "
    assert reading_at(words, words.find(" lycee "), "lycee") == "former"


def test_past_status_former_student_is_not_sent_to_the_university_service(reader: Reader) -> None:
    case = read(reader, "elle n'est plus à la fac depuis juin, 21 ans")
    assert judge("scuio", case).factor < judge("scuio", Case(status="etudiant")).factor


def test_past_status_former_cadre_looking_for_a_job_is_still_the_apec_public(reader: Reader) -> None:
    job_seeker = read(reader, "ancien cadre au chômage depuis 6 mois")
    now_employee = read(reader, "il était cadre avant, il est maintenant salarié en CDI comme employé de rayon")
    assert judge("apec", job_seeker).factor > 1.0
    assert judge("apec", now_employee).factor < 1.0


# Class "word_sense": a word with two meanings is read in the sense its context gives it.


@pytest.mark.parametrize(
    "message",
    [
        "jeune de 19 ans qui a besoin d'un cadre pour se remobiliser",
        "il lui faudrait un cadre structurant",
        "dans le cadre de son suivi, elle cherche une formation",
    ],
)
def test_word_sense_cadre_as_a_setting_is_not_the_executive_status(reader: Reader, message: str) -> None:
    assert read(reader, message).status != "cadre"


def test_word_sense_cadre_as_a_status_is_still_read(reader: Reader) -> None:
    assert read(reader, "un cadre de 45 ans licencié").status == "cadre"


def test_word_sense_bilan_of_a_school_year_is_not_a_skills_assessment(reader: Reader) -> None:
    assert "bilan" not in read(reader, "il veut faire le bilan de sa première année de BTS").needs
    assert "bilan" in read(reader, "salarié qui veut faire un bilan de compétences").needs


def test_word_sense_working_life_is_not_the_international_volunteering(reader: Reader) -> None:
    assert "international" not in read(reader, "retourner à la fac après 20 ans de vie active").needs
    assert "international" in read(reader, "étudiant qui veut partir en VIE au Canada").needs


def test_word_sense_medicine_studies_are_not_a_health_need(reader: Reader) -> None:
    assert "sante" not in read(reader, "ancien étudiant en médecine qui veut trouver sa voie").needs


def test_word_sense_a_status_phrase_is_not_also_a_need(reader: Reader) -> None:
    case = read(reader, "demandeur d'emploi de 50 ans qui n'arrive pas à faire ses démarches en ligne")
    assert case.status == "demandeur_emploi"
    assert case.needs == ("demarches",)


def test_word_sense_every_masked_phrase_contains_its_word() -> None:
    for sense in OTHER_SENSES:
        assert sense.why
        for phrase in sense.phrases:
            assert sense.word in phrase.split(), (sense.word, phrase)
            assert sense.word not in mask_other_senses(f" {phrase} ").split()


# Class "in_scope": a business project said without the word "entreprise" is in scope, never refused.


@pytest.mark.parametrize(
    "message",
    [
        "une dame veut ouvrir une épicerie dans son village",
        "il voudrait lancer une activité de vente de vêtements en ligne",
        "quelqu'un qui veut reprendre le bar-tabac de sa commune",
        "une femme qui veut se lancer comme traiteur à domicile",
        "jeune qui veut devenir coiffeur à son compte",
    ],
)
def test_in_scope_business_projects_are_read_as_business_creation(reader: Reader, message: str) -> None:
    case = read(reader, message)
    assert "creation_entreprise" in case.needs
    assert not case.out_of_scope


def test_in_scope_resuming_work_is_not_a_business_project() -> None:
    assert not says_business_project(" au rsa qui veut reprendre une activite ")


@pytest.mark.parametrize(
    ("message", "domain"),
    [
        ("ma fille a de la fièvre, quel médicament lui donner ?", "sante"),
        ("quel est le meilleur traitement contre la migraine ?", "sante"),
        ("tu as une recette de gratin ?", "cuisine"),
        ("traduis ce texte en anglais", "ecriture"),
    ],
)
def test_in_scope_only_topics_no_network_handles_are_off_topic(reader: Reader, message: str, domain: str) -> None:
    assert read(reader, message).off_topic == domain


def test_in_scope_a_case_with_a_need_is_never_off_topic(reader: Reader) -> None:
    # "cuisine" is an off-topic word, but an apprenticeship in cooking is a case.
    assert read(reader, "jeune de 17 ans qui cherche un apprentissage en cuisine").off_topic is None


# Classes "first_door" and "grants": who comes first for a kind of case.


def _first(case: Case, proposed: list[str]) -> str | None:
    rule = first_door(case, proposed)
    return rule.network if rule else None


def test_first_door_young_person_without_a_job_goes_to_the_mission_locale_first(reader: Reader) -> None:
    proposed = ["france_travail", "mission_locale", "epide"]
    assert _first(read(reader, "jeune de 20 ans sans emploi qui cherche du travail"), proposed) == "mission_locale"
    # From 26, or already registered and asking for France Travail's own services, France Travail stays first.
    assert _first(read(reader, "homme de 27 ans sans emploi qui cherche du travail"), proposed) is None
    registered = read(reader, "jeune de 24 ans inscrit à France Travail qui veut un atelier CV de France Travail")
    assert _first(registered, proposed) is None


def test_first_door_does_not_override_a_need_another_network_answers(reader: Reader) -> None:
    case = read(reader, "jeune de 22 ans qui veut créer son entreprise de plomberie")
    assert _first(case, ["cci", "cma", "mission_locale"]) == "cma"


def test_grants_the_rqth_is_asked_of_the_mdph(reader: Reader) -> None:
    assert _first(read(reader, "personne qui veut obtenir la RQTH"), ["cap_emploi", "mdph"]) == "mdph"


def test_grants_a_job_search_with_an_rqth_goes_to_cap_emploi(reader: Reader) -> None:
    case = read(reader, "demandeur d'emploi avec une RQTH qui cherche un emploi, 45 ans")
    assert _first(case, ["france_travail", "mdph", "cap_emploi"]) == "cap_emploi"


def test_grants_a_victim_of_violence_goes_to_the_cidff_first(reader: Reader) -> None:
    case = read(reader, "femme victime de violences conjugales qui veut reprendre une formation")
    assert _first(case, ["france_travail", "via_competences", "cidff"]) == "cidff"


def test_grants_farming_and_craft_projects_go_to_their_chamber(reader: Reader) -> None:
    assert _first(read(reader, "il veut créer une ferme maraîchère"), ["cci", "chambre_agriculture"]) == (
        "chambre_agriculture"
    )
    assert _first(read(reader, "elle veut ouvrir un salon de coiffure"), ["cci", "cma"]) == "cma"


def test_grants_paperwork_alone_goes_to_france_services(reader: Reader) -> None:
    case = read(reader, "monsieur qui n'arrive pas à faire ses démarches administratives en ligne")
    assert _first(case, ["france_travail", "france_services"]) == "france_services"
    with_job = read(reader, "monsieur qui cherche un emploi et n'arrive pas à faire ses démarches en ligne")
    assert _first(with_job, ["france_travail", "france_services"]) is None


def test_a_first_door_needs_its_network_among_those_proposed(reader: Reader) -> None:
    assert _first(read(reader, "personne qui veut obtenir la RQTH"), ["cap_emploi"]) is None


def test_every_rule_says_its_class_and_why() -> None:
    assert all(cue.why for cue in CUES)
    for rule in FIRST_DOORS:
        assert rule.name in ("grants", "first_door") and rule.why and rule.reason


# Class "reasons_hold": a dispositif cited on a card is one the case can be among the publics of.


def test_reasons_hold_a_youth_only_dispositif_does_not_explain_an_adult_card() -> None:
    from assistant.audiences import fits

    e2c_parcours = ["jeunes", "decrocheurs", "demandeurs-emploi"]
    assert fits(e2c_parcours, Case(age=20, status="decrocheur"))
    assert not fits(e2c_parcours, Case(age=26, status="decrocheur"))
    # A sheet for job seekers that also names young people is not youth-only.
    assert fits(["demandeurs-emploi", "jeunes", "personnes-en-situation-de-handicap"],
                Case(age=35, status="demandeur_emploi"))


def test_reasons_hold_a_sheet_defined_by_its_public_needs_the_case_to_be_in_it() -> None:
    from assistant.audiences import fits

    refugees = ["personnes-exilees", "demandeurs-emploi", "jeunes"]
    assert not fits(refugees, Case(age=30, status="demandeur_emploi"))
    assert fits(refugees, Case(age=30, status="demandeur_emploi", flags=("refugie",)))
    assert fits([], Case(age=30))


def test_reasons_hold_over_the_golden_set(knowledge_index, encoder, territory) -> None:  # type: ignore[no-untyped-def]
    """No card of the golden set cites a dispositif whose publics the case is known not to be among."""
    from pathlib import Path

    import yaml

    from assistant.audiences import fits
    from assistant.dialogue import Assistant, MemoryStore
    from assistant.evaluation import GoldenCase

    assistant = Assistant(knowledge_index, encoder, territory, MemoryStore())
    golden = Path(__file__).parent / "golden" / "cases.yaml"
    titles = {d.title: d for d in knowledge_index.dispositifs.values()}
    checked = 0
    for raw in yaml.safe_load(golden.read_text(encoding="utf-8")):
        case = GoldenCase.from_dict(raw)
        conversation = None
        for message in case.turns:
            referral = assistant.turn(message, conversation)
            conversation = referral.conversation_id
        understood = referral.understood
        person = Case(age=understood.age, status=understood.status, needs=understood.needs, flags=understood.flags)
        for structure in referral.structures:
            for reason in structure.reasons:
                for title, dispositif in titles.items():
                    if title in reason:
                        checked += 1
                        assert fits(dispositif.publics, person), (case.id, structure.name, title)
    assert checked > 50
