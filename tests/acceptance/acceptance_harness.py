"""Run one Alembic-style project under Alembic (the oracle) and under limbeck,
and compare what each leaves in the database.

Alembic never runs in the test process: it runs in a virtual environment of
its own (:func:`oracle_python` creates it once, under ``.venv-alembic-oracle``
in the repository, or ``$LIMBECK_ORACLE_VENV``), with the same SQLAlchemy
version as the tests. limbeck runs as ``python -m limbeck`` from the test's
own environment. Both run with the project directory as working directory and
without ``LIMBECK_*`` / ``ALEMBIC_CONFIG`` settings inherited.

:func:`snapshot` reads what a database holds: the schema (reflected with
:func:`limbeck.schema.from_database`, compared with :func:`limbeck.schema.diff`),
the version table's shape and rows, and every row of every other table.
limbeck's ledger ``limbeck_history`` is left out: Alembic never writes one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from limbeck.schema import Schema, diff, from_database

REPO = Path(__file__).resolve().parents[2]
ALEMBIC_VERSION = "1.20.1"
LEDGER = "limbeck_history"
_SCRUBBED = ("LIMBECK_DATABASE_URL", "LIMBECK_CONFIG", "ALEMBIC_CONFIG", "PYTHONPATH")


class OracleUnavailable(Exception):
    """The Alembic virtual environment could not be created."""


def oracle_requirements() -> list[str]:
    """What the oracle environment installs: Alembic, and this SQLAlchemy."""
    return [
        f"alembic=={ALEMBIC_VERSION}",
        f"SQLAlchemy[asyncio]=={sa.__version__}",
        "psycopg2-binary",
        "pymysql",
        "aiosqlite",
        "asyncpg",
        "aiomysql",
    ]


def oracle_venv_dir() -> Path:
    return Path(os.environ.get("LIMBECK_ORACLE_VENV") or REPO / ".venv-alembic-oracle")


def oracle_python() -> Path:
    """The oracle environment's interpreter, creating the environment first
    if it is missing or was made for other requirements. Several processes
    may ask at once: a lock file beside the directory serialises them."""
    venv = oracle_venv_dir()
    python = venv / "bin" / "python"
    stamp = venv / ".oracle-requirements"
    wanted = "\n".join(oracle_requirements())
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{venv}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
            return python
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            [str(python), "-m", "pip", "install", "--quiet", *oracle_requirements()],
        ]
        for step in steps:
            try:
                done = subprocess.run(
                    step, capture_output=True, text=True, timeout=600, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise OracleUnavailable(f"{' '.join(step)}: {exc}") from exc
            if done.returncode != 0:
                raise OracleUnavailable(
                    f"{' '.join(step)} exited {done.returncode}: {done.stderr.strip()[-2000:]}"
                )
        stamp.write_text(wanted, encoding="utf-8")
    return python


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        cwd=cwd,
        env=tool_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """stdout of a run that must have succeeded."""
    assert result.returncode == 0, (
        f"{' '.join(map(str, result.args))} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result.stdout


# -- projects -------------------------------------------------------------------------------


@dataclass
class Project:
    """An Alembic-style project written into ``root``.

    ``files`` maps relative paths to text; ``{url}`` / ``{url2}`` in them become
    the database URLs (escaped for ini files where the path ends in ``.ini``).
    ``config_args`` go before every command (e.g. ``-c migrations/alembic.ini``).
    """

    root: Path
    config_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    def alembic(self, python: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return run([str(python), "-m", "alembic", *self.config_args, *args], self.root, self.env)

    def limbeck(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([sys.executable, "-m", "limbeck", *self.config_args, *args], self.root, self.env)


def write_project(
    root: Path,
    files: Mapping[str, str],
    urls: Mapping[str, str],
    *,
    config_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Project:
    """Write ``files`` under ``root`` (dedented), replacing ``{name}`` for each
    of ``urls``."""
    for rel, text in files.items():
        body = textwrap.dedent(text).lstrip("\n")
        for name, url in urls.items():
            value = url.replace("%", "%%") if rel.endswith(".ini") else url
            body = body.replace("{" + name + "}", value)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return Project(root, tuple(config_args), dict(env or {}))


def copy_project(
    project: Project, root: Path, old_urls: Mapping[str, str], new_urls: Mapping[str, str]
) -> Project:
    """The same project in ``root``, pointing at other databases."""
    for path in sorted(project.root.rglob("*")):
        if "__pycache__" in path.parts or path.is_dir():
            continue
        text = path.read_text(encoding="utf-8")
        for name, url in old_urls.items():
            if path.suffix == ".ini":
                text = text.replace(url.replace("%", "%%"), new_urls[name].replace("%", "%%"))
            text = text.replace(url, new_urls[name])
        target = root / path.relative_to(project.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    env = dict(project.env)
    for key, value in env.items():
        for name, url in old_urls.items():
            if value == url:
                env[key] = new_urls[name]
    return Project(root, project.config_args, env)


# -- what a database holds ------------------------------------------------------------------


@dataclass
class Snapshot:
    schema: Schema
    version_table: dict[str, Any]
    data: dict[str, list[tuple[str, ...]]]

    @property
    def heads(self) -> list[str]:
        return list(self.version_table.get("rows", []))


@contextlib.contextmanager
def connect(url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _version_table(conn: sa.Connection, name: str) -> dict[str, Any]:
    inspector = sa.inspect(conn)
    if not inspector.has_table(name):
        return {}
    columns = [
        (c["name"], str(c["type"]).upper(), bool(c["nullable"]))
        for c in inspector.get_columns(name)
    ]
    pk = inspector.get_pk_constraint(name)
    rows = sorted(conn.execute(sa.text(f"SELECT version_num FROM {name}")).scalars())
    # MariaDB and SQLite do not keep primary key names; PostgreSQL does.
    return {
        "columns": columns,
        "pk": (pk.get("name"), tuple(pk.get("constrained_columns") or ())),
        "rows": rows,
    }


def snapshot(url: str, version_table: str = "alembic_version") -> Snapshot:
    with connect(url) as conn:
        schema = from_database(conn, exclude_tables=[LEDGER])
        versions = _version_table(conn, version_table)
        data: dict[str, list[tuple[str, ...]]] = {}
        for table in sorted(sa.inspect(conn).get_table_names()):
            if table in (LEDGER, version_table):
                continue
            quoted = conn.dialect.identifier_preparer.quote(table)
            rows = conn.exec_driver_sql(f"SELECT * FROM {quoted}")
            data[table] = sorted(tuple(repr(v) for v in row) for row in rows)
    return Snapshot(schema, versions, data)


def assert_same(alembic_side: Snapshot, limbeck_side: Snapshot) -> None:
    """Schemas equal by reflection, same version table and same rows."""
    changes = diff(alembic_side.schema, limbeck_side.schema)
    assert not changes, "schemas differ (Alembic -> limbeck):\n" + "\n".join(map(repr, changes))
    assert alembic_side.version_table == limbeck_side.version_table
    assert alembic_side.data == limbeck_side.data


def table_names(url: str) -> set[str]:
    with connect(url) as conn:
        return set(sa.inspect(conn).get_table_names())


# -- offline SQL --------------------------------------------------------------------------------

_STEP_COMMENT = re.compile(r"^--")


def sql_statements(text: str, *, drop_transaction: bool = False) -> list[str]:
    """Statements of an offline script: comment lines dropped, whitespace
    collapsed, split at ``;`` line ends. ``drop_transaction`` leaves out
    ``BEGIN`` / ``COMMIT``."""
    lines = [line for line in text.splitlines() if not _STEP_COMMENT.match(line.strip())]
    statements: list[str] = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = " ".join(" ".join(current).split())
            current = []
            if drop_transaction and statement.upper() in (
                "BEGIN;",
                "COMMIT;",
                "BEGIN TRANSACTION;",
            ):
                continue
            statements.append(statement)
    rest = " ".join(" ".join(current).split())
    if rest:
        statements.append(rest)
    return statements
