"""Tests of the territory table and of place recognition, on the shipped table."""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path

import pytest

from knowledge.territory import ALIASES, DATA_DIR, Resolution, Territory

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

CURRENT_PER_DEPARTMENT = {
    "01": 391,
    "03": 317,
    "07": 335,
    "15": 250,
    "26": 362,
    "38": 512,
    "42": 320,
    "43": 257,
    "63": 463,
    "69": 266,
    "73": 273,
    "74": 279,
}


@pytest.fixture(scope="module")
def territory() -> Territory:
    return Territory.load()


def insees(resolution: Resolution) -> list[str]:
    return [c.insee for c in resolution.communes]


# --- the shipped table ---------------------------------------------------------------------------------------


def test_table_has_the_4025_current_communes_per_department(territory: Territory) -> None:
    current = territory.communes("commune-actuelle")
    assert len(current) == 4025
    assert Counter(c.department for c in current) == CURRENT_PER_DEPARTMENT


def test_table_has_former_communes_and_lyon_arrondissements(territory: Territory) -> None:
    assert len(territory.communes("commune-deleguee")) == 219
    assert len(territory.communes("commune-associee")) == 20
    arrondissements = territory.communes("arrondissement-municipal")
    assert sorted(c.insee for c in arrondissements) == [f"6938{n}" for n in range(1, 10)]
    assert {c.parent_insee for c in arrondissements} == {"69123"}


def test_every_row_has_an_epci_and_current_communes_have_postcodes(territory: Territory) -> None:
    assert all(c.epci_code and c.epci_name for c in territory.communes())
    assert all(c.postcodes and c.population > 0 for c in territory.communes("commune-actuelle"))


def test_attribution_names_the_sources_and_the_licence() -> None:
    text = (DATA_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "@etalab/decoupage-administratif" in text
    assert "Licence Ouverte" in text
    assert "zones d'emploi 2020" in text.lower()


@pytest.mark.shared_data
def test_table_agrees_with_the_shared_extract_on_department_and_epci(territory: Territory) -> None:
    shared = SHARED_DATA / "geo" / "communes_aura_2026.csv"
    if not shared.exists():
        pytest.skip("../shared/data/geo is absent")
    with shared.open(encoding="utf-8", newline="") as handle:
        expected = {
            (r["code_insee"], r["type"]): (r["code_departement"], r["epci_code"]) for r in csv.DictReader(handle)
        }
    ours = {(c.insee, c.kind): (c.department, c.epci_code) for c in territory.communes()}
    assert ours == expected


# --- lookups -------------------------------------------------------------------------------------------------


def test_commune_prefers_the_current_commune_when_a_former_one_shares_its_code(territory: Territory) -> None:
    annecy = territory.commune("74010")
    assert annecy is not None and annecy.kind == "commune-actuelle" and annecy.name == "Annecy"
    assert territory.commune("99999") is None


def test_current_maps_former_communes_and_arrondissements_to_their_commune(territory: Territory) -> None:
    annecy_le_vieux = territory.commune("74011")
    assert annecy_le_vieux is not None and annecy_le_vieux.kind == "commune-deleguee"
    assert territory.current("74011") == territory.commune("74010")
    # An arrondissement is not a commune: its current commune is Lyon.
    assert territory.current("69383") == territory.commune("69123")
    assert territory.current("38544") == territory.commune("38544")


def test_arrondissement_carries_lyon_epci_and_its_own_postcode(territory: Territory) -> None:
    lyon_3 = territory.commune("69383")
    assert lyon_3 is not None
    assert (lyon_3.department, lyon_3.epci_code, lyon_3.postcodes) == ("69", "200046977", ("69003",))


def test_departments_and_their_names(territory: Territory) -> None:
    assert list(territory.departments()) == list(CURRENT_PER_DEPARTMENT)
    assert territory.department_name("38") == "Isère"
    assert territory.department_name("63") == "Puy-de-Dôme"
    with pytest.raises(KeyError):
        territory.department_name("75")


def test_communes_of_epci_lists_current_communes_only(territory: Territory) -> None:
    metropole = territory.communes_of_epci("200046977")
    assert len(metropole) == 58
    assert {"69123", "69266"} <= {c.insee for c in metropole}
    assert all(c.kind == "commune-actuelle" for c in metropole)
    assert territory.communes_of_epci("000000000") == ()


# --- resolve: the text is a place ----------------------------------------------------------------------------


def test_resolve_vienne_is_the_isere_town(territory: Territory) -> None:
    resolution = territory.resolve("Vienne")
    assert insees(resolution) == ["38544"]
    assert resolution.department == "38"
    assert resolution.matched == "Vienne"
    assert resolution.commune is not None and not resolution.ambiguous


@pytest.mark.parametrize("text", ["St Etienne", "st-etienne", "saint etienne", "SAINT-ÉTIENNE", "Saint Étienne"])
def test_resolve_saint_etienne_spellings(territory: Territory, text: str) -> None:
    assert insees(territory.resolve(text)) == ["42218"]


@pytest.mark.parametrize(("alias", "insee"), sorted(ALIASES.items()))
def test_resolve_curated_short_forms(territory: Territory, alias: str, insee: str) -> None:
    resolution = territory.resolve(alias)
    assert insees(resolution) == [insee]
    assert resolution.commune is not None and resolution.commune.kind == "commune-actuelle"


def test_resolve_clermont_is_clermont_ferrand_unless_the_department_says_otherwise(territory: Territory) -> None:
    assert insees(territory.resolve("Clermont")) == ["63113"]
    # The real commune named Clermont is in Haute-Savoie: the department selects it.
    assert insees(territory.resolve("Clermont (74)")) == ["74078"]


def test_resolve_commune_deleguee_gives_its_commune(territory: Territory) -> None:
    resolution = territory.resolve("Annecy-le-Vieux")
    assert insees(resolution) == ["74010"]
    assert resolution.matched == "Annecy-le-Vieux"
    assert insees(territory.resolve("Chassagny")) == ["69179"]  # now part of Beauvallon


@pytest.mark.parametrize("text", ["Lyon 3e", "Lyon 3", "Lyon 3ème", "lyon 3eme", "Lyon 3e arrondissement", "69003"])
def test_resolve_lyon_arrondissement(territory: Territory, text: str) -> None:
    resolution = territory.resolve(text)
    assert insees(resolution) == ["69383"]
    assert resolution.department == "69"


def test_resolve_lyon_is_the_commune(territory: Territory) -> None:
    assert insees(territory.resolve("Lyon")) == ["69123"]
    assert insees(territory.resolve("Lyon 1er")) == ["69381"]


def test_resolve_shared_postcode_gives_candidates_most_populous_first(territory: Territory) -> None:
    resolution = territory.resolve("38200")
    assert resolution.ambiguous and resolution.commune is None
    assert resolution.communes[0].insee == "38544"
    assert all("38200" in c.postcodes for c in resolution.communes)
    populations = [c.population for c in resolution.communes]
    assert populations == sorted(populations, reverse=True)
    assert resolution.department == "38"


def test_resolve_insee_code_when_not_a_postcode(territory: Territory) -> None:
    assert insees(territory.resolve("38544")) == ["38544"]
    assert insees(territory.resolve("74011")) == ["74010"]


@pytest.mark.parametrize(
    ("text", "department"),
    [
        ("en Isère", "38"),
        ("Isère", "38"),
        ("dans le 63", "63"),
        ("63", "63"),
        ("Puy de Dome", "63"),
        ("haute savoie", "74"),
        ("(38)", "38"),
        ("département 42", "42"),
        ("dans l'Ain", "01"),
    ],
)
def test_resolve_department_only(territory: Territory, text: str, department: str) -> None:
    resolution = territory.resolve(text)
    assert resolution.communes == ()
    assert resolution.department == department


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Saint-Priest", ["69290", "07288"]),
        ("Beaumont", ["63032", "74031", "43022", "07029"]),
        ("Apremont", ["73017", "01011"]),
    ],
)
def test_resolve_homonyms_gives_every_candidate_most_populous_first(
    territory: Territory, name: str, expected: list[str]
) -> None:
    resolution = territory.resolve(name)
    assert insees(resolution) == expected
    assert resolution.ambiguous and resolution.commune is None
    assert resolution.department is None


def test_resolve_homonym_with_department_is_resolved(territory: Territory) -> None:
    assert insees(territory.resolve("Saint-Priest (07)")) == ["07288"]
    assert insees(territory.resolve("Saint-Priest dans le Rhône")) == ["69290"]


@pytest.mark.parametrize(
    ("text", "insee"),
    [
        ("L'Isle-d'Abeau", "38193"),
        ("l isle d abeau", "38193"),
        ("L’Isle d’Abeau", "38193"),
        ("Ste Foy lès Lyon", "69202"),
        ("Saint Genis Laval", "69204"),
        ("Bourg St Maurice", "73054"),
        ("Villefranche sur Saone", "69264"),
        ("Pont-de-Claix", "38317"),
        ("Puy-en-Velay", "43157"),
        ("Saint Martin Dheres", "38421"),
    ],
)
def test_resolve_tolerates_accents_hyphens_apostrophes_and_abbreviations(
    territory: Territory, text: str, insee: str
) -> None:
    assert insees(territory.resolve(text)) == [insee]


@pytest.mark.parametrize(
    ("text", "insee"),
    [("Villeurbane", "69266"), ("Grenble", "38185"), ("Montelimard", "26198"), ("Bourg-en-Brese", "01053")],
)
def test_resolve_forgives_one_typo_in_a_long_name(territory: Territory, text: str, insee: str) -> None:
    assert insees(territory.resolve(text)) == [insee]


@pytest.mark.parametrize("text", ["Riomm", "Brom", "mission locale", "formation", "", "   ", "75001", "17"])
def test_resolve_returns_nothing_rather_than_a_guess(territory: Territory, text: str) -> None:
    assert territory.resolve(text) == Resolution()


# --- find: a place inside a counsellor's sentence ------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "insee", "matched"),
    [
        ("jeune de 17 ans décrocheur à Vienne", "38544", "Vienne"),
        ("DE 45 ans sur Grenoble veut faire une VAE", "38185", "Grenoble"),
        ("habite Annecy-le-Vieux", "74010", "Annecy-le-Vieux"),
        ("secteur de Roanne", "42187", "Roanne"),
        ("jeune majeure, Villeurbanne, cherche apprentissage", "69266", "Villeurbanne"),
        ("et à Grenoble ?", "38185", "Grenoble"),
        ("Vienne", "38544", "Vienne"),
        ("jeune à Villeurbane sans diplôme", "69266", "Villeurbane"),
        ("étudiant à Lyon 3", "69383", "Lyon 3"),
        ("à Lyon 3 jours par semaine", "69123", "Lyon"),
        ("vit au Puy", "43157", "Puy"),
        ("mission locale de Vienne", "38544", "Vienne"),
        ("il habite à l'Isle d'Abeau", "38193", "l'Isle d'Abeau"),
        ("Vienne 38200, jeune de 19 ans", "38544", "Vienne"),
        ("jeune de Clermont en Haute-Savoie", "74078", "Clermont"),
        ("reconversion chambery", "73065", "chambery"),
        ("jeune 21ans veut faire le bafa pr etre animateur colo valance", "26362", "valance"),
    ],
)
def test_find_commune_in_a_sentence(territory: Territory, message: str, insee: str, matched: str) -> None:
    resolution = territory.find(message)
    assert insees(resolution) == [insee]
    assert resolution.matched == matched


@pytest.mark.parametrize(
    ("message", "insee"),
    [
        ("jeune de Bourg-en-Bresse qui cherche", "01053"),
        ("jeune de Bourg en Bresse qui cherche", "01053"),
        ("stage à Saint-Genis-Laval", "69204"),
        ("stage à saint genis laval", "69204"),
        ("habite le Puy-en-Velay", "43157"),
        ("vit à Le Puy en Velay depuis 2 ans", "43157"),
        ("vit à Aix-les-Bains", "73008"),
        ("vit à Aix les Bains", "73008"),
        ("apprentissage à Villefranche-sur-Saône", "69264"),
        ("jeune de Romans-sur-Isère", "26281"),
    ],
)
def test_find_multi_word_names_with_or_without_hyphens(territory: Territory, message: str, insee: str) -> None:
    assert insees(territory.find(message)) == [insee]


@pytest.mark.parametrize(
    ("message", "department"),
    [
        ("elle vit dans le 63", "63"),
        ("en Haute-Savoie", "74"),
        ("jeune en Isère sans emploi", "38"),
        ("dans le Puy-de-Dôme", "63"),
        ("jeune (38) sans diplôme", "38"),
        ("dept 74", "74"),
        ("département 42, jeune décrocheur", "42"),
        ("habite dans l'Ain", "01"),
        ("dans la Drôme", "26"),
    ],
)
def test_find_department_only(territory: Territory, message: str, department: str) -> None:
    resolution = territory.find(message)
    assert resolution.communes == ()
    assert resolution.department == department


def test_find_postcode_in_a_sentence(territory: Territory) -> None:
    resolution = territory.find("RQTH 38200")
    assert resolution.ambiguous
    assert resolution.communes[0].insee == "38544"
    assert resolution.matched == "38200"
    assert insees(territory.find("habite 69003")) == ["69383"]


def test_find_homonym_stays_ambiguous(territory: Territory) -> None:
    resolution = territory.find("jeune de 20 ans à Saint-Priest")
    assert insees(resolution) == ["69290", "07288"]
    assert resolution.commune is None


@pytest.mark.parametrize(
    "message",
    [
        "jeun 17ans decrocher cherch formation mecanik",
        "salarié 35 ans veut se reconvertir",
        "mission locale",
        "58 ans",
        "jeune de 63 ans",
        "il a 38 ans et 2 enfants",
        "né en 1974",
        "salaire 38000 € brut",
        "il cherche un job dans la restauration",
        "plan de formation",
        "le corps médical",
        "formation sur place, à domicile ou à temps partiel",
        "qu'il vienne demain",
        "région Auvergne-Rhône-Alpes",
        "la filière bois",
        "les clauses du contrat",
        "un tournoi de foot",
        "une formation à allier avec un emploi",
        "Pierre, 17 ans, veut un CAP",
        "Université Lyon 2",
        "rue de Lyon",
        "lycée Saint-Exupéry",
        "il habite à Bordeaux",
        "frontalier qui travaille à Genève",
        "il vit dans la Vienne",
        "job",
    ],
)
def test_find_no_place_in_ordinary_sentences(territory: Territory, message: str) -> None:
    assert territory.find(message) == Resolution()


def test_find_first_place_when_several(territory: Territory) -> None:
    assert insees(territory.find("habite Vienne, travaille à Lyon")) == ["38544"]


def test_find_is_fast(territory: Territory) -> None:
    messages = [
        "jeune de 17 ans décrocheur à Vienne",
        "DE 45 ans sur Grenoble veut faire une VAE",
        "jeun 17ans decrocher cherch formation mecanik",
        "salarié de 35 ans qui veut se reconvertir dans l'informatique, il habite à côté de Bourg-en-Bresse",
        "RQTH 38200",
    ] * 40
    started = time.perf_counter()
    for message in messages:
        territory.find(message)
    assert (time.perf_counter() - started) / len(messages) < 0.005
