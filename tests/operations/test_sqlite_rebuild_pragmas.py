"""SQLite move-and-copy: the connection settings a rebuild relaxes, and restores.

A rebuild drops the old table with ``secure_delete = FAST`` only when every
old column was copied (its rows live on in the new table), and builds the
indexes with sorter helper threads. These tests watch the settings as each
statement runs, and check that a dropped column's values are overwritten in
the database file when the user asked for ``secure_delete``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from online_support import Database

MARKER = "zq-private-value"


def _raw_pragma(db: Database, sql: str) -> Any:
    cursor = db.conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return row[0] if row else None


@pytest.fixture
def secure_db(sqlite_db: Database) -> Iterator[Database]:
    """The SQLite database, its connection set to ``secure_delete = ON``, with rows."""
    db = sqlite_db
    assert _raw_pragma(db, "PRAGMA secure_delete = ON") == 1
    with db.migration() as op:
        op.create_table(
            "account",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("name", sa.String(40), nullable=False),
            sa.Column("secret", sa.String(60)),
            sa.Index("ix_account_name", "name"),
        )
        op.execute(
            sa.text(
                "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000) "
                f"INSERT INTO account (id, name, secret) SELECT n, 'name-' || n, '{MARKER}-' || n "
                "FROM c"
            )
        )
    yield db


def _watch_settings(db: Database) -> list[tuple[str, int, int]]:
    """Record (statement kind, secure_delete, threads) as each DROP/CREATE INDEX runs."""
    seen: list[tuple[str, int, int]] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        kind = " ".join(statement.split()[:2]).upper()
        if kind in {"DROP TABLE", "CREATE INDEX"}:
            seen.append(
                (
                    kind,
                    _raw_pragma(db, "PRAGMA secure_delete"),
                    _raw_pragma(db, "PRAGMA threads"),
                )
            )

    sa.event.listen(db.conn, "before_cursor_execute", before)
    return seen


def test_rebuild_keeping_every_column_drops_without_zeroing(secure_db: Database) -> None:
    db = secure_db
    seen = _watch_settings(db)
    with db.migration() as op, op.batch_alter_table("account", recreate="always") as batch:
        batch.add_column(sa.Column("note", sa.String(20)))
        batch.alter_column("name", type_=sa.String(80), existing_type=sa.String(40))
    helpers = min(4, (os.cpu_count() or 1) - 1)
    assert seen[0] == ("DROP TABLE", 2, 0)
    assert seen[1] == ("CREATE INDEX", 1, helpers)
    assert len(seen) == 2
    # Both settings are back as they were, and the rows all survived.
    assert _raw_pragma(db, "PRAGMA secure_delete") == 1
    assert _raw_pragma(db, "PRAGMA threads") == 0
    assert db.scalar("SELECT count(*) FROM account WHERE secret LIKE :m", m=f"{MARKER}-%") == 3000
    assert "ix_account_name" in {i["name"] for i in db.inspector().get_indexes("account")}


def test_rebuild_dropping_a_column_keeps_secure_delete(secure_db: Database) -> None:
    db = secure_db
    seen = _watch_settings(db)
    with db.migration() as op, op.batch_alter_table("account", recreate="always") as batch:
        batch.drop_column("secret")
    assert seen[0] == ("DROP TABLE", 1, 0)
    assert _raw_pragma(db, "PRAGMA secure_delete") == 1
    assert db.scalar("SELECT count(*) FROM account") == 3000


def test_dropped_column_values_are_overwritten_in_the_file(
    secure_db: Database, sqlite_url: str
) -> None:
    db = secure_db
    path = Path(sa.make_url(sqlite_url).database or "")
    db.conn.commit()
    assert MARKER.encode() in path.read_bytes()
    with db.migration() as op, op.batch_alter_table("account", recreate="always") as batch:
        batch.drop_column("secret")
        batch.add_column(sa.Column("note", sa.String(20)))
    db.conn.close()
    assert MARKER.encode() not in path.read_bytes()


def test_settings_come_back_when_the_rebuild_fails(secure_db: Database) -> None:
    db = secure_db
    with pytest.raises(sa.exc.IntegrityError), db.migration() as op:
        op.execute("INSERT INTO account (id, name) VALUES (3001, 'name-1')")
        with op.batch_alter_table("account", recreate="always") as batch:
            # Fails while the indexes are built, with the threads setting changed.
            batch.create_index("ux_account_name", ["name"], unique=True)
    assert _raw_pragma(db, "PRAGMA secure_delete") == 1
    assert _raw_pragma(db, "PRAGMA threads") == 0
    assert db.scalar("SELECT count(*) FROM account") == 3000


def test_settings_already_relaxed_are_left_alone(secure_db: Database) -> None:
    db = secure_db
    assert _raw_pragma(db, "PRAGMA secure_delete = OFF") == 0
    assert _raw_pragma(db, "PRAGMA threads = 6") == 6
    seen = _watch_settings(db)
    with db.migration() as op, op.batch_alter_table("account", recreate="always") as batch:
        batch.add_column(sa.Column("note", sa.String(20)))
    # OFF is not raised to FAST, and six helper threads are not cut down.
    assert seen == [("DROP TABLE", 0, 6), ("CREATE INDEX", 0, 6)]
    assert _raw_pragma(db, "PRAGMA secure_delete") == 0
    assert _raw_pragma(db, "PRAGMA threads") == 6


def test_attached_databases_keep_their_setting(secure_db: Database, tmp_path: Path) -> None:
    db = secure_db
    _raw_pragma(db, f"ATTACH DATABASE '{tmp_path / 'other.db'}' AS other")
    assert _raw_pragma(db, "PRAGMA other.secure_delete = OFF") == 0
    with db.migration() as op, op.batch_alter_table("account", recreate="always") as batch:
        batch.add_column(sa.Column("note", sa.String(20)))
    assert _raw_pragma(db, "PRAGMA other.secure_delete") == 0
    assert _raw_pragma(db, "PRAGMA main.secure_delete") == 1
