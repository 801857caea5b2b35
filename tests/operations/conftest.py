"""Fixtures of the online operation tests: ``db`` (every backend), ``sqlite_db``..."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from online_support import Database, open_database


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A fresh database on each backend (sqlite, postgresql, mariadb)."""
    yield from open_database(db_url)


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    yield from open_database(sqlite_url)


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    yield from open_database(pg_url)


@pytest.fixture
def mariadb_db(mariadb_url: str) -> Iterator[Database]:
    yield from open_database(mariadb_url)
