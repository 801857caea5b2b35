"""add_column skips the stub table only for plain columns, and the SQL is
the same either way."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql, sqlite
from sqlalchemy.engine import Dialect

from limbeck.ddl import constructs as ddl
from limbeck.operations.toimpl import _compiles_alone

DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.dialect(),
    "mysql": mysql.dialect(),
    "mariadb": mysql.dialect(is_mariadb=True),
    "oracle": oracle.dialect(),
}


def _plain_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("c", sa.String(50)),
        sa.Column("c", sa.String(50), nullable=False, server_default="x"),
        sa.Column("c", sa.Integer, server_default=sa.text("42")),
        sa.Column("c", sa.Numeric(10, 2), nullable=True),
        sa.Column("c", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.Column("c", sa.Text, nullable=False, server_default="it's"),
        sa.Column('we"ird name', sa.Float),
    ]


def _special_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("c", sa.Integer, primary_key=True),
        sa.Column("c", sa.Integer, sa.ForeignKey("other.id")),
        sa.Column("c", sa.Integer, index=True),
        sa.Column("c", sa.Integer, unique=True),
        sa.Column("c", sa.Integer, sa.CheckConstraint("c > 0")),
        sa.Column("c", sa.Boolean(create_constraint=True)),
        sa.Column("c", sa.Enum("a", "b", name="ab")),
        sa.Column("c", sa.Integer, sa.Computed("1 + 1")),
        sa.Column("c", sa.Integer, sa.Identity()),
        sa.Column("c", sa.Integer, comment="note"),
        sa.Column("c", sa.Integer().with_variant(sa.BigInteger(), "postgresql")),
        sa.Column("c", sa.Integer, server_default=sa.func.now()),
    ]


def _sql(column: sa.Column[Any], dialect: Dialect) -> str:
    return str(ddl.AddColumn("t", column, None).compile(dialect=dialect))


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_plain_columns_compile_alone_to_the_same_sql(name: str) -> None:
    dialect = DIALECTS[name]
    for index, column in enumerate(_plain_columns()):
        assert _compiles_alone(column, name), column
        alone = _sql(column, dialect)
        in_table = _plain_columns()[index]
        sa.Table("t", sa.MetaData(), in_table)
        assert alone == _sql(in_table, dialect)


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_columns_that_bring_more_get_the_stub_table(name: str) -> None:
    for column in _special_columns():
        assert not _compiles_alone(column, name), column


def test_sql_server_always_gets_the_stub_table() -> None:
    assert not _compiles_alone(sa.Column("c", sa.String(50)), "mssql")
    with pytest.raises(sa.exc.CompileError):
        _sql(sa.Column("c", sa.String(50)), mssql.dialect())


def test_a_listener_on_attach_gets_the_stub_table() -> None:
    column = sa.Column("c", sa.String(50))
    seen: list[str] = []
    sa.event.listen(column, "after_parent_attach", lambda col, table: seen.append(table.name))
    assert not _compiles_alone(column, "sqlite")
