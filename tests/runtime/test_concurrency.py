"""The migration lock and concurrent runs.

* 8 processes run ``limbeck upgrade head`` at once: every migration runs
  exactly once, no process fails, the ledger shows one apply per revision;
* ``--lock-timeout`` gives up with a one-line error naming the holder, and a
  waiting process says who it waits for;
* PostgreSQL: ``CREATE INDEX CONCURRENTLY`` inside ``autocommit_block`` does
  not deadlock with the lock (even with a second run waiting for it);
* ``autocommit_block`` in the middle of a run, on every backend: the run
  goes on and records every step;
* two runs in two threads of one process (the Python API) do not collide.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from project import (
    Rev,
    allow_per_migration_switch,
    config_for,
    db_state,
    make_project,
    run_cli,
    start_cli,
    wait_for_text,
)
from sqlalchemy.pool import NullPool

from limbeck import command

PROCESSES = 8
REVISIONS = 20


def _rev_id(number: int) -> str:
    return f"r{number:02d}"


def counted_revisions(count: int, sleep: float = 0.0) -> list[Rev]:
    """A linear chain: the first creates ``runs``; every revision creates its
    own table and inserts its id into ``runs`` (a double run shows twice)."""
    revs = []
    for number in range(1, count + 1):
        rev = _rev_id(number)
        body = ""
        if number == 1:
            body += 'op.create_table("runs", sa.Column("rev", sa.String(32), nullable=False))\n'
        body += f'op.create_table("t_{rev}", sa.Column("id", sa.Integer, primary_key=True))\n'
        if sleep:
            body += f"time.sleep({sleep})\n"
        body += f"op.execute(\"INSERT INTO runs (rev) VALUES ('{rev}')\")\n"
        revs.append(
            Rev(
                rev,
                _rev_id(number - 1) if number > 1 else None,
                body,
                f'op.drop_table("t_{rev}")',
                header="import time",
            )
        )
    return revs


def run_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT rev, COUNT(*) FROM runs GROUP BY rev"))
            return {rev: int(n) for rev, n in rows}
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("db_url", "per_migration"),
    [
        ("sqlite", False),
        # SQLite's lock is its write lock, released between per-migration
        # transactions: the other processes must still not fail.
        pytest.param("sqlite", True),
        ("postgresql", False),
        ("mariadb", False),
    ],
    indirect=["db_url"],
)
def test_parallel_upgrades_run_every_migration_once(
    tmp_path: Path, db_url: str, per_migration: bool
) -> None:
    root = make_project(tmp_path, db_url, counted_revisions(REVISIONS, sleep=0.05))
    allow_per_migration_switch(root)
    args = ["-x", "tpm=1"] if per_migration else []
    procs = [start_cli(root, *args, "upgrade", "head") for _ in range(PROCESSES)]
    outputs = []
    try:
        for proc in procs:
            _, err = proc.communicate(timeout=90)
            outputs.append((proc.returncode, err))
    finally:
        kill_all(procs)

    expected = [_rev_id(n) for n in range(1, REVISIONS + 1)]
    assert run_counts(db_url) == dict.fromkeys(expected, 1)
    state = db_state(db_url)
    assert state.heads == {expected[-1]}
    assert sorted(state.applied()) == expected
    assert {f"t_{rev}" for rev in expected} <= state.tables
    # The first migration ran in exactly one process.
    workers = [err for _, err in outputs if "upgrade <base> -> r01" in err]
    assert len(workers) == 1, outputs
    failures = [(code, err) for code, err in outputs if code != 0]
    assert not failures, failures


# -- waiting and timing out ---------------------------------------------------------------

HOLD_HEADER = "import time\nfrom pathlib import Path"
#: Revision code that keeps the run (and so the lock) busy until the test
#: creates the file ``release`` in the project directory (60 s at most).
HOLD_UNTIL_RELEASED = """
Path("holding").touch()
deadline = time.monotonic() + 60
while not Path("release").exists() and time.monotonic() < deadline:
    time.sleep(0.02)
"""


def holding_revisions() -> list[Rev]:
    """One revision that says it started (the file ``holding``), then holds
    the lock until the test releases it."""
    return [
        Rev(
            "hold",
            None,
            'op.create_table("held", sa.Column("id", sa.Integer))\n' + HOLD_UNTIL_RELEASED,
            header=HOLD_HEADER,
        )
    ]


def kill_all(procs: list[subprocess.Popen[str]]) -> None:
    """Kill whatever is still running (a failed or timed-out test)."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def mariadb_lock_holder(url: str) -> int | None:
    """The connection id holding limbeck's GET_LOCK on this database."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            database = conn.execute(sa.text("SELECT DATABASE()")).scalar()
            name = f"limbeck:{database}:limbeck_version"[:64]
            holder = conn.execute(sa.text("SELECT IS_USED_LOCK(:n)"), {"n": name}).scalar()
            return int(holder) if holder is not None else None
    finally:
        engine.dispose()


def names_holder(text: str, backend: str, holder_pid: int, mariadb_conn: int | None) -> bool:
    """Whether ``text`` identifies the run holding the lock: the holder's
    process id, or on MariaDB at least the server connection that holds it."""
    if re.search(rf"\bpid {holder_pid}\b", text):
        return True
    if backend != "mariadb" or mariadb_conn is None:
        return False
    return f"connection {mariadb_conn} " in text


def _backend(url: str) -> str:
    name = sa.engine.make_url(url).get_backend_name()
    return "mariadb" if name in ("mysql", "mariadb") else name


WAITING = "waiting for the migration lock, held by"


def test_lock_timeout_and_waiting(tmp_path: Path, db_url: str) -> None:
    backend = _backend(db_url)
    root = make_project(tmp_path, db_url, holding_revisions())
    first = start_cli(root, "upgrade", "head")
    procs = [first]
    try:
        wait_for_text(root / "holding", "", first)
        mariadb_conn = mariadb_lock_holder(db_url) if backend == "mariadb" else None
        waiter = start_cli(root, "upgrade", "head", stderr_file=tmp_path / "waiter.err")
        procs.append(waiter)
        wait_for_text(tmp_path / "waiter.err", WAITING, waiter)
        started = time.monotonic()
        impatient = run_cli(root, "upgrade", "head", "--lock-timeout", "1", timeout=60)
        impatient_took = time.monotonic() - started
        (root / "release").touch()
        _, first_err = first.communicate(timeout=60)
        waiter.communicate(timeout=60)
    finally:
        (root / "release").touch()
        kill_all(procs)
    waiter_err = (tmp_path / "waiter.err").read_text(encoding="utf-8")

    assert first.returncode == 0, first_err
    # The impatient run: exit 1 (a run refused for safety, see
    # docs/coming-from-alembic.md), one error line plus a hint, no traceback.
    assert impatient.returncode == 1, impatient.stderr
    assert "Traceback" not in impatient.stderr
    errors = [line for line in impatient.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, impatient.stderr
    assert "lock" in errors[0] and "held by" in errors[0], errors[0]
    assert 1 <= impatient_took < 30, impatient_took
    # The patient run waited, said so once, then found nothing left to do.
    assert waiter.returncode == 0, waiter_err
    assert waiter_err.count(WAITING) == 1, waiter_err
    assert "upgrade <base> -> hold" not in waiter_err
    assert db_state(db_url).applied() == ["hold"]

    holder_named = names_holder(errors[0], backend, first.pid, mariadb_conn) and names_holder(
        waiter_err, backend, first.pid, mariadb_conn
    )
    assert holder_named, (errors[0], waiter_err, first.pid, mariadb_conn)


def test_current_does_not_wait_for_a_run_in_progress(tmp_path: Path, db_url: str) -> None:
    """Read-only commands take no lock: `current` answers while another
    process holds the migration lock (on SQLite, its IMMEDIATE transaction)."""
    root = make_project(tmp_path, db_url, holding_revisions())
    first = start_cli(root, "upgrade", "head")
    try:
        wait_for_text(root / "holding", "", first)
        started = time.monotonic()
        current = run_cli(root, "current", timeout=60)
        took = time.monotonic() - started
        (root / "release").touch()
        first.communicate(timeout=60)
    finally:
        (root / "release").touch()
        kill_all([first])
    assert current.returncode == 0, current.stderr
    assert WAITING not in current.stderr
    # Nothing applied yet (the run has not committed); where the run's ledger
    # row is visible, `current` says a run is in progress.
    assert all(line.startswith("in progress:") for line in current.stdout.splitlines())
    assert took < 15, took


# -- PostgreSQL: CREATE INDEX CONCURRENTLY under the lock -----------------------------------


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_create_index_concurrently_under_the_lock(tmp_path: Path, db_url: str) -> None:
    revs = [
        Rev(
            "base1",
            None,
            """
            op.create_table("things", sa.Column("id", sa.Integer), sa.Column("x", sa.Integer))
            """,
        ),
        Rev(
            "cic1",
            "base1",
            HOLD_UNTIL_RELEASED
            + """
with op.get_context().autocommit_block():
    op.create_index("ix_things_x", "things", ["x"], postgresql_concurrently=True)
""",
            header=HOLD_HEADER,
        ),
    ]
    root = make_project(tmp_path, db_url, revs)
    first = start_cli(root, "upgrade", "head")
    procs = [first]
    try:
        wait_for_text(root / "holding", "", first)
        # A second run waits for the lock meanwhile: its waiting must not
        # hold a snapshot the index build would wait for.
        second = start_cli(root, "upgrade", "head", stderr_file=tmp_path / "second.err")
        procs.append(second)
        wait_for_text(tmp_path / "second.err", WAITING, second)
        (root / "release").touch()
        _, first_err = first.communicate(timeout=30)
        second.communicate(timeout=30)
    finally:
        (root / "release").touch()
        kill_all(procs)
    second_err = (tmp_path / "second.err").read_text(encoding="utf-8")
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second_err
    engine = sa.create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            valid = conn.execute(
                sa.text(
                    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = 'ix_things_x'"
                )
            ).scalar()
    finally:
        engine.dispose()
    assert valid is True
    state = db_state(db_url)
    assert state.heads == {"cic1"}
    assert state.applied() == ["base1", "cic1"]


@pytest.mark.parametrize("per_migration", [False, True], ids=["run", "per-migration"])
def test_autocommit_block_inside_a_locked_run(
    tmp_path: Path, db_url: str, per_migration: bool
) -> None:
    """A migration in the middle of a run leaves its transaction for an
    autocommit block and comes back; the run goes on and records every step."""
    revs = [
        Rev("base1", None, 'op.create_table("things", sa.Column("id", sa.Integer))'),
        Rev(
            "acb1",
            "base1",
            """
            with op.get_context().autocommit_block():
                op.execute("INSERT INTO things (id) VALUES (1)")
            op.execute("INSERT INTO things (id) VALUES (2)")
            """,
        ),
        Rev("last1", "acb1", 'op.create_table("after_block", sa.Column("id", sa.Integer))'),
    ]
    root = make_project(tmp_path, db_url, revs)
    allow_per_migration_switch(root)
    result = run_cli(root, *(["-x", "tpm=1"] if per_migration else []), "upgrade", "head")
    assert result.returncode == 0, result.stderr
    state = db_state(db_url)
    assert state.heads == {"last1"}
    assert state.applied() == ["base1", "acb1", "last1"]
    assert "after_block" in state.tables
    engine = sa.create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            ids = conn.execute(sa.text("SELECT id FROM things ORDER BY id")).scalars().all()
    finally:
        engine.dispose()
    assert ids == [1, 2]


def test_failure_after_an_autocommit_block_says_what_stayed(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The run's rollback reaches back only to the autocommit block: the
    error says the migrations committed before it stay applied (and they do)."""
    revs = [
        Rev("base1", None, 'op.create_table("things", sa.Column("id", sa.Integer))'),
        Rev(
            "acb1",
            "base1",
            """
            with op.get_context().autocommit_block():
                op.execute("INSERT INTO things (id) VALUES (1)")
            """,
        ),
        Rev("bad1", "acb1", 'raise RuntimeError("boom")'),
    ]
    root = make_project(tmp_path, sqlite_url, revs)
    result = run_cli(root, "upgrade", "head")
    assert result.returncode == 1
    assert "the migrations committed before it stay applied" in result.stderr
    assert "as it was before the run" not in result.stderr
    assert db_state(sqlite_url).heads == {"base1"}


# -- two runs, two threads, one process -----------------------------------------------------


def thread_revisions(prefix: str) -> list[Rev]:
    """The same revision ids in every project, different tables: a run that
    saw the other thread's op or modules would create the wrong tables."""
    revs = []
    for number in range(1, 4):
        rev = f"x{number}"
        revs.append(
            Rev(
                rev,
                f"x{number - 1}" if number > 1 else None,
                f"""
                op.create_table("{prefix}_{number}", sa.Column("id", sa.Integer))
                time.sleep(0.05)
                op.add_column("{prefix}_{number}", sa.Column("note", sa.String(20)))
                time.sleep(0.05)
                op.execute("INSERT INTO {prefix}_{number} (id, note) VALUES ({number}, '{prefix}')")
                """,
                header="import time",
            )
        )
    return revs


def _upgrade_in_threads(configs: list[object]) -> None:
    barrier = threading.Barrier(len(configs))
    errors: list[BaseException] = []

    def work(config: object) -> None:
        try:
            barrier.wait()
            command.upgrade(config, "head")  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(config,)) for config in configs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors


def _expect_own(url: str, prefix: str) -> None:
    state = db_state(url)
    ours = {f"{prefix}_{n}" for n in range(1, 4)}
    assert state.tables - {"limbeck_version", "limbeck_history"} == ours
    assert state.heads == {"x3"}
    assert state.applied() == ["x1", "x2", "x3"]
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            for number in range(1, 4):
                rows = conn.execute(sa.text(f"SELECT id, note FROM {prefix}_{number}")).all()
                assert [tuple(row) for row in rows] == [(number, prefix)]
    finally:
        engine.dispose()


def test_two_projects_in_two_threads(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / name}.db" for name in ("a", "b")]
    roots = [
        make_project(tmp_path, url, thread_revisions(prefix), name=f"proj_{prefix}")
        for url, prefix in zip(urls, ("a", "b"), strict=True)
    ]
    _upgrade_in_threads([config_for(root) for root in roots])
    _expect_own(urls[0], "a")
    _expect_own(urls[1], "b")


def test_one_project_two_databases_in_two_threads(tmp_path: Path) -> None:
    """The multi-tenant case: one script directory, two databases."""
    root = make_project(tmp_path, "sqlite://", thread_revisions("t"))
    urls = [f"sqlite:///{tmp_path / name}.db" for name in ("one", "two")]
    configs = []
    for url in urls:
        config = config_for(root)
        config.set_main_option("sqlalchemy.url", url)
        configs.append(config)
    _upgrade_in_threads(configs)
    _expect_own(urls[0], "t")
    _expect_own(urls[1], "t")
