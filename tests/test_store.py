"""The API's store on SQLite, and on PostgreSQL when SPRO_TEST_DATABASE_URL points to one (CI does)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from api.store import Store, metadata
from assistant.dialogue import ConversationState

PG_URL = os.environ.get("SPRO_TEST_DATABASE_URL")


class Clock:
    """A clock the test moves by hand: expiry is tested without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'spro.db'}"
    if not PG_URL:
        pytest.skip("SPRO_TEST_DATABASE_URL absent : pas de PostgreSQL pour ce test")
    return PG_URL


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def store(database_url: str, clock: Clock) -> Iterator[Store]:
    store = Store(database_url, conversation_ttl=3600, clock=clock)
    metadata.drop_all(store.engine)  # a PostgreSQL database is shared between tests: start from nothing
    store.create_schema()
    yield store
    metadata.drop_all(store.engine)
    store.dispose()


def test_schema_has_the_four_tables(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"conversations", "feedback", "reindex_jobs", "question_stats"} <= tables


def test_conversation_round_trip_keeps_the_state_and_counts_turns(store: Store) -> None:
    state = ConversationState(age=17, status="decrocheur", needs=["emploi"], commune_insee="38544", turns=2)
    store.save("abcdefgh12345678", state)
    loaded = store.load("abcdefgh12345678")
    assert loaded == state
    assert store.turns("abcdefgh12345678") == 2
    assert store.load("unknown-id-000000") is None


def test_save_twice_updates_in_place(store: Store) -> None:
    store.save("abcdefgh12345678", ConversationState(turns=1))
    store.save("abcdefgh12345678", ConversationState(turns=2, department="69"))
    assert store.conversation_count() == 1
    loaded = store.load("abcdefgh12345678")
    assert loaded is not None and loaded.turns == 2 and loaded.department == "69"


def test_conversation_expires_after_ttl_and_is_purged_on_access(store: Store, clock: Clock) -> None:
    store.save("abcdefgh12345678", ConversationState(turns=1))
    clock.advance(minutes=59)
    assert store.load("abcdefgh12345678") is not None
    clock.advance(minutes=2)
    assert store.load("abcdefgh12345678") is None
    assert store.conversation_count() == 0


def test_each_save_extends_the_expiry(store: Store, clock: Clock) -> None:
    store.save("abcdefgh12345678", ConversationState(turns=1))
    clock.advance(minutes=50)
    store.save("abcdefgh12345678", ConversationState(turns=2))
    clock.advance(minutes=50)
    assert store.load("abcdefgh12345678") is not None


def test_periodic_purge_removes_only_expired_conversations(store: Store, clock: Clock) -> None:
    store.save("old-conversation-1", ConversationState(turns=1))
    clock.advance(minutes=45)
    store.save("new-conversation-1", ConversationState(turns=1))
    clock.advance(minutes=30)
    assert store.purge_expired() == 1
    assert store.load("new-conversation-1") is not None


def test_delete_conversation(store: Store) -> None:
    store.save("abcdefgh12345678", ConversationState(turns=1))
    assert store.delete_conversation("abcdefgh12345678")
    assert not store.delete_conversation("abcdefgh12345678")
    assert store.load("abcdefgh12345678") is None


def test_the_stored_state_holds_no_message_field(store: Store) -> None:
    store.save("abcdefgh12345678", ConversationState(turns=1, needs=["emploi"]))
    with store.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("conversations")}
    assert columns == {"id", "state", "turns", "created_at", "updated_at", "expires_at"}


def test_contact_report_is_listed_until_resolved(store: Store) -> None:
    store.save("abcdefgh12345678", ConversationState(turns=1))
    report = store.add_feedback(
        conversation_id="abcdefgh12345678", turn=1, rating="down", kind="contact_errone",
        reason="Numéro non attribué", structure_id="annuaire:cio-42147-01", channel="widget",
    )
    store.add_feedback(
        conversation_id="abcdefgh12345678", turn=1, rating="down", kind="non_pertinent",
        reason=None, structure_id="annuaire:cio-69123-01", channel="teams",
    )
    items, total = store.list_feedback("open", limit=10, offset=0)
    assert total == 2 and [i.channel for i in items] == ["teams", "widget"]
    resolved = store.resolve_feedback(report.id)
    assert resolved is not None and resolved.resolved_at is not None
    assert store.list_feedback("resolved", limit=10, offset=0)[1] == 1
    assert store.list_feedback("all", limit=1, offset=1)[1] == 2
    assert store.resolve_feedback(999_999) is None


def test_each_turn_records_the_structures_it_showed_and_nothing_else(store: Store, clock: Clock) -> None:
    store.record_turn("abcdefgh12345678", 1, ["annuaire:cio-42147-01", "network:cap_emploi"])
    store.record_turn("abcdefgh12345678", 2, [])
    assert store.shown("abcdefgh12345678", 1) == ["annuaire:cio-42147-01", "network:cap_emploi"]
    assert store.shown("abcdefgh12345678", 2) == [] and store.shown("abcdefgh12345678", 3) is None
    assert store.last_turn("abcdefgh12345678") == 2 and store.last_turn("jamais-emis-par-nous") is None
    with store.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("conversation_turns")}
    assert columns == {"conversation_id", "turn", "structures", "expires_at"}
    # Kept past the conversation's expiry (a late report), then purged.
    clock.advance(seconds=3601)
    store.purge_expired()
    assert store.last_turn("abcdefgh12345678") == 2
    clock.advance(days=31)
    store.purge_expired()
    assert store.last_turn("abcdefgh12345678") is None


def test_feedback_reasons_are_erased_with_their_conversation(store: Store, clock: Clock) -> None:
    for conversation_id in ("abcdefgh12345678", "ijklmnop12345678"):
        store.save(conversation_id, ConversationState(turns=1))
        store.record_turn(conversation_id, 1, [])
        store.add_feedback(conversation_id=conversation_id, turn=1, rating="down", kind="autre",
                           reason="numéro faux", structure_id=None, channel="widget")
    store.delete_conversation("abcdefgh12345678")
    assert store.last_turn("abcdefgh12345678") is None  # erasure forgets what the turns showed too
    reasons = {f.conversation_id: f.reason for f in store.list_feedback("all", 10, 0)[0]}
    assert reasons == {"abcdefgh12345678": None, "ijklmnop12345678": "numéro faux"}
    clock.advance(seconds=3601)
    store.purge_expired()
    items, total = store.list_feedback("all", 10, 0)
    assert total == 2 and all(f.reason is None for f in items)  # the reports stay, for the admins' review


def test_job_progress_and_outcome_are_recorded(store: Store) -> None:
    job = store.create_job(force=True)
    assert job.status == "queued" and job.force
    store.update_job(job.id, status="running", stage="Calcul des vecteurs", stage_total=10, stage_done=0)
    store.advance_job(job.id, 4)
    store.advance_job(job.id, 3)
    running = store.job(job.id)
    assert running is not None and running.stage_done == 7 and running.stage_total == 10
    store.update_job(
        job.id, status="succeeded", version="v2", published=True, counts={"chunks": 10},
        problems={"annuaire.csv": ["annuaire.csv:3: commune inconnue"]},
    )
    done = store.job(job.id)
    assert done is not None and done.status == "succeeded" and done.problems["annuaire.csv"]
    store.fail_job(job.id, "arrêt")  # a finished job is not touched
    again = store.job(job.id)
    assert again is not None and again.status == "succeeded"
    assert store.job("missing") is None


def test_question_stats_are_counters_per_day_department_and_need(store: Store, clock: Clock) -> None:
    store.count_question("38", ["emploi", "formation"], confident=True)
    store.count_question("38", ["emploi"], confident=False)
    store.count_question(None, [], confident=False)
    clock.advance(days=1)
    store.count_question("69", ["vae"], confident=True)
    stats = store.question_stats(days=7)
    assert [(d.questions, d.unconfident) for d in stats.days] == [(3, 2), (1, 0)]
    assert stats.questions == 4 and stats.unconfident == 2
    assert [(n.need, n.questions) for n in stats.needs_per_department["38"]] == [("emploi", 2), ("formation", 1)]
    assert [n.need for n in stats.needs_per_department["69"]] == ["vae"]
    assert store.question_stats(days=1).questions == 1
    with store.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("question_stats")}
    assert columns == {"day", "department", "need", "questions", "unconfident"}


def test_a_finished_turn_records_what_it_showed_and_its_count_together(store: Store) -> None:
    store.finish_turn("abcdefgh12345678", 1, ["annuaire:cio-42147-01"], "42", ["orientation"], confident=False)
    assert store.shown("abcdefgh12345678", 1) == ["annuaire:cio-42147-01"]
    stats = store.question_stats(days=1)
    assert (stats.questions, stats.unconfident) == (1, 1)
    assert [n.need for n in stats.needs_per_department["42"]] == ["orientation"]


def test_concurrent_writers_do_not_fail(store: Store) -> None:
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for turn in range(15):
                store.save(f"conversation-{worker:04d}", ConversationState(turns=turn))
                store.finish_turn(f"conversation-{worker:04d}", turn + 1, [], "38", ["emploi"], confident=True)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.question_stats(days=1).questions == 8 * 15
    assert store.question_stats(days=1).questions == 8 * 15
    assert store.conversation_count() == 8


def test_hostile_ids_are_plain_values(store: Store) -> None:
    hostile = "x'); DROP TABLE conversations; --"
    assert store.load(hostile) is None
    assert not store.delete_conversation(hostile)
    store.save("abcdefgh12345678", ConversationState(turns=1))
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM conversations")).scalar_one() == 1


def test_a_damaged_sqlite_file_is_refused_with_a_french_recovery_message(tmp_path: Path) -> None:
    from api.store import StoreUnreadable

    damaged = tmp_path / "spro.db"
    damaged.write_bytes(b"ceci n'est pas une base SQLite" * 200)
    store = Store(f"sqlite:///{damaged}", conversation_ttl=3600)
    with pytest.raises(StoreUnreadable) as refused:
        store.create_schema()
    store.dispose()
    message = str(refused.value)
    assert "illisible" in message and "mettez le fichier de côté" in message
    assert damaged.read_bytes().startswith(b"ceci n'est pas")  # nothing was overwritten


def test_jobs_left_running_by_a_dead_process_are_marked_failed(store: Store) -> None:
    running = store.create_job(force=False)
    store.update_job(running.id, status="running")
    done = store.create_job(force=False)
    store.update_job(done.id, status="succeeded")
    assert store.fail_unfinished_jobs("interrompue") == 1
    failed, succeeded = store.job(running.id), store.job(done.id)
    assert failed is not None and failed.status == "failed" and failed.error == "interrompue"
    assert succeeded is not None and succeeded.status == "succeeded"
