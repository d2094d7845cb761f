"""The directory: the embedded open data, one site from many sources, who serves a commune, and its holes."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ingest.build import gather
from ingest.sources.base import Loaded
from ingest.sources.discovery import load_paths
from ingest.sources.embedded_directory import DIRECTORY, load_embedded_directory
from knowledge.directory import Directory
from knowledge.directory.coverage import coverage
from knowledge.directory.merge import merge_sites
from knowledge.model import Contact, FieldOrigin, ServedTerritory, Source, Structure
from knowledge.territory import Territory
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def embedded() -> Loaded:
    """What a fresh clone has, with no ../shared: the embedded base and directory, merged."""
    return gather([])


@pytest.fixture(scope="module")
def directory(embedded: Loaded, territory: Territory) -> Directory:
    return Directory(embedded.structures, territory)


def site(structures: list[Structure], identifier: str) -> Structure:
    (found,) = [s for s in structures if s.id == identifier]
    return found


# --- the embedded directory ---------------------------------------------------------------------------------


def test_a_fresh_clone_has_one_structure_per_real_site_with_no_shared_folder(embedded: Loaded) -> None:
    assert embedded.problems == []
    assert len(embedded.structures) >= 750
    assert len({s.id for s in embedded.structures}) == len(embedded.structures)
    networks = {s.network for s in embedded.structures}
    assert {"mission_locale", "france_travail", "france_services", "cio", "information_jeunesse"} <= networks
    cited = {source.id for source in embedded.sources}
    assert all(s.source_id in cited for s in embedded.structures)


def test_the_embedded_directory_names_its_sources_licences_and_dates() -> None:
    attribution = (DIRECTORY / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for expected in ("Service-Public.fr / DILA", "Licence Ouverte 2.0", "UNML", "i-milo", "Transitions Pro",
                     "licence", "à jour au", "scripts/build_directory.py"):
        assert expected in attribution
    loaded = load_embedded_directory()
    assert all(source.as_of is not None and source.licence for source in loaded.sources)


@pytest.mark.shared_data
def test_the_embedded_directory_is_what_the_script_makes_of_the_raw_files(shared_data: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "scripts/build_directory.py", "--raw", str(shared_data / "structures"), "--output",
         str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    committed = sorted(p.name for p in DIRECTORY.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == committed
    for name in committed:
        assert (tmp_path / name).read_text(encoding="utf-8") == (DIRECTORY / name).read_text(encoding="utf-8"), (
            f"{name} n'est plus à jour : lancer python scripts/build_directory.py"
        )


def test_a_bad_line_of_the_embedded_directory_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "sources.json").write_text((DIRECTORY / "sources.json").read_text(encoding="utf-8"), "utf-8")
    good = (DIRECTORY / "transitions_pro_aura_2022.jsonl").read_text(encoding="utf-8").splitlines()[0]
    (tmp_path / "sites.jsonl").write_text(f'{good}\n{{"id": "x", "network": "nope"}}\n', encoding="utf-8")
    loaded = load_embedded_directory(tmp_path)
    assert len(loaded.structures) == 1
    (problem,) = loaded.problems
    assert problem.path.endswith("sites.jsonl") and problem.line == 2


# --- one site, many sources ---------------------------------------------------------------------------------


def test_a_mission_locale_seen_in_three_sources_is_one_site_with_the_freshest_value_of_each_field(
    embedded: Loaded,
) -> None:
    bourg = site(embedded.structures, "annuaire:mission_locale-01053-01")
    assert set(bourg.sources) == {
        "annuaire/annuaire_sp_2019_aura_spro.csv",
        "sites/mission_locale_referentiel_milo_2023.csv",
        "unml/mission_locale_zones_couverture_unml_2026.csv",
    }
    assert bourg.name == "Mission Locale Jeunes Bresse Dombes Côtière"  # i-milo 2023 beats the 2019 directory
    contact = bourg.contacts[0]
    origins = {o.field: (o.source_id, o.as_of) for o in contact.origins}
    assert origins["phone"] == ("annuaire/annuaire_sp_2019_aura_spro.csv", date(2019, 10, 22))
    assert origins["address"][1] == date(2026, 1, 1)  # the UNML address of January 2026
    assert origins["served_area"][1] == date(2026, 1, 1)
    assert contact.phone and contact.address == "5T av des sports"
    assert "01001" in bourg.serves.communes and len(bourg.serves.communes) > 150


def test_france_travail_directions_of_2019_and_2024_merge_on_their_safir_code(embedded: Loaded) -> None:
    regional = [s for s in embedded.structures if "safir:69188" in s.identifiers]
    assert len(regional) == 1
    (direction,) = regional
    assert direction.name == "France Travail DR AUVERGNE-RHONE-ALPES"  # the 2024 name, not "Pôle emploi"
    assert not direction.reception  # a direction is not where a person is received


def test_two_sites_of_one_source_are_never_merged_and_the_same_file_twice_changes_nothing() -> None:
    def record(identifier: str, source: str, phone: str) -> Structure:
        return Structure(
            id=identifier, name="Mission locale", network="mission_locale", commune_insee="69266",
            department="69", source_id=source,
            contacts=(Contact(label="Mission locale", phone=phone, source_id=source, as_of=date(2019, 10, 22)),),
        )

    sources = {"a": Source(id="a", title="A", origin="A"), "b": Source(id="b", title="B", origin="B")}
    racine, clouzot = record("a:1", "a", "04 00 00 00 01"), record("a:2", "a", "04 00 00 00 02")
    merged, report = merge_sites([racine, clouzot, racine], sources)
    assert [s.id for s in merged] == ["a:1", "a:2"] and report == []
    fresher = record("b:1", "b", "04 00 00 00 01").model_copy(
        update={"contacts": (Contact(label="ML", phone="04 00 00 00 01", source_id="b", as_of=date(2024, 1, 2),
                                     origins=(FieldOrigin(field="phone", source_id="b", as_of=date(2024, 1, 2)),)),)}
    )
    merged, report = merge_sites([racine, clouzot, fresher], sources)
    assert len(merged) == 2 and [r.members for r in report] == [("a:1", "b:1")]


# --- who serves this commune --------------------------------------------------------------------------------


def test_the_unml_coverage_decides_which_mission_locale_serves_a_commune(
    directory: Directory, territory: Territory
) -> None:
    # Beaurepaire's Mission Locale has its historical seat in Beaurepaire but serves from the Bièvre.
    saint_etienne_de_saint_geoirs = territory.commune("38384")
    assert saint_etienne_de_saint_geoirs is not None
    matches = directory.sites("mission_locale", saint_etienne_de_saint_geoirs, "38", limit=10)
    assert matches and all(m.level == "served" for m in matches)
    assert all("38384" in m.structure.serves.communes for m in matches if m.structure.serves.communes)


def test_an_antenna_standing_in_a_served_area_serves_it_too_nearest_first(
    directory: Directory, territory: Territory
) -> None:
    bourgoin = territory.commune("38053")
    assert bourgoin is not None
    matches = directory.sites("mission_locale", bourgoin, "38", limit=10)
    assert len(matches) >= 2 and {m.level for m in matches} == {"served"}
    distances = [m.distance_km for m in matches]
    assert all(d is not None for d in distances) and distances == sorted(distances)  # type: ignore[type-var]


def test_with_several_sites_in_the_department_and_no_served_area_the_nearest_one_comes_first(
    directory: Directory, territory: Territory
) -> None:
    yssingeaux = territory.commune("43268")
    assert yssingeaux is not None
    (nearest,) = directory.sites("france_travail", yssingeaux, "43", limit=1)
    assert nearest.distance_km is not None and nearest.distance_km < 30
    every = directory.sites("france_travail", yssingeaux, "43", limit=50)
    assert every[0].structure.id == nearest.structure.id


def test_a_regional_direction_is_never_offered_as_a_place_to_go(directory: Directory, territory: Territory) -> None:
    lyon = territory.commune("69387")
    assert lyon is not None
    offered = directory.sites("france_travail", lyon, "69", limit=50)
    assert offered and all(m.structure.reception for m in offered)


def test_transitions_pro_serves_each_department_from_its_referent_site(
    directory: Directory, territory: Territory
) -> None:
    bourg = territory.commune("01053")
    assert bourg is not None
    (match,) = directory.sites("transitions_pro", bourg, "01", limit=5)
    assert match.level == "department" and match.structure.commune == "Lyon"


def test_what_the_directory_remembers_is_what_it_computes_and_a_caller_cannot_spoil_it(
    embedded: Loaded, territory: Territory
) -> None:
    # Each answer asks for the same places again (sites, departments): the directory keeps them, so a second
    # directory built from the same sites must agree with the first on every lookup, and a caller that edits
    # a returned list must not change what the next caller gets.
    remembered, fresh = Directory(embedded.structures, territory), Directory(embedded.structures, territory)
    bourgoin = territory.commune("38053")
    assert bourgoin is not None
    for _ in range(2):  # the second call is answered from memory
        kept = remembered.sites("mission_locale", bourgoin, "38", limit=10)
        kept.clear()
    assert remembered.sites("mission_locale", bourgoin, "38", limit=10) == fresh.sites(
        "mission_locale", bourgoin, "38", limit=10
    ) != []
    remembered.sites("mission_locale", None, "26")
    assert remembered.sites("mission_locale", None, "26") == fresh.sites("mission_locale", None, "26") != []
    ml = remembered.structures("mission_locale", "38")[0]
    served = remembered.departments_served(ml)
    served.append("99")
    assert remembered.departments_served(ml) == fresh.departments_served(ml) and "38" in served
    assert "99" not in remembered.departments_served(ml)
    covered = remembered.departments_covered("cap_emploi")
    covered.append("99")
    assert remembered.departments_covered("cap_emploi") == fresh.departments_covered("cap_emploi")
    assert "99" not in remembered.departments_covered("cap_emploi")


# --- holes ----------------------------------------------------------------------------------------------------


def test_coverage_names_the_holes_and_the_contacts_to_check(embedded: Loaded) -> None:
    rows = coverage(embedded.structures, ["cap_emploi", "mission_locale", "france_services"], ["38", "15"],
                    date(2026, 12, 2))
    by_key = {(r.network, r.department): r for r in rows}
    assert by_key[("cap_emploi", "38")].hole
    isere = by_key[("mission_locale", "38")]
    assert isere.sites > 10 and isere.with_phone > 0 and isere.stale > 0  # 2019 phones are "à vérifier"
    assert by_key[("france_services", "15")].with_hours > 0
    assert by_key[("france_services", "")].freshest == date(2024, 8, 1)


def test_raw_open_site_files_report_bad_rows_with_their_line(tmp_path: Path) -> None:
    header = "source_id,network,name,address,postcode,commune,insee_commune,department,phone,email,website,as_of"
    rows = [
        header,
        "s:1,france_services,France services de Test,1 rue A,38000,Grenoble,38185,38,04 76 00 00 00,,,2024-08-01",
        "s:2,inconnu,Quelque chose,,,,38185,38,,,,2024-08-01",
        "s:3,france_services,France services hors région,,,,75056,75,,,,2024-08-01",
        "s:4,france_services,Sans date lisible,,,,38185,38,,,,hier",
    ]
    path = tmp_path / "sites.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    loaded = load_paths([path])
    assert [s.id for s in loaded.structures] == ["s:1"]
    assert [p.line for p in loaded.problems] == [3, 4, 5]
    assert loaded.structures[0].serves == ServedTerritory()


@pytest.mark.shared_data
def test_the_shared_raw_folder_and_the_embedded_copy_merge_into_the_same_sites(
    shared_data: Path, embedded: Loaded
) -> None:
    again = gather([shared_data / "structures"])
    # The rows the embedded copy leaves out (2019 MSAPs superseded by the 2024 ANCT list, an agency gone by
    # 2021) come back only when the raw folder is given; every other site is the same, merged once.
    def ids(loaded: Loaded) -> set[str]:
        return {s.id for s in loaded.structures if s.network != "france_services"}

    assert ids(again) - ids(embedded) == {"france_travail_agences_2019:ARA0170003904"}
    assert ids(embedded) <= ids(again)
    services = [s for s in again.structures if s.network == "france_services"]
    assert len(services) >= sum(1 for s in embedded.structures if s.network == "france_services")
