"""The editors' corrections over the official data: applied at every build, kept across re-imports, and an
official change under a correction shown as a conflict."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ingest.build import build_index
from ingest.sources.corrections import corrections_file, load_corrections
from knowledge.directory.corrections import (
    OFFER_HEADING,
    Correction,
    Corrections,
    EditorSite,
    Verification,
    apply_corrections,
)
from knowledge.embedding import Encoder
from knowledge.index import KnowledgeIndex, Records, load_latest
from knowledge.model import Contact, FieldOrigin, Section, ServedTerritory, Structure, Verified
from tests.conftest import CACHE

SAVOIE = "Cap emploi Savoie"
ON = date(2026, 12, 3)


def official(identifier: str = "sites/cap:1", phone: str | None = "04 79 11 11 11", **changes: Any) -> Structure:
    """A made-up official site of Chambéry, with a contact dated by its source."""
    contact = Contact(label="Cap emploi Chambéry", phone=phone, email="contact@cap.example.org",
                      address="1 rue de l'Essai", postcode="73000", commune="Chambéry", department="73",
                      source_id="sites/cap.csv", as_of=date(2024, 1, 2),
                      origins=(FieldOrigin(field="coordinates", source_id="sites/cap.csv", as_of=date(2024, 1, 2)),))
    fields: dict[str, Any] = {
        "id": identifier, "name": "Cap emploi Chambéry", "network": "cap_emploi", "address": "1 rue de l'Essai",
        "postcode": "73000", "commune_insee": "73065", "commune": "Chambéry", "department": "73",
        "latitude": 45.57, "longitude": 5.92, "contacts": (contact,), "source_id": "sites/cap.csv",
        "sources": ("sites/cap.csv",),
        "serves": ServedTerritory(communes=("73065",), epcis=("200069110",)),
        "offer": (Section(heading="Accompagnement", text="Accompagnement vers l'emploi."),),
    }
    return Structure(**{**fields, **changes})


def correction(field: str, value: Any, before: Any = None, site: str = "sites/cap:1", **changes: Any) -> Correction:
    return Correction.model_validate(
        {"structure_id": site, "field": field, "value": value, "official_before": before, "organisation": SAVOIE,
         "on": ON, **changes}
    )


def editor_site(**changes: Any) -> EditorSite:
    return EditorSite.model_validate({
        "id": "editeurs-3f2a9c", "network": "cap_emploi", "name": "Cap emploi Savoie — antenne d'Albertville",
        "address": "12 rue de la République", "postcode": "73200", "commune_insee": "73011", "commune": "Albertville",
        "phone": "04 79 32 00 00", "email": "albertville@cap.example.org", "website": "https://cap.example.org",
        "offer": "Permanence le mardi.", "served_communes": ["73011", "73303"], "organisation": SAVOIE, "on": ON,
        **changes,
    })


# --- apply_corrections ---------------------------------------------------------------------------------------


def test_a_phone_correction_wins_over_the_official_one_with_its_origin_and_date() -> None:
    applied = apply_corrections([official()], Corrections(corrections=(correction("phone", "04 79 60 00 00",
                                                                                  "04 79 11 11 11"),)))
    (site,) = applied.structures
    contact = site.contacts[0]
    assert contact.phone == "04 79 60 00 00" and contact.email == "contact@cap.example.org"
    origins = {o.field: o for o in contact.origins}
    assert origins["phone"] == FieldOrigin(field="phone", source_id="editeurs:cap-emploi-savoie", as_of=ON)
    assert site.verified == Verified(on=ON, by=SAVOIE)
    assert "editeurs:cap-emploi-savoie" in site.sources
    (source,) = applied.sources
    assert (source.id, source.title, source.origin, source.as_of) == (
        "editeurs:cap-emploi-savoie", "Mise à jour par Cap emploi Savoie", SAVOIE, ON)
    (overridden,) = applied.overridden
    assert (overridden.field, overridden.official) == ("phone", "04 79 11 11 11")
    assert applied.conflicts == () and applied.problems == ()


def test_an_official_value_changed_since_the_editor_saw_it_is_a_conflict_and_the_editor_still_wins() -> None:
    reimported = official(phone="04 79 22 22 22")
    applied = apply_corrections([reimported], Corrections(corrections=(correction("phone", "04 79 60 00 00",
                                                                                  "04 79 11 11 11"),)))
    assert applied.structures[0].contacts[0].phone == "04 79 60 00 00"
    (conflict,) = applied.conflicts
    assert (conflict.structure_id, conflict.field) == ("sites/cap:1", "phone")
    assert (conflict.official_before, conflict.official_now, conflict.value) == (
        "04 79 11 11 11", "04 79 22 22 22", "04 79 60 00 00")
    assert (conflict.organisation, conflict.on) == (SAVOIE, ON)


def test_an_official_value_written_differently_or_caught_up_with_the_editor_is_no_conflict() -> None:
    same = Corrections(corrections=(
        correction("phone", "04 79 60 00 00", "04.79.11.11.11"),
        correction("email", "savoie@cap.example.org", " Contact@Cap.example.org "),
    ))
    assert apply_corrections([official()], same).conflicts == ()
    caught_up = Corrections(corrections=(correction("phone", "04 79 60 00 00", "04 79 11 11 11"),))
    assert apply_corrections([official(phone="+33 4 79 60 00 00")], caught_up).conflicts == ()


def test_a_closed_site_leaves_the_answers_and_stays_unchanged_in_withdrawn() -> None:
    site, other = official(), official("sites/cap:2")
    closing = Corrections(corrections=(correction("status", "closed"), correction("phone", "04 79 60 00 00")))
    applied = apply_corrections([site, other], closing)
    assert [s.id for s in applied.structures] == ["sites/cap:2"]
    assert applied.withdrawn == (site,)
    assert [(o.field, o.official) for o in applied.overridden] == [("status", "open")]


def test_a_move_without_a_new_address_is_a_problem_and_a_move_with_one_relocates_the_site() -> None:
    alone = apply_corrections([official()], Corrections(corrections=(correction("status", "moved"),)))
    assert alone.structures[0].commune == "Chambéry" and len(alone.problems) == 1
    place = {"address": "5 avenue du Lac", "postcode": "73100", "commune_insee": "73008", "commune": "Aix-les-Bains"}
    moved = apply_corrections([official()], Corrections(corrections=(correction("status", "moved"),
                                                                     correction("address", place))))
    (site,) = moved.structures
    assert (site.address, site.postcode, site.commune_insee, site.commune, site.department) == (
        "5 avenue du Lac", "73100", "73008", "Aix-les-Bains", "73")
    assert site.latitude is None and site.longitude is None  # the old coordinates are not kept, nor guessed
    contact = site.contacts[0]
    assert (contact.address, contact.commune) == ("5 avenue du Lac", "Aix-les-Bains")
    assert {o.field for o in contact.origins} == {"address"}
    assert site.name == "Cap emploi Chambéry" and moved.problems == ()


def test_served_communes_replace_the_official_area_and_the_offer_adds_its_own_section() -> None:
    applied = apply_corrections([official()], Corrections(corrections=(
        correction("served_communes", ["73065", "73008"]),
        correction("offer", "Permanence le jeudi."),
    )))
    (site,) = applied.structures
    assert site.serves == ServedTerritory(communes=("73008", "73065"))
    assert site.offer == (Section(heading="Accompagnement", text="Accompagnement vers l'emploi."),
                          Section(heading=OFFER_HEADING, text="Permanence le jeudi."))
    again = apply_corrections([site], Corrections(corrections=(correction("offer", "Fermé en août."),)))
    assert [s.text for s in again.structures[0].offer] == ["Accompagnement vers l'emploi.", "Fermé en août."]


def test_a_site_without_contact_gets_one_named_after_it() -> None:
    bare = official(contacts=())
    applied = apply_corrections([bare], Corrections(corrections=(correction("website", "https://cap.example.org"),)))
    (contact,) = applied.structures[0].contacts
    assert (contact.label, contact.url, contact.source_id) == (
        "Cap emploi Chambéry", "https://cap.example.org", "editeurs:cap-emploi-savoie")


def test_a_verification_dates_the_site_without_changing_it() -> None:
    later = Verification(structure_id="sites/cap:1", organisation="Cap emploi 73", on=date(2026, 12, 10))
    applied = apply_corrections([official()], Corrections(corrections=(correction("phone", "04 79 60 00 00"),),
                                                          verifications=(later,)))
    assert applied.structures[0].verified == Verified(on=date(2026, 12, 10), by="Cap emploi 73")
    checked_only = apply_corrections([official()], Corrections(verifications=(later,)))
    assert checked_only.structures[0].contacts == official().contacts and checked_only.overridden == ()


def test_a_site_added_by_its_editors_is_a_site_of_its_network() -> None:
    applied = apply_corrections([official()], Corrections(sites=(editor_site(),)))
    assert [s.id for s in applied.structures] == ["sites/cap:1", "editeurs-3f2a9c"]
    added = applied.structures[1]
    assert (added.network, added.department, added.commune_insee, added.reception) == (
        "cap_emploi", "73", "73011", True)
    assert added.serves.communes == ("73011", "73303")
    assert added.source_id == "editeurs:cap-emploi-savoie" and added.sources == ("editeurs:cap-emploi-savoie",)
    assert added.verified == Verified(on=ON, by=SAVOIE)
    assert added.contacts[0].phone == "04 79 32 00 00" and added.offer[0].heading == OFFER_HEADING


def test_corrections_of_a_site_gone_from_the_official_data_are_a_conflict() -> None:
    gone = Corrections(corrections=(correction("phone", "04 79 60 00 00", "04 79 11 11 11", site="sites/cap:9"),))
    applied = apply_corrections([official()], gone)
    (conflict,) = applied.conflicts
    assert (conflict.structure_id, conflict.field, conflict.official_now) == ("sites/cap:9", "site", None)
    assert len(applied.problems) == 1 and applied.structures == (official(),)


def test_the_same_corrections_in_any_order_give_the_same_result() -> None:
    entries = (
        correction("phone", "04 79 60 00 00", "04 79 00 00 00"),
        correction("hours", [{"day": "mardi", "hours": "09:00 - 12:00"}, {"day": "lundi", "hours": "14:00 - 17:00"}]),
        correction("email", "a@cap.example.org", organisation="Cap emploi 73", on=date(2026, 12, 4)),
        correction("phone", "04 79 60 00 00", site="sites/cap:2"),
    )
    sites = (editor_site(), editor_site(id="editeurs-000001", organisation="Cap emploi 73"))
    one = apply_corrections([official(), official("sites/cap:2")], Corrections(corrections=entries, sites=sites))
    other = apply_corrections([official(), official("sites/cap:2")],
                              Corrections(corrections=entries[::-1], sites=sites[::-1]))
    assert one == other
    assert [s.id for s in one.sources] == ["editeurs:cap-emploi-73", "editeurs:cap-emploi-savoie"]
    assert one.structures[0].verified == Verified(on=date(2026, 12, 4), by="Cap emploi 73")


# --- the corrections file ------------------------------------------------------------------------------------


def snapshot(**lists: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": 1, "exported_at": "2026-12-03T09:00:00+00:00", "corrections": [], "verifications": [],
            "sites": [], **lists}


def test_no_corrections_file_means_no_corrections(tmp_path: Path) -> None:
    assert corrections_file(tmp_path) == tmp_path / "corrections" / "corrections.json"
    assert load_corrections(corrections_file(tmp_path)) == (Corrections(), [])
    assert load_corrections(None) == (Corrections(), [])


@pytest.mark.parametrize("content", ["{tronqué", '{"version": 2, "corrections": []}', "[]"])
def test_an_unusable_corrections_file_is_one_problem_and_no_corrections(tmp_path: Path, content: str) -> None:
    path = tmp_path / "corrections.json"
    path.write_text(content, encoding="utf-8")
    corrections, problems = load_corrections(path)
    assert corrections == Corrections()
    (problem,) = problems
    assert problem.path == str(path)


def test_malformed_entries_are_reported_one_by_one_and_the_others_kept(tmp_path: Path) -> None:
    good = {"structure_id": "a:1", "field": "phone", "value": "04 79 60 00 00", "official_before": None,
            "organisation": SAVOIE, "on": "2026-12-03"}
    bad = [
        {**good, "value": "pas un numéro"},
        {**good, "field": "website", "value": "javascript:alert(1)"},
        {**good, "field": "email", "value": "sans-arobase"},
        {**good, "field": "served_communes", "value": ["7301"]},
        {**good, "field": "address", "value": {"address": "1 rue", "postcode": "75001", "commune_insee": "75101",
                                              "commune": "Paris"}},
        {**good, "field": "couleur"},
        {**good, "on": "hier"},
        {key: value for key, value in good.items() if key != "value"},
    ]
    path = tmp_path / "corrections.json"
    sites = [editor_site().model_dump(mode="json"), {**editor_site().model_dump(mode="json"), "commune_insee": "75056"}]
    path.write_text(json.dumps(snapshot(corrections=[good, *bad], sites=sites)), encoding="utf-8")
    corrections, problems = load_corrections(path)
    assert [c.value for c in corrections.corrections] == ["04 79 60 00 00"]
    assert len(corrections.sites) == 1
    assert len(problems) == len(bad) + 1
    assert all("« a:1 »" in p.message for p in problems[:-1])


def test_records_of_a_version_built_before_the_corrections_still_load() -> None:
    site = official().model_dump(mode="json")
    del site["verified"]
    old = json.dumps({"networks": [], "dispositifs": [], "structures": [site], "documents": [], "sources": []})
    records = Records.from_json(old)
    assert records.structures == (official(),)
    assert (records.withdrawn, records.overridden, records.conflicts) == ((), (), ())


# --- at every build ------------------------------------------------------------------------------------------


def write_corrections(path: Path, *corrections: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot(corrections=list(corrections))), encoding="utf-8")
    return path


def reimport_with_new_phone(folder: Path, site: Structure, code: str, phone: str) -> Path:
    """An official open-site list, fresher than the 2019 directory, giving the same Mission Locale another number."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mission_locale_reimport.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["source_id", "network", "name", "address", "postcode", "commune", "insee_commune",
                         "department", "phone", "email", "website", "as_of", "ml_code"])
        writer.writerow(["reimport:1", "mission_locale", site.name, "", "", site.commune, site.commune_insee,
                         site.department, phone, "", "", "2020-01-01", code])
    return path


def test_a_correction_survives_every_build_and_a_changed_official_value_under_it_is_a_conflict(
    tmp_path: Path, encoder: Encoder, knowledge_index: KnowledgeIndex
) -> None:
    site = next(s for s in knowledge_index.structures.values()
                if s.network == "mission_locale" and s.contacts and s.contacts[0].phone
                and any(i.startswith("unml:") for i in s.identifiers))
    code = next(i for i in site.identifiers if i.startswith("unml:")).removeprefix("unml:")
    before = site.contacts[0].phone
    root, data = tmp_path / "index", tmp_path / "data"
    path = write_corrections(corrections_file(data), {
        "structure_id": site.id, "field": "phone", "value": "04 00 00 00 01", "official_before": before,
        "organisation": "Mission Locale de test", "on": "2026-12-03",
    })

    first = build_index(root, encoder, (), cache_path=CACHE, corrections=path)
    assert first.published and first.problems == []
    index, _ = load_latest(root, encoder.name)
    corrected = index.structures[site.id]
    assert corrected.contacts[0].phone == "04 00 00 00 01"
    assert corrected.verified == Verified(on=date(2026, 12, 3), by="Mission Locale de test")
    assert "editeurs:mission-locale-de-test" in index.sources
    assert [(o.field, o.official) for o in index.overridden[site.id]] == [("phone", before)]
    assert index.conflicts == {}
    assert build_index(root, encoder, (), cache_path=CACHE, corrections=path).unchanged

    reimport = reimport_with_new_phone(tmp_path / "sources", site, code, "04 00 00 00 09")
    second = build_index(root, encoder, [reimport], cache_path=CACHE, corrections=path)
    assert second.published
    index, _ = load_latest(root, encoder.name)
    assert index.structures[site.id].contacts[0].phone == "04 00 00 00 01"
    assert list(index.conflicts) == [site.id]
    (conflict,) = index.conflicts[site.id]
    assert (conflict.field, conflict.official_before, conflict.official_now) == ("phone", before, "04 00 00 00 09")
    assert [o.official for o in index.overridden[site.id]] == ["04 00 00 00 09"]


def test_a_malformed_corrections_file_is_a_problem_and_the_build_still_publishes(
    tmp_path: Path, encoder: Encoder
) -> None:
    path = corrections_file(tmp_path / "data")
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1, "corrections": [{"structure_id": ', encoding="utf-8")
    report = build_index(tmp_path / "index", encoder, (), cache_path=CACHE, corrections=path)
    assert report.published and report.structures == 793
    (problem,) = report.problems
    assert problem.path == str(path)
