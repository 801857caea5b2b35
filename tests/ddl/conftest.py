"""Offline helpers for the DDL tests: an Operations writing SQL to a buffer."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Dialect

from limbeck.ddl import impl_for
from limbeck.operations import Operations


class OfflineContext:
    """The OperationsContext of an offline (``--sql``) run."""

    def __init__(self, dialect: Dialect, **opts: Any) -> None:
        self.bind = None
        self.dialect = dialect
        self.as_sql = True
        self.opts: dict[str, Any] = dict(opts)
        self.buffer = io.StringIO()
        self.impl = impl_for(
            dialect, None, as_sql=True, output_buffer=self.buffer, context_opts=self.opts
        )

    @contextlib.contextmanager
    def autocommit_block(self) -> Iterator[None]:
        self.impl.emit_commit()
        yield
        self.impl.emit_begin()


def make_dialect(name: str) -> Dialect:
    from sqlalchemy.dialects import mssql, mysql, oracle, postgresql, sqlite

    if name == "mariadb":
        return mysql.dialect(is_mariadb=True)  # type: ignore[no-any-return]
    module = {
        "sqlite": sqlite,
        "postgresql": postgresql,
        "mysql": mysql,
        "mssql": mssql,
        "oracle": oracle,
    }[name]
    return module.dialect()  # type: ignore[no-any-return]


@pytest.fixture
def offline() -> Any:
    """``offline("postgresql", **opts)`` → (Operations, OfflineContext)."""

    def build(dialect_name: str, **opts: Any) -> tuple[Operations, OfflineContext]:
        ctx = OfflineContext(make_dialect(dialect_name), **opts)
        return Operations(ctx), ctx

    return build
