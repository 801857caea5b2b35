"""One frozen record class per directive, plus the containers autogenerate fills.

An operation object is the single description of a schema change. It is
executed by :meth:`limbeck.operations.Operations.invoke` (through the
dialect implementation), and it can:

* ``reverse()`` itself (``AddColumnOp`` → ``DropColumnOp``);
* describe itself as a diff tuple, ``to_diff_tuple()``, in the shapes of
  Alembic's ``compare_metadata`` (``("add_column", schema, table, column)``);
* render itself as Python source, ``render(ctx)``
  (``op.add_column('t', sa.Column('x', sa.Integer(), nullable=True))``);
* report its :class:`Risk` (``drop_table`` is DANGEROUS).

Field names follow Alembic's op classes (``modify_type``,
``existing_server_default``, ``kw``...), so rewriters and
``process_revision_directives`` hooks written for Alembic read them
unchanged. Directive options Alembic accepts as ``**kw`` may be passed as
keyword arguments to the constructors too; they are collected into ``kw``.

The containers (:class:`UpgradeOps`, :class:`DowngradeOps`,
:class:`ModifyTableOps`, :class:`MigrationScript`) are mutable on purpose:
revision hooks edit them in place.

The classes are declared with :mod:`limbeck.operations._oprecord` rather than
``dataclasses`` (which compiles code for each class at import); they behave
as the dataclasses they were, and ``dataclasses.fields``, ``replace`` and
``asdict`` work on them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from sqlalchemy.schema import Constraint
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import NullType

from limbeck.errors import LimbeckError
from limbeck.operations._oprecord import field, fields_of, frozen_op, mutable_op
from limbeck.operations.schemaobj import SchemaObjects, naming_convention_of

if TYPE_CHECKING:
    from limbeck.operations.render import RenderContext

__all__ = [
    "AddColumnOp",
    "AddConstraintOp",
    "AddEnumValueOp",
    "AlterColumnOp",
    "AlterTableOp",
    "BulkInsertOp",
    "CreateCheckConstraintOp",
    "CreateEnumOp",
    "CreateExcludeConstraintOp",
    "CreateForeignKeyOp",
    "CreateIndexOp",
    "CreatePrimaryKeyOp",
    "CreateTableCommentOp",
    "CreateTableOp",
    "CreateUniqueConstraintOp",
    "DowngradeOps",
    "DropColumnOp",
    "DropConstraintOp",
    "DropEnumOp",
    "DropIndexOp",
    "DropTableCommentOp",
    "DropTableOp",
    "ExecuteSQLOp",
    "MigrateOperation",
    "MigrationScript",
    "ModifyTableOps",
    "OpContainer",
    "RenameTableOp",
    "Risk",
    "UpgradeOps",
]


class Risk(enum.IntEnum):
    """How careful a reviewer should be with an operation.

    SAFE: cannot lose data or break running code. REVIEW: can fail on
    existing data, lock a large table, or break code that uses the old shape.
    DANGEROUS: destroys data.
    """

    SAFE = 0
    REVIEW = 1
    DANGEROUS = 2


_C = TypeVar("_C", bound=type)


def _collect_kw(cls: _C) -> _C:
    """Let the record constructor take unknown keyword arguments into ``kw``."""
    names = set(fields_of(cls))
    original = cls.__init__  # type: ignore[misc]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        extra = {k: kwargs.pop(k) for k in list(kwargs) if k not in names}
        if extra:
            kwargs["kw"] = {**dict(kwargs.get("kw") or {}), **extra}
        original(self, *args, **kwargs)

    __init__.__doc__ = original.__doc__
    cls.__init__ = __init__  # type: ignore[misc]
    return cls


def _schema_objects(migration_context: Any) -> SchemaObjects:
    opts = getattr(migration_context, "opts", None)
    return SchemaObjects(naming_convention_of(opts))


class MigrateOperation:
    """Base of every operation and container.

    Subclasses define ``reverse()``, ``to_diff_tuple()`` and ``risk()``;
    ``render()`` goes through :mod:`limbeck.operations.render`'s dispatch, so
    renderers for custom operations are registered there.
    """

    @property
    def info(self) -> dict[Any, Any]:
        """Free-form per-object dictionary (as on SQLAlchemy schema items)."""
        try:
            return self.__dict__["_info"]  # type: ignore[no-any-return]
        except KeyError:
            info: dict[Any, Any] = {}
            object.__setattr__(self, "_info", info)
            return info

    def reverse(self) -> MigrateOperation:
        raise LimbeckError(f"{type(self).__name__} cannot be reversed")

    def to_diff_tuple(self) -> Any:
        raise LimbeckError(f"{type(self).__name__} has no diff form")

    def risk(self) -> Risk:
        return Risk.REVIEW

    def render(self, ctx: RenderContext | None = None) -> str:
        """This operation as Python source (``op.…`` call or block)."""
        from limbeck.operations.render import RenderContext, render_op

        return render_op(ctx if ctx is not None else RenderContext(), self)


class AlterTableOp(MigrateOperation):
    """An operation on one existing table."""

    table_name: str
    schema: str | None


# -- tables ---------------------------------------------------------------------------


@_collect_kw
@frozen_op
class CreateTableOp(MigrateOperation):
    """``op.create_table(name, *columns_and_constraints, **kw)``."""

    table_name: str
    columns: Sequence[Any]
    schema: str | None = None
    if_not_exists: bool | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    _namespace_metadata: Any = None
    _constraints_included: bool = False

    @property
    def comment(self) -> str | None:
        return self.kw.get("comment")

    @property
    def prefixes(self) -> Sequence[str] | None:
        return self.kw.get("prefixes")

    @classmethod
    def from_table(cls, table: Table, *, _namespace_metadata: Any = None) -> CreateTableOp:
        items: list[Any] = list(table.columns)
        items += [c for c in table.constraints if not getattr(c, "_type_bound", False)]
        items += sorted(table.indexes, key=lambda i: i.name or "")
        kw: dict[str, Any] = dict(table.kwargs)
        if table.comment is not None:
            kw["comment"] = table.comment
        if table.info:
            kw["info"] = dict(table.info)
        if table._prefixes:
            kw["prefixes"] = list(table._prefixes)
        return cls(
            table.name,
            items,
            schema=table.schema,
            kw=kw,
            _namespace_metadata=_namespace_metadata or table.metadata,
            _constraints_included=True,
        )

    def to_table(self, migration_context: Any = None) -> Table:
        """A Table of this definition; Column objects already in a Table are copied."""
        schema_obj = _schema_objects(migration_context)
        items = [_detach(i) for i in self.columns]
        kw = dict(self.kw)
        if self._namespace_metadata is not None and self._namespace_metadata.naming_convention:
            from sqlalchemy import MetaData

            kw["_metadata"] = MetaData(naming_convention=self._namespace_metadata.naming_convention)
        return schema_obj.table(self.table_name, *items, schema=self.schema, **kw)

    def reverse(self) -> DropTableOp:
        return DropTableOp.from_table(self.to_table(), _namespace_metadata=self._namespace_metadata)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("add_table", self.to_table())

    def risk(self) -> Risk:
        return Risk.SAFE


def bound_table(item: Any) -> Table | None:
    """The Table a column, constraint or index belongs to, or None."""
    try:
        table = item.table
    except Exception:  # SQLAlchemy raises for unbound constraints
        return None
    return table if isinstance(table, Table) else None


def _detach(item: Any) -> Any:
    """A copy of a schema item already bound to a table, else the item itself."""
    if isinstance(item, Column) and bound_table(item) is not None:
        return item._copy()
    if isinstance(item, Constraint | Index) and bound_table(item) is not None:
        if isinstance(item, Index):
            return Index(
                item.name,
                *[e.name if isinstance(e, Column) else e for e in item.expressions],
                unique=item.unique,
                **item.dialect_kwargs,
            )
        if isinstance(item, ForeignKeyConstraint):
            return ForeignKeyConstraint(
                [c.name for c in item.columns],
                [e._get_colspec() for e in item.elements],
                name=item.name,
                onupdate=item.onupdate,
                ondelete=item.ondelete,
                deferrable=item.deferrable,
                initially=item.initially,
                match=item.match,
                use_alter=item.use_alter,
                **item.dialect_kwargs,
            )
        if isinstance(item, PrimaryKeyConstraint | UniqueConstraint):
            name: Any = item.name
            return type(item)(*[c.name for c in item.columns], name=name, **item.dialect_kwargs)
        if isinstance(item, CheckConstraint):
            return CheckConstraint(item.sqltext, name=item.name, **item.dialect_kwargs)
    return item


@_collect_kw
@frozen_op
class DropTableOp(MigrateOperation):
    """``op.drop_table(name, schema=None, if_exists=None, **kw)``.

    ``kw`` goes to the Table built for the DROP, except directive options
    (``postgresql_keep_enum``).
    """

    table_name: str
    schema: str | None = None
    if_exists: bool | None = None
    table_kw: Mapping[str, Any] = field(default_factory=dict)
    kw: Mapping[str, Any] = field(default_factory=dict)
    _reverse: CreateTableOp | None = None

    @classmethod
    def from_table(cls, table: Table, *, _namespace_metadata: Any = None) -> DropTableOp:
        return cls(
            table.name,
            schema=table.schema,
            table_kw={"comment": table.comment} if table.comment else {},
            _reverse=CreateTableOp.from_table(table, _namespace_metadata=_namespace_metadata),
        )

    def to_table(self, migration_context: Any = None) -> Table:
        if self._reverse is not None:
            return self._reverse.to_table(migration_context)
        schema_obj = _schema_objects(migration_context)
        return schema_obj.table(self.table_name, schema=self.schema, **dict(self.table_kw))

    def reverse(self) -> CreateTableOp:
        if self._reverse is None:
            raise LimbeckError(
                f"drop_table({self.table_name!r}) cannot be reversed: the table's definition "
                "is unknown",
                hint="build the operation with DropTableOp.from_table(table)",
            )
        return self._reverse

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("remove_table", self.to_table())

    def risk(self) -> Risk:
        return Risk.DANGEROUS


@frozen_op
class RenameTableOp(AlterTableOp):
    """``op.rename_table(old, new, schema=None)``."""

    table_name: str
    new_table_name: str
    schema: str | None = None

    @property
    def old_table_name(self) -> str:
        return self.table_name

    def reverse(self) -> RenameTableOp:
        return RenameTableOp(self.new_table_name, self.table_name, schema=self.schema)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("rename_table", self.schema, self.table_name, self.new_table_name)

    def risk(self) -> Risk:
        return Risk.REVIEW


@frozen_op
class CreateTableCommentOp(AlterTableOp):
    """``op.create_table_comment(table, comment, existing_comment=None, schema=None)``."""

    table_name: str
    comment: str | None
    schema: str | None = None
    existing_comment: str | None = None

    def reverse(self) -> MigrateOperation:
        if self.existing_comment is None:
            return DropTableCommentOp(
                self.table_name, schema=self.schema, existing_comment=self.comment
            )
        return CreateTableCommentOp(
            self.table_name,
            self.existing_comment,
            schema=self.schema,
            existing_comment=self.comment,
        )

    def to_table(self, migration_context: Any = None) -> Table:
        return _schema_objects(migration_context).table(
            self.table_name, schema=self.schema, comment=self.comment
        )

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("add_table_comment", self.to_table(), self.existing_comment)

    def risk(self) -> Risk:
        return Risk.SAFE


@frozen_op
class DropTableCommentOp(AlterTableOp):
    """``op.drop_table_comment(table, existing_comment=None, schema=None)``."""

    table_name: str
    schema: str | None = None
    existing_comment: str | None = None

    def reverse(self) -> CreateTableCommentOp:
        return CreateTableCommentOp(self.table_name, self.existing_comment, schema=self.schema)

    def to_table(self, migration_context: Any = None) -> Table:
        return _schema_objects(migration_context).table(self.table_name, schema=self.schema)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("remove_table_comment", self.to_table())

    def risk(self) -> Risk:
        return Risk.SAFE


# -- columns ------------------------------------------------------------------------


@_collect_kw
@frozen_op
class AddColumnOp(AlterTableOp):
    """``op.add_column(table, column, schema=None, if_not_exists=None, ...)``."""

    table_name: str
    column: Column[Any]
    schema: str | None = None
    if_not_exists: bool | None = None
    inline_references: bool | None = None
    inline_primary_key: bool | None = None
    insert_before: str | None = None
    insert_after: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_column(cls, col: Column[Any]) -> AddColumnOp:
        return cls(col.table.name, col, schema=col.table.schema)

    @classmethod
    def from_column_and_tablename(
        cls, schema: str | None, tname: str, col: Column[Any]
    ) -> AddColumnOp:
        return cls(tname, col, schema=schema)

    def reverse(self) -> DropColumnOp:
        return DropColumnOp.from_column_and_tablename(self.schema, self.table_name, self.column)

    def to_column(self) -> Column[Any]:
        return self.column

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("add_column", self.schema, self.table_name, self.column)

    def risk(self) -> Risk:
        col = self.column
        if not col.nullable and col.server_default is None and not col.primary_key:
            return Risk.REVIEW
        return Risk.SAFE


@_collect_kw
@frozen_op
class DropColumnOp(AlterTableOp):
    """``op.drop_column(table, column, schema=None, if_exists=None, **kw)``."""

    table_name: str
    column_name: str
    schema: str | None = None
    if_exists: bool | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    _reverse: AddColumnOp | None = None

    @classmethod
    def from_column_and_tablename(
        cls, schema: str | None, tname: str, col: Column[Any]
    ) -> DropColumnOp:
        return cls(
            tname,
            col.name,
            schema=schema,
            _reverse=AddColumnOp.from_column_and_tablename(schema, tname, col),
        )

    def to_column(self, migration_context: Any = None) -> Column[Any]:
        if self._reverse is not None:
            return self._reverse.column
        return Column(self.column_name, NullType())

    def reverse(self) -> AddColumnOp:
        if self._reverse is None:
            raise LimbeckError(
                f"drop_column({self.table_name!r}, {self.column_name!r}) cannot be reversed: "
                "the column's definition is unknown"
            )
        return self._reverse

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("remove_column", self.schema, self.table_name, self.to_column())

    def risk(self) -> Risk:
        return Risk.DANGEROUS


@_collect_kw
@frozen_op
class AlterColumnOp(AlterTableOp):
    """``op.alter_column(table, column, ...)``: ``modify_*`` the change, ``existing_*`` the state.

    ``modify_server_default`` and ``modify_comment`` are ``False`` when not
    changed (``None`` removes them).
    """

    table_name: str
    column_name: str
    schema: str | None = None
    existing_type: Any = None
    existing_server_default: Any = False
    existing_nullable: bool | None = None
    existing_comment: str | None = None
    modify_nullable: bool | None = None
    modify_comment: Any = False
    modify_server_default: Any = False
    modify_name: str | None = None
    modify_type: Any = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    def has_changes(self) -> bool:
        return bool(
            self.modify_nullable is not None
            or self.modify_server_default is not False
            or self.modify_type is not None
            or self.modify_comment is not False
            or self.modify_name is not None
            or any(k in self.kw for k in ("autoincrement",))
        )

    def to_diff_tuple(self) -> list[tuple[Any, ...]]:
        diffs: list[tuple[Any, ...]] = []
        base = (self.schema, self.table_name, self.column_name)
        if self.modify_type is not None:
            diffs.append(
                (
                    "modify_type",
                    *base,
                    {
                        "existing_nullable": self.existing_nullable,
                        "existing_server_default": self.existing_server_default,
                        "existing_comment": self.existing_comment,
                    },
                    self.existing_type,
                    self.modify_type,
                )
            )
        if self.modify_nullable is not None:
            diffs.append(
                (
                    "modify_nullable",
                    *base,
                    {
                        "existing_type": self.existing_type,
                        "existing_server_default": self.existing_server_default,
                        "existing_comment": self.existing_comment,
                    },
                    self.existing_nullable,
                    self.modify_nullable,
                )
            )
        if self.modify_server_default is not False:
            diffs.append(
                (
                    "modify_default",
                    *base,
                    {
                        "existing_nullable": self.existing_nullable,
                        "existing_type": self.existing_type,
                        "existing_comment": self.existing_comment,
                    },
                    self.existing_server_default,
                    self.modify_server_default,
                )
            )
        if self.modify_comment is not False:
            diffs.append(
                (
                    "modify_comment",
                    *base,
                    {
                        "existing_nullable": self.existing_nullable,
                        "existing_type": self.existing_type,
                        "existing_server_default": self.existing_server_default,
                    },
                    self.existing_comment,
                    self.modify_comment,
                )
            )
        return diffs

    def reverse(self) -> AlterColumnOp:
        kw = dict(self.kw)
        if "autoincrement" in kw or "existing_autoincrement" in kw:
            new_auto = kw.pop("autoincrement", None)
            old_auto = kw.pop("existing_autoincrement", None)
            if old_auto is not None:
                kw["autoincrement"] = old_auto
            if new_auto is not None:
                kw["existing_autoincrement"] = new_auto
        changing_type = self.modify_type is not None
        changing_null = self.modify_nullable is not None
        changing_default = self.modify_server_default is not False
        changing_comment = self.modify_comment is not False
        return AlterColumnOp(
            self.table_name,
            self.modify_name or self.column_name,
            schema=self.schema,
            existing_type=self.modify_type if changing_type else self.existing_type,
            existing_nullable=self.modify_nullable if changing_null else self.existing_nullable,
            existing_server_default=(
                self.modify_server_default if changing_default else self.existing_server_default
            ),
            existing_comment=self.modify_comment if changing_comment else self.existing_comment,
            modify_type=self.existing_type if changing_type else None,
            modify_nullable=self.existing_nullable if changing_null else None,
            modify_server_default=(
                (None if self.existing_server_default is False else self.existing_server_default)
                if changing_default
                else False
            ),
            modify_comment=self.existing_comment if changing_comment else False,
            modify_name=self.column_name if self.modify_name else None,
            kw=kw,
        )

    def risk(self) -> Risk:
        if self.modify_type is not None or self.modify_name is not None:
            return Risk.REVIEW
        if self.modify_nullable is False:
            return Risk.REVIEW
        return Risk.SAFE


# -- indexes -------------------------------------------------------------------------


@_collect_kw
@frozen_op
class CreateIndexOp(MigrateOperation):
    """``op.create_index(name, table, columns, schema=None, unique=False, ...)``."""

    index_name: str | None
    table_name: str
    columns: Sequence[str | ClauseElement]
    schema: str | None = None
    unique: bool = False
    if_not_exists: bool | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_index(cls, index: Index) -> CreateIndexOp:
        assert index.table is not None
        return cls(
            index.name,
            index.table.name,
            [e.name if isinstance(e, Column) else e for e in index.expressions],
            schema=index.table.schema,
            unique=bool(index.unique),
            kw=dict(index.dialect_kwargs),
        )

    def to_index(self, migration_context: Any = None) -> Index:
        return _schema_objects(migration_context).index(
            self.index_name,
            self.table_name,
            self.columns,
            schema=self.schema,
            unique=self.unique,
            **dict(self.kw),
        )

    def reverse(self) -> DropIndexOp:
        return DropIndexOp.from_index(self.to_index())

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("add_index", self.to_index())

    def risk(self) -> Risk:
        return Risk.REVIEW if self.unique else Risk.SAFE


@_collect_kw
@frozen_op
class DropIndexOp(MigrateOperation):
    """``op.drop_index(name, table_name=None, schema=None, if_exists=None, **kw)``."""

    index_name: str
    table_name: str | None = None
    schema: str | None = None
    if_exists: bool | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    _reverse: CreateIndexOp | None = None

    @classmethod
    def from_index(cls, index: Index) -> DropIndexOp:
        assert index.table is not None
        return cls(
            index.name,  # type: ignore[arg-type]
            table_name=index.table.name,
            schema=index.table.schema,
            _reverse=CreateIndexOp.from_index(index),
        )

    def to_index(self, migration_context: Any = None) -> Index:
        if self._reverse is not None:
            index = self._reverse.to_index(migration_context)
            for key, value in self.kw.items():
                index.dialect_kwargs[key] = value
            return index
        return _schema_objects(migration_context).index(
            self.index_name,
            self.table_name,
            ["x"],
            schema=self.schema,
            **dict(self.kw),
        )

    def reverse(self) -> CreateIndexOp:
        if self._reverse is None:
            raise LimbeckError(
                f"drop_index({self.index_name!r}) cannot be reversed: its columns are unknown"
            )
        return self._reverse

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("remove_index", self.to_index())

    def risk(self) -> Risk:
        if self._reverse is not None and self._reverse.unique:
            return Risk.REVIEW
        return Risk.SAFE


# -- constraints ----------------------------------------------------------------------


class AddConstraintOp(AlterTableOp):
    """Base of the ``create_*_constraint`` / ``create_foreign_key`` / ``create_primary_key`` ops."""

    constraint_type: str = ""
    constraint_name: str | None

    def to_constraint(self, migration_context: Any = None) -> Constraint:
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    @classmethod
    def from_constraint(cls, constraint: Constraint) -> AddConstraintOp:
        """The create operation for an existing constraint object."""
        table = constraint.table
        if isinstance(constraint, ForeignKeyConstraint):
            # From the column specs ("schema.table.column"): the referred
            # table need not be in the MetaData.
            specs = [e._get_colspec().split(".") for e in constraint.elements]
            referent = specs[0][-2]
            referent_schema = ".".join(specs[0][:-2]) or None
            return CreateForeignKeyOp(
                constraint.name,  # type: ignore[arg-type]
                table.name,
                referent,
                list(constraint.column_keys),
                [s[-1] for s in specs],
                onupdate=constraint.onupdate,
                ondelete=constraint.ondelete,
                deferrable=constraint.deferrable,
                initially=constraint.initially,
                match=constraint.match,
                source_schema=table.schema,
                referent_schema=referent_schema,
                kw=dict(constraint.dialect_kwargs),
            )
        if isinstance(constraint, PrimaryKeyConstraint):
            return CreatePrimaryKeyOp(
                constraint.name,  # type: ignore[arg-type]
                table.name,
                [c.name for c in constraint.columns],
                schema=table.schema,
                kw=dict(constraint.dialect_kwargs),
            )
        if isinstance(constraint, UniqueConstraint):
            kw: dict[str, Any] = dict(constraint.dialect_kwargs)
            if constraint.deferrable is not None:
                kw["deferrable"] = constraint.deferrable
            if constraint.initially is not None:
                kw["initially"] = constraint.initially
            return CreateUniqueConstraintOp(
                constraint.name,  # type: ignore[arg-type]
                table.name,
                [c.name for c in constraint.columns],
                schema=table.schema,
                kw=kw,
            )
        if isinstance(constraint, CheckConstraint):
            return CreateCheckConstraintOp(
                constraint.name,  # type: ignore[arg-type]
                table.name,
                constraint.sqltext,
                schema=table.schema,
                kw=dict(constraint.dialect_kwargs),
            )
        from sqlalchemy.dialects.postgresql import ExcludeConstraint

        if isinstance(constraint, ExcludeConstraint):
            return CreateExcludeConstraintOp(
                constraint.name,  # type: ignore[arg-type]
                table.name,
                [(expr, op) for expr, _name, op in constraint._render_exprs],
                where=constraint.where,
                schema=table.schema,
                kw={"using": constraint.using},
            )
        raise LimbeckError(f"no create operation for constraint {constraint!r}")

    def reverse(self) -> DropConstraintOp:
        return DropConstraintOp.from_constraint(self.to_constraint())

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("add_constraint", self.to_constraint())

    def risk(self) -> Risk:
        return Risk.REVIEW


@_collect_kw
@frozen_op
class CreatePrimaryKeyOp(AddConstraintOp):
    """``op.create_primary_key(name, table, columns, schema=None)``."""

    constraint_name: str | None
    table_name: str
    columns: Sequence[str]
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    constraint_type = "primarykey"

    def to_constraint(self, migration_context: Any = None) -> Constraint:
        return _schema_objects(migration_context).primary_key_constraint(
            self.constraint_name, self.table_name, self.columns, schema=self.schema, **dict(self.kw)
        )


@_collect_kw
@frozen_op
class CreateUniqueConstraintOp(AddConstraintOp):
    """``op.create_unique_constraint(name, table, columns, schema=None, **kw)``."""

    constraint_name: str | None
    table_name: str
    columns: Sequence[str]
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    constraint_type = "unique"

    def to_constraint(self, migration_context: Any = None) -> Constraint:
        return _schema_objects(migration_context).unique_constraint(
            self.constraint_name, self.table_name, self.columns, schema=self.schema, **dict(self.kw)
        )


@_collect_kw
@frozen_op
class CreateForeignKeyOp(AddConstraintOp):
    """``op.create_foreign_key(name, source, referent, local_cols, remote_cols, ...)``."""

    constraint_name: str | None
    source_table: str
    referent_table: str
    local_cols: Sequence[str]
    remote_cols: Sequence[str]
    onupdate: str | None = None
    ondelete: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    match: str | None = None
    source_schema: str | None = None
    referent_schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    constraint_type = "foreignkey"

    @property
    def table_name(self) -> str:  # type: ignore[override]
        return self.source_table

    @property
    def schema(self) -> str | None:  # type: ignore[override]
        return self.source_schema

    def to_constraint(self, migration_context: Any = None) -> Constraint:
        return _schema_objects(migration_context).foreign_key_constraint(
            self.constraint_name,
            self.source_table,
            self.referent_table,
            self.local_cols,
            self.remote_cols,
            onupdate=self.onupdate,
            ondelete=self.ondelete,
            deferrable=self.deferrable,
            initially=self.initially,
            match=self.match,
            source_schema=self.source_schema,
            referent_schema=self.referent_schema,
            **dict(self.kw),
        )

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("add_fk", self.to_constraint())


@_collect_kw
@frozen_op
class CreateCheckConstraintOp(AddConstraintOp):
    """``op.create_check_constraint(name, table, condition, schema=None, **kw)``."""

    constraint_name: str | None
    table_name: str
    condition: str | ClauseElement
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    constraint_type = "check"

    def to_constraint(self, migration_context: Any = None) -> Constraint:
        return _schema_objects(migration_context).check_constraint(
            self.constraint_name,
            self.table_name,
            self.condition,
            schema=self.schema,
            **dict(self.kw),
        )


@_collect_kw
@frozen_op
class CreateExcludeConstraintOp(AddConstraintOp):
    """``op.create_exclude_constraint(name, table, *elements, where=, using=)`` (PostgreSQL)."""

    constraint_name: str | None
    table_name: str
    elements: Sequence[tuple[Any, str]]
    where: str | ClauseElement | None = None
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    constraint_type = "exclude"

    def to_constraint(self, migration_context: Any = None) -> Constraint:
        return _schema_objects(migration_context).exclude_constraint(
            self.constraint_name,
            self.table_name,
            self.elements,
            where=self.where,
            schema=self.schema,
            **dict(self.kw),
        )


@frozen_op
class DropConstraintOp(AlterTableOp):
    """``op.drop_constraint(name, table, type_=None, schema=None, if_exists=None)``.

    ``type_`` is ``"foreignkey"``, ``"primary"``, ``"unique"`` or ``"check"``.
    """

    constraint_name: str | None
    table_name: str
    type_: str | None = None
    schema: str | None = None
    if_exists: bool | None = None
    _reverse: AddConstraintOp | None = None

    @classmethod
    def from_constraint(cls, constraint: Constraint) -> DropConstraintOp:
        types = {
            "unique_constraint": "unique",
            "foreign_key_constraint": "foreignkey",
            "primary_key_constraint": "primary",
            "check_constraint": "check",
            "column_check_constraint": "check",
            "table_or_column_check_constraint": "check",
        }
        table = constraint.table
        return cls(
            constraint.name,  # type: ignore[arg-type]
            table.name,
            schema=table.schema,
            type_=types.get(constraint.__visit_name__),
            _reverse=AddConstraintOp.from_constraint(constraint),
        )

    def to_constraint(self, migration_context: Any = None) -> Constraint:
        if self._reverse is not None:
            return self._reverse.to_constraint(migration_context)
        return _schema_objects(migration_context).generic_constraint(
            self.constraint_name, self.table_name, self.type_, schema=self.schema
        )

    def reverse(self) -> AddConstraintOp:
        if self._reverse is None:
            raise LimbeckError(
                f"drop_constraint({self.constraint_name!r}) on {self.table_name!r} cannot be "
                "reversed: the constraint's definition is unknown"
            )
        return self._reverse

    def to_diff_tuple(self) -> tuple[Any, ...]:
        kind = "remove_fk" if self.type_ == "foreignkey" else "remove_constraint"
        return (kind, self.to_constraint())

    def risk(self) -> Risk:
        return Risk.REVIEW


# -- data ----------------------------------------------------------------------------------


@frozen_op
class ExecuteSQLOp(MigrateOperation):
    """``op.execute(sqltext, execution_options=None)``."""

    sqltext: Any
    execution_options: Mapping[str, Any] | None = None

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("execute", self.sqltext)

    def risk(self) -> Risk:
        return Risk.REVIEW


@frozen_op
class BulkInsertOp(MigrateOperation):
    """``op.bulk_insert(table, rows, multiinsert=True)``."""

    table: Any
    rows: Sequence[Mapping[str, Any]]
    multiinsert: bool = True

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("bulk_insert", self.table, list(self.rows))

    def risk(self) -> Risk:
        return Risk.SAFE


@frozen_op
class AddEnumValueOp(MigrateOperation):
    """``op.add_enum_value(enum_name, value, ...)``: PostgreSQL ``ALTER TYPE ... ADD VALUE``."""

    enum_name: str
    value: str
    schema: str | None = None
    before: str | None = None
    after: str | None = None
    if_not_exists: bool = True
    autocommit: bool | None = None

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("add_enum_value", self.schema, self.enum_name, self.value)

    def risk(self) -> Risk:
        return Risk.SAFE


@frozen_op
class CreateEnumOp(MigrateOperation):
    """``op.create_enum(name, values, schema=None)``: PostgreSQL ``CREATE TYPE ... AS ENUM``.

    Does nothing where the type exists already, and nothing on databases
    without named enum types (their ENUM columns carry the values).
    """

    enum_name: str
    values: Sequence[str]
    schema: str | None = None

    def reverse(self) -> DropEnumOp:
        return DropEnumOp(self.enum_name, schema=self.schema, values=list(self.values))

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("add_enum", self.schema, self.enum_name, tuple(self.values))

    def risk(self) -> Risk:
        return Risk.SAFE


@frozen_op
class DropEnumOp(MigrateOperation):
    """``op.drop_enum(name, schema=None, values=None)``: PostgreSQL ``DROP TYPE IF EXISTS``.

    ``values`` (optional) lets the operation be reversed.
    """

    enum_name: str
    schema: str | None = None
    values: Sequence[str] | None = None

    def reverse(self) -> CreateEnumOp:
        if self.values is None:
            raise LimbeckError(
                f"drop_enum({self.enum_name!r}) cannot be reversed: its values are unknown",
                hint="pass values=[...] to drop_enum",
            )
        return CreateEnumOp(self.enum_name, list(self.values), schema=self.schema)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("remove_enum", self.schema, self.enum_name, tuple(self.values or ()))

    def risk(self) -> Risk:
        return Risk.REVIEW


# -- containers -----------------------------------------------------------------------


@mutable_op
class OpContainer(MigrateOperation):
    """A list of operations (mutable: revision hooks edit ``ops`` in place)."""

    ops: list[MigrateOperation] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.ops

    def as_diffs(self) -> list[tuple[Any, ...]]:
        return list(_flatten_diffs(self))

    def risk(self) -> Risk:
        return max((o.risk() for o in self.ops), default=Risk.SAFE)

    def _reversed_ops(self) -> list[MigrateOperation]:
        return [o.reverse() for o in reversed(self.ops)]


def _flatten_diffs(op: MigrateOperation) -> Iterator[tuple[Any, ...]]:
    if isinstance(op, OpContainer):
        for child in op.ops:
            yield from _flatten_diffs(child)
    else:
        diff = op.to_diff_tuple()
        if isinstance(diff, list):
            yield from diff
        else:
            yield diff


@mutable_op
class ModifyTableOps(OpContainer):
    """The operations on one table (rendered as a batch block with ``render_as_batch``)."""

    table_name: str = ""
    schema: str | None = None

    def __init__(
        self, table_name: str, ops: list[MigrateOperation], schema: str | None = None
    ) -> None:
        self.table_name = table_name
        self.ops = ops
        self.schema = schema

    def reverse(self) -> ModifyTableOps:
        return ModifyTableOps(self.table_name, self._reversed_ops(), schema=self.schema)

    def to_diff_tuple(self) -> list[tuple[Any, ...]]:
        return self.as_diffs()


@mutable_op
class UpgradeOps(OpContainer):
    """The operations of ``upgrade()``."""

    upgrade_token: str = "upgrades"

    def reverse_into(self, downgrade_ops: DowngradeOps) -> DowngradeOps:
        downgrade_ops.ops[:] = self._reversed_ops()
        return downgrade_ops

    def reverse(self) -> DowngradeOps:
        return self.reverse_into(DowngradeOps(ops=[]))

    def to_diff_tuple(self) -> list[tuple[Any, ...]]:
        return self.as_diffs()


@mutable_op
class DowngradeOps(OpContainer):
    """The operations of ``downgrade()``."""

    downgrade_token: str = "downgrades"

    def reverse(self) -> UpgradeOps:
        return UpgradeOps(ops=self._reversed_ops())

    def to_diff_tuple(self) -> list[tuple[Any, ...]]:
        return self.as_diffs()


@mutable_op
class MigrationScript(MigrateOperation):
    """A revision to be written: its id, message and upgrade/downgrade operations."""

    rev_id: str | None
    upgrade_ops: UpgradeOps
    downgrade_ops: DowngradeOps
    message: str | None = None
    imports: set[str] = field(default_factory=set)
    head: str | None = None
    splice: bool | None = None
    branch_label: str | None = None
    version_path: str | None = None
    depends_on: str | Sequence[str] | None = None

    @property
    def upgrade_ops_list(self) -> list[UpgradeOps]:
        return [self.upgrade_ops]

    @property
    def downgrade_ops_list(self) -> list[DowngradeOps]:
        return [self.downgrade_ops]

    def risk(self) -> Risk:
        return self.upgrade_ops.risk()

    def to_diff_tuple(self) -> list[tuple[Any, ...]]:
        return self.upgrade_ops.as_diffs()
