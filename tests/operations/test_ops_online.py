"""Every directive run against real SQLite, PostgreSQL and MariaDB, checked by reflection."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from online_support import Database


def _create_people(db: Database, rows: int = 3) -> sa.Table:
    with db.migration() as op:
        op.create_table(
            "team",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("title", sa.String(40), nullable=False),
        )
        people = op.create_table(
            "people",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("name", sa.String(20), nullable=False),
            sa.Column("score", sa.Integer(), server_default="5"),
            sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id", name="fk_people_team")),
            comment="the people",
        )
        op.bulk_insert(
            sa.table("team", sa.column("id"), sa.column("title")), [{"id": 1, "title": "core"}]
        )
        op.bulk_insert(
            people,
            [{"id": i, "name": f"p{i}", "score": i, "team_id": 1} for i in range(1, rows + 1)],
        )
    return people


def _columns(db: Database, table: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in db.inspector().get_columns(table)}


def test_create_table_and_drop_table(db: Database) -> None:
    _create_people(db)
    insp = db.inspector()
    assert set(insp.get_table_names()) == {"team", "people"}
    cols = _columns(db, "people")
    assert list(cols) == ["id", "name", "score", "team_id"]
    assert cols["name"]["nullable"] is False
    assert insp.get_pk_constraint("people")["constrained_columns"] == ["id"]
    fks = insp.get_foreign_keys("people")
    assert [(f["constrained_columns"], f["referred_table"]) for f in fks] == [(["team_id"], "team")]
    if db.name != "sqlite":
        assert insp.get_table_comment("people")["text"] == "the people"
    assert db.scalar("SELECT count(*) FROM people") == 3
    with db.migration() as op:
        op.create_table("team", sa.Column("id", sa.Integer()), if_not_exists=True)
        op.drop_table("people")
        op.drop_table("nothing_here", if_exists=True)
    assert db.inspector().get_table_names() == ["team"]


def test_rename_table_keeps_rows(db: Database) -> None:
    _create_people(db)
    with db.migration() as op:
        op.rename_table("people", "persons")
    assert "persons" in db.inspector().get_table_names()
    assert db.scalar("SELECT count(*) FROM persons") == 3


def test_table_comments(db: Database) -> None:
    _create_people(db)
    with db.migration() as op:
        op.create_table_comment("people", "new comment", existing_comment="the people")
    if db.name == "sqlite":
        return  # SQLite stores no comments; the directives are no-ops there
    assert db.inspector().get_table_comment("people")["text"] == "new comment"
    with db.migration() as op:
        op.drop_table_comment("people", existing_comment="new comment")
    assert db.inspector().get_table_comment("people")["text"] is None


def test_add_column_with_foreign_key_index_and_default(db: Database) -> None:
    _create_people(db)
    with db.migration() as op:
        op.add_column(
            "people",
            sa.Column(
                "mentor_team",
                sa.Integer(),
                sa.ForeignKey("team.id", name="fk_people_mentor_team"),
                index=True,
            ),
        )
        op.add_column(
            "people", sa.Column("level", sa.Integer(), nullable=False, server_default="7")
        )
    cols = _columns(db, "people")
    assert "mentor_team" in cols and cols["level"]["nullable"] is False
    assert db.scalar("SELECT min(level) FROM people") == 7
    insp = db.inspector()
    assert "mentor_team" in {c for i in insp.get_indexes("people") for c in i["column_names"]}
    referred = {
        tuple(f["constrained_columns"]): f["referred_table"]
        for f in insp.get_foreign_keys("people")
    }
    assert referred[("mentor_team",)] == "team"
    with pytest.raises(sa.exc.IntegrityError):
        db.conn.execute(sa.text("UPDATE people SET mentor_team = 99 WHERE id = 1"))
    db.conn.rollback()


def test_add_column_keeps_its_checks(db: Database) -> None:
    """A CHECK written in the Column, and the CHECK a type brings where the
    database has no native type for it, are created and enforced."""
    _create_people(db)
    with db.migration() as op:
        op.add_column(
            "people",
            sa.Column("rating", sa.Integer(), sa.CheckConstraint("rating > 0", name="ck_rating")),
        )
        op.add_column(
            "people",
            sa.Column(
                "kind", sa.Enum("a", "b", name="ck_kind", native_enum=False, create_constraint=True)
            ),
        )
    db.conn.execute(sa.text("UPDATE people SET rating = 5, kind = 'a' WHERE id = 1"))
    db.conn.commit()
    for bad in ("rating = -1", "kind = 'z'"):
        with pytest.raises(sa.exc.DBAPIError, match=r"(?i)check|ck_"):
            db.conn.execute(sa.text(f"UPDATE people SET {bad} WHERE id = 1"))
        db.conn.rollback()
    assert db.scalar("SELECT rating FROM people WHERE id = 1") == 5


def test_drop_column_keeps_rows(db: Database) -> None:
    _create_people(db)
    with db.migration() as op:
        op.drop_column("people", "score")
    assert "score" not in _columns(db, "people")
    assert db.rows("SELECT id, name FROM people ORDER BY id") == [(1, "p1"), (2, "p2"), (3, "p3")]


def test_drop_indexed_and_foreign_key_column(db: Database) -> None:
    _create_people(db)
    with db.migration() as op:
        op.create_index("ix_people_score", "people", ["score"])
        if db.name == "mariadb":
            op.drop_constraint("fk_people_team", "people", type_="foreignkey")
        op.drop_column("people", "team_id")
        op.drop_column("people", "score")
    assert list(_columns(db, "people")) == ["id", "name"]
    assert db.scalar("SELECT count(*) FROM people") == 3


def test_alter_column_every_aspect(db: Database) -> None:
    _create_people(db)
    with db.migration() as op:
        op.alter_column("people", "name", type_=sa.String(60), existing_type=sa.String(20))
        op.alter_column("people", "name", nullable=True, existing_type=sa.String(60))
        op.alter_column("people", "score", server_default="11", existing_type=sa.Integer())
        op.alter_column("people", "score", new_column_name="points", existing_type=sa.Integer())
        op.alter_column(
            "people",
            "points",
            comment="how good",
            existing_type=sa.Integer(),
            existing_server_default="11",
        )
    cols = _columns(db, "people")
    assert cols["name"]["type"].length == 60
    assert cols["name"]["nullable"] is True
    assert "11" in str(cols["points"]["default"])
    if db.name != "sqlite":
        assert cols["points"]["comment"] == "how good"
    assert db.rows("SELECT id, name, points FROM people ORDER BY id") == [
        (1, "p1", 1),
        (2, "p2", 2),
        (3, "p3", 3),
    ]
    with db.migration() as op:
        op.alter_column("people", "points", server_default=None, existing_type=sa.Integer())
        op.alter_column("people", "name", nullable=False, existing_type=sa.String(60))
    cols = _columns(db, "people")
    assert cols["points"]["default"] is None
    assert cols["name"]["nullable"] is False


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_indexes(db: Database) -> None:
    _create_people(db)
    with db.migration() as op:
        op.create_index("ix_people_name", "people", ["name"], unique=True)
        op.create_index("ix_people_name_score", "people", ["name", "score"])
        if db.name != "mariadb":
            op.create_index("ix_people_lower", "people", [sa.text("lower(name)")])
        op.create_index("ix_people_name", "people", ["name"], unique=True, if_not_exists=True)
    names = {i["name"]: i for i in db.inspector().get_indexes("people")}
    assert names["ix_people_name"]["unique"]
    assert names["ix_people_name_score"]["column_names"] == ["name", "score"]
    with pytest.raises(sa.exc.IntegrityError):
        db.conn.execute(sa.text("INSERT INTO people (id, name) VALUES (9, 'p1')"))
    db.conn.rollback()
    with db.migration() as op:
        op.drop_index("ix_people_name", "people")
        op.drop_index("ix_people_name_score", "people", if_exists=True)
        op.drop_index("ix_absent", "people", if_exists=True)
    names = {i["name"] for i in db.inspector().get_indexes("people")}
    assert "ix_people_name" not in names and "ix_people_name_score" not in names


def test_constraints_created_enforced_and_dropped(db: Database) -> None:
    _create_people(db)
    with db.migration() as op:
        op.create_table(
            "badge",
            sa.Column("code", sa.String(10), nullable=False),
            sa.Column("pid", sa.Integer()),
        )
        op.create_primary_key("pk_badge", "badge", ["code"])
        op.create_unique_constraint("uq_people_name", "people", ["name"])
        op.create_check_constraint("ck_people_score", "people", "score >= 0")
        op.create_foreign_key(
            "fk_badge_people", "badge", "people", ["pid"], ["id"], ondelete="CASCADE"
        )
    insp = db.inspector()
    assert insp.get_pk_constraint("badge")["constrained_columns"] == ["code"]
    assert {u["name"] for u in insp.get_unique_constraints("people")} >= {"uq_people_name"}
    assert "ck_people_score" in {c["name"] for c in insp.get_check_constraints("people")}
    assert [f["name"] for f in insp.get_foreign_keys("badge")] == ["fk_badge_people"]
    for bad in (
        "INSERT INTO people (id, name, score) VALUES (10, 'p1', 1)",
        "INSERT INTO people (id, name, score) VALUES (11, 'x', -1)",
        "INSERT INTO badge (code, pid) VALUES ('a', 99)",
    ):
        with pytest.raises(sa.exc.DBAPIError):  # MariaDB reports CHECK as OperationalError
            db.conn.execute(sa.text(bad))
        db.conn.rollback()
    with db.migration() as op:
        op.drop_constraint("fk_badge_people", "badge", type_="foreignkey")
        op.drop_constraint("uq_people_name", "people", type_="unique")
        op.drop_constraint("ck_people_score", "people", type_="check")
    insp = db.inspector()
    assert insp.get_foreign_keys("badge") == []
    assert "uq_people_name" not in {u["name"] for u in insp.get_unique_constraints("people")}
    assert "ck_people_score" not in {c["name"] for c in insp.get_check_constraints("people")}
    assert db.scalar("SELECT count(*) FROM people") == 3


def test_execute_bulk_insert_and_inline_literal(db: Database) -> None:
    people = _create_people(db, rows=0)
    with db.migration() as op:
        op.bulk_insert(people, [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
        op.bulk_insert(people, [{"id": 3, "name": "c"}], multiinsert=False)
        table = sa.table("people", sa.column("name", sa.String()), sa.column("score", sa.Integer()))
        op.execute(
            table.update()
            .where(table.c.name == op.inline_literal("b"))
            .values(score=op.inline_literal(42))
        )
        op.execute("UPDATE people SET score = 1 WHERE name = 'a'")
        op.execute(sa.text("UPDATE people SET score = :s WHERE name = 'c'").bindparams(s=3))
    assert db.rows("SELECT name, score FROM people ORDER BY id") == [("a", 1), ("b", 42), ("c", 3)]
    assert db.op.get_bind() is db.conn
    assert db.op.get_context() is db.ctx


def test_naming_convention_of_target_metadata(db: Database) -> None:
    _create_people(db)
    db.ctx.opts["target_metadata"] = sa.MetaData(
        naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}
    )
    op = type(db.op)(db.ctx)
    with db.migration():
        op.create_unique_constraint(None, "people", ["name"])
    names = {u["name"] for u in db.inspector().get_unique_constraints("people")}
    if db.name == "sqlite":
        # SQLite rebuilt the table to add it; the name survives in the schema text.
        assert "uq_people_name" in (db.scalar("SELECT sql FROM sqlite_master WHERE name='people'"))
    else:
        assert "uq_people_name" in names


def test_failed_step_rolls_back_on_transactional_backends(db: Database) -> None:
    _create_people(db)
    with pytest.raises(sa.exc.DBAPIError), db.migration() as op:
        op.add_column("people", sa.Column("extra", sa.Integer()))
        op.execute("INSERT INTO no_such_table VALUES (1)")
    has_extra = "extra" in _columns(db, "people")
    assert has_extra is (db.name == "mariadb")  # MariaDB DDL commits implicitly


def test_identity_added_and_dropped_on_postgresql(pg_db: Database) -> None:
    db = pg_db
    with db.migration() as op:
        op.create_table("counter", sa.Column("id", sa.Integer(), nullable=False))
        op.execute("INSERT INTO counter (id) VALUES (1), (2)")
    with db.migration() as op:
        op.alter_column(
            "counter", "id", server_default=sa.Identity(start=10), existing_type=sa.Integer()
        )
    db.conn.execute(sa.text("INSERT INTO counter DEFAULT VALUES"))
    db.conn.commit()
    assert db.scalar("SELECT max(id) FROM counter") == 10
    with db.migration() as op:
        op.alter_column(
            "counter",
            "id",
            server_default=sa.Identity(increment=5),
            existing_server_default=sa.Identity(start=10),
            existing_type=sa.Integer(),
        )
    db.conn.execute(sa.text("INSERT INTO counter DEFAULT VALUES"))
    db.conn.commit()
    assert db.scalar("SELECT max(id) FROM counter") == 15
    with db.migration() as op:
        op.alter_column(
            "counter",
            "id",
            server_default=None,
            existing_server_default=sa.Identity(),
            existing_type=sa.Integer(),
        )
    assert (
        db.scalar(
            "SELECT is_identity FROM information_schema.columns "
            "WHERE table_name = 'counter' AND column_name = 'id'"
        )
        == "NO"
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.conn.execute(sa.text("INSERT INTO counter DEFAULT VALUES"))
    db.conn.rollback()


def _type_checks_follow_the_type(db: Database) -> None:
    kind = sa.Enum("a", "b", name="ck_item_kind", create_constraint=True, native_enum=False)
    with db.migration() as op:
        op.create_table(
            "item",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("kind", kind),
            sa.Column("flag", sa.Integer()),
        )
        op.execute("INSERT INTO item (id, kind, flag) VALUES (1, 'a', 1)")
    with db.migration() as op:
        op.alter_column("item", "kind", type_=sa.String(20), existing_type=kind)
        op.alter_column(
            "item",
            "flag",
            type_=sa.Boolean(create_constraint=True, name="ck_item_flag"),
            existing_type=sa.Integer(),
            postgresql_using="flag::boolean",
        )
    # The enum's CHECK went with the enum type: any string fits now.
    db.conn.execute(sa.text("UPDATE item SET kind = 'zzz' WHERE id = 1"))
    db.conn.commit()
    assert db.scalar("SELECT kind FROM item WHERE id = 1") == "zzz"


def test_type_checks_follow_the_type_on_postgresql(pg_db: Database) -> None:
    _type_checks_follow_the_type(pg_db)


def test_type_checks_follow_the_type_on_mariadb(mariadb_db: Database) -> None:
    _type_checks_follow_the_type(mariadb_db)
    # MariaDB has no boolean type: the Boolean's CHECK came with it.
    with pytest.raises(sa.exc.DBAPIError, match=r"(?i)ck_item_flag|check"):
        mariadb_db.conn.execute(sa.text("UPDATE item SET flag = 5 WHERE id = 1"))
    mariadb_db.conn.rollback()


def test_mariadb_alter_column_keeps_what_reflection_misses(mariadb_db: Database) -> None:
    """Without existing_*, limbeck reads the column back; SQLAlchemy's
    reflection misses expression and BIT defaults and JSON's CHECK, so they
    come from information_schema. Generated and invisible columns, which a
    restating MODIFY would turn into plain ones, are refused."""
    from limbeck.errors import LimbeckError

    db = mariadb_db
    with db.migration() as op:
        op.execute(
            "CREATE TABLE gadget (id INT PRIMARY KEY, a INT, "
            "label VARCHAR(40) DEFAULT (concat('a', 'b')), doc JSON, "
            "bits BIT(3) NOT NULL DEFAULT b'101', twice INT AS (a * 2) PERSISTENT, "
            "hidden INT INVISIBLE DEFAULT 4)"
        )
    with db.migration() as op:
        op.alter_column("gadget", "label", comment="a label")
        op.alter_column("gadget", "doc", nullable=False)
        op.alter_column("gadget", "bits", comment="flags")
    db.conn.execute(sa.text("INSERT INTO gadget (id, a, doc) VALUES (1, 3, '{}')"))
    db.conn.commit()
    row = db.conn.execute(sa.text("SELECT label, bits + 0 FROM gadget WHERE id = 1")).one()
    assert tuple(row) == ("ab", 5)
    with pytest.raises(sa.exc.DBAPIError, match=r"(?i)check|json"):
        db.conn.execute(sa.text("INSERT INTO gadget (id, a, doc) VALUES (2, 1, 'not json')"))
    db.conn.rollback()
    for column, what in (("twice", "a generated column"), ("hidden", "an invisible column")):
        refused = pytest.raises(LimbeckError, match=f"gadget.{column} is {what} on mariadb")
        with refused, db.migration() as op:
            op.alter_column("gadget", column, comment="x")
    assert db.scalar("SELECT twice FROM gadget WHERE id = 1") == 6
