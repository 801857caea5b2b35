"""Type descriptors fold each backend's synonyms and nothing more."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeEngine

from limbeck.schema.from_metadata import load_dialect
from limbeck.schema.normalize import type_descriptor

SAME = [
    ("postgresql", sa.Float(), postgresql.DOUBLE_PRECISION()),
    ("postgresql", sa.Float(precision=53), postgresql.DOUBLE_PRECISION(precision=53)),
    ("postgresql", sa.Float(precision=10), sa.REAL()),
    ("postgresql", sa.Numeric(10, 2), sa.DECIMAL(10, 2)),
    ("postgresql", sa.DateTime(), postgresql.TIMESTAMP()),
    ("postgresql", sa.DateTime(timezone=True), postgresql.TIMESTAMP(timezone=True)),
    ("postgresql", sa.Unicode(20), sa.VARCHAR(20)),
    ("postgresql", sa.ARRAY(sa.Integer, dimensions=2), postgresql.ARRAY(sa.INTEGER())),
    ("postgresql", sa.Integer().with_variant(sa.BigInteger(), "postgresql"), sa.BIGINT()),
    ("mariadb", sa.Boolean(), mysql.TINYINT(display_width=1)),
    ("mariadb", sa.Integer(), mysql.INTEGER(display_width=11)),
    ("mariadb", sa.BigInteger(), mysql.BIGINT(display_width=20)),
    ("mariadb", sa.JSON(), mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin")),
    ("mariadb", sa.Numeric(), mysql.DECIMAL(10, 0)),
    ("mariadb", sa.Numeric(8), mysql.DECIMAL(8, 0)),
    ("mariadb", sa.Double(), mysql.DOUBLE()),
    ("mariadb", sa.Enum("a", "b"), mysql.ENUM("a", "b")),
    ("sqlite", sa.Integer(), sa.INTEGER()),
    ("sqlite", sa.Enum("a", "bb"), sa.VARCHAR(2)),
]

DIFFERENT = [
    ("postgresql", sa.String(20), sa.String(30)),
    ("postgresql", sa.Integer(), sa.BigInteger()),
    ("postgresql", sa.JSON(), postgresql.JSONB()),
    ("postgresql", sa.DateTime(), sa.DateTime(timezone=True)),
    ("postgresql", sa.Numeric(10, 2), sa.Numeric(10, 3)),
    ("mariadb", mysql.TINYINT(display_width=4), sa.Boolean()),
    ("mariadb", sa.Enum("a", "b"), mysql.ENUM("a", "b", "c")),
    ("mariadb", mysql.INTEGER(unsigned=True), sa.Integer()),
    ("sqlite", sa.String(20), sa.Text()),
]


@pytest.mark.parametrize(("dialect", "model", "reflected"), SAME)
def test_synonyms_compare_equal(
    dialect: str, model: TypeEngine[object], reflected: TypeEngine[object]
) -> None:
    d = load_dialect(dialect)
    assert type_descriptor(model, d) == type_descriptor(reflected, d)


@pytest.mark.parametrize(("dialect", "left", "right"), DIFFERENT)
def test_real_differences_stay(
    dialect: str, left: TypeEngine[object], right: TypeEngine[object]
) -> None:
    d = load_dialect(dialect)
    assert type_descriptor(left, d) != type_descriptor(right, d)


def test_native_enum_is_named_not_listed() -> None:
    d = load_dialect("postgresql")
    assert str(type_descriptor(sa.Enum("a", name="mood"), d)) == "ENUM(mood)"
    assert str(type_descriptor(sa.Enum("a", name="mood", schema="s"), d)) == "ENUM(s.mood)"
    assert (
        str(type_descriptor(sa.Enum("a", name="mood", schema="public"), d)) == "ENUM(public.mood)"
    )
    assert (
        str(type_descriptor(sa.Enum("a", name="mood", schema="public"), d, default_schema="public"))
        == "ENUM(mood)"
    )


def test_null_type_does_not_break() -> None:
    assert str(type_descriptor(sa.types.NullType(), load_dialect("sqlite"))) == "NULL"
