"""Each Alembic-style project runs under Alembic and under limbeck, on every
backend, with the same result: schema (by reflection), version table and
rows after every step, and the same offline SQL. Then each tool carries on
from the other's database (down to base and up again): a team can switch
either way at any time."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from acceptance_harness import (
    Project,
    assert_same,
    ok,
    run,
    snapshot,
    sql_statements,
    write_project,
)
from acceptance_projects import ALL, Spec
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.oracle

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_ASYNC_MODULES = ("aiosqlite", "asyncpg", "aiomysql", "greenlet")


def async_url(url: str) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = _ASYNC_DRIVERS.get(backend, "mysql+aiomysql")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


@dataclass
class Side:
    """One copy of a project with databases of its own."""

    spec: Spec
    project: Project
    urls: dict[str, str]
    alembic_python: Path

    def run(self, tool: str, *args: str) -> str:
        python = str(self.alembic_python) if tool == "alembic" else sys.executable
        if self.spec.driver is not None:
            argv = [python, self.spec.driver, *args]
            env = {**self.project.env, "MIGRATE_TOOL": tool}
            return ok(run(argv, self.project.root, env))
        argv = [python, "-m", tool, *self.project.config_args, *args]
        return ok(run(argv, self.project.root, self.project.env))

    def database_urls(self) -> list[str]:
        return [self.urls["url"]] + ([self.urls["url2"]] if self.spec.two_databases else [])


def make_side(
    spec: Spec, root: Path, url: str, fresh_db: Callable[[], str], alembic_python: Path
) -> Side:
    urls = {"url": url, "async_url": async_url(url)}
    if spec.two_databases:
        urls["url2"] = fresh_db()
    env = {}
    for key, value in spec.env.items():
        for name, real in urls.items():
            value = value.replace("{" + name + "}", real)
        env[key] = value
    project = write_project(root, spec.files, urls, config_args=spec.config_args, env=env)
    return Side(spec, project, urls, alembic_python)


def assert_sides_equal(alembic_side: Side, limbeck_side: Side, when: str) -> None:
    for a_url, l_url in zip(
        alembic_side.database_urls(), limbeck_side.database_urls(), strict=True
    ):
        try:
            assert_same(snapshot(a_url), snapshot(l_url))
        except AssertionError as exc:
            raise AssertionError(f"after {when}: {exc}") from None


def _needs_async(spec: Spec) -> None:
    if spec.async_drivers:
        missing = [m for m in _ASYNC_MODULES if importlib.util.find_spec(m) is None]
        if missing:
            pytest.skip(f"async drivers not installed ({', '.join(missing)}): the oracle extra")


@pytest.mark.parametrize("spec", ALL, ids=[s.name for s in ALL])
def test_project_gives_the_same_database(
    spec: Spec,
    db_url: str,
    fresh_db: Callable[[], str],
    alembic_python: Path,
    tmp_path: Path,
) -> None:
    _needs_async(spec)
    alembic_side = make_side(spec, tmp_path / "alembic", db_url, fresh_db, alembic_python)
    limbeck_side = make_side(spec, tmp_path / "limbeck", fresh_db(), fresh_db, alembic_python)
    for step in spec.steps:
        alembic_side.run("alembic", *step)
        limbeck_side.run("limbeck", *step)
        assert_sides_equal(alembic_side, limbeck_side, " ".join(step))

    # Going back and forth: Alembic continues on limbeck's database and
    # limbeck on Alembic's.
    for step in (("downgrade", "base"), ("upgrade", "heads")):
        limbeck_side.run("alembic", *step)
        alembic_side.run("limbeck", *step)
        assert_sides_equal(limbeck_side, alembic_side, "switching tools: " + " ".join(step))


OFFLINE = [s for s in ALL if s.offline]


_VERSION_DML = re.compile(
    r"(?:INSERT INTO alembic_version \(version_num\) VALUES \('(?P<insert>\w+)'\)"
    r"|UPDATE alembic_version SET version_num='(?P<new>\w+)'"
    r" WHERE (?:alembic_version\.)?version_num = '(?P<old>\w+)'"
    r"|DELETE FROM alembic_version WHERE (?:alembic_version\.)?version_num = '(?P<delete>\w+)')"
)


def _same_form(statements: list[str]) -> list[str]:
    """Consecutive statements on the version table become their net effect
    (rows removed, rows added). Intended differences this hides: Alembic's
    INSERT ends in a needless ``RETURNING version_num`` (SQLAlchemy 2.1's
    implicit returning); at a merge or unmerge the two tools pick a different parent's row to UPDATE
    (and so DELETE or INSERT the other), with the same rows in the end."""
    out: list[str] = []
    removed: set[str] = set()
    added: set[str] = set()

    def flush() -> None:
        if removed or added:
            out.append(f"version rows -{sorted(removed - added)} +{sorted(added - removed)}")
        removed.clear()
        added.clear()

    for statement in statements:
        match = _VERSION_DML.match(statement)
        if match is None:
            flush()
            out.append(statement)
            continue
        for key, target in (
            ("insert", added),
            ("new", added),
            ("old", removed),
            ("delete", removed),
        ):
            if match.group(key):
                target.add(match.group(key))
    flush()
    return out


@pytest.mark.parametrize("spec", OFFLINE, ids=[s.name for s in OFFLINE])
def test_offline_sql_is_the_same(
    spec: Spec,
    db_url: str,
    fresh_db: Callable[[], str],
    alembic_python: Path,
    tmp_path: Path,
) -> None:
    _needs_async(spec)
    side = make_side(spec, tmp_path / "project", db_url, fresh_db, alembic_python)
    sqlite = make_url(db_url).get_backend_name() == "sqlite"
    for args in (("upgrade", "head", "--sql"), ("downgrade", "head:base", "--sql")):
        if spec.driver is not None:
            args = (*args[:-1], "--sql")
        if spec.name == "batch" and sqlite:
            # Move-and-copy offline needs the table: both tools stop (Alembic
            # asks for copy_from=Table(...), limbeck says it cannot read it).
            for python, tool in ((side.alembic_python, "alembic"), (sys.executable, "limbeck")):
                failed = run([str(python), "-m", tool, *args], side.project.root)
                assert failed.returncode != 0, failed.stdout
            continue
        from_alembic = side.run("alembic", *args)
        from_limbeck = side.run("limbeck", *args)
        expected = _same_form(sql_statements(from_alembic, drop_transaction=sqlite))
        got = _same_form(sql_statements(from_limbeck, drop_transaction=sqlite))
        assert got == expected, (
            f"{' '.join(args)}\n--- Alembic\n{from_alembic}\n--- limbeck\n{from_limbeck}"
        )
        if sqlite:
            # The one intended difference: limbeck's SQLite DDL is transactional.
            statements = sql_statements(from_limbeck)
            assert statements[0] == "BEGIN;" and statements[-1] == "COMMIT;"
