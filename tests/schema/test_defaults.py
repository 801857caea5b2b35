"""Server defaults compare by meaning, as each backend reports them."""

from __future__ import annotations

import pytest

from limbeck.schema import SqlType
from limbeck.schema.from_metadata import load_dialect
from limbeck.schema.normalize import normalize_default, rules_for

VARCHAR = SqlType("VARCHAR", ("50",))
INTEGER = SqlType("INTEGER")
NUMERIC = SqlType("NUMERIC", ("10", "2"))
DOUBLE = SqlType("DOUBLE PRECISION")
BOOLEAN = SqlType("BOOLEAN")
TIMESTAMP = SqlType("TIMESTAMP")

SAME = [
    # (dialect, type, as written in the model, as reflected)
    ("postgresql", VARCHAR, "'x'", "'x'::character varying"),
    ("postgresql", DOUBLE, "'1.5'", "'1.5'::double precision"),
    ("postgresql", INTEGER, "'5'", "5"),
    ("postgresql", INTEGER, "'-1'", "'-1'::integer"),
    ("postgresql", NUMERIC, "0", "0"),
    ("postgresql", BOOLEAN, "true", "true"),
    ("postgresql", TIMESTAMP, "now()", "CURRENT_TIMESTAMP"),
    ("postgresql", TIMESTAMP, "CURRENT_TIMESTAMP", "now()"),
    ("postgresql", VARCHAR, "'5'", "'5'::character varying"),
    ("mariadb", VARCHAR, "'x'", "'x'"),
    ("mariadb", NUMERIC, "0", "0.00"),
    ("mariadb", INTEGER, "'5'", "5"),
    ("mariadb", BOOLEAN, "1", "1"),
    ("mariadb", BOOLEAN, "true", "1"),
    ("mariadb", BOOLEAN, "'0'", "0"),
    ("mariadb", TIMESTAMP, "CURRENT_TIMESTAMP", "current_timestamp()"),
    ("mariadb", VARCHAR, "'it''s'", "'it''s'"),
    ("sqlite", INTEGER, "'5'", "'5'"),
    ("sqlite", DOUBLE, "1.5", "'1.5'"),
    ("sqlite", TIMESTAMP, "(datetime('now'))", "datetime('now')"),
]

DIFFERENT = [
    ("postgresql", VARCHAR, "'x'", "'y'"),
    ("postgresql", VARCHAR, "'X'", "'x'"),
    ("postgresql", INTEGER, "5", "6"),
    ("postgresql", BOOLEAN, "true", "false"),
    ("mariadb", NUMERIC, "0", "0.01"),
    ("sqlite", TIMESTAMP, "CURRENT_TIMESTAMP", "CURRENT_DATE"),
]


@pytest.mark.parametrize(("dialect", "type_", "model", "reflected"), SAME)
def test_same_default(dialect: str, type_: SqlType, model: str, reflected: str) -> None:
    rules = rules_for(load_dialect(dialect))
    assert normalize_default(model, type_, rules) == normalize_default(reflected, type_, rules)


@pytest.mark.parametrize(("dialect", "type_", "left", "right"), DIFFERENT)
def test_different_default(dialect: str, type_: SqlType, left: str, right: str) -> None:
    rules = rules_for(load_dialect(dialect))
    assert normalize_default(left, type_, rules) != normalize_default(right, type_, rules)
