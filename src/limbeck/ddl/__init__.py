"""Dialect implementations: directives → SQLAlchemy DDL constructs → SQL.

``impl_for(dialect, connection, as_sql=..., output_buffer=..., context_opts=...)``
returns the :class:`DialectImpl` for a dialect. Built-in implementations:
``sqlite``, ``postgresql``, ``mysql``/``mariadb``, ``mssql``, ``oracle``;
any other dialect gets :class:`DialectImpl`. A third-party dialect plugs in
its own subclass with :func:`register_impl`.
"""

from __future__ import annotations

from limbeck.ddl.impl import DialectImpl, impl_for, register_impl, registered_impls
from limbeck.ddl.rebuild import ColumnSource, TableRebuild

__all__ = [
    "ColumnSource",
    "DialectImpl",
    "TableRebuild",
    "impl_for",
    "register_impl",
    "registered_impls",
]
