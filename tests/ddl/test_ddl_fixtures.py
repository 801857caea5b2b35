"""Every directive of every per-dialect fixture file compiles offline to the expected SQL."""

from __future__ import annotations

import warnings

import pytest
from fixture_format import FIXTURES, Case, parse, run

DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb", "mssql", "oracle")
CASES = [case for dialect in DIALECTS for case in parse(FIXTURES / f"{dialect}.txt")]


def test_every_dialect_has_a_fixture_file() -> None:
    for dialect in DIALECTS:
        assert len(parse(FIXTURES / f"{dialect}.txt")) >= 40, dialect


@pytest.mark.parametrize("case", CASES, ids=[f"{c.dialect}:{c.line}" for c in CASES])
def test_directive_compiles_to_expected_sql(case: Case, offline: object) -> None:
    op, ctx = offline(case.dialect)  # type: ignore[operator]
    with warnings.catch_warnings():
        # Oracle warns that it cannot render ON UPDATE; the expected SQL shows it.
        warnings.simplefilter("ignore")
        actual = run(case.source, op, ctx.buffer)
    assert actual == case.expected, f"{case.dialect} fixture line {case.line}"
