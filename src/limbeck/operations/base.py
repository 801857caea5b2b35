"""The ``op`` facade: :class:`Operations` and :class:`BatchOperations`.

Each directive method builds an operation object (:mod:`limbeck.operations.ops`)
and hands it to :meth:`AbstractOperations.invoke`, which finds the
implementation registered for its class (:meth:`implementation_for`) and
runs it against the dialect implementation of the migration context.
Method names, positional order and keywords are Alembic's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.elements import ClauseElement, conv
from sqlalchemy.types import TypeEngine

from limbeck import _current
from limbeck.errors import LimbeckError
from limbeck.operations import ops
from limbeck.operations.batch import BatchOptions, run_batch
from limbeck.operations.schemaobj import SchemaObjects, naming_convention_of
from limbeck.operations.sqlexpr import inline_literal

if TYPE_CHECKING:
    from limbeck.ddl.impl import DialectImpl

__all__ = ["AbstractOperations", "BatchOperations", "Operations", "OperationsContext"]


class OperationsContext(Protocol):
    """What :class:`Operations` needs of the migration context.

    ``limbeck.runtime.migration.MigrationContext`` provides it; anything else
    with these attributes works too (tests, standalone use).
    """

    @property
    def impl(self) -> DialectImpl: ...

    @property
    def opts(self) -> dict[str, Any]: ...

    @property
    def as_sql(self) -> bool: ...

    @property
    def bind(self) -> Connection | None: ...

    @property
    def dialect(self) -> Dialect: ...

    def autocommit_block(self) -> contextlib.AbstractContextManager[Any]: ...


_F = TypeVar("_F", bound=Callable[..., Any])
_OpT = TypeVar("_OpT", bound=type)


class AbstractOperations:
    """What ``op`` and ``batch_op`` share: invoke, the extension API, helpers."""

    _to_impl: ClassVar[dict[type, Callable[..., Any]]] = {}

    def __init__(
        self, migration_context: OperationsContext, impl: DialectImpl | None = None
    ) -> None:
        self.migration_context = migration_context
        self.impl: DialectImpl = impl if impl is not None else migration_context.impl
        self.schema_obj = SchemaObjects(naming_convention_of(migration_context.opts))
        #: Rebuild the table for directives the database cannot ALTER (SQLite).
        self.auto_rebuild = True

    # -- extension API -------------------------------------------------------------

    @classmethod
    def register_operation(cls, name: str, sourcename: str | None = None) -> Callable[[_OpT], _OpT]:
        """Class decorator: ``op.<name>(...)`` calls ``OpClass.<sourcename or name>(op, ...)``."""

        def register(op_cls: _OpT) -> _OpT:
            source = getattr(op_cls, sourcename or name)

            def directive(self: AbstractOperations, *args: Any, **kw: Any) -> Any:
                return source(self, *args, **kw)

            directive.__name__ = name
            directive.__doc__ = source.__doc__
            setattr(cls, name, directive)
            return op_cls

        return register

    @classmethod
    def implementation_for(cls, op_cls: type, replace: bool = False) -> Callable[[_F], _F]:
        """Decorator: ``fn(operations, operation)`` runs operations of class ``op_cls``.

        A class that already has an implementation needs ``replace=True``.
        """

        def register(fn: _F) -> _F:
            if op_cls in AbstractOperations._to_impl and not replace:
                raise LimbeckError(
                    f"{op_cls.__name__} already has an implementation",
                    hint="pass replace=True to implementation_for to override it",
                )
            AbstractOperations._to_impl[op_cls] = fn
            return fn

        return register

    def invoke(self, operation: ops.MigrateOperation) -> Any:
        """Run ``operation`` with the implementation registered for its class."""
        for klass in type(operation).__mro__:
            fn = AbstractOperations._to_impl.get(klass)
            if fn is not None:
                return fn(self, operation)
        raise LimbeckError(f"no implementation registered for {type(operation).__name__}")

    # -- helpers -------------------------------------------------------------------------

    def get_bind(self) -> Any:
        """The Connection migrations run on; offline, a mock connection that writes SQL.

        A migration that takes the connection gets it with every earlier
        statement executed, and its own later DDL runs directly, not
        pipelined (it may use the connection in ways limbeck cannot see)."""
        pipeline = getattr(self.impl, "pipeline", None)
        if pipeline is not None:
            pipeline.hold()
        return self.impl.bind

    def get_context(self) -> OperationsContext:
        """The migration context (``op.get_context().autocommit_block()``...)."""
        return self.migration_context

    @staticmethod
    def f(name: str) -> conv:
        """Mark ``name`` as final: naming conventions leave it as is."""
        return conv(name)

    @staticmethod
    def inline_literal(value: Any, type_: TypeEngine[Any] | None = None) -> Any:
        """A value rendered inline in SQL (offline-safe), e.g. in ``table.update().values()``."""
        return inline_literal(value, type_)

    def run_async(self, async_function: Callable[..., Any], *args: Any, **kw_args: Any) -> Any:
        """Run ``await async_function(async_connection, *args, **kw)`` on the migration's bind.

        The AsyncConnection shares the migration's connection and transaction;
        it needs an async driver (``postgresql+asyncpg``, ``sqlite+aiosqlite``).
        """
        if self.impl.as_sql:
            raise LimbeckError("run_async() cannot run in offline (--sql) mode")
        connection = self.impl.connection
        assert connection is not None
        if not connection.dialect.is_async:
            raise LimbeckError(
                f"run_async() needs an async driver; {connection.dialect.driver} is not one"
            )
        from sqlalchemy.ext.asyncio import AsyncConnection
        from sqlalchemy.util import await_

        async_connection = AsyncConnection._retrieve_proxy_for_target(connection)
        return await_(async_function(async_connection, *args, **kw_args))

    def execute(
        self,
        sqltext: str | ClauseElement | Any,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> None:
        """Run SQL: a string (as ``text()``) or any SQLAlchemy executable."""
        self.invoke(ops.ExecuteSQLOp(sqltext, execution_options=execution_options))


class Operations(AbstractOperations):
    """The directives of a migration: ``op.create_table(...)`` and friends."""

    @classmethod
    @contextlib.contextmanager
    def context(cls, migration_context: OperationsContext) -> Iterator[Operations]:
        """Make ``limbeck.op`` resolve to a new Operations for the block."""
        operations = cls(migration_context)
        token = _current.operations.set(operations)
        try:
            yield operations
        finally:
            _current.operations.reset(token)

    def flush(self) -> None:
        """Finish the migration step: deferred work (PostgreSQL drops orphaned ENUMs)."""
        self.impl.flush()

    # -- tables -----------------------------------------------------------------------

    def create_table(
        self, table_name: str, *columns: Any, if_not_exists: bool | None = None, **kw: Any
    ) -> Table:
        """CREATE TABLE; returns the Table (usable with :meth:`bulk_insert`).

        ``kw``: ``schema``, ``comment``, ``info``, ``prefixes``, dialect options.
        """
        schema = kw.pop("schema", None)
        op = ops.CreateTableOp(
            table_name, columns, schema=schema, if_not_exists=if_not_exists, kw=kw
        )
        result: Table = self.invoke(op)
        return result

    def drop_table(
        self,
        table_name: str,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        """DROP TABLE. On PostgreSQL, ENUM types only this table used are dropped at
        the end of the step; ``postgresql_keep_enum=True`` keeps them."""
        self.invoke(ops.DropTableOp(table_name, schema=schema, if_exists=if_exists, table_kw=kw))

    def rename_table(
        self, old_table_name: str, new_table_name: str, *, schema: str | None = None
    ) -> None:
        self.invoke(ops.RenameTableOp(old_table_name, new_table_name, schema=schema))

    def create_table_comment(
        self,
        table_name: str,
        comment: str | None,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        self.invoke(
            ops.CreateTableCommentOp(
                table_name, comment, schema=schema, existing_comment=existing_comment
            )
        )

    def drop_table_comment(
        self, table_name: str, *, existing_comment: str | None = None, schema: str | None = None
    ) -> None:
        self.invoke(
            ops.DropTableCommentOp(table_name, schema=schema, existing_comment=existing_comment)
        )

    # -- columns -------------------------------------------------------------------------

    def add_column(
        self,
        table_name: str,
        column: Any,
        *,
        schema: str | None = None,
        if_not_exists: bool | None = None,
        inline_references: bool | None = None,
        inline_primary_key: bool | None = None,
    ) -> None:
        """ADD COLUMN; its foreign keys, CHECKs, ``index=True`` and ``unique=True`` follow.

        On PostgreSQL a new ENUM type of the column is created if missing.
        """
        self.invoke(
            ops.AddColumnOp(
                table_name,
                column,
                schema=schema,
                if_not_exists=if_not_exists,
                inline_references=inline_references,
                inline_primary_key=inline_primary_key,
            )
        )

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        """DROP COLUMN. ``kw``: ``mssql_drop_default``/``mssql_drop_check``/
        ``mssql_drop_foreign_key``, ``postgresql_keep_enum``."""
        self.invoke(
            ops.DropColumnOp(table_name, column_name, schema=schema, if_exists=if_exists, kw=kw)
        )

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        *,
        nullable: bool | None = None,
        comment: str | bool | None = False,
        server_default: Any = False,
        new_column_name: str | None = None,
        type_: TypeEngine[Any] | type[TypeEngine[Any]] | None = None,
        existing_type: TypeEngine[Any] | type[TypeEngine[Any]] | None = None,
        existing_server_default: Any = False,
        existing_nullable: bool | None = None,
        existing_comment: str | None = None,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        """Change a column: nullability, default (``None`` drops it), type, comment, name.

        ``kw``: ``autoincrement``, ``existing_autoincrement``,
        ``postgresql_using``. On MySQL/MariaDB online, ``existing_*`` values not
        given are read from the database.
        """
        self.invoke(
            ops.AlterColumnOp(
                table_name,
                column_name,
                schema=schema,
                existing_type=_type_instance(existing_type),
                existing_server_default=existing_server_default,
                existing_nullable=existing_nullable,
                existing_comment=existing_comment,
                modify_nullable=nullable,
                modify_comment=comment,
                modify_server_default=server_default,
                modify_name=new_column_name,
                modify_type=_type_instance(type_),
                kw=kw,
            )
        )

    # -- indexes -------------------------------------------------------------------------

    def create_index(
        self,
        index_name: str | None,
        table_name: str,
        columns: Sequence[str | ClauseElement],
        *,
        schema: str | None = None,
        unique: bool = False,
        if_not_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        """CREATE INDEX; ``columns`` are names or SQL expressions (``text()``)."""
        self.invoke(
            ops.CreateIndexOp(
                index_name,
                table_name,
                list(columns),
                schema=schema,
                unique=unique,
                if_not_exists=if_not_exists,
                kw=kw,
            )
        )

    def drop_index(
        self,
        index_name: str,
        table_name: str | None = None,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        self.invoke(
            ops.DropIndexOp(
                index_name, table_name=table_name, schema=schema, if_exists=if_exists, kw=kw
            )
        )

    # -- constraints -------------------------------------------------------------------

    def create_primary_key(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
    ) -> None:
        self.invoke(
            ops.CreatePrimaryKeyOp(constraint_name, table_name, list(columns), schema=schema)
        )

    def create_unique_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        self.invoke(
            ops.CreateUniqueConstraintOp(
                constraint_name, table_name, list(columns), schema=schema, kw=kw
            )
        )

    def create_foreign_key(
        self,
        constraint_name: str | None,
        source_table: str,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        source_schema: str | None = None,
        referent_schema: str | None = None,
        **dialect_kw: Any,
    ) -> None:
        self.invoke(
            ops.CreateForeignKeyOp(
                constraint_name,
                source_table,
                referent_table,
                list(local_cols),
                list(remote_cols),
                onupdate=onupdate,
                ondelete=ondelete,
                deferrable=deferrable,
                initially=initially,
                match=match,
                source_schema=source_schema,
                referent_schema=referent_schema,
                kw=dialect_kw,
            )
        )

    def create_check_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        condition: str | ClauseElement,
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        self.invoke(
            ops.CreateCheckConstraintOp(
                constraint_name, table_name, condition, schema=schema, kw=kw
            )
        )

    def create_exclude_constraint(
        self, constraint_name: str | None, table_name: str, *elements: Any, **kw: Any
    ) -> None:
        """PostgreSQL EXCLUDE: ``elements`` are ``(column_or_expression, operator)`` pairs.

        ``kw``: ``where``, ``using``, ``deferrable``, ``initially``, ``schema``.
        """
        where = kw.pop("where", None)
        schema = kw.pop("schema", None)
        self.invoke(
            ops.CreateExcludeConstraintOp(
                constraint_name, table_name, list(elements), where=where, schema=schema, kw=kw
            )
        )

    def drop_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        type_: str | None = None,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
    ) -> None:
        """DROP CONSTRAINT; ``type_`` is ``foreignkey``/``primary``/``unique``/``check``.

        On MySQL/MariaDB online, a missing ``type_`` is looked up.
        """
        self.invoke(
            ops.DropConstraintOp(
                constraint_name, table_name, type_=type_, schema=schema, if_exists=if_exists
            )
        )

    # -- data ---------------------------------------------------------------------------

    def bulk_insert(
        self, table: Any, rows: Sequence[Mapping[str, Any]], *, multiinsert: bool = True
    ) -> None:
        """INSERT ``rows`` (dicts) into ``table`` (a Table or ``sa.table()``).

        Offline, one INSERT per row with the values as escaped SQL literals.
        """
        self.invoke(ops.BulkInsertOp(table, list(rows), multiinsert=multiinsert))

    def add_enum_value(
        self,
        enum_name: str,
        value: str,
        *,
        schema: str | None = None,
        before: str | None = None,
        after: str | None = None,
        if_not_exists: bool = True,
        autocommit: bool | None = None,
    ) -> None:
        """PostgreSQL ``ALTER TYPE enum_name ADD VALUE``.

        ``autocommit=None`` runs it inside the migration's transaction where the
        server allows (PostgreSQL 12+), else in ``autocommit_block()``;
        ``True`` always uses ``autocommit_block()`` (so the value can be used
        by later statements of the same migration); ``False`` never does.
        """
        self.invoke(
            ops.AddEnumValueOp(
                enum_name,
                value,
                schema=schema,
                before=before,
                after=after,
                if_not_exists=if_not_exists,
                autocommit=autocommit,
            )
        )

    def create_enum(
        self, enum_name: str, values: Sequence[str], *, schema: str | None = None
    ) -> None:
        """PostgreSQL ``CREATE TYPE enum_name AS ENUM (...)`` unless the type exists.

        Elsewhere (no named enum types) it does nothing.
        """
        self.invoke(ops.CreateEnumOp(enum_name, list(values), schema=schema))

    def drop_enum(
        self,
        enum_name: str,
        *,
        schema: str | None = None,
        values: Sequence[str] | None = None,
    ) -> None:
        """PostgreSQL ``DROP TYPE IF EXISTS enum_name``; elsewhere nothing.

        ``values`` only serves to reverse the operation.
        """
        self.invoke(
            ops.DropEnumOp(
                enum_name, schema=schema, values=None if values is None else list(values)
            )
        )

    # -- batch ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def batch_alter_table(
        self,
        table_name: str,
        schema: str | None = None,
        recreate: str = "auto",
        partial_reordering: Sequence[Sequence[str]] | None = None,
        copy_from: Table | None = None,
        table_args: Sequence[Any] = (),
        table_kwargs: Mapping[str, Any] | None = None,
        reflect_args: Sequence[Any] = (),
        reflect_kwargs: Mapping[str, Any] | None = None,
        naming_convention: Mapping[str, Any] | None = None,
    ) -> Iterator[BatchOperations]:
        """Queue changes to one table; at the end of the block ALTER or rebuild it.

        ``recreate``: ``"auto"`` rebuilds only where the database cannot ALTER
        (SQLite), ``"always"`` rebuilds, ``"never"`` never does. The rebuild
        copies rows with one ``INSERT ... SELECT`` and keeps constraints,
        indexes, defaults, comments and foreign keys in and out.
        """
        options = BatchOptions(
            recreate=recreate,
            partial_reordering=partial_reordering,
            copy_from=copy_from,
            table_args=table_args,
            table_kwargs=dict(table_kwargs or {}),
            reflect_args=reflect_args,
            reflect_kwargs=dict(reflect_kwargs or {}),
            naming_convention=naming_convention,
        )
        batch = BatchOperations(self, table_name, schema, options)
        yield batch
        batch.flush()

    def rebuild_for(self, operation: ops.AlterTableOp) -> None:
        """Run ``operation`` as a table rebuild (what SQLite needs for most ALTERs)."""
        from limbeck.operations.batch import rebuild_table

        rebuild_table(
            self,
            operation.table_name,
            operation.schema,
            [operation],
            BatchOptions(recreate="always"),
        )


class BatchOperations(AbstractOperations):
    """``batch_op``: the directives of :meth:`Operations.batch_alter_table`, table implied."""

    def __init__(
        self, parent: Operations, table_name: str, schema: str | None, options: BatchOptions
    ) -> None:
        super().__init__(parent.migration_context, parent.impl)
        self.parent = parent
        self.table_name = table_name
        self.schema = schema
        self.options = options
        self.queued: list[ops.MigrateOperation] = []

    _QUEUED = (
        ops.AddColumnOp,
        ops.DropColumnOp,
        ops.AlterColumnOp,
        ops.AddConstraintOp,
        ops.DropConstraintOp,
        ops.CreateIndexOp,
        ops.DropIndexOp,
        ops.CreateTableCommentOp,
        ops.DropTableCommentOp,
        ops.ExecuteSQLOp,
    )

    def invoke(self, operation: ops.MigrateOperation) -> Any:
        """Queue a table operation; run any other operation now."""
        if isinstance(operation, self._QUEUED):
            self.queued.append(operation)
            return None
        return super().invoke(operation)

    def flush(self) -> None:
        """Run the queued operations (called at the end of the ``with`` block)."""
        queued, self.queued = self.queued, []
        # recreate="always" rebuilds even with nothing queued: the rebuild
        # itself is what is asked for (table_args, table_kwargs, a reordering).
        if queued or self.options.recreate == "always":
            run_batch(self.parent, self.table_name, self.schema, queued, self.options)

    def add_column(
        self,
        column: Any,
        *,
        insert_before: str | None = None,
        insert_after: str | None = None,
        if_not_exists: bool | None = None,
        inline_references: bool | None = None,
        inline_primary_key: bool | None = None,
    ) -> None:
        self.invoke(
            ops.AddColumnOp(
                self.table_name,
                column,
                schema=self.schema,
                if_not_exists=if_not_exists,
                inline_references=inline_references,
                inline_primary_key=inline_primary_key,
                insert_before=insert_before,
                insert_after=insert_after,
            )
        )

    def alter_column(
        self,
        column_name: str,
        *,
        nullable: bool | None = None,
        comment: str | bool | None = False,
        server_default: Any = False,
        new_column_name: str | None = None,
        type_: TypeEngine[Any] | type[TypeEngine[Any]] | None = None,
        existing_type: TypeEngine[Any] | type[TypeEngine[Any]] | None = None,
        existing_server_default: Any = False,
        existing_nullable: bool | None = None,
        existing_comment: str | None = None,
        insert_before: str | None = None,
        insert_after: str | None = None,
        **kw: Any,
    ) -> None:
        if insert_before is not None:
            kw["insert_before"] = insert_before
        if insert_after is not None:
            kw["insert_after"] = insert_after
        self.invoke(
            ops.AlterColumnOp(
                self.table_name,
                column_name,
                schema=self.schema,
                existing_type=_type_instance(existing_type),
                existing_server_default=existing_server_default,
                existing_nullable=existing_nullable,
                existing_comment=existing_comment,
                modify_nullable=nullable,
                modify_comment=comment,
                modify_server_default=server_default,
                modify_name=new_column_name,
                modify_type=_type_instance(type_),
                kw=kw,
            )
        )

    def drop_column(self, column_name: str, **kw: Any) -> None:
        if_exists = kw.pop("if_exists", None)
        self.invoke(
            ops.DropColumnOp(
                self.table_name, column_name, schema=self.schema, if_exists=if_exists, kw=kw
            )
        )

    def create_primary_key(self, constraint_name: str | None, columns: Sequence[str]) -> None:
        self.invoke(
            ops.CreatePrimaryKeyOp(
                constraint_name, self.table_name, list(columns), schema=self.schema
            )
        )

    def create_unique_constraint(
        self, constraint_name: str | None, columns: Sequence[str], **kw: Any
    ) -> None:
        self.invoke(
            ops.CreateUniqueConstraintOp(
                constraint_name, self.table_name, list(columns), schema=self.schema, kw=kw
            )
        )

    def create_foreign_key(
        self,
        constraint_name: str | None,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        referent_schema: str | None = None,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        **dialect_kw: Any,
    ) -> None:
        self.invoke(
            ops.CreateForeignKeyOp(
                constraint_name,
                self.table_name,
                referent_table,
                list(local_cols),
                list(remote_cols),
                onupdate=onupdate,
                ondelete=ondelete,
                deferrable=deferrable,
                initially=initially,
                match=match,
                source_schema=self.schema,
                referent_schema=referent_schema,
                kw=dialect_kw,
            )
        )

    def create_check_constraint(
        self, constraint_name: str | None, condition: str | ClauseElement, **kw: Any
    ) -> None:
        self.invoke(
            ops.CreateCheckConstraintOp(
                constraint_name, self.table_name, condition, schema=self.schema, kw=kw
            )
        )

    def create_exclude_constraint(
        self, constraint_name: str | None, *elements: Any, **kw: Any
    ) -> None:
        where = kw.pop("where", None)
        self.invoke(
            ops.CreateExcludeConstraintOp(
                constraint_name,
                self.table_name,
                list(elements),
                where=where,
                schema=self.schema,
                kw=kw,
            )
        )

    def create_index(
        self, index_name: str | None, columns: Sequence[str | ClauseElement], **kw: Any
    ) -> None:
        unique = kw.pop("unique", False)
        if_not_exists = kw.pop("if_not_exists", None)
        self.invoke(
            ops.CreateIndexOp(
                index_name,
                self.table_name,
                list(columns),
                schema=self.schema,
                unique=unique,
                if_not_exists=if_not_exists,
                kw=kw,
            )
        )

    def drop_index(self, index_name: str, **kw: Any) -> None:
        if_exists = kw.pop("if_exists", None)
        self.invoke(
            ops.DropIndexOp(
                index_name,
                table_name=self.table_name,
                schema=self.schema,
                if_exists=if_exists,
                kw=kw,
            )
        )

    def drop_constraint(self, constraint_name: str | None, type_: str | None = None) -> None:
        self.invoke(
            ops.DropConstraintOp(constraint_name, self.table_name, type_=type_, schema=self.schema)
        )

    def create_table_comment(
        self, comment: str | None, *, existing_comment: str | None = None
    ) -> None:
        self.invoke(
            ops.CreateTableCommentOp(
                self.table_name, comment, schema=self.schema, existing_comment=existing_comment
            )
        )

    def drop_table_comment(self, *, existing_comment: str | None = None) -> None:
        self.invoke(
            ops.DropTableCommentOp(
                self.table_name, schema=self.schema, existing_comment=existing_comment
            )
        )


def _type_instance(type_: Any) -> Any:
    if isinstance(type_, type):
        return type_()
    return type_
