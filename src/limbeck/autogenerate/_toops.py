"""Turn schema changes into operation objects, one change at a time, in order.

:func:`limbeck.schema.diff` already lists changes in an order that runs;
each becomes one operation (or a few: a new table is ``create_table`` plus
its indexes, which the create operation carries). Consecutive changes to
one existing table are grouped in a :class:`ModifyTableOps`, which renders
as a ``batch_alter_table`` block when batch rendering is on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import quoted_name

from limbeck.autogenerate._compare import Comparison, RenameColumn, RenameTable
from limbeck.autogenerate._objects import Builder
from limbeck.errors import LimbeckError
from limbeck.operations import ops
from limbeck.schema import (
    AddColumn,
    AddConstraint,
    AddIndex,
    AddTable,
    AlterColumn,
    AlterEnum,
    AlterSequence,
    AlterTableComment,
    Change,
    CreateEnum,
    CreateSequence,
    DropColumn,
    DropConstraint,
    DropEnum,
    DropIndex,
    DropSequence,
    DropTable,
    Schema,
)
from limbeck.schema import model as m

__all__ = [
    "AlterEnumOp",
    "NewTableOp",
    "SequenceOp",
    "TableSource",
    "changes_to_ops",
]

#: ``op.info`` key holding a comment rendered above the operation.
NOTE_KEY = "limbeck_note"


# -- operations autogenerate needs beyond the directive set -----------------------------------


@dataclass(frozen=True, eq=False)
class AlterEnumOp(ops.MigrateOperation):
    """Change the values of a PostgreSQL enum type.

    Only adding values: ``ALTER TYPE ... ADD VALUE`` (rendered inside an
    autocommit block, as PostgreSQL requires before a new value can be
    used). Anything else: the type is recreated and the columns ``columns``
    (``(schema, table, column, is_array, default_sql)``) converted through
    text.
    """

    enum_name: str
    schema: str | None
    old_values: tuple[str, ...]
    new_values: tuple[str, ...]
    columns: tuple[tuple[str | None, str, str, bool, str | None], ...] = ()

    @property
    def only_adds(self) -> bool:
        old = set(self.old_values)
        kept = [v for v in self.new_values if v in old]
        return old <= set(self.new_values) and kept == list(self.old_values)

    def reverse(self) -> AlterEnumOp:
        return AlterEnumOp(
            self.enum_name, self.schema, self.new_values, self.old_values, self.columns
        )

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("modify_enum", self.schema, self.enum_name, self.old_values, self.new_values)

    def risk(self) -> ops.Risk:
        return ops.Risk.SAFE if self.only_adds else ops.Risk.DANGEROUS


@dataclass(frozen=True, eq=False)
class SequenceOp(ops.MigrateOperation):
    """Create, drop or alter a free-standing sequence (rendered as ``op.execute``)."""

    action: str  # "create", "drop", "alter"
    sequence: m.Sequence
    old: m.Sequence | None = None

    def reverse(self) -> SequenceOp:
        if self.action == "create":
            return SequenceOp("drop", self.sequence)
        if self.action == "drop":
            return SequenceOp("create", self.sequence)
        assert self.old is not None
        return SequenceOp("alter", self.old, self.sequence)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        kind = {"create": "add_sequence", "drop": "remove_sequence"}.get(
            self.action, "modify_sequence"
        )
        return (kind, self.sequence.schema, self.sequence.name)

    def risk(self) -> ops.Risk:
        return ops.Risk.REVIEW if self.action == "drop" else ops.Risk.SAFE


@dataclass(frozen=True, eq=False)
class RenameSequenceOp(ops.MigrateOperation):
    """Rename the sequence of a SERIAL column along with its table (PostgreSQL)."""

    old_name: str
    new_name: str
    schema: str | None = None

    def reverse(self) -> RenameSequenceOp:
        return RenameSequenceOp(self.new_name, self.old_name, self.schema)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("rename_sequence", self.schema, self.old_name, self.new_name)

    def risk(self) -> ops.Risk:
        return ops.Risk.SAFE


class TableSource:
    """The model of one table, for a :class:`NewTableOp`: kept, or rebuilt when needed.

    A table of the target metadata is rebuilt from its ``Table`` with
    ``read`` (:func:`limbeck.schema.from_metadata.table_reader`), less the
    ``deferred`` foreign keys (those created afterwards to close a cycle), so
    that an upgrade creating a thousand tables does not keep a thousand models
    (or a thousand copies of the tables) between comparing and rendering.
    Any other table (the reverse of a drop: a table of the database) is kept.
    """

    __slots__ = ("builder", "deferred", "kept", "read", "sa_table")

    def __init__(
        self,
        builder: Builder,
        *,
        kept: m.Table | None = None,
        sa_table: sa.Table | None = None,
        read: Callable[[sa.Table], m.Table] | None = None,
        deferred: tuple[m.ForeignKey, ...] = (),
    ) -> None:
        if kept is None and (sa_table is None or read is None):
            raise ValueError("TableSource needs the model or a Table and a reader")
        self.builder = builder
        self.kept = kept
        self.sa_table = sa_table
        self.read = read
        self.deferred = deferred

    def table(self) -> m.Table:
        if self.kept is not None:
            return self.kept
        assert self.sa_table is not None and self.read is not None
        table = self.read(self.sa_table)
        if self.deferred:
            deferred = set(self.deferred)
            table = replace(
                table, foreign_keys=tuple(f for f in table.foreign_keys if f not in deferred)
            )
        return table

    def items(self) -> list[Any]:
        """SQLAlchemy objects for ``create_table``: the columns, the primary key, the unique,
        check and foreign key constraints, then the indexes by name; all in one Table."""
        table = self.table()
        b = self.builder
        columns = [b.column(c, autoincrement=b.autoincrement(table, c)) for c in table.columns]
        constraints = b.constraints(table)
        indexes = [b.index(i) for i in table.indexes]
        kw: dict[str, Any] = {}
        if table.comment is not None:
            kw["comment"] = table.comment
        built = sa.Table(
            table.name, sa.MetaData(), *columns, *constraints, *indexes, schema=table.schema, **kw
        )
        pk = built.primary_key
        return [
            *columns,
            pk,
            *(c for c in constraints if c is not pk),
            *sorted(indexes, key=lambda i: i.name or ""),
        ]


@dataclass(frozen=True, eq=False, init=False)
class NewTableOp(ops.CreateTableOp):
    """``create_table`` for a table that autogenerate found on one side only.

    A :class:`~limbeck.operations.ops.CreateTableOp` whose ``columns`` (the
    SQLAlchemy ``Column``, constraint and ``Index`` objects, built from the
    table's model as they always were) are built the first time they are
    read, and kept from then on. Rendering does not read them: it works from
    the model, held by ``_source`` (see :class:`TableSource`). Hooks that read
    or replace ``columns`` see and render exactly what they would on a plain
    ``CreateTableOp``.
    """

    _source: TableSource | None = None

    def __init__(
        self,
        table_name: str,
        columns: Sequence[Any] | None = None,
        schema: str | None = None,
        if_not_exists: bool | None = None,
        kw: Any = None,
        _namespace_metadata: Any = None,
        _constraints_included: bool = True,
        _source: TableSource | None = None,
    ) -> None:
        if columns is None and _source is None:
            raise ValueError("NewTableOp needs columns or a TableSource")
        fields = {
            "table_name": table_name,
            "schema": schema,
            "if_not_exists": if_not_exists,
            "kw": {} if kw is None else kw,
            "_namespace_metadata": _namespace_metadata,
            "_constraints_included": _constraints_included,
            "_source": _source,
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        if columns is not None:
            self.__dict__["_columns"] = columns

    @property  # type: ignore[misc]
    def columns(self) -> Sequence[Any]:
        items: Sequence[Any] | None = self.__dict__.get("_columns")
        if items is None:
            assert self._source is not None
            items = self._source.items()
            self.__dict__["_columns"] = items
        return items

    @columns.setter
    def columns(self, value: Sequence[Any]) -> None:
        self.__dict__["_columns"] = value

    @property
    def built(self) -> bool:
        """True once ``columns`` exist as SQLAlchemy objects (read, or given)."""
        return "_columns" in self.__dict__

    def plain(self) -> ops.CreateTableOp:
        """The same operation as a plain ``CreateTableOp`` (building ``columns`` if need be)."""
        return ops.CreateTableOp(
            self.table_name,
            self.columns,
            schema=self.schema,
            if_not_exists=self.if_not_exists,
            kw=self.kw,
            _namespace_metadata=self._namespace_metadata,
            _constraints_included=self._constraints_included,
        )


# -- the mapping -------------------------------------------------------------------------------


class _Mapper:
    def __init__(self, comparison: Comparison, dialect_name: str) -> None:
        self.comparison = comparison
        self.builder = Builder(comparison.final_names)
        self.dialect_name = dialect_name
        #: the namespace of the tables ``create_table`` operations build (the default
        #: naming convention only: the model's names are final)
        self.namespace = sa.MetaData()

    def note(self, change: Change, operation: ops.MigrateOperation) -> ops.MigrateOperation:
        text = self.comparison.change_notes.get(id(change))
        if text is not None:
            operation.info[NOTE_KEY] = text
        return operation

    def create_table(self, table: m.Table, *, from_models: bool) -> NewTableOp:
        """The ``create_table`` of ``table``; one of the models (``from_models``) is
        rebuilt from its ``Table`` when needed rather than kept."""
        source = self.source(table) if from_models else None
        if source is None:
            source = TableSource(self.builder, kept=table)
        kw: dict[str, Any] = {}
        if table.comment is not None:
            kw["comment"] = table.comment
        return NewTableOp(
            quoted_name(table.name, None),
            schema=None if table.schema is None else quoted_name(table.schema, None),
            kw=kw,
            _namespace_metadata=self.namespace,
            _source=source,
        )

    def source(self, table: m.Table) -> TableSource | None:
        read = self.comparison.metadata_reader
        sa_table = self.comparison.metadata_tables.get(table.key)
        full = self.comparison.new.tables_by_key.get(table.key)
        if read is None or sa_table is None or full is None:
            return None
        deferred: tuple[m.ForeignKey, ...] = ()
        if table is not full:
            kept = set(table.foreign_keys)
            deferred = tuple(f for f in full.foreign_keys if f not in kept)
            if replace(table, foreign_keys=full.foreign_keys) != full:
                return None
        return TableSource(self.builder, sa_table=sa_table, read=read, deferred=deferred)

    def column_op(self, change: AddColumn) -> ops.AddColumnOp:
        column = self.builder.column(change.column)
        return ops.AddColumnOp(change.table_name, column, schema=change.schema)

    def constraint_create(
        self, schema: str | None, table: str, c: m.Constraint
    ) -> ops.AddConstraintOp:
        name = self.builder.name(c.name)
        if isinstance(c, m.PrimaryKey):
            return ops.CreatePrimaryKeyOp(name, table, list(c.columns), schema=schema)
        if isinstance(c, m.UniqueConstraint):
            kw = {k: v == "true" for k, v in c.options}
            return ops.CreateUniqueConstraintOp(name, table, list(c.columns), schema=schema, kw=kw)
        if isinstance(c, m.CheckConstraint):
            return ops.CreateCheckConstraintOp(name, table, sa.text(c.sql), schema=schema)
        return ops.CreateForeignKeyOp(
            name,
            table,
            c.referred_table,
            list(c.columns),
            list(c.referred_columns),
            onupdate=c.onupdate,
            ondelete=c.ondelete,
            deferrable=c.deferrable,
            initially=c.initially,
            match=c.match,
            source_schema=schema,
            referent_schema=c.referred_schema,
        )

    def constraint_drop(
        self, schema: str | None, table: str, c: m.Constraint
    ) -> ops.DropConstraintOp:
        type_ = {
            "primary_key": "primary",
            "unique": "unique",
            "check": "check",
            "foreign_key": "foreignkey",
        }[c.kind]
        return ops.DropConstraintOp(
            self.builder.name(c.name),
            table,
            type_=type_,
            schema=schema,
            _reverse=self.constraint_create(schema, table, c),
        )

    def index_create(self, schema: str | None, table: str, index: m.Index) -> ops.CreateIndexOp:
        return ops.CreateIndexOp(
            self.builder.name(index.name),
            table,
            self.builder.index_elements(index),
            schema=schema,
            unique=index.unique,
            kw=self.builder.index_options(index),
        )

    def alter_column(self, change: AlterColumn) -> ops.AlterColumnOp:
        old, new = change.old, change.new
        b = self.builder
        kw: dict[str, Any] = {}
        modify_default: Any = False
        if "server_default" in change.changed:
            modify_default = b.server_default(new.server_default)
        if "identity" in change.changed:
            modify_default = b.identity(new.identity) if new.identity is not None else None
        return ops.AlterColumnOp(
            change.table_name,
            old.name,
            schema=change.schema,
            existing_type=b.type_of(old),
            existing_nullable=old.nullable,
            existing_server_default=b.server_default(old.server_default)
            if old.identity is None
            else b.identity(old.identity),
            existing_comment=old.comment,
            modify_type=b.type_of(new) if "type" in change.changed else None,
            modify_nullable=new.nullable if "nullable" in change.changed else None,
            modify_server_default=modify_default,
            modify_comment=new.comment if "comment" in change.changed else False,
            kw=kw,
        )

    def enum_columns(
        self, schema: Schema, enum: m.EnumType
    ) -> tuple[tuple[str | None, str, str, bool, str | None], ...]:
        ref = enum.name if enum.schema is None else f"{enum.schema}.{enum.name}"
        out = []
        for table in schema.tables:
            for col in table.columns:
                if col.type.name in ("ENUM", "ENUM[]") and col.type.args == (ref,):
                    default = col.server_default.sql if col.server_default else None
                    out.append(
                        (table.schema, table.name, col.name, col.type.name == "ENUM[]", default)
                    )
        return tuple(out)

    def convert(self, change: Change) -> list[ops.MigrateOperation]:
        if isinstance(change, AddTable):
            return [self.note(change, self.create_table(change.table, from_models=True))]
        if isinstance(change, DropTable):
            recreate = self.create_table(change.table, from_models=False)
            comment = change.table.comment
            drop = ops.DropTableOp(
                recreate.table_name,
                schema=recreate.schema,
                table_kw={"comment": comment} if comment else {},
                _reverse=recreate,
            )
            return [self.note(change, drop)]
        if isinstance(change, RenameTable):
            out: list[ops.MigrateOperation] = [
                ops.RenameTableOp(change.old_name, change.new_name, schema=change.schema)
            ]
            if self.dialect_name == "postgresql":
                out += self.serial_renames(change)
            return out
        if isinstance(change, RenameColumn):
            col = change.column
            return [
                ops.AlterColumnOp(
                    change.table_name,
                    col.name,
                    schema=change.schema,
                    existing_type=self.builder.type_of(col),
                    existing_nullable=col.nullable,
                    existing_server_default=self.builder.server_default(col.server_default),
                    existing_comment=col.comment,
                    modify_name=change.new_name,
                )
            ]
        if isinstance(change, AddColumn):
            return [self.note(change, self.column_op(change))]
        if isinstance(change, DropColumn):
            column = self.builder.column(change.column)
            return [
                self.note(
                    change,
                    ops.DropColumnOp.from_column_and_tablename(
                        change.schema, change.table_name, column
                    ),
                )
            ]
        if isinstance(change, AlterColumn):
            return [self.alter_column(change)]
        if isinstance(change, AddIndex):
            return [self.index_create(change.schema, change.table_name, change.index)]
        if isinstance(change, DropIndex):
            create = self.index_create(change.schema, change.table_name, change.index)
            return [
                ops.DropIndexOp(
                    self.builder.name(change.index.name),
                    table_name=change.table_name,
                    schema=change.schema,
                    _reverse=create,
                )
            ]
        if isinstance(change, AddConstraint):
            add = self.constraint_create(change.schema, change.table_name, change.constraint)
            if self.dialect_name == "mysql" and isinstance(change.constraint, m.ForeignKey):
                # name the index MySQL would make, so that the downgrade drops it too
                indexes = self.implicit_fk_index(change, self.comparison.new)
                return [*(i.reverse() for i in indexes), add]
            return [add]
        if isinstance(change, DropConstraint):
            out = [self.constraint_drop(change.schema, change.table_name, change.constraint)]
            if self.dialect_name == "mysql" and isinstance(change.constraint, m.ForeignKey):
                out += self.implicit_fk_index(change)
            return out
        if isinstance(change, AlterTableComment):
            if change.new is None:
                return [
                    ops.DropTableCommentOp(
                        change.table_name, schema=change.schema, existing_comment=change.old
                    )
                ]
            return [
                ops.CreateTableCommentOp(
                    change.table_name, change.new, schema=change.schema, existing_comment=change.old
                )
            ]
        if isinstance(change, CreateEnum):
            e = change.enum
            return [ops.CreateEnumOp(e.name, list(e.values), schema=e.schema)]
        if isinstance(change, DropEnum):
            e = change.enum
            return [ops.DropEnumOp(e.name, schema=e.schema, values=list(e.values))]
        if isinstance(change, AlterEnum):
            return [
                AlterEnumOp(
                    change.new.name,
                    change.new.schema,
                    change.old.values,
                    change.new.values,
                    self.enum_columns(self.comparison.old, change.old),
                )
            ]
        if isinstance(change, CreateSequence):
            return [SequenceOp("create", change.sequence)]
        if isinstance(change, DropSequence):
            return [SequenceOp("drop", change.sequence)]
        if isinstance(change, AlterSequence):
            return [SequenceOp("alter", change.new, change.old)]
        raise LimbeckError(f"autogenerate cannot express a {change.kind} change")

    def implicit_fk_index(
        self, change: DropConstraint | AddConstraint, schema: Schema | None = None
    ) -> list[ops.MigrateOperation]:
        """MySQL/MariaDB made an index for the foreign key (named like it) unless
        another index starts with its columns; it outlives the key: drop it too."""
        fk = change.constraint
        assert isinstance(fk, m.ForeignKey)
        source = self.comparison.old if schema is None else schema
        table = source.table(change.table_name, change.schema)
        if table is None or fk.name is None:
            return []
        n = len(fk.columns)
        leading = [i.columns[:n] for i in table.indexes if len(i.expressions) == 0]
        leading += [u.columns[:n] for u in table.unique_constraints]
        if table.primary_key is not None:
            leading.append(table.primary_key.columns[:n])
        if any(cols == fk.columns for cols in leading):
            return []
        index = m.Index(fk.name, fk.columns)
        create = self.index_create(change.schema, change.table_name, index)
        return [
            ops.DropIndexOp(
                self.builder.name(fk.name),
                table_name=change.table_name,
                schema=change.schema,
                _reverse=create,
            )
        ]

    def serial_renames(self, change: RenameTable) -> list[ops.MigrateOperation]:
        table = change.table
        pk = table.primary_key.columns if table.primary_key is not None else ()
        out: list[ops.MigrateOperation] = []
        for col in table.columns:
            if (
                col.autoincrement
                and col.identity is None
                and col.server_default is None
                and col.name in pk
            ):
                out.append(
                    RenameSequenceOp(
                        f"{change.old_name}_{col.name}_seq",
                        f"{change.new_name}_{col.name}_seq",
                        change.schema,
                    )
                )
        return out


def _table_of(change: Change) -> tuple[str | None, str] | None:
    """The existing table a change modifies (None for whole-table and type changes)."""
    if isinstance(change, AddTable | DropTable | RenameTable):
        return None
    table_key = getattr(change, "table_key", None)
    if table_key is not None:
        schema, name = table_key
        return (schema, name)
    if isinstance(change, RenameColumn):
        return (change.schema, change.table_name)
    return None


def changes_to_ops(
    comparison: Comparison, dialect_name: str, changes: Sequence[Change] | None = None
) -> ops.UpgradeOps:
    """The upgrade operations for ``comparison.changes``, in order."""
    mapper = _Mapper(comparison, dialect_name)
    out: list[ops.MigrateOperation] = []
    group: ops.ModifyTableOps | None = None
    group_key: tuple[str | None, str] | None = None
    for change in comparison.changes if changes is None else changes:
        key = _table_of(change)
        converted = mapper.convert(change)
        if key is None:
            group, group_key = None, None
            out.extend(converted)
            continue
        if group is None or key != group_key:
            group = ops.ModifyTableOps(key[1], [], schema=key[0])
            group_key = key
            out.append(group)
        group.ops.extend(converted)
    return ops.UpgradeOps(ops=out)
