"""Batch mode: queue a table's changes, then ALTER in place or rebuild the table.

``op.batch_alter_table("t")`` yields a :class:`~limbeck.operations.BatchOperations`
whose methods queue operations. At the end of the ``with`` block they run
either one by one (``recreate="never"``, or ``"auto"`` when the dialect can
ALTER them), or as one move-and-copy rebuild (see
:mod:`limbeck.ddl.rebuild`): :class:`TableBuilder` applies the queued
operations to a copy of the table's definition (reflected, or
``copy_from``), and the dialect copies the rows with a single
``INSERT ... SELECT``.

What a rebuild keeps: columns (types, nullability, server defaults,
comments, computed and identity definitions), the primary key, unique,
check and foreign-key constraints whether named or not, indexes (including
expression indexes), the table comment and dialect options; on SQLite also
triggers. Foreign keys of other tables that point at the table keep
pointing at it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from sqlalchemy.schema import Constraint, DefaultClause
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import JSON

from limbeck.errors import LimbeckError
from limbeck.operations import ops

if TYPE_CHECKING:
    from limbeck.operations.base import Operations

__all__ = ["BatchOptions", "TableBuilder", "run_batch"]


@dataclass
class BatchOptions:
    """The keyword arguments of ``batch_alter_table`` other than the table."""

    recreate: str = "auto"
    partial_reordering: Sequence[Sequence[str]] | None = None
    copy_from: Table | None = None
    table_args: Sequence[Any] = ()
    table_kwargs: Mapping[str, Any] = field(default_factory=dict)
    reflect_args: Sequence[Any] = ()
    reflect_kwargs: Mapping[str, Any] = field(default_factory=dict)
    naming_convention: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.recreate not in ("auto", "always", "never"):
            raise LimbeckError(
                f"batch_alter_table: recreate={self.recreate!r} is not 'auto', 'always' or 'never'"
            )


@dataclass
class _ConstraintSpec:
    kind: str  # unique, foreignkey, check
    name: Any
    columns: list[str]
    extra: dict[str, Any]


def _takes_from_sequence(column: Column[Any]) -> bool:
    """True for a column whose server default is PostgreSQL's ``nextval(...)``."""
    default = column.server_default
    arg = getattr(default, "arg", None)
    text = getattr(arg, "text", arg)
    return isinstance(text, str) and text.lstrip().lower().startswith("nextval(")


class TableBuilder:
    """The new definition of a table, built by applying operations to the old one."""

    def __init__(
        self,
        table: Table,
        options: BatchOptions,
        dialect_name: str,
        name_for: Callable[[ops.AddConstraintOp], Any] | None = None,
    ) -> None:
        self.table = table
        #: Names an unnamed new constraint by the migration's naming convention.
        self.name_for = name_for
        self.options = options
        self.dialect_name = dialect_name
        self.name = table.name
        self.schema = table.schema
        self.columns: dict[str, Column[Any]] = {}
        self.sources: dict[str, str | None] = {}
        self.cast_columns: set[str] = set()
        for col in table.columns:
            copy = col._copy()
            copy.unique = None
            copy.index = None
            copy.primary_key = False
            if _takes_from_sequence(copy):
                # Keep the reflected nextval() default: as an autoincrement
                # key SQLAlchemy would write SERIAL, a new sequence at 1.
                copy.autoincrement = False
            copy.constraints = {c for c in copy.constraints if getattr(c, "_type_bound", False)}
            self.columns[col.name] = copy
            self.sources[col.name] = col.name
        pk = table.primary_key
        self.pk_name: Any = pk.name if pk is not None else None
        self.pk_columns: list[str] = [c.name for c in pk.columns] if pk is not None else []
        self.constraints: list[_ConstraintSpec] = []
        for constraint in sorted(table.constraints, key=_constraint_sort_key):
            spec = self._spec_of(constraint)
            if spec is not None:
                self.constraints.append(spec)
        self.indexes: list[dict[str, Any]] = []
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            self.indexes.append(
                {
                    "name": index.name,
                    "exprs": [e.name if isinstance(e, Column) else e for e in index.expressions],
                    "unique": bool(index.unique),
                    "kw": dict(index.dialect_kwargs),
                }
            )
        self.comment = table.comment
        self.table_kwargs: dict[str, Any] = dict(table.dialect_kwargs)
        self.table_kwargs.update(options.table_kwargs)
        self.extra_after: list[ops.MigrateOperation] = []

    # -- reading the old definition ---------------------------------------------------

    def _spec_of(self, constraint: Constraint) -> _ConstraintSpec | None:
        if getattr(constraint, "_type_bound", False) or isinstance(
            constraint, PrimaryKeyConstraint
        ):
            return None
        name = self._name_of(constraint)
        extra: dict[str, Any] = {
            "deferrable": constraint.deferrable,
            "initially": constraint.initially,
        }
        extra["dialect_kw"] = dict(constraint.dialect_kwargs)
        if isinstance(constraint, UniqueConstraint):
            return _ConstraintSpec("unique", name, [c.name for c in constraint.columns], extra)
        if isinstance(constraint, ForeignKeyConstraint):
            extra.update(
                onupdate=constraint.onupdate,
                ondelete=constraint.ondelete,
                match=constraint.match,
                targets=[e._get_colspec() for e in constraint.elements],
            )
            return _ConstraintSpec("foreignkey", name, [c.name for c in constraint.columns], extra)
        if isinstance(constraint, CheckConstraint):
            extra["sqltext"] = constraint.sqltext
            return _ConstraintSpec("check", name, [], extra)
        return None

    def _name_of(self, constraint: Constraint) -> Any:
        name = constraint.name
        if isinstance(name, str) and name:
            return name
        convention = self.options.naming_convention
        if not convention:
            return None
        # Give an unnamed constraint the name the convention would, so that
        # drop_constraint can find it and the rebuilt table keeps it named.
        from sqlalchemy.sql import naming

        metadata = MetaData(naming_convention=dict(convention))
        probe = Table(
            self.table.name,
            metadata,
            *[Column(c.name, c.type) for c in self.table.columns],
            schema=self.table.schema,
        )
        try:
            copy = _copy_constraint_to(constraint, probe)
            converted = naming._constraint_name_for_table(copy, probe)  # type: ignore[no-untyped-call]
        except Exception:  # a convention token this constraint cannot fill
            return None
        return converted

    # -- applying operations ---------------------------------------------------------

    def apply(self, operation: ops.MigrateOperation) -> None:
        handler = getattr(self, "_apply_" + type(operation).__name__, None)
        if handler is None:
            for klass in type(operation).__mro__:
                handler = getattr(self, "_apply_" + klass.__name__, None)
                if handler is not None:
                    break
        if handler is None:
            raise LimbeckError(
                f"batch_alter_table({self.name!r}): {type(operation).__name__} cannot be "
                "applied in a table rebuild"
            )
        handler(operation)

    def _column(self, name: str, directive: str) -> Column[Any]:
        try:
            return self.columns[name]
        except KeyError:
            raise LimbeckError(f"{directive}: no column {name!r} in table {self.name!r}") from None

    def _apply_AddColumnOp(self, op: ops.AddColumnOp) -> None:
        if op.column.name in self.columns:
            if op.if_not_exists:
                return
            raise LimbeckError(
                f"add_column: table {self.name!r} already has column {op.column.name!r}"
            )
        column = op.column._copy() if ops.bound_table(op.column) is not None else op.column
        if column.primary_key:
            column.primary_key = False
            self.pk_columns.append(column.name)
        if column.unique:
            column.unique = None
            self.constraints.append(
                _ConstraintSpec("unique", None, [column.name], {"dialect_kw": {}})
            )
        if column.index:
            column.index = None
            self.indexes.append(
                {"name": None, "exprs": [column.name], "unique": False, "kw": {}, "auto": True}
            )
        for fk in list(column.foreign_keys):
            self.constraints.append(
                _ConstraintSpec(
                    "foreignkey",
                    fk.name,
                    [column.name],
                    {
                        "targets": [fk._get_colspec()],
                        "onupdate": fk.onupdate,
                        "ondelete": fk.ondelete,
                        "deferrable": fk.deferrable,
                        "initially": fk.initially,
                        "match": fk.match,
                        "dialect_kw": {},
                    },
                )
            )
        column.foreign_keys = set()
        self.columns[column.name] = column
        self.sources[column.name] = None
        self._move(column.name, op.insert_before, op.insert_after)

    def _apply_DropColumnOp(self, op: ops.DropColumnOp) -> None:
        if op.column_name not in self.columns:
            if op.if_exists:
                return
            self._column(op.column_name, "drop_column")
        del self.columns[op.column_name]
        self.sources.pop(op.column_name, None)
        name = op.column_name
        self.pk_columns = [c for c in self.pk_columns if c != name]
        self.constraints = [
            c
            for c in self.constraints
            if name not in c.columns
            and not (c.kind == "check" and _mentions(c.extra.get("sqltext"), name))
        ]
        self.indexes = [i for i in self.indexes if name not in i["exprs"]]

    def _apply_AlterColumnOp(self, op: ops.AlterColumnOp) -> None:
        column = self._column(op.column_name, "alter_column")
        if op.modify_type is not None:
            old_type = column.type
            column.type = op.modify_type
            if _type_changed(old_type, op.modify_type, self.dialect_name):
                self.cast_columns.add(op.column_name)
        if op.modify_nullable is not None:
            column.nullable = op.modify_nullable
        if op.modify_server_default is not False:
            default = op.modify_server_default
            if default is None:
                column.server_default = None
            elif isinstance(default, DefaultClause):
                column.server_default = default
            else:
                column.server_default = DefaultClause(default)
        if op.modify_comment is not False:
            column.comment = op.modify_comment
        if "autoincrement" in op.kw:
            column.autoincrement = op.kw["autoincrement"]
        if op.modify_name is not None and op.modify_name != op.column_name:
            self._rename(op.column_name, op.modify_name)
        self._move(
            op.modify_name or op.column_name,
            op.kw.get("insert_before"),
            op.kw.get("insert_after"),
        )

    def _rename(self, old: str, new: str) -> None:
        if new in self.columns:
            raise LimbeckError(f"alter_column: table {self.name!r} already has column {new!r}")
        renamed: dict[str, Column[Any]] = {}
        for key, col in self.columns.items():
            if key == old:
                col.name = new
                col.key = new
                renamed[new] = col
            else:
                renamed[key] = col
        self.columns = renamed
        self.sources = {(new if k == old else k): v for k, v in self.sources.items()}
        if old in self.cast_columns:
            self.cast_columns.discard(old)
            self.cast_columns.add(new)
        self.pk_columns = [new if c == old else c for c in self.pk_columns]
        for spec in self.constraints:
            spec.columns = [new if c == old else c for c in spec.columns]
            if spec.kind == "check":
                spec.extra["sqltext"] = _rename_in_sql(spec.extra.get("sqltext"), old, new)
        for index in self.indexes:
            index["exprs"] = [new if e == old else e for e in index["exprs"]]

    def _move(self, name: str, before: str | None, after: str | None) -> None:
        if before is None and after is None:
            return
        anchor = before if before is not None else after
        assert anchor is not None
        self._column(anchor, "insert_before/insert_after")
        order = [k for k in self.columns if k != name]
        position = order.index(anchor) + (0 if before is not None else 1)
        order.insert(position, name)
        self.columns = {k: self.columns[k] for k in order}

    def _new_name(self, op: ops.AddConstraintOp) -> Any:
        if op.constraint_name is not None or self.name_for is None:
            return op.constraint_name
        return self.name_for(op)

    def _apply_CreatePrimaryKeyOp(self, op: ops.CreatePrimaryKeyOp) -> None:
        for name in op.columns:
            self._column(name, "create_primary_key")
        self.pk_columns = list(op.columns)
        self.pk_name = op.constraint_name

    def _apply_CreateUniqueConstraintOp(self, op: ops.CreateUniqueConstraintOp) -> None:
        for name in op.columns:
            self._column(name, "create_unique_constraint")
        kw = dict(op.kw)
        extra = {
            "deferrable": kw.pop("deferrable", None),
            "initially": kw.pop("initially", None),
            "dialect_kw": kw,
        }
        self.constraints.append(
            _ConstraintSpec("unique", self._new_name(op), list(op.columns), extra)
        )

    def _apply_CreateForeignKeyOp(self, op: ops.CreateForeignKeyOp) -> None:
        for name in op.local_cols:
            self._column(name, "create_foreign_key")
        prefix = f"{op.referent_schema}." if op.referent_schema else ""
        extra = {
            "targets": [f"{prefix}{op.referent_table}.{c}" for c in op.remote_cols],
            "onupdate": op.onupdate,
            "ondelete": op.ondelete,
            "deferrable": op.deferrable,
            "initially": op.initially,
            "match": op.match,
            "dialect_kw": dict(op.kw),
        }
        self.constraints.append(
            _ConstraintSpec("foreignkey", self._new_name(op), list(op.local_cols), extra)
        )

    def _apply_CreateCheckConstraintOp(self, op: ops.CreateCheckConstraintOp) -> None:
        extra = {"sqltext": op.condition, "dialect_kw": dict(op.kw)}
        self.constraints.append(_ConstraintSpec("check", self._new_name(op), [], extra))

    def _apply_DropConstraintOp(self, op: ops.DropConstraintOp) -> None:
        name = op.constraint_name
        if op.type_ == "primary" or (name is not None and name == self.pk_name):
            self.pk_columns = []
            self.pk_name = None
            return
        kinds = {"unique": "unique", "foreignkey": "foreignkey", "check": "check"}
        wanted = kinds.get(op.type_ or "")
        for spec in self.constraints:
            named = spec.name is not None and str(spec.name) == str(name)
            if named and (wanted is None or spec.kind == wanted):
                self.constraints.remove(spec)
                return
        for index in self.indexes:
            if index["unique"] and index["name"] == name:
                self.indexes.remove(index)
                return
        if op.if_exists:
            return
        hint = None
        if any(s.name is None for s in self.constraints):
            hint = "the table has unnamed constraints; pass naming_convention= to batch_alter_table"
        raise LimbeckError(
            f"drop_constraint: no constraint named {name!r} on table {self.name!r}", hint=hint
        )

    def _apply_CreateIndexOp(self, op: ops.CreateIndexOp) -> None:
        self.indexes.append(
            {
                "name": op.index_name,
                "exprs": list(op.columns),
                "unique": op.unique,
                "kw": dict(op.kw),
            }
        )

    def _apply_DropIndexOp(self, op: ops.DropIndexOp) -> None:
        for index in self.indexes:
            if index["name"] == op.index_name:
                self.indexes.remove(index)
                return
        if not op.if_exists:
            raise LimbeckError(f"drop_index: no index {op.index_name!r} on table {self.name!r}")

    def _apply_CreateTableCommentOp(self, op: ops.CreateTableCommentOp) -> None:
        self.comment = op.comment

    def _apply_DropTableCommentOp(self, op: ops.DropTableCommentOp) -> None:
        self.comment = None

    # -- the result ------------------------------------------------------------------------

    def ordered_names(self) -> list[str]:
        names = list(self.columns)
        for chain in self.options.partial_reordering or ():
            for name in chain:
                self._column(name, "partial_reordering")
            # Place the chain's columns, in the given order, where its first
            # member stands now.
            rest = [n for n in names if n not in chain]
            first = min(names.index(n) for n in chain)
            before = [n for n in names[:first] if n not in chain]
            names = before + list(chain) + [n for n in rest if n not in before]
        return names

    def build(self) -> Table:
        """The new Table, in a MetaData where its foreign keys resolve."""
        metadata = MetaData(
            naming_convention=dict(self.options.naming_convention)
            if self.options.naming_convention
            else MetaData().naming_convention
        )
        names = self.ordered_names()
        columns = [self.columns[n] for n in names]
        items: list[Any] = list(columns)
        if self.pk_columns:
            items.append(PrimaryKeyConstraint(*self.pk_columns, name=self.pk_name))
        for spec in self.constraints:
            items.append(self._constraint(spec))
        items.extend(self.options.table_args)
        kw = dict(self.table_kwargs)
        # table_kwargs={"comment": ...} replaces the table's comment.
        comment = kw.pop("comment", self.comment)
        table = Table(self.name, metadata, *items, schema=self.schema, comment=comment, **kw)
        for index_spec in self.indexes:
            exprs = [table.c[e] if isinstance(e, str) else e for e in index_spec["exprs"]]
            # An index on expressions alone (lower(email)) names no column that
            # would attach it to the table: attach it explicitly.
            bound = any(isinstance(e, Column) for e in exprs)
            Index(
                index_spec["name"],
                *exprs,
                unique=index_spec["unique"],
                _table=None if bound else table,
                **index_spec["kw"],
            )
        from limbeck.ddl.rebuild import ensure_fk_targets

        ensure_fk_targets(table)
        return table

    def _constraint(self, spec: _ConstraintSpec) -> Constraint:
        extra = spec.extra
        common = {
            "name": spec.name,
            "deferrable": extra.get("deferrable"),
            "initially": extra.get("initially"),
            **extra.get("dialect_kw", {}),
        }
        if spec.kind == "unique":
            return UniqueConstraint(*spec.columns, **common)
        if spec.kind == "foreignkey":
            return ForeignKeyConstraint(
                spec.columns,
                extra["targets"],
                onupdate=extra.get("onupdate"),
                ondelete=extra.get("ondelete"),
                match=extra.get("match"),
                **common,
            )
        return CheckConstraint(extra["sqltext"], **common)

    def sources_map(self) -> dict[str, Any]:
        from limbeck.ddl.rebuild import ColumnSource

        return {
            name: ColumnSource(source, cast=name in self.cast_columns)
            for name, source in self.sources.items()
            if source is not None and name in self.columns
        }


def _convention_name(operations: Operations, op: ops.AddConstraintOp) -> Any:
    """The name the migration's naming convention gives a new unnamed constraint."""
    if not operations.schema_obj.naming_convention:
        return None
    from sqlalchemy.sql import naming

    constraint = op.to_constraint(operations.migration_context)
    table = constraint.table
    try:
        return naming._constraint_name_for_table(constraint, table)  # type: ignore[no-untyped-call]
    except Exception:  # the convention needs a token this constraint lacks
        return None


def _constraint_sort_key(constraint: Constraint) -> tuple[str, str]:
    return (type(constraint).__name__, str(constraint.name or ""))


def _copy_constraint_to(constraint: Constraint, table: Table) -> Constraint:
    copy: Constraint
    if isinstance(constraint, UniqueConstraint):
        copy = UniqueConstraint(*[c.name for c in constraint.columns])
    elif isinstance(constraint, ForeignKeyConstraint):
        copy = ForeignKeyConstraint(
            [c.name for c in constraint.columns], [e._get_colspec() for e in constraint.elements]
        )
    elif isinstance(constraint, CheckConstraint):
        copy = CheckConstraint(constraint.sqltext)
    else:
        raise TypeError(constraint)
    table.append_constraint(copy)
    return copy


def _rename_in_sql(sqltext: Any, old: str, new: str) -> Any:
    """``sqltext`` with whole-word references to column ``old`` renamed to ``new``."""
    import re

    from sqlalchemy import text

    if isinstance(sqltext, TextClause):
        source = sqltext.text
    elif isinstance(sqltext, str):
        source = sqltext
    else:
        return sqltext
    pattern = r'(?<![\w$"`\[])' + re.escape(old) + r'(?![\w$"`\]])'
    renamed = re.sub(pattern, new, source)
    for left, right in (('"', '"'), ("`", "`"), ("[", "]")):
        renamed = renamed.replace(f"{left}{old}{right}", f"{left}{new}{right}")
    return text(renamed)


def _mentions(sqltext: Any, column: str) -> bool:
    if sqltext is None:
        return False
    text = sqltext.text if isinstance(sqltext, TextClause) else str(sqltext)
    import re

    return re.search(r"(?<![\w$])" + re.escape(column) + r"(?![\w$])", text, re.I) is not None


def _type_changed(old: Any, new: Any, dialect_name: str) -> bool:
    if dialect_name == "sqlite" and isinstance(new, JSON):
        return False
    from sqlalchemy.engine import default

    dialect = default.DefaultDialect()
    try:
        return bool(old.compile(dialect) != new.compile(dialect))
    except Exception:
        return type(old) is not type(new)


def run_batch(
    operations: Operations,
    table_name: str,
    schema: str | None,
    queued: Sequence[ops.MigrateOperation],
    options: BatchOptions,
) -> None:
    """Run a batch's queued operations: ALTERs in place, or one table rebuild."""
    impl = operations.impl
    if options.recreate == "always":
        recreate = True
    elif options.recreate == "never":
        recreate = False
    else:
        recreate = bool(impl.batch_requires_recreate(queued))
    if not recreate:
        previous = operations.auto_rebuild
        operations.auto_rebuild = options.recreate != "never"
        try:
            for operation in queued:
                operations.invoke(operation)
        finally:
            operations.auto_rebuild = previous
        return
    rebuild_table(operations, table_name, schema, queued, options)


def rebuild_table(
    operations: Operations,
    table_name: str,
    schema: str | None,
    queued: Sequence[ops.MigrateOperation],
    options: BatchOptions,
) -> None:
    """Rebuild ``table_name`` with ``queued`` applied (move and copy)."""
    from limbeck.ddl.rebuild import TableRebuild

    impl = operations.impl
    if options.copy_from is not None:
        old = options.copy_from
    else:
        if impl.as_sql:
            raise LimbeckError(
                f"batch_alter_table({table_name!r}) needs to read the table, which offline "
                f"(--sql) mode cannot do on {impl.dialect.name}",
                hint="pass copy_from=Table(...) describing the table as it is",
            )
        metadata = (
            MetaData(naming_convention=dict(options.naming_convention))
            if options.naming_convention
            else MetaData()
        )
        old = impl.reflect_table(
            table_name,
            schema,
            metadata=metadata,
            reflect_args=options.reflect_args,
            reflect_kwargs=options.reflect_kwargs,
        )
    builder = TableBuilder(
        old,
        options,
        impl.dialect.name,
        name_for=lambda op: _convention_name(operations, op),
    )
    deferred: list[ops.MigrateOperation] = []
    for operation in queued:
        if isinstance(operation, ops.ExecuteSQLOp):
            deferred.append(operation)
        else:
            builder.apply(operation)
    new = builder.build()
    impl.rebuild_table(
        TableRebuild(
            table_name=table_name,
            schema=schema,
            old_table=old,
            new_table=new,
            sources=builder.sources_map(),
        )
    )
    for operation in deferred:
        operations.invoke(operation)
