"""Awkward identifiers, offline escaping run for real, and per-dialect improvements."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from online_support import Database

from limbeck.ddl import impl_for
from limbeck.errors import LimbeckError
from limbeck.operations import Operations

# A space, a quote of each kind, unicode, and reserved words.
TABLE = 'order "line" it\'s'
COLUMNS = ["select", "Straße ü", 'quo"te', "group by"]


def test_awkward_identifiers_on_every_directive(db: Database) -> None:
    select, strasse, quote, group = COLUMNS
    with db.migration() as op:
        table = op.create_table(
            TABLE,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column(select, sa.String(20), nullable=False),
            sa.Column(strasse, sa.Integer(), server_default="1"),
        )
        op.bulk_insert(table, [{"id": 1, select: "a", strasse: 5}, {"id": 2, select: "b"}])
        op.add_column(TABLE, sa.Column(quote, sa.String(10)))
        op.alter_column(TABLE, select, type_=sa.String(40), existing_type=sa.String(20))
        op.alter_column(TABLE, strasse, new_column_name=group, existing_type=sa.Integer())
        op.create_index("ix odd 'name'", TABLE, [select, group])
        op.create_unique_constraint("uq odd", TABLE, [select])
        op.create_check_constraint("ck odd", TABLE, sa.column(group) >= 0)
    with db.migration() as op:
        op.drop_constraint("uq odd", TABLE, type_="unique")
        op.drop_index("ix odd 'name'", TABLE)
        op.drop_column(TABLE, quote)
        op.rename_table(TABLE, "Ünïcode table")
    insp = db.inspector()
    assert "Ünïcode table" in insp.get_table_names()
    cols = [c["name"] for c in insp.get_columns("Ünïcode table")]
    assert cols == ["id", select, group]
    rows = db.rows(
        f"SELECT id, {db.q(select)}, {db.q(group)} FROM {db.q('Ünïcode table')} ORDER BY id"
    )
    assert rows == [(1, "a", 5), (2, "b", 1)]
    with pytest.raises(sa.exc.DBAPIError):  # the CHECK with the renamed column holds
        db.conn.execute(
            sa.text(
                f"INSERT INTO {db.q('Ünïcode table')} (id, {db.q(select)}, {db.q(group)}) "
                "VALUES (3, 'c', -1)"
            )
        )
    db.conn.rollback()


NASTY = [
    "plain",
    "it's",
    "'; DROP TABLE vals; --",
    "back\\slash",
    "back\\'; DROP TABLE vals; --",
    "two\nlines\r\nand\ttab",
    "ünïcødé ☃",
    "%s %(x)s :name ? $1",
    "",
]


def test_offline_bulk_insert_escaping_runs_back_exactly(db: Database) -> None:
    with db.migration() as op:
        op.create_table(
            "vals",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
            sa.Column("v", sa.Text()),
        )
    buffer = io.StringIO()
    impl = impl_for(db.conn.dialect, None, as_sql=True, output_buffer=buffer, context_opts={})

    class Offline:
        bind = None
        dialect = db.conn.dialect
        as_sql = True
        opts: dict[str, object] = {}

        def __init__(self) -> None:
            self.impl = impl

        def autocommit_block(self) -> object:
            raise AssertionError("not used")

    op = Operations(Offline())  # type: ignore[arg-type]
    vals = sa.table("vals", sa.column("id", sa.Integer()), sa.column("v", sa.Text()))
    op.bulk_insert(vals, [{"id": i, "v": v} for i, v in enumerate(NASTY)])
    script = buffer.getvalue()
    statements = [s for s in script.split(";\n\n") if s.strip()]
    assert len(statements) == len(NASTY)  # no value broke out of its literal
    raw = db.conn.connection.dbapi_connection
    cursor = raw.cursor()
    for statement in statements:
        cursor.execute(statement)  # run exactly as a DBA would run the file
    raw.commit()
    assert db.rows("SELECT v FROM vals ORDER BY id") == [(v,) for v in NASTY]
    assert "vals" in db.inspector().get_table_names()


@pytest.mark.parametrize("db_url", ["mariadb"], indirect=True)
def test_mysql_alter_column_reads_what_the_script_omits(db: Database) -> None:
    with db.migration() as op:
        op.create_table(
            "item",
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(30), server_default="anon", comment="display name"),
            sa.Column("qty", sa.Integer(), nullable=False, server_default="4"),
        )
        op.execute("INSERT INTO item (name) VALUES ('x')")
    with db.migration() as op:
        # Alembic would need existing_type and would reset default and comment.
        op.alter_column("item", "name", nullable=False)
        op.alter_column("item", "qty", new_column_name="quantity")
        op.alter_column("item", "id", comment="key")
    cols = {c["name"]: c for c in db.inspector().get_columns("item")}
    assert cols["name"]["nullable"] is False
    assert cols["name"]["type"].length == 30
    assert "anon" in str(cols["name"]["default"])
    assert cols["name"]["comment"] == "display name"
    assert cols["quantity"]["nullable"] is False and "4" in str(cols["quantity"]["default"])
    assert cols["id"]["autoincrement"] is True and cols["id"]["comment"] == "key"
    db.conn.execute(sa.text("INSERT INTO item (name) VALUES ('y')"))
    db.conn.commit()
    assert db.scalar("SELECT max(id) FROM item") == 2


@pytest.mark.parametrize("db_url", ["mariadb"], indirect=True)
def test_mysql_drop_constraint_finds_its_type(db: Database) -> None:
    with db.migration() as op:
        op.create_table("p", sa.Column("id", sa.Integer(), primary_key=True))
        op.create_table(
            "c",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("pid", sa.Integer()),
            sa.Column("n", sa.Integer()),
        )
        op.create_foreign_key("fk_c_p", "c", "p", ["pid"], ["id"])
        op.create_unique_constraint("uq_c_n", "c", ["n"])
        op.create_check_constraint("ck_c_n", "c", "n > 0")
    with db.migration() as op:
        op.drop_constraint("fk_c_p", "c")
        op.drop_constraint("uq_c_n", "c")
        op.drop_constraint("ck_c_n", "c")
    insp = db.inspector()
    assert insp.get_foreign_keys("c") == []
    assert insp.get_unique_constraints("c") == []
    assert insp.get_check_constraints("c") == []
    message = "drop_constraint\\('nope'\\) on table 'c' needs type_="
    with pytest.raises(LimbeckError, match=message), db.migration() as op:
        op.drop_constraint("nope", "c")


def _enum_names(db: Database) -> set[str]:
    return {e["name"] for e in db.inspector().get_enums()}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_enum_life_cycle(db: Database) -> None:
    mood = sa.Enum("happy", "sad", name="mood")
    with db.migration() as op:
        op.create_table(
            "pet", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("m", mood)
        )
        op.create_table("plain", sa.Column("id", sa.Integer(), primary_key=True))
        op.add_column("plain", sa.Column("size", sa.Enum("s", "m", name="size")))
        op.add_column("plain", sa.Column("m", sa.Enum("happy", "sad", name="mood")))
    assert _enum_names(db) == {"mood", "size"}
    with db.migration() as op:
        op.add_enum_value("mood", "angry", after="sad")
        op.add_enum_value("mood", "angry")  # IF NOT EXISTS: no error
        op.add_enum_value("size", "l", autocommit=True)
    labels = {e["name"]: e["labels"] for e in db.inspector().get_enums()}
    assert labels["mood"] == ["happy", "sad", "angry"]
    assert labels["size"] == ["s", "m", "l"]
    with db.migration() as op:
        op.drop_table("pet")  # "mood" still used by plain.m: kept
        op.drop_column("plain", "size")  # "size" now unused: dropped at the end of the step
    assert _enum_names(db) == {"mood"}
    with db.migration() as op:
        op.drop_column("plain", "m", postgresql_keep_enum=True)
    assert _enum_names(db) == {"mood"}
    with db.migration() as op:
        op.create_table(
            "again", sa.Column("m", sa.Enum("happy", "sad", name="mood", create_type=False))
        )
        op.drop_table("again")
        op.execute("DROP TYPE mood")  # what an Alembic script does by hand still works
    assert _enum_names(db) == set()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_concurrent_index_in_autocommit_block(db: Database) -> None:
    with db.migration() as op:
        op.create_table(
            "big", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("v", sa.Integer())
        )
        with op.get_context().autocommit_block():
            op.create_index("ix_big_v", "big", ["v"], postgresql_concurrently=True)
        op.alter_column("big", "v", type_=sa.String(10), postgresql_using="v::text")
    assert [i["name"] for i in db.inspector().get_indexes("big")] == ["ix_big_v"]
    assert isinstance(db.inspector().get_columns("big")[1]["type"], sa.String)


def test_directive_impossible_on_a_database_names_it(db: Database) -> None:
    with db.migration() as op:
        op.create_table("t", sa.Column("id", sa.Integer(), primary_key=True))
    if db.name == "postgresql":
        return
    with pytest.raises(LimbeckError) as caught, db.migration() as op:
        op.add_enum_value("mood", "x")
    assert str(caught.value) == f"add_enum_value('mood') is not supported by {db.conn.dialect.name}"
