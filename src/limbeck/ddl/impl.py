"""The dialect implementation: how each directive becomes SQL on one database.

:func:`impl_for` picks the :class:`DialectImpl` subclass registered for a
dialect's name (``sqlite``, ``postgresql``, ``mysql``/``mariadb``, ``mssql``,
``oracle``), falling back to :class:`DialectImpl` itself. Third-party
dialects add their own with :func:`register_impl`.

Every statement goes through :meth:`DialectImpl.execute`: online it runs on
the connection, offline (``as_sql``) it is compiled with literal values and
written to the output buffer with the dialect's terminator. There is no
other path, so what ``--sql`` prints is what runs.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

from sqlalchemy import MetaData, Table, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.mock import MockConnection
from sqlalchemy.schema import (
    AddConstraint,
    CheckConstraint,
    Column,
    Computed,
    Constraint,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropIndex,
    DropTable,
    DropTableComment,
    ForeignKeyConstraint,
    Identity,
    Index,
    SetColumnComment,
    SetTableComment,
    UniqueConstraint,
)
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.ddl import BaseDDLElement
from sqlalchemy.sql.elements import BindParameter, ClauseElement
from sqlalchemy.sql.expression import TableClause, literal
from sqlalchemy.sql.visitors import iterate

from limbeck.ddl import constructs as ddl
from limbeck.errors import LimbeckError

if TYPE_CHECKING:
    from limbeck.ddl.rebuild import TableRebuild
    from limbeck.runtime.pipeline import DdlPipeline

__all__ = ["DialectImpl", "impl_for", "register_impl", "registered_impls"]

_registry: dict[str, type[DialectImpl]] = {}


def register_impl(dialect_name: str, impl_class: type[DialectImpl]) -> None:
    """Use ``impl_class`` for every dialect whose ``name`` is ``dialect_name``.

    Registering a name again replaces the earlier class, so an application or
    a third-party dialect package can override a built-in implementation.
    """
    if not (isinstance(impl_class, type) and issubclass(impl_class, DialectImpl)):
        raise TypeError(f"{impl_class!r} is not a DialectImpl subclass")
    _registry[dialect_name] = impl_class


def register_builtin_impl(dialect_name: str, impl_class: type[DialectImpl]) -> None:
    """Register a built-in implementation unless one was registered already,
    so a third party's :func:`register_impl` wins whatever the import order."""
    _registry.setdefault(dialect_name, impl_class)


def registered_impls() -> dict[str, type[DialectImpl]]:
    """A copy of the dialect-name → implementation-class registry."""
    for name in _BUILTIN_MODULES:
        _load_builtin_impl(name)
    return dict(_registry)


def impl_for(
    dialect: Dialect,
    connection: Connection | None,
    *,
    as_sql: bool,
    output_buffer: TextIO | None,
    context_opts: Mapping[str, Any],
) -> DialectImpl:
    """The implementation for ``dialect``: the registered class, else the default one."""
    _load_builtin_impl(dialect.name)
    cls = _registry.get(dialect.name, DialectImpl)
    return cls(
        dialect,
        connection,
        as_sql=as_sql,
        output_buffer=output_buffer,
        context_opts=context_opts,
    )


#: Which module of this package implements each built-in dialect.
_BUILTIN_MODULES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "mssql",
    "oracle": "oracle",
}


def _load_builtin_impl(dialect_name: str) -> None:
    """Import the built-in module for one dialect only (it registers itself):
    loading all five costs every run a tenth of a second."""
    module = _BUILTIN_MODULES.get(dialect_name)
    if module is not None:
        importlib.import_module(f"limbeck.ddl.{module}")


ServerDefault = ddl.ServerDefault


class DialectImpl:
    """How directives run on a database; the default is close to ANSI SQL.

    Subclasses override :attr:`default_transactional_ddl`, the offline
    terminators and the per-directive methods whose SQL differs.
    """

    #: Whether DDL can run inside a transaction and be rolled back.
    default_transactional_ddl: ClassVar[bool] = False
    #: Appended to every statement written offline.
    statement_terminator: ClassVar[str] = ";"
    #: A line written after every offline statement (``GO`` on SQL Server).
    default_batch_separator: ClassVar[str | None] = None
    #: ``context_opts`` key that overrides the batch separator.
    batch_separator_option: ClassVar[str | None] = None
    #: SQL that starts a transaction in an offline script.
    begin_text: ClassVar[str] = "BEGIN"
    commit_text: ClassVar[str] = "COMMIT"
    #: Whether add_column writes a type's CHECK inside ADD COLUMN (databases
    #: without ADD CONSTRAINT) rather than as ALTER TABLE ... ADD CONSTRAINT.
    type_checks_inline: ClassVar[bool] = False
    #: Whether a CHECK declared in the Column is written inside ADD COLUMN;
    #: if not, it follows as ALTER TABLE ... ADD CONSTRAINT.
    column_checks_inline: ClassVar[bool] = True
    #: Set by the runtime while a run pipelines its DDL (PostgreSQL, see
    #: :mod:`limbeck.runtime.pipeline`): :meth:`execute` queues DDL there.
    pipeline: DdlPipeline | None = None

    def __init__(
        self,
        dialect: Dialect,
        connection: Connection | None,
        *,
        as_sql: bool,
        output_buffer: TextIO | None,
        context_opts: Mapping[str, Any],
    ) -> None:
        self.dialect = dialect
        self.connection = connection
        self.as_sql = as_sql
        self.output_buffer = output_buffer
        self.context_opts: dict[str, Any] = dict(context_opts)
        self.transactional_ddl: bool = bool(
            self.context_opts.get("transactional_ddl", self.default_transactional_ddl)
        )
        separator = self.default_batch_separator
        if self.batch_separator_option and self.batch_separator_option in self.context_opts:
            separator = self.context_opts[self.batch_separator_option]
        self.batch_separator: str | None = separator
        #: Memo shared with SQLAlchemy's DDL runners (types created once per run).
        self.memo: dict[Any, Any] = {}
        self._mock: MockConnection | None = None
        if as_sql:
            _literal_percents(dialect)
            self._mock = MockConnection(dialect, self._mock_execute)
        if not as_sql and connection is None:
            raise LimbeckError(
                f"an online {dialect.name} migration needs a connection",
                hint="pass a Connection, or as_sql=True with an output buffer",
            )
        if as_sql and output_buffer is None:
            raise LimbeckError(
                f"an offline {dialect.name} migration needs an output buffer",
                hint="pass output_buffer=sys.stdout or a file",
            )

    # -- plumbing ---------------------------------------------------------------

    @property
    def bind(self) -> Connection | MockConnection:
        """The connection DDL runs on; offline, a mock that writes SQL."""
        if self.as_sql:
            assert self._mock is not None
            return self._mock
        assert self.connection is not None
        return self.connection

    def _mock_execute(self, sql: Any, *multiparams: Any, **params: Any) -> None:
        self.execute(sql)

    def static_output(self, text: str, *, flush: bool = True) -> None:
        """Write ``text`` and a blank line to the offline output (flushed
        unless ``flush=False``: the runtime's own step comments are flushed
        with their migration's SQL)."""
        assert self.output_buffer is not None
        self.output_buffer.write(text + "\n\n")
        if flush and hasattr(self.output_buffer, "flush"):
            self.output_buffer.flush()

    def write_sql(self, sql_text: str) -> None:
        """Write one statement's text to the offline output, terminated."""
        self._write_statement(sql_text)

    def _write_statement(self, sql_text: str) -> None:
        # Not flushed one by one: the run flushes after each migration.
        assert self.output_buffer is not None
        self.output_buffer.write(sql_text.strip() + self.statement_terminator + "\n\n")
        if self.batch_separator:
            self.output_buffer.write(self.batch_separator + "\n\n")

    def flush_output(self) -> None:
        """Flush the offline output (after each migration and at the end)."""
        if self.output_buffer is not None and hasattr(self.output_buffer, "flush"):
            self.output_buffer.flush()

    def emit_begin(self) -> None:
        """Write the offline text that opens a transaction."""
        self._write_statement(self.begin_text)

    def emit_commit(self) -> None:
        """Write the offline text that commits a transaction."""
        self._write_statement(self.commit_text)
        self.flush_output()

    def compile(self, sql: Executable | ClauseElement) -> str:
        """The SQL text of ``sql`` for this dialect with values inlined."""
        # Verbatim: rewriting whitespace would alter string literals too.
        return str(self._compile(sql)).strip()

    def _compile(self, sql: Executable | ClauseElement) -> Any:
        return sql.compile(  # type: ignore[union-attr]
            dialect=self.dialect,
            compile_kwargs={"literal_binds": True},
        )

    def execute(
        self,
        sql: Executable | str,
        execution_options: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run ``sql`` online, or write it to the output offline.

        A string is wrapped in :func:`sqlalchemy.text` (as Alembic does, so
        ``:name`` is a bound parameter and ``\\:`` escapes a colon).
        """
        statement: Any = text(sql) if isinstance(sql, str) else sql
        if self.as_sql:
            if isinstance(statement, BaseDDLElement):
                self._write_statement(self.compile(statement))
                return None
            _refuse_unbound_parameters(iterate(statement))
            compiled = self._compile(statement)
            # Parameters SQLAlchemy makes while compiling (insert() with no values).
            _refuse_unbound_parameters(compiled.binds.values())
            self._write_statement(str(compiled).strip())
            return None
        assert self.connection is not None
        pipeline = self.pipeline
        if pipeline is not None:
            if not execution_options and pipeline.accepts(statement):
                # DDL has no result to wait for: the server runs it while the
                # next migration is prepared. Its failure surfaces at the next
                # point the run waits for the pipeline.
                pipeline.submit(statement)
                return None
            # Before touching the connection (execution options change it).
            pipeline.drain()
        conn = self.connection
        if execution_options:
            conn = conn.execution_options(**execution_options)
        return conn.execute(statement)

    def _exec_many(self, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
        assert self.connection is not None
        self.connection.execute(statement, [dict(r) for r in rows])

    @contextlib.contextmanager
    def around_transaction(self) -> Iterator[None]:
        """Wrap a migration transaction (entered before BEGIN, left after COMMIT).

        The default does nothing; SQLite turns ``PRAGMA foreign_keys`` off for
        the duration so table rebuilds cannot cascade, and turns it back on.
        """
        yield

    def flush(self) -> None:
        """Run work deferred to the end of a migration step (none by default)."""

    # -- tables -------------------------------------------------------------------

    def create_table(self, table: Table, *, if_not_exists: bool = False) -> None:
        """CREATE TABLE, firing SQLAlchemy's create events (types such as PG ENUM)."""
        table.dispatch.before_create(table, self.bind, checkfirst=False, _ddl_runner=self)
        self.execute(CreateTable(table, if_not_exists=if_not_exists))
        # The table's indexes follow create_table(if_not_exists=True) where the
        # database has CREATE INDEX IF NOT EXISTS.
        index_if_not_exists = if_not_exists and self.has_create_index_if_not_exists()
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            self.execute(CreateIndex(index, if_not_exists=index_if_not_exists))
        if self.dialect.supports_comments and not self.dialect.inline_comments:
            if table.comment is not None:
                self.execute(SetTableComment(table))
            for column in table.columns:
                if column.comment is not None:
                    self.execute(SetColumnComment(column))
        table.dispatch.after_create(table, self.bind, checkfirst=False, _ddl_runner=self)

    def drop_table(self, table: Table, *, if_exists: bool = False, **kw: Any) -> None:
        """DROP TABLE; ``kw`` holds dialect options of the directive (not of the Table)."""
        table.dispatch.before_drop(table, self.bind, checkfirst=False, _ddl_runner=self)
        self.execute(DropTable(table, if_exists=if_exists))
        table.dispatch.after_drop(table, self.bind, checkfirst=False, _ddl_runner=self)

    def rename_table(self, old_table_name: str, new_table_name: str, schema: str | None) -> None:
        self.execute(ddl.RenameTable(old_table_name, new_table_name, schema))

    def create_table_comment(self, table: Table) -> None:
        if not self.dialect.supports_comments:
            return
        self.execute(SetTableComment(table))

    def drop_table_comment(self, table: Table) -> None:
        if not self.dialect.supports_comments:
            return
        self.execute(DropTableComment(table))

    # -- columns --------------------------------------------------------------------

    def add_column(
        self,
        table_name: str,
        column: Column[Any],
        *,
        schema: str | None = None,
        if_not_exists: bool = False,
        inline_references: bool = False,
        inline_primary_key: bool = False,
    ) -> None:
        """ADD COLUMN, then the column's foreign keys, checks, indexes and comment.

        The CHECK a type brings (``Boolean(create_constraint=True)``, a
        non-native ``Enum``) is added where CREATE TABLE would have written
        it for this database; SQLite gets it inside the ADD COLUMN.
        """
        self.before_add_column(column)
        # A plain column may come without a stub table (see toimpl): it
        # brings no constraints, indexes or comment.
        table = column.table
        type_checks = _type_checks_to_create(table, self.dialect) if table is not None else []
        inline_checks = type_checks if self.type_checks_inline else []
        self.execute(
            ddl.AddColumn(
                table_name,
                column,
                schema,
                if_not_exists=if_not_exists,
                inline_references=inline_references,
                inline_primary_key=inline_primary_key,
                inline_checks=inline_checks,
                column_checks=self.column_checks_inline,
            )
        )
        if not self.column_checks_inline:
            for own in sorted(column.constraints, key=lambda c: str(c.name or "")):
                self.execute(ddl.AddColumnConstraint(table_name, own, schema))
        if table is None:
            return
        if not inline_checks:
            for check in type_checks:
                self.execute(AddConstraint(check))
        if not inline_references:
            for fk in column.foreign_keys:
                if fk.constraint is not None:
                    self.add_constraint(fk.constraint)
        for constraint in table.constraints:
            if (isinstance(constraint, CheckConstraint) and not _is_type_bound(constraint)) or (
                isinstance(constraint, UniqueConstraint) and column.name in constraint.columns
            ):
                self.add_constraint(constraint)
        for index in table.indexes:
            self.create_index(index)
        if (
            column.comment is not None
            and self.dialect.supports_comments
            and not self.dialect.inline_comments
        ):
            self.execute(SetColumnComment(column))

    def before_add_column(self, column: Column[Any]) -> None:
        """Hook run before ADD COLUMN (PostgreSQL creates a new ENUM type here)."""

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool = False,
        **kw: Any,
    ) -> None:
        self.execute(ddl.DropColumn(table_name, column_name, schema, if_exists=if_exists))

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        *,
        nullable: bool | None = None,
        server_default: Any = False,
        name: str | None = None,
        type_: sqltypes.TypeEngine[Any] | None = None,
        schema: str | None = None,
        autoincrement: bool | None = None,
        comment: str | bool | None = False,
        existing_comment: str | None = None,
        existing_type: sqltypes.TypeEngine[Any] | None = None,
        existing_server_default: Any = None,
        existing_nullable: bool | None = None,
        existing_autoincrement: bool | None = None,
        **kw: Any,
    ) -> None:
        """Each changed aspect as its own statement; the rename comes last."""
        existing = {
            "schema": schema,
            "existing_type": existing_type,
            "existing_nullable": existing_nullable,
            "existing_server_default": (
                None if existing_server_default is False else existing_server_default
            ),
            "existing_comment": existing_comment,
        }
        # The type first: a NOT NULL or a default then applies to the new type
        # (and PostgreSQL's USING conversion runs before either). The CHECK an
        # old type brought (Enum/Boolean with create_constraint) goes first,
        # the new type's comes after.
        if type_ is not None:
            for check in self._type_checks(table_name, column_name, existing_type, schema):
                if isinstance(check.name, str) and check.name:
                    self.execute(DropConstraint(check))
            self.alter_type(table_name, column_name, type_, existing, kw)
            for check in self._type_checks(table_name, column_name, type_, schema):
                self.execute(AddConstraint(check))
        if nullable is not None:
            existing["existing_type"] = type_ if type_ is not None else existing_type
            self.execute(ddl.ColumnNullable(table_name, column_name, nullable, **existing))
            existing["existing_nullable"] = nullable
        if server_default is not False:
            self.alter_server_default(table_name, column_name, server_default, existing)
        if comment is not False:
            self.alter_comment(
                table_name, column_name, comment if isinstance(comment, str) else None, existing
            )
        if name is not None and name != column_name:
            self.execute(ddl.ColumnName(table_name, column_name, name, **existing))

    def refuse_identity_change(
        self, table_name: str, server_default: Any, existing_server_default: Any
    ) -> None:
        """One-line error for adding, changing or dropping an Identity or a
        Computed column through alter_column, for databases that cannot."""
        changed = [server_default] if server_default is not False else []
        if server_default is None:
            changed.append(existing_server_default)
        for value in changed:
            if isinstance(value, Identity | Computed):
                raise self.unsupported(
                    f"alter_column(server_default={type(value).__name__}(...))", table_name
                )

    def _type_checks(
        self,
        table_name: str,
        column_name: str,
        type_: sqltypes.TypeEngine[Any] | None,
        schema: str | None,
    ) -> list[Constraint]:
        """The CHECK ``type_`` brings to a column on this database (none for
        a native boolean or enum, or a type that makes none)."""
        if not isinstance(type_, sqltypes.SchemaType) or not getattr(
            type_, "create_constraint", False
        ):
            return []
        stub = Table(table_name, MetaData(), Column(column_name, type_.copy()), schema=schema)
        return _type_checks_to_create(stub, self.dialect)

    def alter_server_default(
        self, table_name: str, column_name: str, default: Any, existing: dict[str, Any]
    ) -> None:
        self.execute(ddl.ColumnDefault(table_name, column_name, default, **existing))

    def alter_type(
        self,
        table_name: str,
        column_name: str,
        type_: sqltypes.TypeEngine[Any],
        existing: dict[str, Any],
        kw: Mapping[str, Any],
    ) -> None:
        using = kw.get(f"{self.dialect.name}_using")
        if using is not None and self.dialect.name != "postgresql":
            using = None
        self.execute(ddl.ColumnType(table_name, column_name, type_, using=using, **existing))

    def alter_comment(
        self, table_name: str, column_name: str, comment: str | None, existing: dict[str, Any]
    ) -> None:
        if not self.dialect.supports_comments:
            return
        self.execute(ddl.ColumnComment(table_name, column_name, comment, **existing))

    # -- indexes and constraints -----------------------------------------------------

    #: Said after "not supported" when an IF [NOT] EXISTS option is refused.
    if_not_exists_note: ClassVar[str] = ""

    def has_create_index_if_not_exists(self) -> bool:
        """Whether the database understands ``CREATE INDEX IF NOT EXISTS``."""
        return True

    def create_index(self, index: Index, *, if_not_exists: bool = False) -> None:
        if if_not_exists and not self.has_create_index_if_not_exists():
            # SQLAlchemy would leave IF NOT EXISTS out without a word.
            raise self.unsupported(
                "create_index(if_not_exists=True)",
                index_table_name(index),
                self.if_not_exists_note,
            )
        self.execute(CreateIndex(index, if_not_exists=if_not_exists))

    def drop_index(self, index: Index, *, if_exists: bool = False) -> None:
        self.execute(DropIndex(index, if_exists=if_exists))

    def add_constraint(self, constraint: Constraint) -> None:
        if _is_type_bound(constraint):
            return
        self.execute(AddConstraint(constraint))

    def drop_constraint(self, constraint: Constraint, *, if_exists: bool = False) -> None:
        self.execute(DropConstraint(constraint, if_exists=if_exists))

    # -- data -------------------------------------------------------------------------

    def bulk_insert(
        self,
        table: TableClause,
        rows: Sequence[Mapping[str, Any]],
        *,
        multiinsert: bool = True,
    ) -> None:
        """Insert ``rows``; offline, one INSERT per row with escaped literal values."""
        if not rows:
            return
        if self.as_sql:
            for row in rows:
                self.execute(self._literal_insert(table, row))
            return
        if multiinsert:
            # One executemany per run of rows with the same keys (a driver
            # needs every row of an executemany to have the same parameters).
            batch: list[Mapping[str, Any]] = []
            for row in rows:
                if batch and set(row) != set(batch[0]):
                    self._exec_many(table.insert(), batch)
                    batch = []
                batch.append(row)
            self._exec_many(table.insert(), batch)
        else:
            for row in rows:
                self.execute(table.insert().values(dict(row)))

    def _literal_insert(self, table: TableClause, row: Mapping[str, Any]) -> Executable:
        values: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, ClauseElement):
                values[key] = value
            else:
                col = table.c.get(key) if hasattr(table.c, "get") else None
                type_ = col.type if col is not None else None
                values[key] = literal(value, type_)
        return table.insert().inline().values(values)

    # -- move and copy ----------------------------------------------------------------

    def requires_recreate(self, operation: Any) -> bool:
        """Whether ``operation`` outside batch mode needs a table rebuild here."""
        return False

    def batch_requires_recreate(self, operations: Sequence[Any]) -> bool:
        """Whether a batch of ``recreate="auto"`` needs a table rebuild here."""
        return False

    def rebuild_table(self, rebuild: TableRebuild) -> None:
        """Move and copy: build the new table, copy rows inside the database, swap.

        See :class:`limbeck.ddl.rebuild.TableRebuild`. Dialects with a better
        path (SQLite) override this.
        """
        from limbeck.ddl.rebuild import generic_rebuild

        generic_rebuild(self, rebuild)

    # Hooks of the rebuild steps (see limbeck.ddl.rebuild); the defaults suit
    # databases whose foreign keys follow a renamed table.

    def rebuild_prepare(self, rebuild: TableRebuild) -> None:
        """Drop the foreign keys of other tables that point at the table."""
        incoming: list[ForeignKeyConstraint] = []
        if not self.as_sql:
            for schema, other, fk in self.foreign_keys_into(rebuild.table_name, rebuild.schema):
                if not fk.get("name"):
                    continue
                constraint = fk_constraint_from_reflected(schema, other, fk)
                self.drop_constraint(constraint)
                incoming.append(constraint)
        rebuild.state["incoming_fks"] = incoming

    def rebuild_release_names(self, rebuild: TableRebuild, old_name: str) -> None:
        """Free names the old (renamed) table holds that the new table needs."""

    def rebuild_comments(self, rebuild: TableRebuild) -> None:
        if not (self.dialect.supports_comments and not self.dialect.inline_comments):
            return
        table = rebuild.new_table
        if table.comment is not None:
            self.execute(SetTableComment(table))
        for column in table.columns:
            if column.comment is not None:
                self.execute(SetColumnComment(column))

    def rebuild_copy_rows(self, rebuild: TableRebuild, statement: Executable) -> None:
        self.execute(statement)

    def rebuild_before_drop_old(self, rebuild: TableRebuild, old_name: str) -> None:
        """Detach what the old table owns that the new one keeps using."""

    def rebuild_drop_old(self, rebuild: TableRebuild, old_table: Table) -> None:
        """DROP the old (renamed) table once its rows are copied."""
        self.execute(DropTable(old_table))

    def rebuild_create_indexes(self, rebuild: TableRebuild, indexes: Sequence[Index]) -> None:
        """CREATE the new table's indexes, after its rows are in."""
        for index in indexes:
            self.execute(CreateIndex(index))

    def rebuild_finish(self, rebuild: TableRebuild) -> None:
        """Put back the foreign keys that pointed at the table."""
        for constraint in rebuild.state.get("incoming_fks", []):
            self.add_constraint(constraint)

    def unsupported(self, directive: str, table_name: str, why: str = "") -> LimbeckError:
        """The error for a directive this database cannot run."""
        reason = f": {why}" if why else ""
        return LimbeckError(
            f"{directive} on table {table_name!r} is not supported by {self.dialect.name}{reason}"
        )

    def inspector_get(self, method: str, *args: Any, **kw: Any) -> Any:
        """Call ``sqlalchemy.inspect(connection).<method>``; online only."""
        from sqlalchemy import inspect

        assert self.connection is not None
        return getattr(inspect(self.connection), method)(*args, **kw)

    def reflect_table(
        self,
        table_name: str,
        schema: str | None,
        *,
        metadata: MetaData | None = None,
        reflect_args: Sequence[Any] = (),
        reflect_kwargs: Mapping[str, Any] | None = None,
    ) -> Table:
        if self.as_sql:
            raise LimbeckError(
                f"table {table_name!r} cannot be read from the database in offline (--sql) mode",
                hint="pass copy_from=Table(...) to batch_alter_table, or run online",
            )
        assert self.connection is not None
        return Table(
            table_name,
            metadata if metadata is not None else MetaData(),
            *reflect_args,
            schema=schema,
            autoload_with=self.connection,
            **dict(reflect_kwargs or {}),
        )

    def foreign_keys_into(
        self, table_name: str, schema: str | None
    ) -> list[tuple[str | None, str, dict[str, Any]]]:
        """Foreign keys of other tables that reference ``table_name``: (schema, table, fk)."""
        found: list[tuple[str | None, str, dict[str, Any]]] = []
        for other in self.inspector_get("get_table_names", schema=schema):
            if other == table_name:
                continue
            for fk in self.inspector_get("get_foreign_keys", other, schema=schema):
                if fk["referred_table"] == table_name and (fk.get("referred_schema") or None) in (
                    None,
                    schema,
                ):
                    found.append((schema, other, fk))
        return found


def _literal_percents(dialect: Dialect) -> None:
    """Make an offline dialect write ``%`` as is.

    A dialect of a ``format``/``pyformat`` driver (psycopg2, PyMySQL) doubles
    every ``%`` in SQL text and string literals for the driver's parameter
    substitution; a script run by psql or mysql must not have them doubled.
    The dialect of an offline run executes nothing, so its preparer is
    replaced by a copy that does not double.
    """
    import copy

    preparer = dialect.identifier_preparer
    if getattr(preparer, "_double_percents", False):
        preparer = copy.copy(preparer)
        preparer._double_percents = False
        dialect.identifier_preparer = preparer


def index_table_name(index: Index) -> str:
    """The name of ``index``'s table, for messages (``?`` when it has none)."""
    return index.table.name if index.table is not None else "?"


def _refuse_unbound_parameters(elements: Iterable[Any]) -> None:
    """Fail for a bound parameter among ``elements`` that has no value in
    offline SQL.

    Offline, values are written into the SQL text. SQLAlchemy writes a
    parameter without one as NULL (``:name`` in a text() nobody bound), or
    leaves a placeholder (``insert()`` with no values): either way the
    script would not do what was meant.
    """
    for element in elements:
        if (
            isinstance(element, BindParameter)
            and element.required
            and element.value is None
            and element.callable is None
        ):
            raise LimbeckError(
                f"offline SQL: the bound parameter :{element.key} has no value to write "
                "into the script",
                hint=(
                    f"give it a value (text(...).bindparams({element.key}=...)), or write a "
                    "colon that is no parameter as \\:"
                ),
            )


def _type_checks_to_create(table: Table, dialect: Dialect) -> list[Constraint]:
    """The type-bound CHECKs of ``table`` that CREATE TABLE would write on ``dialect``.

    SQLAlchemy decides per dialect (no CHECK for a native boolean or enum)
    through the constraint's create rule, which asks a compiler for its
    dialect; a stand-in holding the dialect is all the rule reads.
    """
    stand_in = SimpleNamespace(dialect=dialect)
    return [
        constraint
        for constraint in sorted(table.constraints, key=lambda c: str(c.name or ""))
        if isinstance(constraint, CheckConstraint)
        and _is_type_bound(constraint)
        and (constraint._create_rule is None or bool(constraint._create_rule(stand_in)))
    ]


def _is_type_bound(constraint: Constraint) -> bool:
    return bool(getattr(constraint, "_type_bound", False))


def fk_constraint_from_reflected(
    schema: str | None, table_name: str, fk: Mapping[str, Any]
) -> ForeignKeyConstraint:
    """A ForeignKeyConstraint (on stub tables) from an inspector foreign-key dict."""
    metadata = MetaData()
    referred_schema = fk.get("referred_schema") or schema
    referred = Table(
        fk["referred_table"],
        metadata,
        *[Column(c, sqltypes.NullType()) for c in fk["referred_columns"]],
        schema=referred_schema,
    )
    if referred.name == table_name and referred.schema == schema:
        source = referred
        for c in fk["constrained_columns"]:
            if c not in source.c:
                source.append_column(Column(c, sqltypes.NullType()))
    else:
        source = Table(
            table_name,
            metadata,
            *[Column(c, sqltypes.NullType()) for c in fk["constrained_columns"]],
            schema=schema,
        )
    options = dict(fk.get("options") or {})
    constraint = ForeignKeyConstraint(
        list(fk["constrained_columns"]),
        [referred.c[c] for c in fk["referred_columns"]],
        name=fk.get("name"),
        onupdate=options.get("onupdate"),
        ondelete=options.get("ondelete"),
        deferrable=options.get("deferrable"),
        initially=options.get("initially"),
        match=options.get("match"),
    )
    source.append_constraint(constraint)
    return constraint


def server_default_arg(default: Any) -> Any:
    """The SQL-level value of a server default (``DefaultClause.arg`` or itself)."""
    return getattr(default, "arg", default)
