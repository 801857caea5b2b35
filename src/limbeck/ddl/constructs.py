"""DDL statements SQLAlchemy has no construct for, compiled per dialect.

Every statement limbeck emits is a SQLAlchemy construct compiled by the
dialect's DDL compiler, online and offline alike. SQLAlchemy covers CREATE /
DROP TABLE, indexes, constraints and comments; this module adds the ALTER
TABLE family (rename a table, add, drop and alter a column) with a
``@compiles`` function per dialect where the syntax differs.

A third-party dialect changes the text of one of these statements with
``@compiles(AddColumn, "mydialect")`` like any SQLAlchemy construct.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import Column, Computed, Constraint, DefaultClause, FetchedValue, Identity
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.sql.elements import ClauseElement

__all__ = [
    "AddColumn",
    "AlterColumn",
    "AlterTable",
    "ColumnComment",
    "ColumnDefault",
    "ColumnName",
    "ColumnNullable",
    "ColumnType",
    "DropColumn",
    "MySQLModifyColumn",
    "RawDDL",
    "RenameTable",
    "format_column_name",
    "format_server_default",
    "format_table_name",
    "format_type",
]

ServerDefault = str | ClauseElement | FetchedValue | None


class AlterTable(ExecutableDDLElement):
    """Base of the ``ALTER TABLE <table> ...`` statements."""

    inherit_cache = False

    def __init__(self, table_name: str, schema: str | None = None) -> None:
        self.table_name = table_name
        self.schema = schema


class RenameTable(AlterTable):
    """``ALTER TABLE old RENAME TO new`` (T-SQL: ``sp_rename``)."""

    def __init__(self, old_table_name: str, new_table_name: str, schema: str | None = None) -> None:
        super().__init__(old_table_name, schema)
        self.new_table_name = new_table_name


class AddColumn(AlterTable):
    """``ALTER TABLE t ADD [COLUMN] [IF NOT EXISTS] <column spec>``.

    ``inline_references`` renders the column's foreign keys as ``REFERENCES``
    inside the column spec; ``inline_primary_key`` renders ``PRIMARY KEY``.
    The column's own constraints (``Column("c", Integer, CheckConstraint(...))``)
    follow its spec, as in CREATE TABLE.
    """

    def __init__(
        self,
        table_name: str,
        column: Column[Any],
        schema: str | None = None,
        *,
        if_not_exists: bool = False,
        inline_references: bool = False,
        inline_primary_key: bool = False,
        inline_checks: Sequence[Constraint] = (),
        column_checks: bool = True,
    ) -> None:
        super().__init__(table_name, schema)
        self.column = column
        self.if_not_exists = if_not_exists
        self.inline_references = inline_references
        self.inline_primary_key = inline_primary_key
        #: Table-level CHECKs written into the column spec (SQLite cannot ADD CONSTRAINT).
        self.inline_checks = tuple(inline_checks)
        #: Whether the column's own constraints follow its spec.
        self.column_checks = column_checks


class AddColumnConstraint(AlterTable):
    """``ALTER TABLE t ADD CONSTRAINT ...`` for a constraint declared in a Column.

    Such a constraint belongs to no table, so SQLAlchemy's AddConstraint
    cannot compile it; the table is named here.
    """

    def __init__(self, table_name: str, constraint: Constraint, schema: str | None = None) -> None:
        super().__init__(table_name, schema)
        self.constraint = constraint


class DropColumn(AlterTable):
    """``ALTER TABLE t DROP COLUMN [IF EXISTS] c``."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        schema: str | None = None,
        *,
        if_exists: bool = False,
    ) -> None:
        super().__init__(table_name, schema)
        self.column_name = column_name
        self.if_exists = if_exists


class AlterColumn(AlterTable):
    """Base of the single-aspect column changes; carries what is known of the column."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        schema: str | None = None,
        *,
        existing_type: sqltypes.TypeEngine[Any] | None = None,
        existing_nullable: bool | None = None,
        existing_server_default: ServerDefault = None,
        existing_comment: str | None = None,
    ) -> None:
        super().__init__(table_name, schema)
        self.column_name = column_name
        self.existing_type = existing_type
        self.existing_nullable = existing_nullable
        self.existing_server_default = existing_server_default
        self.existing_comment = existing_comment


class ColumnNullable(AlterColumn):
    """Make a column NULL or NOT NULL."""

    def __init__(self, table_name: str, column_name: str, nullable: bool, **kw: Any) -> None:
        super().__init__(table_name, column_name, **kw)
        self.nullable = nullable


class ColumnType(AlterColumn):
    """Change a column's type; ``using`` is PostgreSQL's ``USING`` expression."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        type_: sqltypes.TypeEngine[Any],
        *,
        using: str | ClauseElement | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(table_name, column_name, **kw)
        self.type_ = type_
        self.using = using


class ColumnDefault(AlterColumn):
    """Set a column's server default, or drop it when ``default`` is None."""

    def __init__(
        self, table_name: str, column_name: str, default: ServerDefault, **kw: Any
    ) -> None:
        super().__init__(table_name, column_name, **kw)
        self.default = default


class ColumnName(AlterColumn):
    """Rename a column."""

    def __init__(self, table_name: str, column_name: str, new_name: str, **kw: Any) -> None:
        super().__init__(table_name, column_name, **kw)
        self.new_name = new_name


class ColumnComment(AlterColumn):
    """Set a column comment, or remove it when ``comment`` is None."""

    def __init__(self, table_name: str, column_name: str, comment: str | None, **kw: Any) -> None:
        super().__init__(table_name, column_name, **kw)
        self.comment = comment


class MySQLModifyColumn(AlterColumn):
    """MySQL's whole-column restatement: ``MODIFY c <spec>`` or ``CHANGE c d <spec>``."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        *,
        new_name: str | None,
        type_: sqltypes.TypeEngine[Any],
        nullable: bool,
        server_default: ServerDefault,
        autoincrement: bool | None,
        comment: str | None,
        **kw: Any,
    ) -> None:
        super().__init__(table_name, column_name, **kw)
        self.new_name = new_name
        self.type_ = type_
        self.nullable = nullable
        self.server_default = server_default
        self.autoincrement = autoincrement
        self.comment = comment


class RawDDL(ExecutableDDLElement):
    """A statement whose text is fixed (T-SQL blocks, PRAGMAs); compiled verbatim."""

    inherit_cache = False

    def __init__(self, text: str) -> None:
        self.text = text


# -- formatting helpers ------------------------------------------------------


def format_table_name(compiler: DDLCompiler, name: str, schema: str | None) -> str:
    """The quoted, schema-qualified table name."""
    quoted = compiler.preparer.quote(name)
    if schema:
        return compiler.preparer.quote_schema(schema) + "." + quoted
    return quoted


def format_column_name(compiler: DDLCompiler, name: str) -> str:
    return compiler.preparer.quote(name)


def format_type(compiler: DDLCompiler, type_: sqltypes.TypeEngine[Any]) -> str:
    return compiler.dialect.type_compiler_instance.process(type_)


def format_server_default(
    compiler: DDLCompiler, default: ServerDefault, *, parenthesize_expressions: bool = False
) -> str:
    """Render a server default (string literal, SQL text or expression) as SQL."""
    if isinstance(default, DefaultClause):
        default = default.arg
    if isinstance(default, str):
        return compiler.sql_compiler.render_literal_value(default, sqltypes.String())
    if isinstance(default, ClauseElement):
        rendered = compiler.sql_compiler.process(default, literal_binds=True)
    else:
        raise TypeError(f"cannot render server default {default!r}")
    if parenthesize_expressions and not _is_literal_text(rendered) and not _is_niladic(rendered):
        return f"({rendered})"
    return rendered


def _is_niladic(text: str) -> bool:
    """CURRENT_TIMESTAMP-style defaults MySQL accepts without parentheses."""
    head = text.strip().upper()
    return head.startswith(("CURRENT_TIMESTAMP", "NOW(", "LOCALTIME", "CURRENT_DATE"))


def _is_literal_text(text: str) -> bool:
    stripped = text.strip()
    if stripped.startswith("'") and stripped.endswith("'"):
        return True
    if stripped.startswith("(") and stripped.endswith(")"):
        return True
    try:
        float(stripped)
    except ValueError:
        return stripped.upper() in {"NULL", "TRUE", "FALSE"}
    return True


def _string(compiler: DDLCompiler, value: str) -> str:
    return compiler.sql_compiler.render_literal_value(value, sqltypes.String())


def _alter(compiler: DDLCompiler, element: AlterTable) -> str:
    return "ALTER TABLE " + format_table_name(compiler, element.table_name, element.schema)


# -- default (ANSI-ish; PostgreSQL uses these) ---------------------------------


@compiles(RawDDL)
def _raw(element: RawDDL, compiler: DDLCompiler, **kw: Any) -> str:
    return element.text


@compiles(RenameTable)
def _rename_table(element: RenameTable, compiler: DDLCompiler, **kw: Any) -> str:
    return (
        f"{_alter(compiler, element)} RENAME TO {compiler.preparer.quote(element.new_table_name)}"
    )


def _column_spec(compiler: DDLCompiler, element: AddColumn) -> str:
    spec = compiler.get_column_specification(element.column)
    if element.inline_primary_key and "PRIMARY KEY" not in spec.upper():
        spec += " PRIMARY KEY"
    if element.inline_references:
        for fk in element.column.foreign_keys:
            constraint = fk.constraint
            ref = fk.column
            name = constraint.name if constraint is not None else None
            if (
                constraint is not None
                and isinstance(name, str)
                and type(name).__name__ != "_NoneName"
            ):
                spec += " CONSTRAINT " + str(compiler.preparer.format_constraint(constraint))
            spec += " REFERENCES " + format_table_name(compiler, ref.table.name, ref.table.schema)
            spec += f" ({compiler.preparer.quote(ref.name)})"
            if constraint is not None:
                spec += compiler.define_constraint_cascades(constraint)
                spec += compiler.define_constraint_deferrability(constraint)
    own = (
        tuple(sorted(element.column.constraints, key=lambda c: str(c.name or "")))
        if element.column_checks
        else ()
    )
    for check in (*own, *element.inline_checks):
        spec += " " + compiler.process(check)
    return spec


@compiles(AddColumn)
def _add_column(element: AddColumn, compiler: DDLCompiler, **kw: Any) -> str:
    exists = " IF NOT EXISTS" if element.if_not_exists else ""
    return f"{_alter(compiler, element)} ADD COLUMN{exists} {_column_spec(compiler, element)}"


@compiles(AddColumn, "mssql")
@compiles(AddColumn, "oracle")
def _add_column_no_keyword(element: AddColumn, compiler: DDLCompiler, **kw: Any) -> str:
    if element.if_not_exists:
        raise _unsupported(compiler, "add_column(if_not_exists=True)", element.table_name)
    return f"{_alter(compiler, element)} ADD {_column_spec(compiler, element)}"


@compiles(AddColumnConstraint)
def _add_column_constraint(element: AddColumnConstraint, compiler: DDLCompiler, **kw: Any) -> str:
    return f"{_alter(compiler, element)} ADD {compiler.process(element.constraint)}"


@compiles(DropColumn)
def _drop_column(element: DropColumn, compiler: DDLCompiler, **kw: Any) -> str:
    exists = " IF EXISTS" if element.if_exists else ""
    name = format_column_name(compiler, element.column_name)
    return f"{_alter(compiler, element)} DROP COLUMN{exists} {name}"


@compiles(ColumnNullable)
def _nullable(element: ColumnNullable, compiler: DDLCompiler, **kw: Any) -> str:
    action = "DROP NOT NULL" if element.nullable else "SET NOT NULL"
    name = format_column_name(compiler, element.column_name)
    return f"{_alter(compiler, element)} ALTER COLUMN {name} {action}"


@compiles(ColumnType)
def _type(element: ColumnType, compiler: DDLCompiler, **kw: Any) -> str:
    name = format_column_name(compiler, element.column_name)
    new_type = format_type(compiler, element.type_)
    text = f"{_alter(compiler, element)} ALTER COLUMN {name} TYPE {new_type}"
    if element.using is not None:
        using = element.using
        rendered = (
            using
            if isinstance(using, str)
            else compiler.sql_compiler.process(using, literal_binds=True)
        )
        text += f" USING {rendered}"
    return text


def _identity_change(element: ColumnDefault, compiler: DDLCompiler, modify: str) -> str | None:
    """``<modify> c ADD GENERATED ... AS IDENTITY`` / ``DROP IDENTITY`` when the
    change adds an Identity or drops an existing one (PostgreSQL and Oracle
    spell the column part differently); None for a plain default. A Computed
    column cannot be altered into or out of: that is an error."""
    name = format_column_name(compiler, element.column_name)
    if isinstance(element.default, Computed) or (
        element.default is None and isinstance(element.existing_server_default, Computed)
    ):
        raise _unsupported(
            compiler, "alter_column(server_default=Computed(...))", element.table_name
        )
    if isinstance(element.default, Identity):
        already = isinstance(element.existing_server_default, Identity)
        if modify == "ALTER COLUMN":
            change = (
                _set_identity(element.default)
                if already
                else "ADD " + compiler.process(element.default)
            )
        elif already:
            change = compiler.process(element.default)
        else:
            # Oracle changes an identity's options but cannot make a column one.
            raise _unsupported(
                compiler,
                "alter_column(server_default=Identity(...))",
                element.table_name,
                "Oracle changes an identity column's options but cannot make a column one",
            )
        return f"{_alter(compiler, element)} {modify} {name} {change}"
    if element.default is None and isinstance(element.existing_server_default, Identity):
        return f"{_alter(compiler, element)} {modify} {name} DROP IDENTITY"
    return None


def _set_identity(identity: Identity) -> str:
    """PostgreSQL's ``SET GENERATED ... SET START WITH ...`` for an identity
    column whose options change."""
    parts = [f"SET GENERATED {'ALWAYS' if identity.always else 'BY DEFAULT'}"]
    for option, keyword in (
        ("start", "START WITH"),
        ("increment", "INCREMENT BY"),
        ("minvalue", "MINVALUE"),
        ("maxvalue", "MAXVALUE"),
        ("cache", "CACHE"),
    ):
        value = getattr(identity, option, None)
        if value is not None:
            parts.append(f"SET {keyword} {int(value)}")
    if identity.cycle is not None:
        parts.append("SET CYCLE" if identity.cycle else "SET NO CYCLE")
    return " ".join(parts)


@compiles(ColumnDefault)
def _default(element: ColumnDefault, compiler: DDLCompiler, **kw: Any) -> str:
    identity = _identity_change(element, compiler, "ALTER COLUMN")
    if identity is not None:
        return identity
    name = format_column_name(compiler, element.column_name)
    if element.default is None:
        return f"{_alter(compiler, element)} ALTER COLUMN {name} DROP DEFAULT"
    default = format_server_default(compiler, element.default)
    return f"{_alter(compiler, element)} ALTER COLUMN {name} SET DEFAULT {default}"


@compiles(ColumnName)
def _rename_column(element: ColumnName, compiler: DDLCompiler, **kw: Any) -> str:
    old = format_column_name(compiler, element.column_name)
    new = format_column_name(compiler, element.new_name)
    return f"{_alter(compiler, element)} RENAME COLUMN {old} TO {new}"


@compiles(ColumnComment)
def _comment(element: ColumnComment, compiler: DDLCompiler, **kw: Any) -> str:
    target = (
        format_table_name(compiler, element.table_name, element.schema)
        + "."
        + format_column_name(compiler, element.column_name)
    )
    value = (
        "NULL"
        if element.comment is None
        else compiler.sql_compiler.render_literal_value(element.comment, sqltypes.String())
    )
    return f"COMMENT ON COLUMN {target} IS {value}"


@compiles(MySQLModifyColumn)
def _modify_generic(element: MySQLModifyColumn, compiler: DDLCompiler, **kw: Any) -> str:
    raise _unsupported(compiler, "alter_column (MODIFY form)", element.table_name)


def _unsupported(compiler: DDLCompiler, what: str, table: str, why: str = "") -> Exception:
    from limbeck.errors import LimbeckError

    reason = f": {why}" if why else ""
    return LimbeckError(
        f"{what} on table {table!r} is not supported by {compiler.dialect.name}{reason}"
    )


# -- SQLite ------------------------------------------------------------------------


@compiles(AddColumn, "sqlite")
def _add_column_sqlite(element: AddColumn, compiler: DDLCompiler, **kw: Any) -> str:
    if element.if_not_exists:
        raise _unsupported(compiler, "add_column(if_not_exists=True)", element.table_name)
    return f"{_alter(compiler, element)} ADD COLUMN {_column_spec(compiler, element)}"


@compiles(DropColumn, "sqlite")
def _drop_column_sqlite(element: DropColumn, compiler: DDLCompiler, **kw: Any) -> str:
    if element.if_exists:
        raise _unsupported(compiler, "drop_column(if_exists=True)", element.table_name)
    name = format_column_name(compiler, element.column_name)
    return f"{_alter(compiler, element)} DROP COLUMN {name}"


# -- MySQL / MariaDB ---------------------------------------------------------------


@compiles(RenameTable, "mysql")
@compiles(RenameTable, "mariadb")
def _rename_table_mysql(element: RenameTable, compiler: DDLCompiler, **kw: Any) -> str:
    new = format_table_name(compiler, element.new_table_name, element.schema)
    return f"{_alter(compiler, element)} RENAME {new}"


@compiles(ColumnDefault, "mysql")
@compiles(ColumnDefault, "mariadb")
def _default_mysql(element: ColumnDefault, compiler: DDLCompiler, **kw: Any) -> str:
    name = format_column_name(compiler, element.column_name)
    if element.default is None:
        return f"{_alter(compiler, element)} ALTER COLUMN {name} DROP DEFAULT"
    default = format_server_default(compiler, element.default, parenthesize_expressions=True)
    return f"{_alter(compiler, element)} ALTER COLUMN {name} SET DEFAULT {default}"


@compiles(MySQLModifyColumn, "mysql")
@compiles(MySQLModifyColumn, "mariadb")
def _modify_mysql(element: MySQLModifyColumn, compiler: DDLCompiler, **kw: Any) -> str:
    name = format_column_name(compiler, element.column_name)
    spec = format_type(compiler, element.type_)
    spec += " NULL" if element.nullable else " NOT NULL"
    if (
        element.server_default is not None
        and not isinstance(element.server_default, FetchedValue | Identity)
    ) or isinstance(element.server_default, DefaultClause):
        spec += " DEFAULT " + format_server_default(
            compiler, element.server_default, parenthesize_expressions=True
        )
    if element.autoincrement:
        spec += " AUTO_INCREMENT"
    if element.comment is not None:
        spec += " COMMENT " + compiler.sql_compiler.render_literal_value(
            element.comment, sqltypes.String()
        )
    if element.new_name is not None and element.new_name != element.column_name:
        new = format_column_name(compiler, element.new_name)
        return f"{_alter(compiler, element)} CHANGE {name} {new} {spec}"
    return f"{_alter(compiler, element)} MODIFY {name} {spec}"


# -- Microsoft SQL Server -------------------------------------------------------------


@compiles(RenameTable, "mssql")
def _rename_table_mssql(element: RenameTable, compiler: DDLCompiler, **kw: Any) -> str:
    old = format_table_name(compiler, element.table_name, element.schema)
    return f"EXEC sp_rename {_string(compiler, old)}, {_string(compiler, element.new_table_name)}"


@compiles(ColumnName, "mssql")
def _rename_column_mssql(element: ColumnName, compiler: DDLCompiler, **kw: Any) -> str:
    old = (
        format_table_name(compiler, element.table_name, element.schema)
        + "."
        + format_column_name(compiler, element.column_name)
    )
    new = _string(compiler, element.new_name)
    return f"EXEC sp_rename {_string(compiler, old)}, {new}, 'COLUMN'"


@compiles(ColumnNullable, "mssql")
def _nullable_mssql(element: ColumnNullable, compiler: DDLCompiler, **kw: Any) -> str:
    if element.existing_type is None:
        from limbeck.errors import LimbeckError

        raise LimbeckError(
            f"alter_column(nullable=...) on {element.table_name}.{element.column_name} "
            "needs existing_type or type_ on mssql",
            hint="SQL Server restates the type when it changes nullability",
        )
    name = format_column_name(compiler, element.column_name)
    null = "NULL" if element.nullable else "NOT NULL"
    type_ = format_type(compiler, element.existing_type)
    return f"{_alter(compiler, element)} ALTER COLUMN {name} {type_} {null}"


@compiles(ColumnType, "mssql")
def _type_mssql(element: ColumnType, compiler: DDLCompiler, **kw: Any) -> str:
    name = format_column_name(compiler, element.column_name)
    text = f"{_alter(compiler, element)} ALTER COLUMN {name} {format_type(compiler, element.type_)}"
    if element.existing_nullable is not None:
        text += " NULL" if element.existing_nullable else " NOT NULL"
    return text


@compiles(ColumnDefault, "mssql")
def _default_mssql(element: ColumnDefault, compiler: DDLCompiler, **kw: Any) -> str:
    # Dropping is done by the impl (a lookup of the server-named constraint);
    # this renders only the ADD.
    if element.default is None:
        raise _unsupported(compiler, "ColumnDefault(None) without the lookup", element.table_name)
    name = format_column_name(compiler, element.column_name)
    default = format_server_default(compiler, element.default)
    return f"{_alter(compiler, element)} ADD DEFAULT {default} FOR {name}"


@compiles(DropColumn, "mssql")
def _drop_column_mssql(element: DropColumn, compiler: DDLCompiler, **kw: Any) -> str:
    exists = " IF EXISTS" if element.if_exists else ""
    name = format_column_name(compiler, element.column_name)
    return f"{_alter(compiler, element)} DROP COLUMN{exists} {name}"


# -- Oracle ------------------------------------------------------------------------


@compiles(ColumnNullable, "oracle")
def _nullable_oracle(element: ColumnNullable, compiler: DDLCompiler, **kw: Any) -> str:
    name = format_column_name(compiler, element.column_name)
    return f"{_alter(compiler, element)} MODIFY {name} {'NULL' if element.nullable else 'NOT NULL'}"


@compiles(ColumnType, "oracle")
def _type_oracle(element: ColumnType, compiler: DDLCompiler, **kw: Any) -> str:
    name = format_column_name(compiler, element.column_name)
    return f"{_alter(compiler, element)} MODIFY {name} {format_type(compiler, element.type_)}"


@compiles(ColumnDefault, "oracle")
def _default_oracle(element: ColumnDefault, compiler: DDLCompiler, **kw: Any) -> str:
    identity = _identity_change(element, compiler, "MODIFY")
    if identity is not None:
        return identity
    name = format_column_name(compiler, element.column_name)
    default = (
        "NULL" if element.default is None else format_server_default(compiler, element.default)
    )
    return f"{_alter(compiler, element)} MODIFY {name} DEFAULT {default}"


@compiles(DropColumn, "oracle")
def _drop_column_oracle(element: DropColumn, compiler: DDLCompiler, **kw: Any) -> str:
    if element.if_exists:
        raise _unsupported(compiler, "drop_column(if_exists=True)", element.table_name)
    name = format_column_name(compiler, element.column_name)
    return f"{_alter(compiler, element)} DROP COLUMN {name}"
