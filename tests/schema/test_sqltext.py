"""Canonical spelling of SQL expressions as backends give them back."""

from __future__ import annotations

import pytest

from limbeck.schema.normalize import normalize_expression, normalize_index_element

SAME = [
    # PostgreSQL rewrites IN into = ANY (ARRAY[...]) with casts
    (
        "m IN ('happy', 'sad') OR name <> 'a'",
        "(m = ANY (ARRAY['happy'::mood, 'sad'::mood])) OR name::text <> 'a'::text",
    ),
    (
        "e IN ('x', 'y')",
        "e::text = ANY (ARRAY['x'::character varying, 'y'::character varying]::text[])",
    ),
    # MariaDB quotes with backticks and lower-cases keywords
    ("m IN ('happy', 'sad') OR name <> 'a'", "`m` in ('happy','sad') or `name` <> 'a'"),
    # BETWEEN is spelled out by PostgreSQL
    ("price > 0 AND i BETWEEN 1 AND 10", "price > 0::numeric AND i >= 1 AND i <= 10"),
    ("price > 0 AND i BETWEEN 1 AND 10", "((price > (0)::numeric) AND ((i >= 1) AND (i <= 10)))"),
    ("price > 0 AND i BETWEEN 1 AND 10", "`price` > 0 and `i` between 1 and 10"),
    ("lower(name)", "lower((name)::text)"),
    ("a * 2", "(`a` * 2)"),
    ("(a - b) - c", "a - b - c"),
    ("x != 1", "x <> 1"),
    ("now()", "CURRENT_TIMESTAMP"),
    ("current_timestamp()", "CURRENT_TIMESTAMP"),
    ("0.00", "0"),
    ("1.50", "1.5"),
    ("(-1)", "-1"),
    ("CAST(x AS VARCHAR(10)) = 'a'", "x = 'a'"),
    ("x IS NOT NULL", "(x IS NOT NULL)"),
    ("\"Name\" = 'a'", "name = 'a'"),
    ("[col] > 1", "col > 1"),
    ("arr[1] = 2", "(arr)[1] = 2"),
]

DIFFERENT = [
    ("a - (b - c)", "a - b - c"),
    ("a AND (b OR c)", "(a AND b) OR c"),
    ("x > 1", "x >= 1"),
    ("x IN (1, 2)", "x NOT IN (1, 2)"),
    ("'a'", "'A'"),
]


@pytest.mark.parametrize(("left", "right"), SAME)
def test_same_meaning_same_text(left: str, right: str) -> None:
    assert normalize_expression(left) == normalize_expression(right)


@pytest.mark.parametrize(("left", "right"), DIFFERENT)
def test_different_meaning_different_text(left: str, right: str) -> None:
    assert normalize_expression(left) != normalize_expression(right)


def test_unparseable_text_still_compares_to_itself() -> None:
    text = "x @@ to_tsquery('a') :: weird ;"
    assert normalize_expression(text) == normalize_expression(" ".join(text.split()))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("x DESC", "x desc"),
        ("x ASC", "x"),
        ("lower(name::text) DESC NULLS LAST", "lower(name) DESC NULLS LAST"),
        ("x NULLS LAST", "x"),
        ("x DESC NULLS FIRST", "x DESC"),
    ],
)
def test_index_elements(left: str, right: str) -> None:
    assert normalize_index_element(left) == normalize_index_element(right)


def test_quoted_numbers_cast_to_numbers_are_numbers() -> None:
    assert normalize_expression("small >= '-10'::integer") == normalize_expression("small >= -10")
    assert normalize_expression("CAST('2.50' AS NUMERIC)") == "2.5"
    assert normalize_expression("'2.50'::text") == "'2.50'"
