"""Reading and running the per-dialect fixture files (directive → expected SQL).

A fixture file is a list of cases::

    # free comment
    >>> op.add_column("t", sa.Column("x", sa.Integer()))
    ALTER TABLE t ADD COLUMN x INTEGER;

``>>>`` starts a directive (``...`` continues it); the lines up to the next
``>>>`` are the SQL the offline run must write, or ``!! text`` for an error
whose message is ``text``, or ``-- (no SQL)``. Each case runs in a fresh offline context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql, sqlite

from limbeck.errors import LimbeckError

FIXTURES = Path(__file__).parent / "fixtures"
#: The expected output of a directive that writes no SQL (e.g. a comment on SQLite).
NOTHING = "-- (no SQL)"


@dataclass
class Case:
    dialect: str
    line: int
    source: str
    expected: str


def parse(path: Path) -> list[Case]:
    cases: list[Case] = []
    source: list[str] = []
    expected: list[str] = []
    start = 0

    def close() -> None:
        if source:
            cases.append(Case(path.stem, start, "\n".join(source), normalize("\n".join(expected))))

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(">>> "):
            close()
            source, expected, start = [line[4:]], [], number
        elif line.startswith("... ") and source and not expected:
            source.append(line[4:])
        elif line.startswith("#"):
            continue
        elif source:
            expected.append(line)
    close()
    return cases


def normalize(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def namespace(op: Any) -> dict[str, Any]:
    return {
        "op": op,
        "sa": sa,
        "postgresql": postgresql,
        "mysql": mysql,
        "mssql": mssql,
        "oracle": oracle,
        "sqlite": sqlite,
    }


def run(case_source: str, op: Any, buffer: Any) -> str:
    try:
        exec(case_source, namespace(op))
    except LimbeckError as error:
        return "!! " + str(error)
    return normalize(buffer.getvalue()) or NOTHING
