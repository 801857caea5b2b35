"""The backend fixtures really give fresh, working databases on every backend."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

EXPECTED_DIALECT = {"sqlite": "sqlite", "postgresql": "postgresql", "mariadb": "mysql"}


def _roundtrip(url: str) -> tuple[list[str], list[tuple[Any, ...]], sa.Engine]:
    """Create a table, insert two rows, read them back; return (tables before, rows, engine)."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    widgets = sa.Table(
        "widgets",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50), nullable=False),
    )
    tables_before = sa.inspect(engine).get_table_names()
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(widgets.insert(), [{"id": 1, "name": "sprocket"}, {"id": 2, "name": "cog"}])
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(sa.select(widgets).order_by(widgets.c.id))]
    return tables_before, rows, engine


def test_db_url_roundtrip(db_url: str, request: pytest.FixtureRequest) -> None:
    backend = request.node.callspec.params["db_url"]
    url = make_url(db_url)
    assert url.get_backend_name() == EXPECTED_DIALECT[backend]
    tables_before, rows, engine = _roundtrip(db_url)
    try:
        assert tables_before == []
        assert rows == [(1, "sprocket"), (2, "cog")]
        assert sa.inspect(engine).get_table_names() == ["widgets"]
        if backend == "mariadb":
            with engine.connect():
                assert engine.dialect.is_mariadb  # type: ignore[attr-defined]
        if backend != "sqlite":
            # A scratch database, not the shared one from the environment.
            assert url.database is not None
            assert url.database.startswith("lbt_")
    finally:
        engine.dispose()


def test_db_url_marks_backend(db_url: str, request: pytest.FixtureRequest) -> None:
    backend = request.node.callspec.params["db_url"]
    assert request.node.get_closest_marker(backend) is not None


@pytest.mark.parametrize("db_url", ["postgresql", "mariadb"], indirect=True)
def test_db_url_can_be_narrowed(db_url: str) -> None:
    assert make_url(db_url).get_backend_name() in ("postgresql", "mysql")


def test_sqlite_url(sqlite_url: str) -> None:
    tables_before, rows, engine = _roundtrip(sqlite_url)
    engine.dispose()
    assert tables_before == []
    assert rows == [(1, "sprocket"), (2, "cog")]


def test_pg_url(pg_url: str) -> None:
    tables_before, rows, engine = _roundtrip(pg_url)
    try:
        assert tables_before == []
        assert rows == [(1, "sprocket"), (2, "cog")]
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT current_setting('server_version_num')"))
            assert int(version.scalar_one()) >= 150000
        with engine.connect() as conn:
            # Transactional DDL: a rolled-back CREATE TABLE leaves nothing behind.
            trans = conn.begin()
            conn.exec_driver_sql("CREATE TABLE ghost (id integer)")
            trans.rollback()
        assert "ghost" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_mariadb_url(mariadb_url: str) -> None:
    tables_before, rows, engine = _roundtrip(mariadb_url)
    try:
        assert tables_before == []
        assert rows == [(1, "sprocket"), (2, "cog")]
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT VERSION()")).scalar_one()
            assert "MariaDB" in version
            charset = conn.execute(sa.text("SELECT @@character_set_database")).scalar_one()
            assert charset == "utf8mb4"
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_scratch_database_is_dropped_despite_open_session(
    backend: str, request: pytest.FixtureRequest
) -> None:
    # Requesting the fixture sets up the server's admin helper.
    request.getfixturevalue("pg_url" if backend == "postgresql" else "mariadb_url")
    admin = request.getfixturevalue("_server_admins")[backend]
    scratch = admin.create()
    name = scratch.database
    engine = sa.create_engine(scratch)
    conn = engine.connect()
    conn.begin()
    conn.exec_driver_sql("CREATE TABLE held (id integer primary key)")
    conn.exec_driver_sql("INSERT INTO held (id) VALUES (1)")
    # The session is left open inside a transaction, as a careless test might.
    try:
        admin.drop(name)
        with admin.engine.connect() as check:
            if backend == "postgresql":
                listed = check.execute(
                    sa.text("SELECT datname FROM pg_database WHERE datname = :n"), {"n": name}
                ).all()
            else:
                listed = check.execute(
                    sa.text(
                        "SELECT schema_name FROM information_schema.schemata WHERE schema_name = :n"
                    ),
                    {"n": name},
                ).all()
        assert listed == []
    finally:
        with contextlib.suppress(sa.exc.DBAPIError):
            conn.close()
        engine.dispose()
