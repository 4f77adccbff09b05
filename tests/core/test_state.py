"""The state store on both engines: migrations, append-only tables, upserts, serialised writers, a clear
error when PostgreSQL is away, and data directories made by the 0.1.0 release."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from mcp import Client

from core.state import AppendOnly, Migration, StateStore, StateUnavailable
from tests import postgres
from tests.conftest import BIN, free_port, server_env
from tests.helpers import App, build_app, call

DATA = Path(__file__).resolve().parent.parent / "data"


def _tables() -> tuple[sa.Table, sa.Table]:
    metadata = sa.MetaData()  # the test's own tables, apart from the families'
    notes = sa.Table(
        "notes",
        metadata,
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    counters = sa.Table(
        "counters",
        metadata,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("label", sa.Text, server_default="", nullable=False),
    )
    return notes, counters


def _migrations(notes: sa.Table, counters: sa.Table) -> list[Migration]:
    return [
        Migration(
            id="test-001",
            tables=(notes, counters),
            append_only=(AppendOnly(table=notes, on_update="notes are kept: add one", on_delete="notes stay"),),
        ),
        Migration(id="test-002-label", add_columns=(counters.c.label,)),
    ]


def test_migrations_apply_once_and_append_only_is_enforced_by_the_database(state_url: str) -> None:
    notes, counters = _tables()
    store = StateStore(state_url)
    try:
        assert store.migrate(_migrations(notes, counters)) == ["test-001", "test-002-label"]
        assert store.migrate(_migrations(notes, counters)) == []
        assert store.pending(_migrations(notes, counters)) == []
        with store.transaction() as tx:
            first = tx.scalar(sa.insert(notes).values(text="red coat").returning(notes.c.seq))
            second = tx.scalar(sa.insert(notes).values(text="wet hair").returning(notes.c.seq))
        assert (first, second) == (1, 2)
        for statement, message in [
            ("UPDATE notes SET text = 'blue coat'", "notes are kept: add one"),
            ("DELETE FROM notes", "notes stay"),
        ]:
            with pytest.raises(sa.exc.IntegrityError, match=message), store.transaction() as tx:
                tx.connection.execute(sa.text(statement))
        assert [r["text"] for r in store.rows(sa.select(notes).order_by(notes.c.seq))] == ["red coat", "wet hair"]
    finally:
        store.close()


def test_a_failed_transaction_leaves_nothing(state_url: str) -> None:
    notes, counters = _tables()
    store = StateStore(state_url)
    try:
        store.migrate(_migrations(notes, counters))
        with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
            tx.execute(sa.insert(counters).values(name="a", value=1))
            tx.execute(sa.insert(counters).values(name="a", value=2))  # the same key: the whole unit rolls back
        assert store.rows(sa.select(counters)) == []
    finally:
        store.close()


def test_a_transaction_inside_another_is_refused_and_the_outer_one_rolls_back(state_url: str) -> None:
    notes, counters = _tables()
    store = StateStore(state_url)
    try:
        store.migrate(_migrations(notes, counters))
        with pytest.raises(RuntimeError, match="inside another"), store.transaction() as tx:
            tx.execute(sa.insert(counters).values(name="a", value=1))
            store.row(sa.select(counters))  # a read through the store, not the Tx: a programming error
        assert store.rows(sa.select(counters)) == []
        with store.transaction() as tx:  # the store is usable again on this thread
            tx.execute(sa.insert(counters).values(name="b", value=2))
        assert [r["name"] for r in store.rows(sa.select(counters))] == ["b"]
    finally:
        store.close()


def test_upsert_replaces_or_ignores(state_url: str) -> None:
    notes, counters = _tables()
    store = StateStore(state_url)
    try:
        store.migrate(_migrations(notes, counters))
        with store.transaction() as tx:
            tx.upsert(counters, {"name": "a", "value": 1, "label": "one"}, key=["name"])
            tx.upsert(counters, {"name": "a", "value": 2, "label": "two"}, key=["name"], update=["value"])
            tx.upsert(counters, {"name": "b", "value": 5}, key=["name"])
            tx.upsert(counters, {"name": "b", "value": 9}, key=["name"], update=[])
        rows = {r["name"]: (r["value"], r["label"]) for r in store.rows(sa.select(counters))}
        assert rows == {"a": (2, "one"), "b": (5, "")}
    finally:
        store.close()


def test_two_stores_on_one_database_serialise_their_writes(state_url: str) -> None:
    """Two replicas incrementing one counter by read-then-write never lose an increment."""
    notes, counters = _tables()
    stores = [StateStore(state_url), StateStore(state_url)]
    try:
        stores[0].migrate(_migrations(notes, counters))
        with stores[0].transaction() as tx:
            tx.execute(sa.insert(counters).values(name="n", value=0))

        def bump(store: StateStore) -> None:
            for _ in range(40):
                with store.transaction() as tx:
                    value = tx.scalar(sa.select(counters.c.value).where(counters.c.name == "n"))
                    tx.execute(sa.update(counters).where(counters.c.name == "n").values(value=value + 1))

        threads = [threading.Thread(target=bump, args=(store,)) for store in stores for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert stores[1].row(sa.select(counters.c.value))["value"] == 160  # type: ignore[index]
    finally:
        for store in stores:
            store.close()


def test_postgresql_that_does_not_answer_gives_a_clear_error_without_the_password() -> None:
    store = StateStore(f"postgresql://studio:s3cret-pw@127.0.0.1:{free_port()}/studio", timeout_s=2)
    try:
        with pytest.raises(StateUnavailable) as caught, store.transaction():
            pass
        message = str(caught.value)
        assert "did not answer" in message and "STUDIO_STATE_URL" in message
        assert "s3cret-pw" not in message and "127.0.0.1" in message
    finally:
        store.close()


def test_a_store_url_of_another_engine_is_refused_with_the_remedy() -> None:
    with pytest.raises(Exception, match="postgresql://user:password@host:port/database"):
        StateStore("mysql://u@localhost/db")


def migrations(app: App) -> list[Migration]:
    return [m for family in app.families.in_order() for m in family.migrations]


@pytest.mark.sqlite_only
async def test_a_data_directory_of_the_0_1_0_release_keeps_working(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    """tests/data/state-0.1.0.sqlite3 was written by the 0.1.0 code (hand-written SQLite SQL): a production
    with an amended brief, two shots, a ledger fact and alias, a stand-in video job, its asset and a
    rejected review. The SQLAlchemy code reads all of it, applies only the migrations added since, and writes."""
    clean_env.setenv("STUDIO_WARM_EMBEDDER", "false")
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DATA / "state-0.1.0.sqlite3", data / "state.sqlite3")
    app = build_app(data)
    async with Client(app.server) as client:
        production = await call(client, "production_get", production="legacy-ferry")
        assert production["brief"]["version"] == 2 and production["brief"]["must"] == ["Mara's red coat", "fog"]
        assert [s["number"] for s in production["scenes"]["1"]] == [1, 2]
        ledger = await call(client, "continuity_get", production="legacy-ferry", entity="mara quill")
        (mara,) = ledger["entities"]
        assert mara["attributes"] == {"coat": "deep red wool"} and "the pilot" in mara["aliases"]
        jobs = await call(client, "video_jobs", production="legacy-ferry")
        assert [j["status"] for j in jobs["jobs"]] == ["done"]
        reviews = await call(client, "review_queue", production="legacy-ferry")
        assert [r["status"] for r in reviews["reviews"]] == ["rejected"]
        await call(
            client,
            "continuity_set",
            production="legacy-ferry",
            entity="mara quill",
            kind="character",
            attributes={"scarf": "grey"},
        )
        after = await call(client, "continuity_get", production="legacy-ferry", entity="Mara Quill")
        assert after["entities"][0]["attributes"] == {"coat": "deep red wool", "scarf": "grey"}
        assert app.context.state.pending(migrations(app)) == []
    app.context.close_state()


def _doctor(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "studio-mcp"), "doctor"],
        cwd=tmp_path,
        env=server_env(tmp_path / "data", STUDIO_EMBEDDER="gemini", **env),  # no embedder load: not what this tests
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_doctor_checks_postgresql_and_its_migrations(
    tmp_path: Path, postgres_cluster: postgres.Cluster, clean_env: pytest.MonkeyPatch
) -> None:
    url = postgres_cluster.database()
    before = _doctor(tmp_path, STUDIO_STATE_URL=url)
    assert "[ok  ] state store: postgresql://" in before.stdout, before.stdout + before.stderr
    assert "0 of " in before.stdout and "serve applies the rest at start-up: " in before.stdout
    assert "production-001-core" in before.stdout

    clean_env.setenv("STUDIO_STATE_URL", url)
    app = build_app(tmp_path / "data")  # the in-process server applies every migration, as serve does
    app.context.open_state(migrations(app))
    app.context.close_state()
    after = _doctor(tmp_path, STUDIO_STATE_URL=url)
    count = len(migrations(app))
    assert (
        "[ok  ] state store: postgresql://" in after.stdout and f"{count} of {count} migrations applied" in after.stdout
    )


def test_doctor_reports_an_unreachable_postgresql_without_its_password(tmp_path: Path) -> None:
    done = _doctor(
        tmp_path,
        STUDIO_STATE_URL=f"postgresql://studio:pw-s3cret@127.0.0.1:{free_port()}/studio",
        STUDIO_STATE_TIMEOUT_S="2",
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "[FAIL] state store" in out and "did not answer" in out and "pw-s3cret" not in out
