"""The built-in implementations: each operation class → dialect implementation calls.

Registered with :meth:`Operations.implementation_for`; an application may
replace one with ``implementation_for(OpClass, replace=True)``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DefaultClause, Table
from sqlalchemy.sql.elements import TextClause, quoted_name
from sqlalchemy.types import SchemaType, TypeDecorator

from limbeck.errors import LimbeckError
from limbeck.operations import ops
from limbeck.operations.base import AbstractOperations, Operations

__all__: list[str] = []

#: drop_table / drop_column keywords that are directive options, not Table options.
_DIRECTIVE_OPTIONS = frozenset({"postgresql_keep_enum"})

implementation_for = AbstractOperations.implementation_for


def _rebuild_instead(operations: AbstractOperations, operation: ops.AlterTableOp) -> bool:
    """Run ``operation`` as a table rebuild if the dialect needs one; True if it did."""
    impl = operations.impl
    if not operations.auto_rebuild or impl.as_sql:
        return False
    if not impl.requires_recreate(operation):
        return False
    parent = operations.parent if hasattr(operations, "parent") else operations
    assert isinstance(parent, Operations)
    parent.rebuild_for(operation)
    return True


@implementation_for(ops.CreateTableOp)
def create_table(operations: AbstractOperations, operation: ops.CreateTableOp) -> Table:
    table = operation.to_table(operations.migration_context)
    operations.impl.create_table(table, if_not_exists=bool(operation.if_not_exists))
    return table


@implementation_for(ops.DropTableOp)
def drop_table(operations: AbstractOperations, operation: ops.DropTableOp) -> None:
    table_kw = dict(operation.table_kw)
    options = {k: table_kw.pop(k) for k in list(table_kw) if k in _DIRECTIVE_OPTIONS}
    options.update({k: v for k, v in operation.kw.items() if k in _DIRECTIVE_OPTIONS})
    table = operations.schema_obj.table(operation.table_name, schema=operation.schema, **table_kw)
    operations.impl.drop_table(table, if_exists=bool(operation.if_exists), **options)


@implementation_for(ops.RenameTableOp)
def rename_table(operations: AbstractOperations, operation: ops.RenameTableOp) -> None:
    operations.impl.rename_table(operation.table_name, operation.new_table_name, operation.schema)


@implementation_for(ops.CreateTableCommentOp)
def create_table_comment(
    operations: AbstractOperations, operation: ops.CreateTableCommentOp
) -> None:
    operations.impl.create_table_comment(operation.to_table(operations.migration_context))


@implementation_for(ops.DropTableCommentOp)
def drop_table_comment(operations: AbstractOperations, operation: ops.DropTableCommentOp) -> None:
    operations.impl.drop_table_comment(operation.to_table(operations.migration_context))


@implementation_for(ops.AddColumnOp)
def add_column(operations: AbstractOperations, operation: ops.AddColumnOp) -> None:
    if _rebuild_instead(operations, operation):
        return
    column = operation.column
    if ops.bound_table(column) is not None:
        column = column._copy()
    if not _compiles_alone(column, operations.impl.dialect.name):
        operations.schema_obj.table(operation.table_name, column, schema=operation.schema)
    operations.impl.add_column(
        operation.table_name,
        column,
        schema=operation.schema,
        if_not_exists=bool(operation.if_not_exists),
        inline_references=bool(operation.inline_references),
        inline_primary_key=bool(operation.inline_primary_key),
    )


#: Dialects whose column DDL is complete for a column in no table.
_LONE_COLUMN_DIALECTS = frozenset({"sqlite", "postgresql", "mysql", "mariadb", "oracle"})


def _compiles_alone(column: Column[Any], dialect_name: str) -> bool:
    """True if ``column`` brings nothing that attaching it to a table would
    set off, so ADD COLUMN compiles the same without the stub table.

    Attaching a column to a Table creates what the column implies (indexes,
    unique and foreign key constraints, the CHECK or ENUM type of a
    SchemaType, a primary key) and fires attach events; building that table
    costs more than compiling the statement. A plain column (a type that is
    no SchemaType, decorator or variant, at most a plain server default, no
    flags, no comment, no listeners) skips it. Anything else gets the table as before.
    """
    if dialect_name not in _LONE_COLUMN_DIALECTS:
        return False
    if (
        column.primary_key
        or column.foreign_keys
        or column.constraints
        or column.index
        or column.unique
        or column.computed is not None
        or column.identity is not None
        or column.comment is not None
    ):
        return False
    default = column.server_default
    if default is not None and not (
        type(default) is DefaultClause and isinstance(default.arg, str | TextClause)
    ):
        return False
    type_ = column.type
    if isinstance(type_, SchemaType | TypeDecorator) or type_._variant_mapping:
        return False
    dispatch = column.dispatch
    return not (dispatch.before_parent_attach or dispatch.after_parent_attach)


@implementation_for(ops.DropColumnOp)
def drop_column(operations: AbstractOperations, operation: ops.DropColumnOp) -> None:
    if _rebuild_instead(operations, operation):
        return
    operations.impl.drop_column(
        operation.table_name,
        operation.column_name,
        schema=operation.schema,
        if_exists=bool(operation.if_exists),
        **dict(operation.kw),
    )


@implementation_for(ops.AlterColumnOp)
def alter_column(operations: AbstractOperations, operation: ops.AlterColumnOp) -> None:
    if _rebuild_instead(operations, operation):
        return
    kw = dict(operation.kw)
    for batch_only in ("insert_before", "insert_after"):
        kw.pop(batch_only, None)
    operations.impl.alter_column(
        operation.table_name,
        operation.column_name,
        nullable=operation.modify_nullable,
        server_default=operation.modify_server_default,
        name=operation.modify_name,
        type_=operation.modify_type,
        schema=operation.schema,
        comment=operation.modify_comment,
        existing_comment=operation.existing_comment,
        existing_type=operation.existing_type,
        existing_server_default=operation.existing_server_default,
        existing_nullable=operation.existing_nullable,
        **kw,
    )


@implementation_for(ops.CreateIndexOp)
def create_index(operations: AbstractOperations, operation: ops.CreateIndexOp) -> None:
    index = operation.to_index(operations.migration_context)
    operations.impl.create_index(index, if_not_exists=bool(operation.if_not_exists))


@implementation_for(ops.DropIndexOp)
def drop_index(operations: AbstractOperations, operation: ops.DropIndexOp) -> None:
    impl = operations.impl
    if operation.table_name is None and impl.dialect.name in ("mysql", "mariadb", "mssql"):
        raise LimbeckError(
            f"drop_index({operation.index_name!r}) needs table_name on {impl.dialect.name}"
        )
    index = operation.to_index(operations.migration_context)
    impl.drop_index(index, if_exists=bool(operation.if_exists))


@implementation_for(ops.AddConstraintOp)
def add_constraint(operations: AbstractOperations, operation: ops.AddConstraintOp) -> None:
    if _rebuild_instead(operations, operation):
        return
    constraint = operation.to_constraint(operations.migration_context)
    operations.impl.add_constraint(constraint)


@implementation_for(ops.DropConstraintOp)
def drop_constraint(operations: AbstractOperations, operation: ops.DropConstraintOp) -> None:
    if _rebuild_instead(operations, operation):
        return
    impl = operations.impl
    if operation.type_ is None and impl.dialect.name in ("mysql", "mariadb"):
        found = None
        if operation.constraint_name is not None:
            found = impl.constraint_type(  # type: ignore[attr-defined]
                operation.table_name, str(operation.constraint_name), operation.schema
            )
        if found is None:
            where = "offline" if impl.as_sql else "in the database"
            raise LimbeckError(
                f"drop_constraint({operation.constraint_name!r}) on table "
                f"{operation.table_name!r} needs type_= on {impl.dialect.name} "
                f"(not found {where})"
            )
        operation = ops.DropConstraintOp(
            operation.constraint_name,
            operation.table_name,
            type_=found,
            schema=operation.schema,
            if_exists=operation.if_exists,
        )
    constraint = operation.to_constraint(operations.migration_context)
    impl.drop_constraint(constraint, if_exists=bool(operation.if_exists))


@implementation_for(ops.ExecuteSQLOp)
def execute_sql(operations: AbstractOperations, operation: ops.ExecuteSQLOp) -> None:
    operations.impl.execute(operation.sqltext, operation.execution_options)


@implementation_for(ops.BulkInsertOp)
def bulk_insert(operations: AbstractOperations, operation: ops.BulkInsertOp) -> None:
    operations.impl.bulk_insert(operation.table, operation.rows, multiinsert=operation.multiinsert)


@implementation_for(ops.AddEnumValueOp)
def add_enum_value(operations: AbstractOperations, operation: ops.AddEnumValueOp) -> None:
    impl = operations.impl
    if impl.dialect.name != "postgresql":
        raise LimbeckError(
            f"add_enum_value({operation.enum_name!r}) is not supported by {impl.dialect.name}",
            hint="only PostgreSQL has ALTER TYPE ... ADD VALUE",
        )
    prep = impl.dialect.identifier_preparer
    name = prep.quote(quoted_name(operation.enum_name, None))
    if operation.schema:
        name = prep.quote_schema(operation.schema) + "." + name
    sql = f"ALTER TYPE {name} ADD VALUE "
    if operation.if_not_exists:
        sql += "IF NOT EXISTS "
    sql += _pg_string(operation.value)
    if operation.before is not None:
        sql += " BEFORE " + _pg_string(operation.before)
    elif operation.after is not None:
        sql += " AFTER " + _pg_string(operation.after)
    from limbeck.ddl.constructs import RawDDL

    autocommit = operation.autocommit
    if autocommit is None:
        version = getattr(impl.dialect, "server_version_info", None) or (12,)
        autocommit = tuple(version) < (12,)
    if autocommit:
        with operations.migration_context.autocommit_block():
            impl.execute(RawDDL(sql))
    else:
        impl.execute(RawDDL(sql))


@implementation_for(ops.CreateEnumOp)
def create_enum(operations: AbstractOperations, operation: ops.CreateEnumOp) -> None:
    impl = operations.impl
    ensure = getattr(impl, "ensure_enum", None)
    if ensure is None:
        return  # no named enum types on this database
    from sqlalchemy.dialects.postgresql import ENUM

    ensure(ENUM(*operation.values, name=operation.enum_name, schema=operation.schema))


@implementation_for(ops.DropEnumOp)
def drop_enum(operations: AbstractOperations, operation: ops.DropEnumOp) -> None:
    impl = operations.impl
    forget = getattr(impl, "drop_enum", None)
    if forget is None:
        return
    forget(operation.enum_name, operation.schema)


def _pg_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_ = Column
