"""A migration that fails halfway leaves nothing half-applied where the
database can roll DDL back, and a dirty, documented state where it cannot."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from project import Rev, db_state, make_project, run_cli, write_revisions

GOOD = [
    Rev(
        "aaaa0001",
        None,
        'op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("users")',
    ),
]
# Creates a table, then fails: the table must not survive where DDL is transactional.
HALF = Rev(
    "bbbb0002",
    "aaaa0001",
    """
    op.create_table("half", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO users (id) VALUES (1)")
    op.execute("INSERT INTO no_such_table VALUES (1)")
    """,
    'op.drop_table("half")',
)


def test_failure_rolls_back_on_transactional_backends(tmp_path: Path, db_url: str) -> None:
    if db_url.startswith("mysql"):
        return _failure_marks_mariadb_dirty(tmp_path, db_url)
    root = make_project(tmp_path, db_url, [*GOOD, HALF])
    result = run_cli(root, "upgrade", "head")
    assert result.returncode == 1, result.stderr
    assert "bbbb0002" in result.stderr and "rolled back" in result.stderr
    assert "Traceback" not in result.stderr
    state = db_state(db_url)
    # One transaction per run: the whole run was undone, ledger keeps the failure.
    assert "half" not in state.tables and "users" not in state.tables
    assert state.heads == set()
    failed = [row for row in state.ledger if row["outcome"] == "failed"]
    assert [row["revision"] for row in failed] == ["bbbb0002"]
    assert "no_such_table" in failed[0]["message"]
    # Nothing is dirty: fixing the file and running again just works.
    current = json.loads(run_cli(root, "current", "--json").stdout)
    assert current["dirty"] is None
    write_revisions(
        root,
        [
            Rev(
                "bbbb0002",
                "aaaa0001",
                'op.create_table("half", sa.Column("id", sa.Integer, primary_key=True))',
            )
        ],
    )
    assert run_cli(root, "upgrade", "head").returncode == 0
    assert db_state(db_url).heads == {"bbbb0002"}


def test_failure_per_migration_keeps_earlier_migrations(tmp_path: Path, pg_url: str) -> None:
    root = make_project(tmp_path, pg_url, [*GOOD, HALF])
    env = root / "migrations" / "env.py"
    env.write_text(
        env.read_text().replace(
            "context.configure(connection=connection, target_metadata=target_metadata)",
            "context.configure(connection=connection, target_metadata=target_metadata,"
            " transaction_per_migration=True)",
        )
    )
    result = run_cli(root, "upgrade", "head")
    assert result.returncode == 1
    assert "before this migration" in result.stderr
    state = db_state(pg_url)
    assert "users" in state.tables and "half" not in state.tables
    assert state.heads == {"aaaa0001"}


def test_sqlite_failure_in_own_transaction_leaves_schema_untouched(
    tmp_path: Path, sqlite_url: str
) -> None:
    root = make_project(tmp_path, sqlite_url, GOOD)
    assert run_cli(root, "upgrade", "head").returncode == 0
    write_revisions(root, [HALF])
    result = run_cli(root, "upgrade", "head")
    assert result.returncode == 1
    state = db_state(sqlite_url)
    # Alembic leaves "half" behind on SQLite; limbeck does not.
    assert "half" not in state.tables
    assert state.heads == {"aaaa0001"}
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM users")).scalar() == 0
    engine.dispose()


def _failure_marks_mariadb_dirty(tmp_path: Path, url: str) -> None:
    root = make_project(tmp_path, url, [*GOOD, HALF])
    result = run_cli(root, "upgrade", "head")
    assert result.returncode == 1
    assert "dirty" in result.stderr
    state = db_state(url)
    # MariaDB commits DDL as it goes: a1 is applied, b2's table stayed.
    assert state.heads == {"aaaa0001"}
    assert "half" in state.tables
    partial = state.ledger[-1]
    assert partial["revision"] == "bbbb0002" and partial["outcome"] == "partial"
    statements = json.loads(partial["statements"])
    assert any("CREATE TABLE half" in s for s in statements)
    assert "no_such_table" in partial["message"]

    current = run_cli(root, "current")
    assert "DIRTY" in current.stdout and "bbbb0002" in current.stdout
    assert run_cli(root, "current", "--check-heads").returncode == 1
    refused = run_cli(root, "upgrade", "head")
    assert refused.returncode == 1 and "dirty" in refused.stderr

    # Repair by hand, stamp, and carry on.
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE half"))
    engine.dispose()
    assert run_cli(root, "stamp", "aaaa0001").returncode == 0
    assert json.loads(run_cli(root, "current", "--json").stdout)["dirty"] is None
    write_revisions(
        root,
        [
            Rev(
                "bbbb0002",
                "aaaa0001",
                'op.create_table("half", sa.Column("id", sa.Integer, primary_key=True))',
            )
        ],
    )
    assert run_cli(root, "upgrade", "head").returncode == 0
    assert db_state(url).heads == {"bbbb0002"}


def test_revision_that_does_not_compile_stops_the_run_before_it_starts(
    tmp_path: Path, sqlite_url: str
) -> None:
    """A syntax error in a planned revision's body is a broken file (exit 2)
    found before any migration runs: nothing is applied, nothing recorded."""
    revs = [
        Rev("aaaa1111", None, 'op.create_table("first", sa.Column("id", sa.Integer))'),
        Rev("bbbb2222", "aaaa1111", "x = (("),
    ]
    root = make_project(tmp_path, sqlite_url, revs)
    result = run_cli(root, "upgrade", "head")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: revision file ")
    assert "bbbb2222" in result.stderr.splitlines()[0] and "does not compile" in result.stderr
    state = db_state(sqlite_url)
    assert state.heads == set() and "first" not in state.tables
    assert state.applied() == []
