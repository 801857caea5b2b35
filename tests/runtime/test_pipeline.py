"""PostgreSQL runs send their DDL from a second thread (limbeck.runtime.pipeline):
the schema, the ledger and the failure reports must be exactly those of a
run that sends every statement itself."""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from project import Rev, config_for, db_state, make_project, run_cli, start_cli
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from limbeck import command
from limbeck.runtime.pipeline import DdlPipeline, StatementFailed

CHAIN = [
    Rev(
        "p0000001",
        None,
        'op.create_table("parent", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("parent")',
    ),
    Rev(
        "p0000002",
        "p0000001",
        'op.add_column("parent", sa.Column("name", sa.String(20)))',
        'op.drop_column("parent", "name")',
    ),
    Rev(
        "p0000003",
        "p0000002",
        """
        op.create_table(
            "child",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id")),
        )
        op.create_index("ix_child_parent", "child", ["parent_id"])
        """,
        'op.drop_table("child")',
    ),
    # Reads and writes through the connection right after pipelined DDL:
    # it must see every earlier statement executed.
    Rev(
        "p0000004",
        "p0000003",
        """
        op.execute("INSERT INTO parent (id, name) VALUES (1, 'one')")
        op.execute("UPDATE parent SET name = 'uno'", execution_options={"no_parameters": True})
        op.bulk_insert(sa.table("child", sa.column("id"), sa.column("parent_id")),
                       [{"id": 10, "parent_id": 1}])
        count = op.get_bind().execute(sa.text("SELECT count(*) FROM child")).scalar()
        assert count == 1, count
        op.add_column("child", sa.Column("note", sa.Text))
        """,
        """
        op.drop_column("child", "note")
        op.execute("DELETE FROM child")
        op.execute("DELETE FROM parent")
        """,
    ),
    Rev(
        "p0000005",
        "p0000004",
        'op.create_table("t5", sa.Column("id", sa.Integer))',
        'op.drop_table("t5")',
    ),
    Rev(
        "p0000006",
        "p0000005",
        'op.add_column("t5", sa.Column("x", sa.Integer))',
        'op.drop_column("t5", "x")',
    ),
]


@pytest.fixture
def ddl_threads() -> Iterator[list[tuple[str, str]]]:
    """(thread name, statement) of every statement any engine sends."""
    seen: list[tuple[str, str]] = []

    def spy(conn: object, cursor: object, statement: str, *rest: object) -> None:
        seen.append((threading.current_thread().name, " ".join(statement.split())))

    sa.event.listen(Engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        sa.event.remove(Engine, "before_cursor_execute", spy)


def _pipelined(seen: list[tuple[str, str]]) -> list[str]:
    return [statement for thread, statement in seen if thread == "limbeck-ddl"]


def test_pipelined_run_builds_the_same_schema_and_ledger(
    tmp_path: Path, pg_url: str, ddl_threads: list[tuple[str, str]]
) -> None:
    root = make_project(tmp_path, pg_url, CHAIN)
    command.upgrade(config_for(root), "head")

    sent_by_worker = _pipelined(ddl_threads)
    assert any(s.startswith("CREATE TABLE parent") for s in sent_by_worker)
    assert any(s.startswith("ALTER TABLE t5 ADD COLUMN x") for s in sent_by_worker)
    # Queries, DML and the bookkeeping never go through the worker.
    assert not [s for s in sent_by_worker if s.split()[0] in ("SELECT", "INSERT", "UPDATE")]

    state = db_state(pg_url)
    assert {"parent", "child", "t5"} <= set(state.tables)
    assert state.heads == {"p0000006"}
    applied = [row for row in state.ledger if row["outcome"] == "applied"]
    assert [row["revision"] for row in applied] == [rev.id for rev in CHAIN]
    for row in applied:
        assert row["duration_ms"] >= 0
        assert row["finished_at"] >= row["started_at"]
    # Each step is timed from where the one before it finished: no overlaps.
    for before, after in itertools.pairwise(applied):
        assert after["started_at"] >= before["finished_at"]
    engine = sa.create_engine(pg_url, poolclass=NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT parent_id FROM child")).scalar() == 1
        assert conn.execute(sa.text("SELECT name FROM parent")).scalar() == "uno"
        columns = {c["name"] for c in sa.inspect(conn).get_columns("child")}
    engine.dispose()
    assert columns == {"id", "parent_id", "note"}

    # And back down: downgrades are pipelined the same way.
    command.downgrade(config_for(root), "base")
    assert not {"parent", "child", "t5"} & set(db_state(pg_url).tables)


def test_pipeline_can_be_turned_off(
    tmp_path: Path, pg_url: str, ddl_threads: list[tuple[str, str]]
) -> None:
    root = make_project(tmp_path, pg_url, CHAIN)
    env_py = root / "migrations" / "env.py"
    old = "context.configure(connection=connection, target_metadata=target_metadata)"
    source = env_py.read_text()
    assert old in source
    env_py.write_text(source.replace(old, old[:-1] + ", pipeline_ddl=False)"))
    command.upgrade(config_for(root), "head")
    assert _pipelined(ddl_threads) == []
    assert db_state(pg_url).heads == {"p0000006"}


def test_sqlite_runs_are_not_pipelined(
    tmp_path: Path, sqlite_url: str, ddl_threads: list[tuple[str, str]]
) -> None:
    root = make_project(tmp_path, sqlite_url, CHAIN)
    command.upgrade(config_for(root), "head")
    assert _pipelined(ddl_threads) == []
    assert db_state(sqlite_url).heads == {"p0000006"}


DUPLICATE = Rev(
    "q0000002",
    "p0000001",
    # The server rejects this after the client has moved on to q0000003.
    'op.create_table("parent", sa.Column("id", sa.Integer, primary_key=True))',
)
AFTER = [
    Rev("q0000003", "q0000002", 'op.create_table("t3", sa.Column("id", sa.Integer))'),
    Rev("q0000004", "q0000003", 'op.create_table("t4", sa.Column("id", sa.Integer))'),
]


def _assert_failure_charged_to_duplicate(result_stderr: str, url: str) -> None:
    assert "upgrade q0000002" in result_stderr and "already exists" in result_stderr
    assert "Traceback" not in result_stderr
    state = db_state(url)
    assert not {"parent", "t3", "t4"} & set(state.tables)
    assert state.heads == set()
    failed = [row for row in state.ledger if row["outcome"] == "failed"]
    assert [row["revision"] for row in failed] == ["q0000002"]
    assert "already exists" in failed[0]["message"]
    assert "CREATE TABLE parent" in failed[0]["message"]  # the failing statement


def test_server_failure_is_charged_to_the_migration_that_sent_it(
    tmp_path: Path, pg_url: str
) -> None:
    root = make_project(tmp_path, pg_url, [CHAIN[0], DUPLICATE, *AFTER])
    result = run_cli(root, "upgrade", "head")
    assert result.returncode == 1, result.stderr
    _assert_failure_charged_to_duplicate(result.stderr, pg_url)


def test_failure_survives_a_migration_that_swallows_errors(tmp_path: Path, pg_url: str) -> None:
    swallowing = Rev(
        "q0000003",
        "q0000002",
        """
        try:
            op.get_bind().execute(sa.text("SELECT 1"))
        except Exception:
            pass
        op.create_table("t3", sa.Column("id", sa.Integer))
        """,
    )
    root = make_project(tmp_path, pg_url, [CHAIN[0], DUPLICATE, swallowing, AFTER[1]])
    result = run_cli(root, "upgrade", "head")
    assert result.returncode == 1, result.stderr
    _assert_failure_charged_to_duplicate(result.stderr, pg_url)


def test_savepoint_lets_a_migration_catch_its_own_ddl_failure(
    tmp_path: Path, pg_url: str, ddl_threads: list[tuple[str, str]]
) -> None:
    """The savepoint pattern works as without the pipeline: once a migration
    opens a savepoint, its DDL runs directly, so the failure is raised inside
    the ``try`` and rolling back to the savepoint recovers."""
    careful = Rev(
        "s0000002",
        CHAIN[0].id,
        """
        savepoint = op.get_context().connection.begin_nested()
        try:
            op.create_index("ix_bad", "parent", ["no_such_column"])
            savepoint.commit()
        except Exception:
            savepoint.rollback()
            op.create_table("caught", sa.Column("id", sa.Integer))
        """,
    )
    after = Rev("s0000003", "s0000002", 'op.create_table("later", sa.Column("id", sa.Integer))')
    root = make_project(tmp_path, pg_url, [CHAIN[0], careful, after])
    command.upgrade(config_for(root), "head")
    state = db_state(pg_url)
    assert state.heads == {"s0000003"}
    assert {"caught", "later"} <= state.tables
    assert any(s.startswith("CREATE TABLE later") for s in _pipelined(ddl_threads))


# -- the pipeline on its own -------------------------------------------------------------


@pytest.fixture
def pg_connection(pg_url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(pg_url, poolclass=NullPool)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def test_statements_run_in_order_and_queries_wait_for_them(pg_connection: sa.Connection) -> None:
    connection = pg_connection
    connection.begin()
    with DdlPipeline(connection, time.perf_counter) as pipeline:
        for n in range(20):
            pipeline.submit(sa.DDL(f"CREATE TABLE seq_{n} (id int)"))
            if n:
                # depends on the table before it: fails if the order is broken
                pipeline.submit(sa.DDL(f"ALTER TABLE seq_{n} ADD COLUMN prev int"))
        # A query from this thread waits for all of them.
        count = connection.execute(
            sa.text("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'seq%'")
        ).scalar()
        assert count == 20
        times: list[float] = []
        pipeline.mark(times.append)
        pipeline.drain()
        pipeline.collect()
        assert len(times) == 1
        assert pipeline.failure is None
    connection.rollback()


def test_a_failure_stops_the_queue_and_is_raised_until_closed(
    pg_connection: sa.Connection,
) -> None:
    connection = pg_connection
    connection.begin()
    pipeline = DdlPipeline(connection, time.perf_counter)
    try:
        pipeline.tag = "first"
        pipeline.submit(sa.DDL("CREATE TABLE dup (id int)"))
        pipeline.submit(sa.DDL("CREATE TABLE dup (id int)"))
        pipeline.tag = "later"
        pipeline.submit(sa.DDL("CREATE TABLE never_made (id int)"))
        with pytest.raises(StatementFailed) as raised:
            pipeline.drain()
        assert raised.value.tag == "first"
        assert "already exists" in str(raised.value.error)
        # Sticky: the next use of the connection raises it again.
        with pytest.raises(StatementFailed):
            connection.execute(sa.text("SELECT 1"))
        assert not pipeline.accepts(sa.DDL("CREATE TABLE x (id int)"))
    finally:
        pipeline.close()
    connection.rollback()
    # Closed: the connection is plain again.
    assert connection.execute(sa.text("SELECT 1")).scalar() == 1
    assert not sa.inspect(connection).has_table("never_made")


def test_abort_cancels_the_statement_on_the_wire(pg_connection: sa.Connection) -> None:
    connection = pg_connection
    connection.begin()
    pipeline = DdlPipeline(connection, time.perf_counter)
    try:
        pipeline.submit(sa.DDL("CREATE TABLE slow AS SELECT 1 AS x FROM pg_sleep(60)"))
        pipeline.submit(sa.DDL("CREATE TABLE after_slow (id int)"))
        time.sleep(0.5)
        started = time.monotonic()
        pipeline.abort()
        assert time.monotonic() - started < 30
        failure = pipeline.failure
        assert failure is not None and "cancel" in str(failure.error).lower()
    finally:
        pipeline.close()
    connection.rollback()
    assert not sa.inspect(connection).has_table("after_slow")


def test_interrupt_cancels_the_statement_on_the_wire_and_rolls_back(
    tmp_path: Path, pg_url: str
) -> None:
    slow = Rev(
        "s0000002",
        "p0000001",
        # sa.DDL goes through the pipeline like any directive's DDL
        'op.execute(sa.DDL("CREATE TABLE slow AS SELECT 1 AS x FROM pg_sleep(120)"))',
    )
    after = Rev("s0000003", "s0000002", 'op.create_table("t3", sa.Column("id", sa.Integer))')
    root = make_project(tmp_path, pg_url, [CHAIN[0], slow, after])
    proc = start_cli(root, "upgrade", "head")
    engine = sa.create_engine(pg_url, poolclass=NullPool)
    try:
        deadline = time.monotonic() + 60
        with engine.connect() as conn:
            while not conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE query LIKE 'CREATE TABLE slow%' AND state = 'active'"
                )
            ).scalar():
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the slow statement never started"
                conn.rollback()  # pg_stat_activity is a snapshot per transaction
                time.sleep(0.1)
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert time.monotonic() - interrupted < 30  # cancelled, not waited for
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.dispose()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    state = db_state(pg_url)
    assert not {"parent", "slow", "t3"} & set(state.tables)
    assert state.heads == set()
