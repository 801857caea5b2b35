"""Which tables and schemas reflection reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from limbeck.schema import diff, from_database, from_metadata


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(db_url, poolclass=NullPool)
    yield eng
    eng.dispose()


def simple(md: sa.MetaData, name: str, **kw: Any) -> sa.Table:
    return sa.Table(name, md, sa.Column("id", sa.Integer, primary_key=True), **kw)


def test_version_tables_and_excluded_names_are_left_out(engine: sa.Engine) -> None:
    md = sa.MetaData()
    for name in ("alembic_version", "limbeck_version", "limbeck_history", "custom_ver", "keep"):
        simple(md, name)
    md.create_all(engine)
    with engine.connect() as conn:
        db = from_database(conn, exclude_tables=["custom_ver"])
        model = from_metadata(md, conn.dialect, exclude_tables=["custom_ver"])
    assert [t.name for t in db.tables] == ["keep"]
    assert diff(db, model) == []


def test_include_name_filters_tables_and_columns(engine: sa.Engine) -> None:
    md = sa.MetaData()
    simple(md, "app_one")
    t = simple(md, "app_two")
    t.append_column(sa.Column("secret", sa.Integer))
    simple(md, "other")
    md.create_all(engine)
    seen: list[tuple[Any, str]] = []

    def include(name: Any, type_: str, parents: Any) -> bool:
        seen.append((name, type_))
        if type_ == "table":
            return str(name).startswith("app_")
        if type_ == "column":
            return name != "secret"
        return True

    with engine.connect() as conn:
        db = from_database(conn, include_name=include)
    assert [t.name for t in db.tables] == ["app_one", "app_two"]
    two = db.table("app_two")
    assert two is not None and [c.name for c in two.columns] == ["id"]
    assert ("other", "table") in seen


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_other_schemas(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA sales")
    md = sa.MetaData()
    simple(md, "customer")
    mood = sa.Enum("ok", "bad", name="mood", schema="sales")
    sa.Table(
        "invoice",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.ForeignKey("customer.id")),
        sa.Column("mood", mood),
        sa.Column("prev_id", sa.ForeignKey("sales.invoice.id")),
        schema="sales",
    )
    sa.Sequence("numbers", schema="sales", metadata=md, start=7)
    md.create_all(engine)
    with engine.connect() as conn:
        db = from_database(conn, schemas=[None, "sales"])
        model = from_metadata(md, conn.dialect, default_schema="public")
        only_sales = from_database(conn, schemas=["sales"])
    assert [t.key for t in db.tables] == [(None, "customer"), ("sales", "invoice")]
    assert [e.key for e in db.enums] == [("sales", "mood")]
    assert [s.key for s in db.sequences] == [("sales", "numbers")]
    invoice = db.table("invoice", "sales")
    assert invoice is not None
    assert {(fk.referred_schema, fk.referred_table) for fk in invoice.foreign_keys} == {
        (None, "customer"),
        ("sales", "invoice"),
    }
    assert diff(db, model) == []
    assert [t.key for t in only_sales.tables] == [("sales", "invoice")]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_enum_and_sequence_changes(engine: sa.Engine) -> None:
    md = sa.MetaData()
    sa.Table(
        "t",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("m", sa.Enum("a", "b", name="m")),
    )
    sa.Sequence("s1", metadata=md)
    md.create_all(engine)
    md2 = sa.MetaData()
    sa.Table(
        "t",
        md2,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("m", sa.Enum("a", "b", "c", name="m")),
    )
    sa.Table(
        "u",
        md2,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.Enum("x", name="n")),
    )
    sa.Sequence("s1", metadata=md2, increment=2)
    sa.Sequence("s2", metadata=md2)
    with engine.connect() as conn:
        db = from_database(conn)
        kinds = [c.kind for c in diff(db, from_metadata(md2, conn.dialect))]
        back = [c.kind for c in diff(db, from_metadata(sa.MetaData(), conn.dialect))]
    assert kinds == ["alter_enum", "create_enum", "alter_sequence", "create_sequence", "add_table"]
    assert back == ["drop_table", "drop_enum", "drop_sequence"]
