"""Online test support: a minimal OperationsContext and a Database helper."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from limbeck.ddl import impl_for
from limbeck.operations import Operations


class OnlineContext:
    """A minimal OperationsContext over one connection (what the runtime provides)."""

    def __init__(self, connection: sa.Connection, **opts: Any) -> None:
        self.bind = connection
        self.dialect = connection.dialect
        self.as_sql = False
        self.opts: dict[str, Any] = dict(opts)
        self.impl = impl_for(
            self.dialect, connection, as_sql=False, output_buffer=None, context_opts=self.opts
        )

    @contextlib.contextmanager
    def autocommit_block(self) -> Iterator[None]:
        conn = self.bind
        if conn.in_transaction():
            conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield
        finally:
            if conn.in_transaction():  # autobegun by the statements in the block
                conn.commit()
            conn.execution_options(isolation_level=conn.default_isolation_level)
            conn.begin()


class Database:
    """A connection plus helpers: ``migration()`` runs a block as one migration step."""

    def __init__(self, connection: sa.Connection, **opts: Any) -> None:
        self.conn = connection
        self.ctx = OnlineContext(connection, **opts)
        self.op = Operations(self.ctx)
        dialect = connection.dialect
        #: "sqlite", "postgresql" or "mariadb" (a mysql:// URL to MariaDB too).
        self.name = "mariadb" if getattr(dialect, "is_mariadb", False) else dialect.name

    @contextlib.contextmanager
    def migration(self) -> Iterator[Operations]:
        if self.conn.in_transaction():  # left open by an inspection
            self.conn.commit()
        with self.ctx.impl.around_transaction():
            self.conn.begin()
            try:
                yield self.op
                self.op.flush()
            except BaseException:
                self.conn.rollback()
                raise
            self.conn.commit()

    def inspector(self) -> Any:
        return sa.inspect(self.conn)

    def scalar(self, sql: str, **params: Any) -> Any:
        value = self.conn.execute(sa.text(sql), params).scalar()
        self.conn.commit()
        return value

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        result = [tuple(r) for r in self.conn.execute(sa.text(sql), params)]
        self.conn.commit()
        return result

    def q(self, name: str) -> str:
        return str(self.conn.dialect.identifier_preparer.quote(name))


def open_database(url: str) -> Iterator[Database]:
    engine = sa.create_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        # Real transactions for SQLite DDL, as limbeck's runtime runs them: the
        # driver's own transaction handling off, BEGIN emitted by SQLAlchemy.
        @sa.event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

        @sa.event.listens_for(engine, "begin")
        def _begin(connection: sa.Connection) -> None:
            connection.exec_driver_sql("BEGIN")

    with engine.connect() as conn:
        yield Database(conn)
    engine.dispose()
