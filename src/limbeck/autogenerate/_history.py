"""The schema the migration history builds, without a database.

Every revision's ``upgrade()`` runs, base to heads, with an ``op`` that
records instead of executing: each operation object is applied to a
schema model (built the way :func:`limbeck.schema.from_metadata` sees the
same objects, so the result compares with the models on equal terms).
``check --offline`` compares the models with this.

Data statements (``op.execute``, ``op.bulk_insert``) change no schema and
are skipped, except the enum type statements autogenerate itself writes
(``CREATE TYPE ... AS ENUM``, ``ALTER TYPE ... RENAME TO``, ``DROP TYPE``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from limbeck import _current
from limbeck.autogenerate._compare import _rename_column_in, _rename_table_in
from limbeck.autogenerate._objects import Builder
from limbeck.autogenerate._toops import AlterEnumOp
from limbeck.errors import LimbeckError
from limbeck.operations import BatchOperations, Operations, ops
from limbeck.operations.batch import BatchOptions
from limbeck.operations.schemaobj import naming_convention_of
from limbeck.schema import Schema
from limbeck.schema import model as m
from limbeck.schema.from_metadata import VERSION_TABLES, _Builder, drop_implicit_fk_indexes

if TYPE_CHECKING:
    from limbeck.scripts.directory import ScriptDirectory

__all__ = ["schema_from_history"]

_CREATE_ENUM = re.compile(
    r"^\s*CREATE\s+TYPE\s+(?P<name>\S+)\s+AS\s+ENUM\s*\((?P<values>.*)\)\s*$", re.I | re.S
)
_RENAME_TYPE = re.compile(
    r"^\s*ALTER\s+TYPE\s+(?P<name>\S+)\s+RENAME\s+TO\s+(?P<new>\S+)\s*$", re.I
)
_DROP_TYPE = re.compile(r"^\s*DROP\s+TYPE\s+(?:IF\s+EXISTS\s+)?(?P<name>\S+)\s*$", re.I)


def _ident(text: str) -> tuple[str | None, str]:
    parts = [p.strip('"').replace('""', '"') for p in text.split(".")]
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


class _State:
    def __init__(self, context: Any) -> None:
        self.context = context
        self.dialect = context.dialect
        self.convention = naming_convention_of(context.opts)
        self.builder = _Builder(self.dialect, None, frozenset())
        self.objects = Builder(final_names=True)
        self.tables: dict[m.TableKey, m.Table] = {}
        self.enums: dict[m.TableKey, m.EnumType] = {}
        self.sequences: dict[m.TableKey, m.Sequence] = {}
        self.orphan_candidates: set[m.TableKey] = set()
        self.skipped = 0

    # -- helpers
    def metadata(self) -> sa.MetaData:
        return sa.MetaData(naming_convention=self.convention) if self.convention else sa.MetaData()

    def key(self, schema: str | None, name: str) -> m.TableKey:
        return (schema, name)

    def table(self, schema: str | None, name: str) -> m.Table:
        table = self.tables.get((schema, name))
        if table is None:
            raise LimbeckError(f"the history changes table {name!r} before creating it")
        return table

    def stub(self, table: m.Table) -> sa.Table:
        """A Table holding ``table``'s columns (nothing else), with real types."""
        cols = [self.objects.column(c) for c in table.columns]
        return sa.Table(table.name, self.metadata(), *cols, schema=table.schema)

    def model(self, sa_table: sa.Table) -> m.Table:
        before = dict(self.builder.enums)
        built = self.builder.table(sa_table)
        for key, enum in self.builder.enums.items():
            if key not in before:
                self.enums.setdefault(key, enum)
        return built

    def merge_new(self, table: m.Table, before: m.Table, after: m.Table) -> m.Table:
        """``table`` plus what ``after`` has beyond ``before`` (indexes, constraints)."""

        def extra(attr: str) -> tuple[Any, ...]:
            old = set(getattr(before, attr))
            return tuple(i for i in getattr(after, attr) if i not in old)

        return replace(
            table,
            indexes=table.indexes + extra("indexes"),
            unique_constraints=table.unique_constraints + extra("unique_constraints"),
            check_constraints=table.check_constraints + extra("check_constraints"),
            foreign_keys=table.foreign_keys + extra("foreign_keys"),
            primary_key=after.primary_key
            if after.primary_key != before.primary_key
            else table.primary_key,
        )

    def add_to_table(self, schema: str | None, name: str, *items: Any) -> None:
        table = self.table(schema, name)
        stub = self.stub(table)
        before = self.model(stub)
        for item in items:
            if isinstance(item, sa.Index):
                continue
            stub.append_constraint(item)
        after = self.model(stub)
        self.tables[table.key] = self.merge_new(table, before, after)

    def note_enums(self, columns: Any) -> None:
        for col in columns:
            if col.type.name in ("ENUM", "ENUM[]") and col.type.args:
                self.orphan_candidates.add(_ident(col.type.args[0]))

    def drop_orphan_enums(self) -> None:
        used = {
            _ident(c.type.args[0])
            for t in self.tables.values()
            for c in t.columns
            if c.type.name in ("ENUM", "ENUM[]") and c.type.args
        }
        for key in self.orphan_candidates - used:
            self.enums.pop(key, None)
        self.orphan_candidates.clear()

    # -- operations
    def apply(self, op: ops.MigrateOperation) -> None:
        handler = getattr(self, "on_" + type(op).__name__, None)
        if handler is None:
            for klass in type(op).__mro__[1:]:
                handler = getattr(self, "on_" + klass.__name__, None)
                if handler is not None:
                    break
        if handler is None:
            self.skipped += 1
            return
        handler(op)

    def on_CreateTableOp(self, op: ops.CreateTableOp) -> None:
        if op.table_name in VERSION_TABLES:
            return
        table = op.to_table(self.context)
        built = self.model(table)
        self.tables[built.key] = built

    def on_DropTableOp(self, op: ops.DropTableOp) -> None:
        table = self.tables.pop((op.schema, op.table_name), None)
        if table is not None and not op.kw.get("postgresql_keep_enum"):
            self.note_enums(table.columns)

    def on_RenameTableOp(self, op: ops.RenameTableOp) -> None:
        schema = Schema.of(self.tables.values())
        schema = _rename_table_in(schema, (op.schema, op.table_name), op.new_table_name)
        self.tables = dict(schema.tables_by_key)

    def on_AddColumnOp(self, op: ops.AddColumnOp) -> None:
        table = self.table(op.schema, op.table_name)
        stub = self.stub(table)
        before = self.model(stub)
        column = op.column._copy()
        stub.append_column(column)
        after = self.model(stub)
        new_col = after.column(column.name)
        assert new_col is not None
        merged = replace(table, columns=(*table.columns, new_col))
        self.tables[table.key] = self.merge_new(merged, before, after)

    def on_DropColumnOp(self, op: ops.DropColumnOp) -> None:
        table = self.table(op.schema, op.table_name)
        name = op.column_name
        dropped = [c for c in table.columns if c.name == name]
        if not op.kw.get("postgresql_keep_enum"):
            self.note_enums(dropped)

        def keeps(item: Any) -> bool:
            return name not in getattr(item, "columns", ())

        pk = table.primary_key
        self.tables[table.key] = replace(
            table,
            columns=tuple(c for c in table.columns if c.name != name),
            indexes=tuple(i for i in table.indexes if name not in i.elements),
            unique_constraints=tuple(u for u in table.unique_constraints if keeps(u)),
            foreign_keys=tuple(f for f in table.foreign_keys if keeps(f)),
            primary_key=pk if pk is None or keeps(pk) else None,
        )

    def on_AlterColumnOp(self, op: ops.AlterColumnOp) -> None:
        table = self.table(op.schema, op.table_name)
        old = table.column(op.column_name)
        if old is None:
            raise LimbeckError(f"the history alters {op.table_name}.{op.column_name}, unknown")
        stub = self.stub(table)
        col = stub.c[old.name]
        kw: dict[str, Any] = {
            "nullable": op.modify_nullable if op.modify_nullable is not None else old.nullable,
            "comment": op.modify_comment if op.modify_comment is not False else old.comment,
        }
        type_ = op.modify_type if op.modify_type is not None else col.type
        args: list[Any] = []
        default: Any = getattr(col.server_default, "arg", None)
        if op.modify_server_default is not False:
            default = op.modify_server_default
        if isinstance(default, sa.Identity):
            args.append(default)
            default = None
        elif old.identity is not None and op.modify_server_default is False:
            args.append(self.objects.identity(old.identity))
        if old.computed is not None:
            args.append(sa.Computed(sa.text(old.computed.sql), persisted=old.computed.persisted))
        new_sa = sa.Column(old.name, type_, *args, server_default=default, **kw)
        scratch = sa.Table(table.name, self.metadata(), new_sa, schema=table.schema)
        new_col = self.model(scratch).column(old.name)
        assert new_col is not None
        new_col = replace(new_col, autoincrement=old.autoincrement)
        self.tables[table.key] = replace(
            table, columns=tuple(new_col if c.name == old.name else c for c in table.columns)
        )
        if op.modify_type is not None:
            self.note_enums([old])
        if op.modify_name is not None:
            schema = _rename_column_in(
                Schema.of(self.tables.values()), table.key, old.name, op.modify_name
            )
            self.tables = dict(schema.tables_by_key)

    def on_CreateIndexOp(self, op: ops.CreateIndexOp) -> None:
        table = self.table(op.schema, op.table_name)
        stub = self.stub(table)
        before = self.model(stub)
        elements: list[Any] = [stub.c[c] if isinstance(c, str) else c for c in op.columns]
        sa.Index(op.index_name, *elements, unique=op.unique, _table=stub, **dict(op.kw))
        after = self.model(stub)
        self.tables[table.key] = self.merge_new(table, before, after)

    def on_DropIndexOp(self, op: ops.DropIndexOp) -> None:
        for key, table in self.tables.items():
            if op.table_name is not None and key != (op.schema, op.table_name):
                continue
            left = tuple(i for i in table.indexes if i.name != op.index_name)
            if len(left) != len(table.indexes):
                self.tables[key] = replace(table, indexes=left)
                return
            # MySQL keeps unique constraints as indexes
            uniques = tuple(u for u in table.unique_constraints if u.name != op.index_name)
            if len(uniques) != len(table.unique_constraints):
                self.tables[key] = replace(table, unique_constraints=uniques)
                return

    def on_AddConstraintOp(self, op: ops.AddConstraintOp) -> None:
        constraint = op.to_constraint(self.context)
        copy = _fresh_constraint(constraint)
        self.add_to_table(op.schema, op.table_name, copy)

    def on_DropConstraintOp(self, op: ops.DropConstraintOp) -> None:
        table = self.table(op.schema, op.table_name)
        name = op.constraint_name
        if op.type_ == "primary" or (
            table.primary_key is not None and table.primary_key.name == name and name
        ):
            self.tables[table.key] = replace(table, primary_key=None)
            return
        self.tables[table.key] = replace(
            table,
            unique_constraints=tuple(u for u in table.unique_constraints if u.name != name),
            check_constraints=tuple(c for c in table.check_constraints if c.name != name),
            foreign_keys=tuple(f for f in table.foreign_keys if f.name != name),
            indexes=tuple(i for i in table.indexes if not (i.unique and i.name == name)),
        )

    def on_CreateTableCommentOp(self, op: ops.CreateTableCommentOp) -> None:
        table = self.table(op.schema, op.table_name)
        self.tables[table.key] = replace(table, comment=op.comment or None)

    def on_DropTableCommentOp(self, op: ops.DropTableCommentOp) -> None:
        table = self.table(op.schema, op.table_name)
        self.tables[table.key] = replace(table, comment=None)

    def _native_enums(self) -> bool:
        return bool(self.builder.rules.native_enum_types)

    def on_CreateEnumOp(self, op: ops.CreateEnumOp) -> None:
        if self._native_enums():
            key = (op.schema, op.enum_name)
            self.enums.setdefault(key, m.EnumType(op.enum_name, tuple(op.values), op.schema))

    def on_DropEnumOp(self, op: ops.DropEnumOp) -> None:
        self.enums.pop((op.schema, op.enum_name), None)

    def on_AddEnumValueOp(self, op: ops.AddEnumValueOp) -> None:
        key = (op.schema, op.enum_name)
        enum = self.enums.get(key)
        if enum is None or op.value in enum.values:
            return
        values = list(enum.values)
        if op.before is not None and op.before in values:
            values.insert(values.index(op.before), op.value)
        elif op.after is not None and op.after in values:
            values.insert(values.index(op.after) + 1, op.value)
        else:
            values.append(op.value)
        self.enums[key] = replace(enum, values=tuple(values))

    def on_AlterEnumOp(self, op: AlterEnumOp) -> None:
        key = (op.schema, op.enum_name)
        self.enums[key] = m.EnumType(op.enum_name, op.new_values, op.schema)

    def on_ExecuteSQLOp(self, op: ops.ExecuteSQLOp) -> None:
        sql = op.sqltext
        if isinstance(sql, sa.schema.CreateSequence):
            seq = self.builder.sequence(sql.element)
            self.sequences[seq.key] = seq
            return
        text = sql if isinstance(sql, str) else getattr(sql, "text", None)
        if not isinstance(text, str):
            self.skipped += 1
            return
        if (match := _CREATE_ENUM.match(text)) is not None:
            schema, name = _ident(match["name"])
            values = tuple(v.strip()[1:-1].replace("''", "'") for v in match["values"].split(","))
            if self._native_enums():
                self.enums[(schema, name)] = m.EnumType(name, values, schema)
        elif (match := _RENAME_TYPE.match(text)) is not None:
            schema, name = _ident(match["name"])
            enum = self.enums.pop((schema, name), None)
            if enum is not None:
                new = _ident(match["new"])[1]
                self.enums[(schema, new)] = replace(enum, name=new)
        elif (match := _DROP_TYPE.match(text)) is not None:
            self.enums.pop(_ident(match["name"]), None)
        else:
            self.skipped += 1

    def schema(self) -> Schema:
        tables = list(self.tables.values())
        if self.builder.rules.fk_creates_index:
            tables = [
                replace(
                    t,
                    indexes=tuple(
                        drop_implicit_fk_indexes(
                            list(t.indexes), list(t.foreign_keys), t.primary_key
                        )
                    ),
                )
                for t in tables
            ]
        return Schema.of(tables, self.enums.values(), self.sequences.values(), self.dialect.name)


def _fresh_constraint(constraint: Any) -> Any:
    """An unbound copy of a constraint built for a stub table."""
    name = constraint.name
    if isinstance(constraint, sa.PrimaryKeyConstraint):
        return sa.PrimaryKeyConstraint(*[c.name for c in constraint.columns], name=name)
    if isinstance(constraint, sa.UniqueConstraint):
        return sa.UniqueConstraint(
            *[c.name for c in constraint.columns], name=name, **constraint.dialect_kwargs
        )
    if isinstance(constraint, sa.CheckConstraint):
        return sa.CheckConstraint(constraint.sqltext, name=name)
    if isinstance(constraint, sa.ForeignKeyConstraint):
        return sa.ForeignKeyConstraint(
            [c.name for c in constraint.columns],
            [e._get_colspec() for e in constraint.elements],
            name=name,
            ondelete=constraint.ondelete,
            onupdate=constraint.onupdate,
            deferrable=constraint.deferrable,
            initially=constraint.initially,
            match=constraint.match,
        )
    return constraint


class _RecordingBatch(BatchOperations):
    def invoke(self, operation: ops.MigrateOperation) -> Any:
        return self.parent.invoke(operation)

    def flush(self) -> None:
        """Nothing is queued."""


class _Recorder(Operations):
    def __init__(self, context: Any, state: _State) -> None:
        super().__init__(context)
        self.state = state

    def invoke(self, operation: ops.MigrateOperation) -> Any:
        self.state.apply(operation)
        return None

    @contextlib.contextmanager
    def batch_alter_table(
        self, table_name: str, schema: str | None = None, *args: Any, **kw: Any
    ) -> Iterator[BatchOperations]:
        yield _RecordingBatch(self, table_name, schema, BatchOptions())

    def get_bind(self) -> Any:
        raise LimbeckError(
            "a migration uses op.get_bind(), which has no database in check --offline",
            hint="run `limbeck check` against a database instead",
        )


def schema_from_history(script: ScriptDirectory, context: Any) -> Schema:
    """The schema after every revision of ``script`` ran, from an empty database."""
    from limbeck.graph import upgrade_plan

    graph = script.graph
    state = _State(context)
    try:
        for step in upgrade_plan(graph, (), graph.heads):
            module = script.script(step.revision).module
            upgrade = getattr(module, "upgrade", None)
            if upgrade is None:
                continue
            token = _current.operations.set(_Recorder(context, state))
            try:
                upgrade()
            finally:
                _current.operations.reset(token)
            state.drop_orphan_enums()
    finally:
        script.save_caches()
    return state.schema()
