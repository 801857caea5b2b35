"""Microsoft SQL Server: server-named default constraints, ``GO`` batches, sp_rename.

SQL Server names a column's DEFAULT (and often its CHECK and FOREIGN KEY)
constraints itself, so changing or dropping a default first looks the name
up in ``sys.default_constraints`` and drops it in a T-SQL block. Offline,
every statement is followed by a ``GO`` line (``mssql_batch_separator``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.sql.expression import TableClause

from limbeck.ddl import constructs as ddl
from limbeck.ddl.impl import DialectImpl, register_builtin_impl

__all__ = ["MSSQLImpl"]

_LOOKUPS = {
    "default": (
        "sys.default_constraints AS k JOIN sys.columns AS c "
        "ON c.object_id = k.parent_object_id AND c.column_id = k.parent_column_id",
        "k.name",
    ),
    "check": (
        "sys.check_constraints AS k JOIN sys.columns AS c "
        "ON c.object_id = k.parent_object_id AND c.column_id = k.parent_column_id",
        "k.name",
    ),
    "foreign_key": (
        "sys.foreign_key_columns AS k JOIN sys.columns AS c "
        "ON c.object_id = k.parent_object_id AND c.column_id = k.parent_column_id",
        "OBJECT_NAME(k.constraint_object_id)",
    ),
}


class MSSQLImpl(DialectImpl):
    default_transactional_ddl = True
    default_batch_separator = "GO"
    batch_separator_option = "mssql_batch_separator"
    begin_text = "BEGIN TRANSACTION"

    def has_create_index_if_not_exists(self) -> bool:
        return False

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        if self.as_sql and not getattr(self.dialect, "default_schema_name", None):
            # Comments are set with sp_addextendedproperty, which names the schema.
            self.dialect.default_schema_name = "dbo"

    def _string(self, value: str) -> str:
        return "N'" + value.replace("'", "''") + "'"

    def drop_column_constraint(
        self, table_name: str, column_name: str, schema: str | None, kind: str
    ) -> None:
        """Drop the (server-named) ``kind`` constraint on a column, if there is one."""
        prep = self.dialect.identifier_preparer
        target = (prep.quote_schema(schema) + "." if schema else "") + prep.quote(table_name)
        source, name_expr = _LOOKUPS[kind]
        variable = f"@limbeck_{kind}"
        block = (
            f"DECLARE {variable} NVARCHAR(256)\n"
            f"SELECT {variable} = {name_expr} FROM {source}\n"
            f"WHERE k.parent_object_id = OBJECT_ID({self._string(target)}) "
            f"AND c.name = {self._string(column_name)}\n"
            f"IF {variable} IS NOT NULL EXEC("
            f"{self._string(f'ALTER TABLE {target} DROP CONSTRAINT ')} + QUOTENAME({variable}))"
        )
        self.execute(ddl.RawDDL(block))

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
        **kw: Any,
    ) -> None:
        if kw.get("mssql_drop_default"):
            self.drop_column_constraint(table_name, column_name, schema, "default")
        if kw.get("mssql_drop_check"):
            self.drop_column_constraint(table_name, column_name, schema, "check")
        if kw.get("mssql_drop_foreign_key"):
            self.drop_column_constraint(table_name, column_name, schema, "foreign_key")
        super().drop_column(table_name, column_name, schema=schema, if_exists=if_exists)

    def alter_column(self, table_name: str, column_name: str, **kw: Any) -> None:
        # SQL Server cannot ALTER a column into or out of IDENTITY.
        self.refuse_identity_change(
            table_name, kw.get("server_default", False), kw.get("existing_server_default")
        )
        super().alter_column(table_name, column_name, **kw)

    def alter_server_default(
        self, table_name: str, column_name: str, default: Any, existing: dict[str, Any]
    ) -> None:
        self.drop_column_constraint(table_name, column_name, existing.get("schema"), "default")
        if default is not None:
            self.execute(ddl.ColumnDefault(table_name, column_name, default, **existing))

    def alter_type(
        self,
        table_name: str,
        column_name: str,
        type_: sqltypes.TypeEngine[Any],
        existing: dict[str, Any],
        kw: Mapping[str, Any],
    ) -> None:
        # A default constraint blocks a type change; drop and restore it around it.
        current = existing.get("existing_server_default")
        if current is not None:
            self.drop_column_constraint(table_name, column_name, existing.get("schema"), "default")
        self.execute(ddl.ColumnType(table_name, column_name, type_, **existing))
        if current is not None:
            self.execute(ddl.ColumnDefault(table_name, column_name, current, **existing))

    def alter_comment(
        self, table_name: str, column_name: str, comment: str | None, existing: dict[str, Any]
    ) -> None:
        """Column comments are extended properties: drop the old one, add the new one."""
        from sqlalchemy import Column, MetaData, Table
        from sqlalchemy.schema import DropColumnComment, SetColumnComment

        column = Column(column_name, sqltypes.NullType(), comment=comment)
        Table(table_name, MetaData(), column, schema=existing.get("schema"))
        if existing.get("existing_comment") is not None:
            self.execute(DropColumnComment(column))
        if comment is not None:
            self.execute(SetColumnComment(column))

    def bulk_insert(
        self,
        table: TableClause,
        rows: Sequence[Mapping[str, Any]],
        *,
        multiinsert: bool = True,
    ) -> None:
        identity = _identity_column(table)
        wrap = self.as_sql and identity is not None and any(identity in row for row in rows)
        if wrap:
            prep = self.dialect.identifier_preparer
            schema = getattr(table, "schema", None)
            target = (prep.quote_schema(schema) + "." if schema else "") + prep.quote(table.name)
            self.execute(ddl.RawDDL(f"SET IDENTITY_INSERT {target} ON"))
        super().bulk_insert(table, rows, multiinsert=multiinsert)
        if wrap:
            self.execute(ddl.RawDDL(f"SET IDENTITY_INSERT {target} OFF"))


def _identity_column(table: TableClause) -> str | None:
    autoinc = getattr(table, "_autoincrement_column", None)
    if autoinc is not None:
        return str(autoinc.name)
    for column in table.columns:
        if getattr(column, "identity", None) is not None:
            return str(column.name)
    return None


register_builtin_impl("mssql", MSSQLImpl)
