"""The living directory's tables on SQLite, and on PostgreSQL when SPRO_TEST_DATABASE_URL points to one (CI does):
corrections with their audit, referents erased for good, the export the build reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from api.curation.publish import write_snapshot
from api.curation.store import Change, CurationStore, audit_log, metadata, referents
from api.store import Store
from ingest.sources.corrections import load_corrections
from tests.test_store import Clock, database_url  # noqa: F401 (fixture)

EDITOR, ORGANISATION, SITE = "c.dupont@mlchambery.org", "Mission Locale du bassin chambérien", "annuaire:ml-73065"


@pytest.fixture()
def rooms(database_url: str) -> Iterator[CurationStore]:  # noqa: F811
    store = Store(database_url, conversation_ttl=3600)
    metadata.drop_all(store.engine)  # a PostgreSQL database is shared between tests: start from nothing
    yield CurationStore(store.engine, Clock(), lambda: date(2026, 12, 3))
    metadata.drop_all(store.engine)
    store.dispose()


def test_a_correction_keeps_the_first_official_value_and_every_change_is_audited(rooms: CurationStore) -> None:
    assert rooms.apply(EDITOR, ORGANISATION, SITE, [Change("phone", "04 79 96 00 00", "04 79 33 50 84")]) == 1
    assert rooms.apply(EDITOR, ORGANISATION, SITE, [Change("phone", "04 79 96 00 01", "04 79 96 00 00")]) == 1
    # The same value again, or the official value kept as it is: nothing written.
    assert rooms.apply(EDITOR, ORGANISATION, SITE, [Change("phone", "04 79 96 00 01", "x")]) == 0
    assert rooms.apply(EDITOR, ORGANISATION, SITE, [Change("email", "a@b.fr", "a@b.fr")]) == 0
    [stored] = rooms.corrections(SITE)
    assert (stored.value, stored.official_before, stored.organisation) == ("04 79 96 00 01", "04 79 33 50 84",
                                                                           ORGANISATION)
    history = rooms.history([SITE])
    assert [(h.action, h.before, h.after, h.editor) for h in history] == [
        ("correct", "04 79 96 00 00", "04 79 96 00 01", EDITOR),
        ("correct", "04 79 33 50 84", "04 79 96 00 00", EDITOR),
    ]
    assert rooms.apply(EDITOR, ORGANISATION, SITE, [Change("phone", None, "04 79 33 50 84", revert=True)]) == 1
    assert rooms.corrections(SITE) == []
    assert rooms.history([SITE])[0].action == "revert"


def test_a_referent_is_erased_for_good_and_the_audit_never_names_them(rooms: CurationStore) -> None:
    referent_id = rooms.add_referent(
        EDITOR, ORGANISATION, SITE, name="Camille Zébulonne", role="Conseillère", phone="04 79 33 50 90",
        email=None, topics="CEJ", consent_on=date(2026, 11, 30),
    )
    assert [r.name for r in rooms.referents([SITE])[SITE]] == ["Camille Zébulonne"]
    removed = rooms.remove_referent(EDITOR, ORGANISATION, referent_id)
    assert removed is not None and removed.name == "Camille Zébulonne"
    assert rooms.referents([SITE]) == {}
    assert rooms.remove_referent(EDITOR, ORGANISATION, referent_id) is None
    with rooms._engine.connect() as connection:
        assert connection.execute(select(referents)).all() == []
        audit = [dict(r._mapping) for r in connection.execute(select(audit_log))]
    assert [a["action"] for a in audit] == ["add_referent", "remove_referent"]
    assert "Zébulonne" not in json.dumps(audit, default=str)


def test_the_export_is_the_file_the_build_reads(rooms: CurationStore, tmp_path: Path) -> None:
    rooms.apply(EDITOR, ORGANISATION, SITE, [Change("phone", "04 79 96 00 00", "04 79 33 50 84")])
    rooms.verify(EDITOR, ORGANISATION, "annuaire:ml-73008")
    added = rooms.add_site(EDITOR, ORGANISATION, "mission_locale", "73", {
        "name": "Mission Locale — permanence de Challes", "address": "1 place de la Mairie", "postcode": "73190",
        "commune_insee": "73064", "commune": "Challes-les-Eaux", "phone": "04 79 72 00 00", "email": None,
        "website": None, "served_communes": [], "offer": None,
    })
    path = tmp_path / "corrections" / "corrections.json"
    write_snapshot(path, rooms.snapshot())
    corrections, problems = load_corrections(path)
    assert problems == []
    assert [(c.structure_id, c.field, c.value) for c in corrections.corrections] == [
        (SITE, "phone", "04 79 96 00 00")
    ]
    assert [v.structure_id for v in corrections.verifications] == ["annuaire:ml-73008"]
    assert [s.id for s in corrections.sites] == [added]
    assert not list(path.parent.glob(".corrections-*"))  # written whole, then renamed
