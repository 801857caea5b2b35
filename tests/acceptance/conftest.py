"""Fixtures of the acceptance tests: the Alembic oracle and extra databases.

Tests marked ``oracle`` compare limbeck with Alembic itself. They run only
when Alembic is importable in the test process (``pip install -e
'.[test,oracle]'``); without it they are skipped, saying so. Alembic then
runs in a separate process, from a virtual environment of its own
(``.venv-alembic-oracle``, created on first use and reused). If that
environment cannot be created, the oracle tests are skipped with the reason,
except under ``CI=true``, where they fail: a CI run that asked for the
oracle must not pass without it.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from acceptance_harness import OracleUnavailable, oracle_python
from sqlalchemy.engine import URL, make_url

SERVERS = ("postgresql", "mariadb")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "oracle: compares with Alembic, run in a separate process; needs the 'oracle' extra",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if importlib.util.find_spec("alembic") is not None:
        return
    skip = pytest.mark.skip(
        reason="Alembic is not installed: pip install -e '.[test,oracle]' to compare with it"
    )
    for item in items:
        if item.get_closest_marker("oracle") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def alembic_python() -> Path:
    """The interpreter of the oracle environment (Alembic installed)."""
    try:
        return oracle_python()
    except OracleUnavailable as exc:
        message = f"cannot create the Alembic oracle environment: {exc}"
        if _in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)


@pytest.fixture
def fresh_db(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path
) -> Iterator[Callable[[], str]]:
    """A factory of further fresh, empty databases on ``db_url``'s backend
    (dropped after the test)."""
    url = make_url(db_url)
    backend = url.get_backend_name()
    made: list[tuple[object, URL]] = []

    def new() -> str:
        if backend == "sqlite":
            path = tmp_path / f"extra_{secrets.token_hex(4)}.db"
            return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)
        admins = request.getfixturevalue("_server_admins")
        admin = admins["postgresql" if backend == "postgresql" else "mariadb"]
        db = admin.create()
        made.append((admin, db))
        return str(db.render_as_string(hide_password=False))

    yield new
    for admin, db in made:
        admin.drop(db.database)  # type: ignore[attr-defined]
