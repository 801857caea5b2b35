"""SQLite: native ADD/DROP/RENAME COLUMN and RENAME TABLE; the rest by move and copy.

SQLite can add, drop and rename a column and rename a table, and nothing
else. Changing a column's type, nullability or default, or adding or
dropping a constraint, rebuilds the table (see :mod:`limbeck.ddl.rebuild`).
Online, limbeck does that rebuild by itself; offline it cannot read the
table, so those directives fail with an error naming the directive and the
table (``batch_alter_table(copy_from=...)`` works offline). A rebuild keeps
indexes on expressions, which SQLAlchemy cannot reflect from SQLite, by
running their ``CREATE INDEX`` again after the copy.

Foreign keys: ``PRAGMA foreign_keys`` cannot change inside a transaction.
:meth:`SQLiteImpl.around_transaction` (used by the runtime around each
migration transaction) turns enforcement off before BEGIN and back on
after, as SQLite's documentation prescribes for table rebuilds; each
rebuild then runs ``PRAGMA foreign_key_check`` on the rebuilt table and the
tables pointing at it, and fails the migration if rows violate a key.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import CheckConstraint, Column, Computed, Index, Table, UniqueConstraint
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ClauseElement, TextClause

from limbeck.ddl.constructs import RawDDL
from limbeck.ddl.impl import DialectImpl, register_builtin_impl
from limbeck.ddl.rebuild import TableRebuild, keeps_every_old_column
from limbeck.errors import LimbeckError

__all__ = ["SQLiteImpl"]

_REBUILD_HINT = (
    "SQLite rebuilds the table for this; run online, or use "
    "batch_alter_table(..., copy_from=Table(...)) for offline SQL"
)


#: ``PRAGMA secure_delete`` reads 0, 1 or 2 and is set with OFF, ON or FAST.
_SECURE_DELETE_VALUES = {0: "OFF", 1: "ON", 2: "FAST"}
#: Helper threads for the sorter while a rebuild creates its indexes.
_MAX_SORT_HELPERS = 4


def _raw_cursor_value(connection: Any, sql: str) -> Any:
    """Run ``sql`` on the DBAPI connection, bypassing SQLAlchemy's autobegin."""
    raw = connection.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(sql)
        row = cursor.fetchone() if cursor.description else None
    finally:
        cursor.close()
    return row[0] if row else None


def _is_plain_literal(default: Any) -> bool:
    arg = getattr(default, "arg", default)
    if isinstance(arg, str):
        return True
    if isinstance(arg, TextClause):
        text = arg.text.strip()
        if text.startswith("'") and text.endswith("'"):
            return True
        try:
            float(text)
        except ValueError:
            return text.upper() in {"NULL", "TRUE", "FALSE"}
        return True
    from sqlalchemy.sql.elements import BindParameter, False_, Null, True_

    if isinstance(arg, False_ | True_ | Null | BindParameter):
        return True
    return not isinstance(arg, ClauseElement)


class SQLiteImpl(DialectImpl):
    """SQLite. Transactional DDL is on by default: limbeck runs SQLite DDL in real transactions."""

    default_transactional_ddl = True
    type_checks_inline = True

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        #: True while around_transaction() has turned foreign key enforcement off.
        self.foreign_keys_suspended = False

    @contextlib.contextmanager
    def around_transaction(self) -> Iterator[None]:
        """Turn ``PRAGMA foreign_keys`` off around a migration transaction, if on.

        Enter before BEGIN and leave after COMMIT/ROLLBACK: SQLite ignores the
        pragma inside a transaction.
        """
        conn = self.connection
        if self.as_sql or conn is None:
            yield
            return
        if not _raw_cursor_value(conn, "PRAGMA foreign_keys"):
            yield
            return
        _raw_cursor_value(conn, "PRAGMA foreign_keys=OFF")
        suspended = not _raw_cursor_value(conn, "PRAGMA foreign_keys")
        self.foreign_keys_suspended = suspended
        try:
            yield
        finally:
            if suspended:
                self.foreign_keys_suspended = False
                _raw_cursor_value(conn, "PRAGMA foreign_keys=ON")

    # -- what needs a rebuild ---------------------------------------------------------

    def add_column_needs_rebuild(self, column: Column[Any]) -> bool:
        if column.primary_key:
            return True
        if isinstance(column.server_default, Computed) and column.server_default.persisted:
            return True
        if column.server_default is not None and not _is_plain_literal(column.server_default):
            return True
        if not column.nullable and column.server_default is None:
            return True
        if column.unique:
            return True
        try:
            constraints = set(column.table.constraints)
        except AttributeError:  # not in a table yet (queued in a batch)
            constraints = set(column.constraints)
        for constraint in constraints:
            if getattr(constraint, "_type_bound", False):
                continue
            if isinstance(constraint, CheckConstraint):
                return True
            if isinstance(constraint, UniqueConstraint) and column.name in constraint.columns:
                return True
        return False

    def requires_recreate(self, operation: Any) -> bool:
        from limbeck.operations import ops

        if isinstance(operation, ops.AlterColumnOp):
            return (
                operation.modify_type is not None
                or operation.modify_nullable is not None
                or operation.modify_server_default is not False
            )
        if isinstance(operation, ops.AddColumnOp):
            return self.add_column_needs_rebuild(operation.column)
        if isinstance(operation, ops.DropColumnOp):
            return not self.as_sql and self._column_is_constrained(
                operation.table_name, operation.column_name, operation.schema
            )
        if isinstance(operation, ops.CreateExcludeConstraintOp):
            return False
        return isinstance(operation, ops.AddConstraintOp | ops.DropConstraintOp)

    def batch_requires_recreate(self, operations: Sequence[Any]) -> bool:
        from limbeck.operations import ops

        for operation in operations:
            if isinstance(operation, ops.CreateIndexOp | ops.DropIndexOp):
                continue
            if isinstance(
                operation, ops.CreateTableCommentOp | ops.DropTableCommentOp | ops.ExecuteSQLOp
            ):
                continue
            if isinstance(operation, ops.AddColumnOp) and not (
                self.add_column_needs_rebuild(operation.column)
                or operation.insert_before
                or operation.insert_after
            ):
                continue
            if (
                isinstance(operation, ops.AlterColumnOp)
                and not self.requires_recreate(operation)
                and not operation.kw.get("insert_before")
                and not operation.kw.get("insert_after")
            ):
                continue
            return True
        return False

    def _column_is_constrained(self, table_name: str, column_name: str, schema: str | None) -> bool:
        pk = self.inspector_get("get_pk_constraint", table_name, schema=schema)
        if column_name in (pk.get("constrained_columns") or []):
            return True
        for index in self.inspector_get("get_indexes", table_name, schema=schema):
            if column_name in (index.get("column_names") or []):
                return True
        for uq in self.inspector_get("get_unique_constraints", table_name, schema=schema):
            if column_name in uq["column_names"]:
                return True
        for fk in self.inspector_get("get_foreign_keys", table_name, schema=schema):
            if column_name in fk["constrained_columns"]:
                return True
        for ck in self.inspector_get("get_check_constraints", table_name, schema=schema):
            if column_name.lower() in str(ck.get("sqltext", "")).lower():
                return True
        for _schema, _other, fk in self.foreign_keys_into(table_name, schema):
            if column_name in fk["referred_columns"]:
                return True
        return False

    # -- directives ---------------------------------------------------------------------

    def add_column(self, table_name: str, column: Column[Any], **kw: Any) -> None:
        if self.add_column_needs_rebuild(column):
            raise self._needs_rebuild("add_column", table_name)
        # SQLite cannot ADD CONSTRAINT: a foreign key goes inline.
        kw["inline_references"] = True
        super().add_column(table_name, column, **kw)

    def alter_column(self, table_name: str, column_name: str, **kw: Any) -> None:
        if (
            kw.get("type_") is not None
            or kw.get("nullable") is not None
            or kw.get("server_default", False) is not False
        ):
            raise self._needs_rebuild("alter_column", table_name)
        super().alter_column(table_name, column_name, **kw)

    def add_constraint(self, constraint: Any) -> None:
        if getattr(constraint, "_type_bound", False):
            return
        if type(constraint).__name__ == "ExcludeConstraint":
            raise self.unsupported(
                "create_exclude_constraint", constraint.table.name, "PostgreSQL only"
            )
        directive = {
            "UniqueConstraint": "create_unique_constraint",
            "ForeignKeyConstraint": "create_foreign_key",
            "CheckConstraint": "create_check_constraint",
            "PrimaryKeyConstraint": "create_primary_key",
        }.get(type(constraint).__name__, "adding a constraint")
        raise self._needs_rebuild(directive, constraint.table.name)

    def drop_constraint(self, constraint: Any, *, if_exists: bool = False) -> None:
        raise self._needs_rebuild("drop_constraint", constraint.table.name)

    def _needs_rebuild(self, directive: str, table_name: str) -> LimbeckError:
        mode = "offline (--sql)" if self.as_sql else "without a table rebuild"
        return LimbeckError(
            f"{directive} on table {table_name!r} cannot run on sqlite {mode}",
            hint=_REBUILD_HINT,
        )

    # -- rebuild ---------------------------------------------------------------------------

    def rebuild_prepare(self, rebuild: TableRebuild) -> None:
        state = rebuild.state
        state["triggers"] = []
        state["children"] = []
        if not self.as_sql:
            assert self.connection is not None
            children = sorted(
                {
                    other
                    for _s, other, _fk in self.foreign_keys_into(rebuild.table_name, rebuild.schema)
                }
            )
            state["children"] = children
            self_referencing = any(
                fk.column.table.name == rebuild.table_name
                for fk in list(rebuild.old_table.foreign_keys)
                + list(rebuild.new_table.foreign_keys)
            )
            fk_on = bool(_raw_cursor_value(self.connection, "PRAGMA foreign_keys"))
            state["check_foreign_keys"] = fk_on or self.foreign_keys_suspended
            if fk_on and (children or self_referencing):
                raise LimbeckError(
                    f"cannot rebuild table {rebuild.table_name!r} on sqlite while "
                    "PRAGMA foreign_keys=ON inside a transaction",
                    hint=(
                        "other tables reference it and dropping it would cascade; run "
                        "PRAGMA foreign_keys=OFF before the transaction begins (limbeck's "
                        "runtime does this via around_transaction())"
                    ),
                )
            state["legacy_alter_table"] = self.execute("PRAGMA legacy_alter_table").scalar()
            rows = self.connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
                "AND sql IS NOT NULL ORDER BY name",
                (rebuild.table_name,),
            )
            state["triggers"] = [r[0] for r in rows]
            # SQLAlchemy cannot reflect an index on an expression from SQLite,
            # so the new definition lacks it: keep its SQL and create it again.
            known = {i.name for i in rebuild.old_table.indexes}
            known |= {i.name for i in rebuild.new_table.indexes}
            rows = self.connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL ORDER BY name",
                (rebuild.table_name,),
            )
            state["unreflected_indexes"] = [(n, sql) for n, sql in rows if n not in known]
        self.execute("PRAGMA legacy_alter_table = ON")

    def rebuild_drop_old(self, rebuild: TableRebuild, old_table: Table) -> None:
        """DROP the old table without zeroing its pages when its rows live on.

        SQLite builds with ``SECURE_DELETE`` (Debian's and Ubuntu's, among
        others) overwrite every page a DROP frees, which for a big table
        costs about as much as the copy. When every old column was copied,
        those pages hold nothing the new table lacks, so the DROP runs with
        ``secure_delete = FAST``, and the setting is restored at once. A
        rebuild that drops a column keeps the setting as it is.
        """
        if self.as_sql or not keeps_every_old_column(rebuild):
            super().rebuild_drop_old(rebuild, old_table)
            return
        # Only ever from ON to FAST: OFF already skips the zeroing.
        # Named schema ("main" by default): unprefixed, the pragma would set
        # every attached database.
        with self._connection_pragma(
            rebuild.schema or "main",
            "secure_delete",
            2,
            _SECURE_DELETE_VALUES,
            when=lambda now: now == 1,
        ):
            super().rebuild_drop_old(rebuild, old_table)

    def rebuild_create_indexes(self, rebuild: TableRebuild, indexes: Sequence[Index]) -> None:
        """CREATE the indexes with SQLite's sorter helped by worker threads.

        ``PRAGMA threads`` lets the sort behind ``CREATE INDEX`` use helper
        threads (SQLite's default is none); it changes nothing but speed.
        """
        helpers = min(_MAX_SORT_HELPERS, (os.cpu_count() or 1) - 1)
        if self.as_sql or not indexes or helpers < 1:
            super().rebuild_create_indexes(rebuild, indexes)
            return
        # Never fewer helpers than the connection already allows.
        with self._connection_pragma(
            None, "threads", helpers, None, when=lambda now: now < helpers
        ):
            super().rebuild_create_indexes(rebuild, indexes)

    @contextlib.contextmanager
    def _connection_pragma(
        self,
        schema: str | None,
        name: str,
        value: int,
        spelled: Mapping[int, str] | None,
        *,
        when: Callable[[int], bool],
    ) -> Iterator[None]:
        """Set a connection pragma for the block, restoring the value it had.

        Nothing changes unless ``when(current value)`` holds.
        """
        assert self.connection is not None
        prefix = f"{self.dialect.identifier_preparer.quote(schema)}." if schema else ""
        previous = _raw_cursor_value(self.connection, f"PRAGMA {prefix}{name}")
        if previous is None or not when(previous):
            yield
            return
        wanted = spelled.get(value, value) if spelled else value
        _raw_cursor_value(self.connection, f"PRAGMA {prefix}{name} = {wanted}")
        try:
            yield
        finally:
            restored = spelled.get(previous, previous) if spelled else previous
            _raw_cursor_value(self.connection, f"PRAGMA {prefix}{name} = {restored}")

    def rebuild_finish(self, rebuild: TableRebuild) -> None:
        state = rebuild.state
        for name, index_sql in state.get("unreflected_indexes", []):
            try:
                self.execute(RawDDL(index_sql))
            except DBAPIError as error:
                raise LimbeckError(
                    f"rebuilding table {rebuild.table_name!r} on sqlite: index {name!r} "
                    f"cannot be created again ({error.orig})",
                    hint="drop the index before the change (op.drop_index) and create it after",
                ) from error
        for trigger_sql in state.get("triggers", []):
            self.execute(RawDDL(trigger_sql))
        legacy = state.get("legacy_alter_table")
        self.execute(f"PRAGMA legacy_alter_table = {'ON' if legacy else 'OFF'}")
        if self.as_sql or not state.get("check_foreign_keys"):
            return
        assert self.connection is not None
        for table in [rebuild.table_name, *state.get("children", [])]:
            quoted = self.dialect.identifier_preparer.quote(table)
            problems = self.connection.exec_driver_sql(
                f"PRAGMA foreign_key_check({quoted})"
            ).fetchall()
            if problems:
                raise LimbeckError(
                    f"rebuilding table {rebuild.table_name!r} on sqlite left {len(problems)} "
                    f"row(s) of table {problems[0][0]!r} violating a foreign key",
                    hint="fix the rows first, or change the foreign key in the same batch",
                )


register_builtin_impl("sqlite", SQLiteImpl)
