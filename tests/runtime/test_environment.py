"""The env.py contract: context functions, configure() options, a live
connection handed in by the application, and the Python API."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from project import Rev, config_for, db_state, make_project, run_cli

from limbeck import command
from limbeck.errors import LimbeckError
from limbeck.runtime import MigrationContext

REVS = [
    Rev(
        "aaaa0001",
        None,
        'op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("users")',
    ),
    Rev("bbbb0002", "aaaa0001", 'op.execute("INSERT INTO users (id) VALUES (7)")'),
]

PROBE_ENV = """
import json
from sqlalchemy import engine_from_config, pool
from limbeck import context

config = context.config
seen = {
    "x": context.get_x_argument(),
    "x_dict": context.get_x_argument(as_dictionary=True),
    "tag": context.get_tag_argument(),
    "destination": context.get_revision_argument(),
    "offline": context.is_offline_mode(),
    "head": context.get_head_revision(),
    "heads": list(context.get_head_revisions()),
}
applied = []


def remember(ctx, step, heads, run_args):
    applied.append([step.up_revision_id, step.is_upgrade, sorted(heads)])


engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.",
                            poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, on_version_apply=remember,
                      version_table="my_versions", history_table="my_ledger")
    seen["transactional"] = context.is_transactional_ddl()
    with context.begin_transaction():
        context.run_migrations()
seen["applied"] = applied
with open(config.get_main_option("probe_file"), "w") as out:
    json.dump(seen, out)
"""


def test_context_functions_and_configure_options(tmp_path: Path, db_url: str) -> None:
    import json

    probe = tmp_path / "probe.json"
    root = make_project(tmp_path, db_url, REVS, ini_options={"probe_file": str(probe)})
    (root / "migrations" / "env.py").write_text(PROBE_ENV)
    result = run_cli(root, "-x", "tenant=acme", "-x", "dry", "upgrade", "head", "--tag", "v1")
    assert result.returncode == 0, result.stderr
    seen = json.loads(probe.read_text())
    assert seen["x"] == ["tenant=acme", "dry"]
    assert seen["x_dict"] == {"tenant": "acme", "dry": ""}
    assert seen["tag"] == "v1"
    assert seen["destination"] == "head"
    assert seen["offline"] is False
    assert seen["head"] == "bbbb0002" and seen["heads"] == ["bbbb0002"]
    assert seen["transactional"] is (not db_url.startswith("mysql"))
    assert seen["applied"] == [
        ["aaaa0001", True, ["aaaa0001"]],
        ["bbbb0002", True, ["bbbb0002"]],
    ]
    tables = db_state(db_url).tables
    assert {"my_versions", "my_ledger", "users"} <= tables
    assert "limbeck_version" not in tables


def test_connection_from_the_application_in_its_transaction(tmp_path: Path, db_url: str) -> None:
    """config.attributes["connection"]: limbeck neither begins nor commits a
    transaction the caller owns."""
    root = make_project(tmp_path, db_url, REVS[:1])
    engine = sa.create_engine(db_url)
    config = config_for(root, stdout=io.StringIO())
    with engine.connect() as connection:
        transaction = connection.begin()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        assert MigrationContext.configure(connection).get_current_heads() == ("aaaa0001",)
        if db_url.startswith("mysql"):
            # MariaDB commits DDL as it goes: rolling back cannot undo it.
            transaction.commit()
        else:
            transaction.rollback()
    engine.dispose()
    if not db_url.startswith("mysql"):
        # The caller rolled back, so nothing stayed: not even SQLite's DDL.
        state = db_state(db_url)
        assert state.heads == set() and "users" not in state.tables
    # And with a connection outside a transaction, limbeck commits its own.
    engine = sa.create_engine(db_url)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()
    assert db_state(db_url).heads == {"aaaa0001"}


def test_python_api_names_and_standalone_context(tmp_path: Path, sqlite_url: str) -> None:
    root = make_project(tmp_path, sqlite_url, REVS)
    out = io.StringIO()
    config = config_for(root, stdout=out)
    command.upgrade(config, "aaaa0001")
    command.current(config)
    assert out.getvalue().strip() == "aaaa0001"
    command.upgrade(config, "+1")
    command.stamp(config, "aaaa0001")
    command.downgrade(config, "base")
    command.ensure_version(config)
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_heads() == ()
        assert context.get_current_revision() is None
    engine.dispose()


def test_offline_context_needs_no_database(tmp_path: Path) -> None:
    root = make_project(tmp_path, "postgresql+psycopg2://u:p@127.0.0.1:1/none", REVS)
    result = run_cli(root, "upgrade", "head", "--sql")
    assert result.returncode == 0, result.stderr
    sql = result.stdout
    assert sql.index("BEGIN;") < sql.index("CREATE TABLE limbeck_version")
    assert "CREATE TABLE users" in sql
    assert "INSERT INTO limbeck_version (version_num) VALUES ('aaaa0001');" in sql
    assert "UPDATE limbeck_version SET version_num='bbbb0002'" in sql
    assert sql.rstrip().endswith("COMMIT;")


def test_literal_binds_online_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as connection, pytest.raises(LimbeckError, match="literal_binds"):
        MigrationContext.configure(connection, opts={"literal_binds": True})
    engine.dispose()
    with pytest.raises(LimbeckError, match="needs a Connection"):
        MigrationContext.configure(SimpleNamespace())  # type: ignore[arg-type]


def test_version_table_in_its_own_schema_and_without_primary_key(
    tmp_path: Path, pg_url: str
) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA ops"))
    root = make_project(tmp_path, pg_url, REVS)
    env = root / "migrations" / "env.py"
    env.write_text(
        env.read_text().replace(
            "context.configure(connection=connection, target_metadata=target_metadata)",
            "context.configure(connection=connection, target_metadata=target_metadata,"
            " version_table_schema='ops', version_table_pk=False)",
        )
    )
    result = run_cli(root, "upgrade", "head")
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        assert {"limbeck_version", "limbeck_history"} <= set(inspector.get_table_names("ops"))
        assert "limbeck_version" not in inspector.get_table_names()
        assert (
            inspector.get_pk_constraint("limbeck_version", schema="ops")["constrained_columns"]
            == []
        )
        rows = conn.execute(sa.text("SELECT version_num FROM ops.limbeck_version")).scalars().all()
    engine.dispose()
    assert rows == ["bbbb0002"]
    current = run_cli(root, "current")
    assert current.stdout.strip() == "bbbb0002 (head)"


STAMP_PROBE_ENV = """
import json
from sqlalchemy import engine_from_config, pool
from limbeck import context

config = context.config
seen = []


def remember(ctx, step, heads, run_args):
    seen.append([step.up_revision_id, list(step.down_revision_ids), step.is_upgrade,
                 step.is_stamp, sorted(heads)])


engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.",
                            poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, on_version_apply=remember)
    with context.begin_transaction():
        context.run_migrations()
with open(config.get_main_option("probe_file"), "a") as out:
    out.write(json.dumps(seen) + "\\n")
"""


def test_on_version_apply_for_stamps_in_both_directions(tmp_path: Path, sqlite_url: str) -> None:
    """As Alembic reports them: a stamp down gives the removed revision as
    ``up_revision_id`` with ``is_upgrade`` false; a stamp up the added one."""
    import json

    probe = tmp_path / "probe.jsonl"
    revs = [Rev("aaa1", None), Rev("bbb2", "aaa1"), Rev("ccc3", "bbb2")]
    root = make_project(tmp_path, sqlite_url, revs, ini_options={"probe_file": str(probe)})
    (root / "migrations" / "env.py").write_text(STAMP_PROBE_ENV)
    for command_line in (
        ("upgrade", "head"),
        ("stamp", "aaa1"),
        ("stamp", "ccc3"),
        ("stamp", "base"),
        ("stamp", "bbb2"),
    ):
        result = run_cli(root, *command_line)
        assert result.returncode == 0, result.stderr
    runs = [json.loads(line) for line in probe.read_text().splitlines()]
    assert runs[1:] == [
        [["ccc3", ["aaa1"], False, True, ["aaa1"]]],
        [["ccc3", ["aaa1"], True, True, ["ccc3"]]],
        [["ccc3", [], False, True, []]],
        [["bbb2", [], True, True, ["bbb2"]]],
    ]


def test_failure_inside_the_callers_transaction_keeps_it_consistent(
    tmp_path: Path, db_url: str
) -> None:
    """The caller owns the transaction and commits after catching the failure:
    the migrations before the failed one are in it with their version rows,
    so the next run goes on from there instead of running them again."""
    from limbeck.errors import MigrationFailed

    revs = [
        Rev("aaaa0001", None, "op.create_table('t1', sa.Column('id', sa.Integer))"),
        Rev("bbbb0002", "aaaa0001", "op.create_table('t2', sa.Column('id', sa.Integer))"),
        Rev("cccc0003", "bbbb0002", "raise RuntimeError('boom')"),
    ]
    root = make_project(tmp_path, db_url, revs)
    config = config_for(root, stdout=io.StringIO())
    engine = sa.create_engine(db_url)
    with engine.connect() as connection:
        transaction = connection.begin()
        config.attributes["connection"] = connection
        with pytest.raises(MigrationFailed, match="the transaction is the caller's"):
            command.upgrade(config, "head")
        transaction.commit()
    engine.dispose()
    state = db_state(db_url)
    assert state.heads == {"bbbb0002"}
    assert {"t1", "t2"} <= state.tables
    (root / "migrations" / "versions" / revs[2].filename).write_text(
        Rev("cccc0003", "bbbb0002", "op.create_table('t3', sa.Column('id', sa.Integer))").source()
    )
    del config.attributes["connection"]
    command.upgrade(config, "head")
    assert db_state(db_url).heads == {"cccc0003"}


ENV_WRITES_AROUND_RUN = """
from sqlalchemy import engine_from_config, pool
from limbeck import context

config = context.config
engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.",
                            poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.execute("CREATE TABLE IF NOT EXISTS env_note (x VARCHAR(10))")
        context.run_migrations()
        context.execute("INSERT INTO env_note (x) VALUES ('seen')")
"""


def test_read_only_commands_keep_what_env_py_does_in_its_transaction(
    tmp_path: Path, sqlite_url: str
) -> None:
    """As in Alembic, `current` runs env.py's transaction block to its end:
    env.py's own statements before and after run_migrations() stay."""
    root = make_project(tmp_path, sqlite_url, REVS)
    (root / "migrations" / "env.py").write_text(ENV_WRITES_AROUND_RUN)
    result = run_cli(root, "current")
    assert result.returncode == 0, result.stderr
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT x FROM env_note")).scalars().all()
    engine.dispose()
    assert rows == ["seen"]
