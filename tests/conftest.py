"""Database backend fixtures shared by the whole test suite.

Server URLs come from the environment (``bash scripts/test.sh`` starts private
servers and sets them)::

    LIMBECK_TEST_POSTGRESQL_URL=postgresql+psycopg2://user:pw@127.0.0.1:PORT/limbeck_test
    LIMBECK_TEST_MARIADB_URL=mysql+pymysql://user:pw@127.0.0.1:PORT/limbeck_test

Fixtures (each URL is a ``str`` with the password in it, ready for
``sqlalchemy.create_engine``):

``db_url``
    Parametrized over ``sqlite``, ``postgresql`` and ``mariadb``: every test
    using it runs three times, each time against a fresh, empty database that
    is dropped afterwards. To run on fewer backends::

        @pytest.mark.parametrize("db_url", ["postgresql", "mariadb"], indirect=True)

``sqlite_url`` / ``pg_url`` / ``mariadb_url``
    A fresh, empty database on that one backend.

``backend_urls``
    Session-scoped ``{"postgresql": url_or_None, "mariadb": url_or_None}``: the
    server URLs from the environment (their shared ``limbeck_test`` database;
    prefer the fresh-database fixtures above).

A test that needs a server whose URL is not set is skipped with a reason, but
fails when ``CI=true``: in CI every backend must really run.

Tests are marked ``sqlite``, ``postgresql`` or ``mariadb`` by the backend
they use, so ``pytest -m "not mariadb"`` deselects the MariaDB runs.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

SERVER_BACKENDS = ("postgresql", "mariadb")
ALL_BACKENDS = ("sqlite", *SERVER_BACKENDS)
ENV_VARS = {
    "postgresql": "LIMBECK_TEST_POSTGRESQL_URL",
    "mariadb": "LIMBECK_TEST_MARIADB_URL",
}
FIXTURE_BACKENDS = {"sqlite_url": "sqlite", "pg_url": "postgresql", "mariadb_url": "mariadb"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def render_url(url: URL) -> str:
    # str(URL) masks the password; tests need the real one.
    return url.render_as_string(hide_password=False)


def pytest_configure(config: pytest.Config) -> None:
    for backend in ALL_BACKENDS:
        config.addinivalue_line("markers", f"{backend}: test runs against the {backend} backend")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        backends: set[str] = set()
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "db_url" in callspec.params:
            backends.add(str(callspec.params["db_url"]))
        for fixture, backend in FIXTURE_BACKENDS.items():
            if fixture in getattr(item, "fixturenames", ()):
                backends.add(backend)
        for backend in sorted(backends & set(ALL_BACKENDS)):
            item.add_marker(getattr(pytest.mark, backend))


@pytest.fixture(scope="session")
def backend_urls() -> dict[str, str | None]:
    """Server URLs from the environment, None where unset."""
    return {name: os.environ.get(ENV_VARS[name]) or None for name in SERVER_BACKENDS}


def _server_url(backend: str, backend_urls: dict[str, str | None]) -> URL:
    """The configured server URL, or skip (fail under CI=true) if there is none."""
    raw = backend_urls.get(backend)
    if not raw:
        message = (
            f"{ENV_VARS[backend]} is not set, so there is no {backend} server to test against; "
            "run the suite with 'bash scripts/test.sh', or start servers with "
            "'python3 scripts/dbservers.py start --state FILE' and export what it prints"
        )
        if in_ci():
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)
    return make_url(raw)


class _ServerAdmin:
    """Creates and drops scratch databases on one server."""

    def __init__(self, backend: str, url: URL) -> None:
        self.backend = backend
        self.url = url
        self.engine = sa.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")

    def _connect(self) -> sa.Connection:
        try:
            return self.engine.connect()
        except sa.exc.OperationalError as exc:
            pytest.fail(
                f"cannot connect to the {self.backend} server at "
                f"{self.url.render_as_string(hide_password=True)} "
                f"(from {ENV_VARS[self.backend]}): {exc.orig}",
                pytrace=False,
            )

    def create(self) -> URL:
        name = f"lbt_{secrets.token_hex(6)}"
        with self._connect() as conn:
            if self.backend == "postgresql":
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            else:
                conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        return self.url.set(database=name)

    def drop(self, name: str) -> None:
        with self._connect() as conn:
            if self.backend == "postgresql":
                # FORCE ends sessions a test left open (an engine not disposed).
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                leftovers = conn.execute(
                    sa.text(
                        "SELECT id FROM information_schema.processlist"
                        " WHERE db = :name AND id <> CONNECTION_ID()"
                    ),
                    {"name": name},
                ).scalars()
                for session_id in leftovers.all():
                    with contextlib.suppress(sa.exc.DBAPIError):  # may be gone already
                        conn.exec_driver_sql(f"KILL {int(session_id)}")
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")

    def dispose(self) -> None:
        self.engine.dispose()


@pytest.fixture(scope="session")
def _server_admins() -> Iterator[dict[str, _ServerAdmin]]:
    admins: dict[str, _ServerAdmin] = {}
    yield admins
    for admin in admins.values():
        admin.dispose()


def _fresh_server_db(
    backend: str,
    backend_urls: dict[str, str | None],
    admins: dict[str, _ServerAdmin],
) -> Iterator[str]:
    url = _server_url(backend, backend_urls)
    admin = admins.get(backend)
    if admin is None:
        admin = admins[backend] = _ServerAdmin(backend, url)
    db = admin.create()
    try:
        yield render_url(db)
    finally:
        assert db.database is not None
        admin.drop(db.database)


def _fresh_sqlite_db(tmp_path: Path) -> str:
    return render_url(URL.create("sqlite", database=str(tmp_path / "limbeck_test.db")))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite database file in the test's tmp_path."""
    return _fresh_sqlite_db(tmp_path)


@pytest.fixture
def pg_url(
    backend_urls: dict[str, str | None], _server_admins: dict[str, _ServerAdmin]
) -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    yield from _fresh_server_db("postgresql", backend_urls, _server_admins)


@pytest.fixture
def mariadb_url(
    backend_urls: dict[str, str | None], _server_admins: dict[str, _ServerAdmin]
) -> Iterator[str]:
    """URL of a fresh, empty MariaDB database, dropped after the test."""
    yield from _fresh_server_db("mariadb", backend_urls, _server_admins)


@pytest.fixture(params=ALL_BACKENDS)
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    backend_urls: dict[str, str | None],
    _server_admins: dict[str, _ServerAdmin],
) -> Iterator[str]:
    """URL of a fresh, empty database on each backend in turn."""
    backend = str(request.param)
    if backend == "sqlite":
        yield _fresh_sqlite_db(tmp_path)
    elif backend in SERVER_BACKENDS:
        yield from _fresh_server_db(backend, backend_urls, _server_admins)
    else:
        raise ValueError(f"unknown backend {backend!r}; expected one of {ALL_BACKENDS}")
