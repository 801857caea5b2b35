"""Batch mode and SQLite's automatic move-and-copy against real databases."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from online_support import Database

from limbeck.errors import LimbeckError


def _parent_child(db: Database, rows: int) -> None:
    """grand → parent (rows rows) ← child (rows rows, ON DELETE CASCADE)."""
    with db.migration() as op:
        op.create_table("grand", sa.Column("id", sa.Integer(), primary_key=True))
        op.create_table(
            "parent",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("code", sa.String(20), nullable=False),
            sa.Column("note", sa.String(30), server_default="n/a", comment="a note"),
            sa.Column("grand_id", sa.Integer(), sa.ForeignKey("grand.id", name="fk_parent_grand")),
            sa.UniqueConstraint("code"),
            sa.CheckConstraint("length(code) > 0", name="ck_parent_code"),
            sa.Index("ix_parent_note", "note"),
            comment="parents",
        )
        op.create_table(
            "child",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column(
                "parent_id",
                sa.Integer(),
                sa.ForeignKey("parent.id", name="fk_child_parent", ondelete="CASCADE"),
                nullable=False,
            ),
        )
        op.execute("INSERT INTO grand (id) VALUES (1)")
    # Rows are generated inside the database: fast, and memory stays flat.
    with db.migration() as op:
        op.execute(
            sa.text(
                "INSERT INTO parent (id, code, grand_id) "
                "SELECT n, 'c' || n, 1 FROM (" + _numbers(db, rows) + ") AS numbers"
            )
            if db.name != "mariadb"
            else sa.text(
                "INSERT INTO parent (id, code, grand_id) "
                "SELECT n, CONCAT('c', n), 1 FROM (" + _numbers(db, rows) + ") AS numbers"
            )
        )
        op.execute(
            sa.text(
                "INSERT INTO child (id, parent_id) SELECT n, n FROM ("
                + _numbers(db, rows)
                + ") AS numbers"
            )
        )


def _numbers(db: Database, rows: int) -> str:
    if db.name == "postgresql":
        return f"SELECT generate_series(1, {rows}) AS n"
    if db.name == "mariadb":
        return f"SELECT seq AS n FROM seq_1_to_{rows}"
    return (
        f"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {rows}) "
        "SELECT n FROM c"
    )


def _check_parent_survived(db: Database, rows: int, *, note_index: bool = True) -> None:
    assert db.scalar("SELECT count(*) FROM parent") == rows
    assert db.scalar("SELECT count(*) FROM child") == rows
    insp = db.inspector()
    assert [f["referred_table"] for f in insp.get_foreign_keys("child")] == ["parent"]
    assert [f["referred_table"] for f in insp.get_foreign_keys("parent")] == ["grand"]
    assert ("ix_parent_note" in {i["name"] for i in insp.get_indexes("parent")}) is note_index
    if db.name != "sqlite":
        assert insp.get_table_comment("parent")["text"] == "parents"
    # The foreign key into the rebuilt table is enforced, and still cascades.
    with pytest.raises(sa.exc.IntegrityError):
        db.conn.execute(sa.text(f"INSERT INTO child (id, parent_id) VALUES ({rows + 1}, -5)"))
    db.conn.rollback()
    db.conn.execute(sa.text("DELETE FROM parent WHERE id = 1"))
    db.conn.commit()
    assert db.scalar("SELECT count(*) FROM child WHERE parent_id = 1") == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_batch_rebuild_100k_rows_with_foreign_keys_in_and_out(db: Database) -> None:
    rows = 100_000
    _parent_child(db, rows)
    started = time.monotonic()
    with db.migration() as op, op.batch_alter_table("parent", recreate="always") as batch_op:
        batch_op.alter_column("code", type_=sa.String(40), new_column_name="label")
        batch_op.add_column(sa.Column("rank", sa.Integer(), server_default="3"), insert_after="id")
        batch_op.alter_column("note", nullable=False, existing_type=sa.String(30))
        batch_op.create_index("ix_parent_rank", ["rank"])
    assert time.monotonic() - started < 30
    _check_parent_survived(db, rows)
    cols = {c["name"]: c for c in db.inspector().get_columns("parent")}
    assert list(cols) == ["id", "rank", "label", "note", "grand_id"]
    assert cols["label"]["type"].length == 40
    assert cols["note"]["nullable"] is False
    assert db.scalar("SELECT label FROM parent WHERE id = 77") == "c77"
    assert db.scalar("SELECT sum(rank) FROM parent") == 3 * (rows - 1)
    schema_sql = db.scalar("SELECT sql FROM sqlite_master WHERE name = 'parent'")
    assert "ck_parent_code" in schema_sql and "UNIQUE (label)" in schema_sql
    assert "length(label)" in schema_sql  # the CHECK follows the renamed column
    # foreign keys are back on after the step
    assert db.scalar("PRAGMA foreign_keys") == 1


@pytest.mark.parametrize("db_url", ["postgresql", "mariadb"], indirect=True)
def test_batch_recreate_always_on_servers(db: Database) -> None:
    rows = 20_000
    _parent_child(db, rows)
    with db.migration() as op, op.batch_alter_table("parent", recreate="always") as batch_op:
        batch_op.alter_column("code", type_=sa.String(40), existing_type=sa.String(20))
        batch_op.add_column(sa.Column("rank", sa.Integer(), server_default="3"))
    _check_parent_survived(db, rows)
    cols = {c["name"]: c for c in db.inspector().get_columns("parent")}
    assert cols["code"]["type"].length == 40
    if db.name == "postgresql":
        # SERIAL still works after the rebuild
        db.conn.execute(sa.text("INSERT INTO parent (code) VALUES ('fresh')"))
        db.conn.commit()
        assert db.scalar("SELECT id FROM parent WHERE code = 'fresh'") is not None


def test_sqlite_alters_without_batch(sqlite_db: Database) -> None:
    db = sqlite_db
    _parent_child(db, 500)
    with db.migration() as op:
        op.alter_column("parent", "code", type_=sa.String(60), nullable=True)
        op.alter_column("parent", "note", server_default="changed")
        op.create_unique_constraint("uq_parent_note_code", "parent", ["note", "code"])
        op.create_check_constraint("ck_parent_id", "parent", "id > 0")
        op.drop_constraint("ck_parent_code", "parent", type_="check")
        op.create_foreign_key("fk_child_id", "child", "parent", ["id"], ["id"])
        op.drop_constraint("fk_child_id", "child", type_="foreignkey")
        op.add_column(
            "parent", sa.Column("serial", sa.Integer(), nullable=False, server_default="0")
        )
        op.add_column("parent", sa.Column("made", sa.DateTime(), server_default=sa.func.now()))
    _check_parent_survived(db, 500)
    schema_sql = db.scalar("SELECT sql FROM sqlite_master WHERE name = 'parent'")
    assert "VARCHAR(60)" in schema_sql
    assert "ck_parent_id" in schema_sql and "ck_parent_code" not in schema_sql
    assert "uq_parent_note_code" in schema_sql
    assert "DEFAULT 'changed'" in schema_sql
    assert db.scalar("SELECT count(*) FROM parent WHERE made IS NOT NULL") == 499


def test_sqlite_rebuild_refuses_to_cascade_inside_a_transaction(sqlite_db: Database) -> None:
    db = sqlite_db
    _parent_child(db, 10)
    db.conn.begin()  # foreign keys are ON and cannot be turned off now
    with pytest.raises(LimbeckError, match="PRAGMA foreign_keys=ON inside a transaction"):
        db.op.alter_column("parent", "code", nullable=True)
    db.conn.rollback()
    assert db.scalar("SELECT count(*) FROM child") == 10


def test_sqlite_rebuild_reports_broken_foreign_keys(sqlite_db: Database) -> None:
    db = sqlite_db
    _parent_child(db, 10)
    with db.migration() as op:
        op.execute("DELETE FROM parent WHERE id = 3")  # cascades to child 3
    with pytest.raises(LimbeckError, match="violating a foreign key"), db.migration() as op:
        op.execute("PRAGMA defer_foreign_keys = ON")
        op.execute("INSERT INTO child (id, parent_id) VALUES (50, 77)")
        op.alter_column("child", "parent_id", nullable=True)
    assert db.scalar("SELECT count(*) FROM child WHERE id = 50") == 0


def test_batch_drop_unnamed_constraint_via_naming_convention(sqlite_db: Database) -> None:
    db = sqlite_db
    _parent_child(db, 5)
    convention = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
    with (
        db.migration() as op,
        op.batch_alter_table("parent", naming_convention=convention) as batch_op,
    ):
        batch_op.drop_constraint("uq_parent_code", type_="unique")
    assert db.inspector().get_unique_constraints("parent") == []
    db.conn.execute(sa.text("INSERT INTO parent (id, code) VALUES (100, 'c1')"))  # duplicate ok
    db.conn.commit()


def test_batch_keeps_triggers_and_partial_reordering(sqlite_db: Database) -> None:
    db = sqlite_db
    _parent_child(db, 3)
    with db.migration() as op:
        op.execute(
            "CREATE TRIGGER parent_note AFTER INSERT ON parent BEGIN "
            "UPDATE parent SET note = 'set:' || NEW.code WHERE id = NEW.id; END"
        )
    with (
        db.migration() as op,
        op.batch_alter_table("parent", partial_reordering=[("note", "code")]) as batch_op,
    ):
        batch_op.alter_column("code", type_=sa.String(50))
    cols = [c["name"] for c in db.inspector().get_columns("parent")]
    assert cols.index("note") == cols.index("code") - 1
    db.conn.execute(sa.text("INSERT INTO parent (id, code) VALUES (9, 'x')"))
    db.conn.commit()
    assert db.scalar("SELECT note FROM parent WHERE id = 9") == "set:x"


def test_batch_auto_on_servers_alters_in_place(db: Database) -> None:
    _parent_child(db, 3)
    with db.migration() as op, op.batch_alter_table("parent") as batch_op:
        batch_op.add_column(sa.Column("extra", sa.Integer()))
        batch_op.create_index("ix_parent_extra", ["extra"])
        batch_op.drop_index("ix_parent_note")
    insp = db.inspector()
    assert "extra" in {c["name"] for c in insp.get_columns("parent")}
    assert {i["name"] for i in insp.get_indexes("parent")} >= {"ix_parent_extra"}
    _check_parent_survived(db, 3, note_index=False)


def test_batch_never_leaves_unsupported_sqlite_alter_to_fail(sqlite_db: Database) -> None:
    db = sqlite_db
    _parent_child(db, 2)
    message = "alter_column on table 'parent' cannot run on sqlite"
    with (
        pytest.raises(LimbeckError, match=message),
        db.migration() as op,
        op.batch_alter_table("parent", recreate="never") as batch_op,
    ):
        batch_op.alter_column("code", nullable=True)


def test_offline_copy_from_script_runs_on_postgresql(pg_db: Database) -> None:
    """The SQL `--sql` writes for a PostgreSQL batch with copy_from runs on a
    real database: the old table's key constraints release their names, and
    the new SERIAL sequence continues after the copied ids."""
    import io

    from limbeck.operations import Operations
    from limbeck.runtime.migration import MigrationContext

    source = sa.Table(
        "account",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50)),
        sa.Column("code", sa.Integer(), unique=True),
        sa.UniqueConstraint("name", name="uq_account_name"),
    )
    db = pg_db
    with db.migration():
        source.create(db.conn)
        db.conn.execute(sa.text("INSERT INTO account (name, code) VALUES ('a', 1), ('b', 2)"))
    buffer = io.StringIO()
    offline = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": buffer}
    )
    with Operations(offline).batch_alter_table(
        "account", copy_from=source, recreate="always"
    ) as batch:
        batch.add_column(sa.Column("note", sa.String(20)))
    with db.migration():
        db.conn.exec_driver_sql(buffer.getvalue())
    db.conn.execute(sa.text("INSERT INTO account (name, code, note) VALUES ('c', 3, 'new')"))
    db.conn.commit()
    assert db.conn.execute(sa.text("SELECT id, name FROM account ORDER BY id")).fetchall() == [
        (1, "a"),
        (2, "b"),
        (3, "c"),
    ]
    with pytest.raises(sa.exc.IntegrityError):
        db.conn.execute(sa.text("INSERT INTO account (name, code) VALUES ('a', 9)"))
    db.conn.rollback()


def test_recreate_always_with_nothing_queued_still_rebuilds(sqlite_db: Database) -> None:
    """As in Alembic: the rebuild is what recreate="always" asks for, here to
    apply table_args."""
    db = sqlite_db
    with db.migration() as op:
        op.create_table(
            "note", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("n", sa.Integer())
        )
        op.execute("INSERT INTO note (id, n) VALUES (1, 5)")
    with (
        db.migration() as op,
        op.batch_alter_table(
            "note", recreate="always", table_args=[sa.CheckConstraint("n > 0", name="ck_note_n")]
        ),
    ):
        pass
    assert "ck_note_n" in db.scalar("SELECT sql FROM sqlite_master WHERE name = 'note'")
    assert db.scalar("SELECT n FROM note WHERE id = 1") == 5


def test_postgresql_rebuild_keeps_serial_sequence_and_expression_index(pg_db: Database) -> None:
    """After a rebuild the SERIAL key goes on from the old sequence (the next
    insert gets no duplicate id), and an index on an expression alone
    (unique lower(email)) is created again."""
    db = pg_db
    with db.migration() as op:
        op.execute("CREATE TABLE member (id SERIAL PRIMARY KEY, email VARCHAR(40))")
        op.execute("CREATE UNIQUE INDEX ix_member_email ON member (lower(email))")
        op.execute("INSERT INTO member (email) VALUES ('Ann@x'), ('bob@x')")
    with db.migration() as op, op.batch_alter_table("member", recreate="always") as batch:
        batch.add_column(sa.Column("nick", sa.String(20)))
    db.conn.execute(sa.text("INSERT INTO member (email) VALUES ('cy@x')"))
    db.conn.commit()
    assert db.conn.execute(sa.text("SELECT id, email FROM member ORDER BY id")).fetchall() == [
        (1, "Ann@x"),
        (2, "bob@x"),
        (3, "cy@x"),
    ]
    assert db.scalar("SELECT pg_get_serial_sequence('member', 'id')") == "public.member_id_seq"
    with pytest.raises(sa.exc.IntegrityError):
        db.conn.execute(sa.text("INSERT INTO member (email) VALUES ('ANN@X')"))
    db.conn.rollback()
