"""Compare two schema models, and replay the differences.

:func:`diff` answers "what must change to turn ``old`` into ``new``" as a
list of small frozen :class:`Change` objects, in an order that can be
executed top to bottom:

1. new and altered enum types and sequences;
2. foreign keys dropped from tables that stay;
3. dropped tables, referencing tables first (foreign keys inside a cycle of
   dropped tables are dropped on their own before, see ``from_cycle``);
4. per table that stays: dropped indexes, unique and check constraints and
   primary key, then added, altered and dropped columns, then the new
   primary key, unique and check constraints, indexes and the table comment;
5. new tables, referenced tables first; a foreign key that closes a cycle
   of new tables is left out of its table and added in step 6;
6. foreign keys added to tables that stay, and the cycle-closing ones;
7. dropped enum types and sequences.

:func:`apply` replays changes onto a model, so ``apply(a, diff(a, b)) == b``
and ``diff(a, a) == []``. Both are pure: no database, no SQLAlchemy objects
built.

Matching rules: columns, tables, enum types and sequences match by name.
Indexes and constraints match by name when both sides are named; an
unnamed one (``name=None``, such as a constraint declared without a name
and without a naming convention) matches the first one with the same
content on the other side whatever its name, because the database names
such constraints itself. A changed index or constraint is dropped and
added again.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, TypeVar

from limbeck.errors import LimbeckError
from limbeck.schema.model import (
    CheckConstraint,
    Column,
    Constraint,
    EnumType,
    ForeignKey,
    Index,
    PrimaryKey,
    Schema,
    Table,
    TableKey,
    UniqueConstraint,
)
from limbeck.schema.model import Sequence as SequenceModel

__all__ = [
    "COLUMN_ATTRIBUTES",
    "AddColumn",
    "AddConstraint",
    "AddIndex",
    "AddTable",
    "AlterColumn",
    "AlterEnum",
    "AlterSequence",
    "AlterTableComment",
    "Change",
    "ChangeConflict",
    "CreateEnum",
    "CreateSequence",
    "DiffOptions",
    "DropColumn",
    "DropConstraint",
    "DropEnum",
    "DropIndex",
    "DropSequence",
    "DropTable",
    "apply",
    "diff",
]

#: The column attributes :class:`AlterColumn` may report, in report order.
COLUMN_ATTRIBUTES = ("type", "nullable", "server_default", "comment", "computed", "identity")


class ChangeConflict(LimbeckError):
    """A change does not fit the schema it is applied to."""


@dataclass(frozen=True)
class DiffOptions:
    """What :func:`diff` compares. Everything is on by default."""

    compare_type: bool = True
    compare_nullable: bool = True
    compare_server_default: bool = True
    compare_comment: bool = True
    compare_computed: bool = True
    compare_identity: bool = True
    compare_primary_key: bool = True
    compare_indexes: bool = True
    compare_unique_constraints: bool = True
    compare_check_constraints: bool = True
    compare_foreign_keys: bool = True
    compare_enums: bool = True
    compare_sequences: bool = True


# ------------------------------------------------------------------ changes


@dataclass(frozen=True)
class Change:
    """Base class of every change."""

    kind: ClassVar[str] = "change"


@dataclass(frozen=True)
class _TableChange(Change):
    schema: str | None
    table_name: str

    @property
    def table_key(self) -> TableKey:
        return (self.schema, self.table_name)


@dataclass(frozen=True)
class AddTable(Change):
    """Create ``table`` with its columns, keys, constraints and indexes."""

    table: Table
    kind: ClassVar[str] = "add_table"


@dataclass(frozen=True)
class DropTable(Change):
    """Drop ``table``; the full definition is kept so the drop can be reversed."""

    table: Table
    kind: ClassVar[str] = "drop_table"


@dataclass(frozen=True)
class AddColumn(_TableChange):
    column: Column
    kind: ClassVar[str] = "add_column"


@dataclass(frozen=True)
class DropColumn(_TableChange):
    """Drop ``column``; the full definition is kept so the drop can be reversed."""

    column: Column
    kind: ClassVar[str] = "drop_column"


@dataclass(frozen=True)
class AlterColumn(_TableChange):
    """Change column ``old`` into ``new`` (same name).

    ``changed`` names the attributes that differ, in the order of
    :data:`COLUMN_ATTRIBUTES`; ``old`` gives the existing type, nullability,
    default and comment that some backends need to alter a column.
    """

    old: Column
    new: Column
    changed: tuple[str, ...]
    kind: ClassVar[str] = "alter_column"

    @property
    def column_name(self) -> str:
        return self.new.name


@dataclass(frozen=True)
class AddIndex(_TableChange):
    index: Index
    kind: ClassVar[str] = "add_index"


@dataclass(frozen=True)
class DropIndex(_TableChange):
    index: Index
    kind: ClassVar[str] = "drop_index"


@dataclass(frozen=True)
class AddConstraint(_TableChange):
    """Add a primary key, unique, check or foreign key constraint.

    ``from_cycle`` is True for a foreign key split out of a new table's
    definition because it closes a cycle of foreign keys between new tables:
    it can only be created once all of them exist.
    """

    constraint: Constraint
    from_cycle: bool = False
    kind: ClassVar[str] = "add_constraint"


@dataclass(frozen=True)
class DropConstraint(_TableChange):
    """Drop a constraint. ``from_cycle``: see :class:`AddConstraint`."""

    constraint: Constraint
    from_cycle: bool = False
    kind: ClassVar[str] = "drop_constraint"


@dataclass(frozen=True)
class AlterTableComment(_TableChange):
    old: str | None
    new: str | None
    kind: ClassVar[str] = "alter_table_comment"


@dataclass(frozen=True)
class CreateEnum(Change):
    enum: EnumType
    kind: ClassVar[str] = "create_enum"


@dataclass(frozen=True)
class DropEnum(Change):
    enum: EnumType
    kind: ClassVar[str] = "drop_enum"


@dataclass(frozen=True)
class AlterEnum(Change):
    """The values of an enum type change.

    When only values are added (``removed_values`` empty) PostgreSQL can
    ``ALTER TYPE ... ADD VALUE``; ``before`` gives each added value's
    position. Removing or reordering values needs the type recreated.
    """

    old: EnumType
    new: EnumType
    kind: ClassVar[str] = "alter_enum"

    @property
    def added_values(self) -> tuple[str, ...]:
        old = set(self.old.values)
        return tuple(v for v in self.new.values if v not in old)

    @property
    def removed_values(self) -> tuple[str, ...]:
        new = set(self.new.values)
        return tuple(v for v in self.old.values if v not in new)

    @property
    def only_adds(self) -> bool:
        """True when the old values keep their order and new ones are added."""
        kept = [v for v in self.new.values if v in set(self.old.values)]
        return not self.removed_values and kept == list(self.old.values)


@dataclass(frozen=True)
class CreateSequence(Change):
    sequence: SequenceModel
    kind: ClassVar[str] = "create_sequence"


@dataclass(frozen=True)
class DropSequence(Change):
    sequence: SequenceModel
    kind: ClassVar[str] = "drop_sequence"


@dataclass(frozen=True)
class AlterSequence(Change):
    old: SequenceModel
    new: SequenceModel
    kind: ClassVar[str] = "alter_sequence"


# --------------------------------------------------------------------- diff


_Item = TypeVar("_Item", Index, UniqueConstraint, CheckConstraint, ForeignKey)


def _match(old: Sequence[_Item], new: Sequence[_Item]) -> tuple[list[_Item], list[_Item]]:
    """Items only in ``old`` (to drop) and only in ``new`` (to add)."""
    if old == new:
        return [], []
    old_left = list(old)
    new_left: list[_Item] = []
    by_name: dict[str, _Item] = {o.name: o for o in old if o.name is not None}
    drops: list[_Item] = []
    adds: list[_Item] = []
    matched_old: set[int] = set()
    for item in new:
        if item.name is not None and item.name in by_name:
            other = by_name[item.name]
            matched_old.add(id(other))
            if other != item:
                drops.append(other)
                adds.append(item)
        else:
            new_left.append(item)
    old_left = [o for o in old if id(o) not in matched_old]
    # unnamed on either side: match by content
    for item in new_left:
        found = None
        for o in old_left:
            if (o.name is None or item.name is None) and replace(o, name=None) == replace(
                item, name=None
            ):
                found = o
                break
        if found is not None:
            old_left.remove(found)
        else:
            adds.append(item)
    drops.extend(old_left)
    return drops, adds


def _pk_equal(a: PrimaryKey | None, b: PrimaryKey | None) -> bool:
    if a is None or b is None:
        return a is b
    if a.columns != b.columns:
        return False
    return a.name is None or b.name is None or a.name == b.name


def _column_changes(old: Column, new: Column, options: DiffOptions) -> tuple[str, ...]:
    changed: list[str] = []
    if options.compare_type and old.type != new.type:
        changed.append("type")
    if options.compare_nullable and old.nullable != new.nullable:
        changed.append("nullable")
    if options.compare_server_default and old.server_default != new.server_default:
        changed.append("server_default")
    if options.compare_comment and old.comment != new.comment:
        changed.append("comment")
    if options.compare_computed and old.computed != new.computed:
        changed.append("computed")
    if options.compare_identity and old.identity != new.identity:
        changed.append("identity")
    return tuple(changed)


@dataclass
class _Plan:
    types: list[Change] = field(default_factory=list)
    drop_fks: list[Change] = field(default_factory=list)
    drop_tables: list[Change] = field(default_factory=list)
    alter_tables: list[Change] = field(default_factory=list)
    add_tables: list[Change] = field(default_factory=list)
    add_fks: list[Change] = field(default_factory=list)
    drop_types: list[Change] = field(default_factory=list)

    def changes(self) -> list[Change]:
        return (
            self.types
            + self.drop_fks
            + self.drop_tables
            + self.alter_tables
            + self.add_tables
            + self.add_fks
            + self.drop_types
        )


def _sort_key(key: TableKey) -> tuple[str, str]:
    return ("" if key[0] is None else key[0], key[1])


def _creation_order(
    tables: Sequence[Table],
) -> list[tuple[Table, list[ForeignKey]]]:
    """Tables in an order where each one's references come first.

    Returns ``(table, deferred)`` pairs: ``deferred`` are the foreign keys
    that point at a table of the set not created yet (a cycle), to be added
    once every table exists. Deterministic: ties go by (schema, name).
    """
    by_key = {t.key: t for t in tables}
    deps: dict[TableKey, set[TableKey]] = {}
    users: dict[TableKey, set[TableKey]] = {k: set() for k in by_key}
    for t in tables:
        d = {fk.referred_key for fk in t.foreign_keys if fk.referred_key in by_key}
        d.discard(t.key)
        deps[t.key] = d
        for r in d:
            users[r].add(t.key)
    remaining = {k: len(v) for k, v in deps.items()}
    ready = [(_sort_key(k), k) for k, n in remaining.items() if n == 0]
    heapq.heapify(ready)
    done: set[TableKey] = set()
    order: list[tuple[Table, list[ForeignKey]]] = []
    pending = set(by_key)

    def emit(key: TableKey) -> None:
        table = by_key[key]
        deferred = [
            fk
            for fk in table.foreign_keys
            if fk.referred_key in by_key and fk.referred_key != key and fk.referred_key not in done
        ]
        order.append((table, deferred))
        done.add(key)
        pending.discard(key)
        for u in users[key]:
            if u in pending:
                remaining[u] -= 1
                if remaining[u] == 0:
                    heapq.heappush(ready, (_sort_key(u), u))

    while pending:
        if ready:
            _, key = heapq.heappop(ready)
            if key in done:
                continue
            emit(key)
        else:
            # a cycle: break it at the first pending table by name
            key = min(pending, key=_sort_key)
            emit(key)
    return order


def _without_fks(table: Table, fks: Iterable[ForeignKey]) -> Table:
    drop = set(fks)
    if not drop:
        return table
    return replace(table, foreign_keys=tuple(f for f in table.foreign_keys if f not in drop))


def _diff_table(old: Table, new: Table, options: DiffOptions, plan: _Plan) -> None:
    schema, name = new.schema, new.name
    out = plan.alter_tables
    # foreign keys
    if options.compare_foreign_keys:
        fk_drops, fk_adds = _match(old.foreign_keys, new.foreign_keys)
        plan.drop_fks.extend(DropConstraint(schema, name, fk) for fk in fk_drops)
        plan.add_fks.extend(AddConstraint(schema, name, fk) for fk in fk_adds)
    idx_drops, idx_adds = _match(old.indexes, new.indexes) if options.compare_indexes else ([], [])
    uq_drops, uq_adds = (
        _match(old.unique_constraints, new.unique_constraints)
        if options.compare_unique_constraints
        else ([], [])
    )
    ck_drops, ck_adds = (
        _match(old.check_constraints, new.check_constraints)
        if options.compare_check_constraints
        else ([], [])
    )
    pk_changed = options.compare_primary_key and not _pk_equal(old.primary_key, new.primary_key)
    out.extend(DropIndex(schema, name, i) for i in idx_drops)
    out.extend(DropConstraint(schema, name, c) for c in uq_drops)
    out.extend(DropConstraint(schema, name, c) for c in ck_drops)
    if pk_changed and old.primary_key is not None:
        out.append(DropConstraint(schema, name, old.primary_key))
    # columns, in the new table's order; drops in the old table's order
    if old.column_set != new.column_set:
        old_cols = old.columns_by_name
        new_cols = new.columns_by_name
        for col in new.columns:
            before = old_cols.get(col.name)
            if before is None:
                out.append(AddColumn(schema, name, col))
            elif before != col:
                changed = _column_changes(before, col, options)
                if changed:
                    out.append(AlterColumn(schema, name, before, col, changed))
        for col in old.columns:
            if col.name not in new_cols:
                out.append(DropColumn(schema, name, col))
    if pk_changed and new.primary_key is not None:
        out.append(AddConstraint(schema, name, new.primary_key))
    out.extend(AddConstraint(schema, name, c) for c in uq_adds)
    out.extend(AddConstraint(schema, name, c) for c in ck_adds)
    out.extend(AddIndex(schema, name, i) for i in idx_adds)
    if options.compare_comment and old.comment != new.comment:
        out.append(AlterTableComment(schema, name, old.comment, new.comment))


def diff(old: Schema, new: Schema, options: DiffOptions | None = None) -> list[Change]:
    """The changes that turn ``old`` into ``new``, in executable order.

    Typically ``old`` is the database (:func:`~limbeck.schema.from_database`)
    and ``new`` the models (:func:`~limbeck.schema.from_metadata`).
    """
    opts = options or DiffOptions()
    plan = _Plan()
    if old == new:
        return []

    if opts.compare_enums:
        old_enums, new_enums = old.enums_by_key, new.enums_by_key
        for e in new.enums:
            before = old_enums.get(e.key)
            if before is None:
                plan.types.append(CreateEnum(e))
            elif before != e:
                plan.types.append(AlterEnum(before, e))
        plan.drop_types.extend(DropEnum(e) for e in old.enums if e.key not in new_enums)
    if opts.compare_sequences:
        old_seqs, new_seqs = old.sequences_by_key, new.sequences_by_key
        for s in new.sequences:
            before_seq = old_seqs.get(s.key)
            if before_seq is None:
                plan.types.append(CreateSequence(s))
            elif before_seq != s:
                plan.types.append(AlterSequence(before_seq, s))
        plan.drop_types.extend(DropSequence(s) for s in old.sequences if s.key not in new_seqs)

    old_tables, new_tables = old.tables_by_key, new.tables_by_key
    dropped = [t for t in old.tables if t.key not in new_tables]
    added = [t for t in new.tables if t.key not in old_tables]

    # dropped tables: the reverse of an order in which they could be created
    for table, deferred in reversed(_creation_order(dropped)):
        kept = _without_fks(table, deferred)
        plan.drop_fks.extend(
            DropConstraint(table.schema, table.name, fk, from_cycle=True) for fk in deferred
        )
        plan.drop_tables.append(DropTable(kept))

    for table in new.tables:
        existing = old_tables.get(table.key)
        if existing is not None and existing != table:
            _diff_table(existing, table, opts, plan)

    cycle_fks: list[Change] = []
    for table, deferred in _creation_order(added):
        plan.add_tables.append(AddTable(_without_fks(table, deferred)))
        cycle_fks.extend(
            AddConstraint(table.schema, table.name, fk, from_cycle=True) for fk in deferred
        )
    plan.add_fks.extend(cycle_fks)
    return plan.changes()


# -------------------------------------------------------------------- apply


def _fail(change: Change, why: str) -> ChangeConflict:
    return ChangeConflict(f"cannot apply {change.kind}: {why}")


def _constraint_attr(constraint: Constraint) -> str:
    if isinstance(constraint, UniqueConstraint):
        return "unique_constraints"
    if isinstance(constraint, CheckConstraint):
        return "check_constraints"
    if isinstance(constraint, ForeignKey):
        return "foreign_keys"
    return "primary_key"


def _remove_item(items: tuple[Any, ...], item: Any) -> tuple[Any, ...] | None:
    """``items`` without ``item`` (matched as :func:`diff` matches), None if absent."""
    if item in items:
        out = list(items)
        out.remove(item)
        return tuple(out)
    for i, other in enumerate(items):
        if (other.name is None or item.name is None) and replace(other, name=None) == replace(
            item, name=None
        ):
            return items[:i] + items[i + 1 :]
    return None


def _apply_table_change(table: Table, change: Change) -> Table:
    if isinstance(change, AddColumn):
        if change.column.name in table.columns_by_name:
            raise _fail(change, f"column {change.column.name!r} already exists")
        return replace(table, columns=(*table.columns, change.column))
    if isinstance(change, DropColumn):
        if change.column.name not in table.columns_by_name:
            raise _fail(change, f"no column {change.column.name!r}")
        return replace(
            table, columns=tuple(c for c in table.columns if c.name != change.column.name)
        )
    if isinstance(change, AlterColumn):
        if change.old.name not in table.columns_by_name:
            raise _fail(change, f"no column {change.old.name!r}")
        return replace(
            table,
            columns=tuple(change.new if c.name == change.old.name else c for c in table.columns),
        )
    if isinstance(change, AddIndex):
        return replace(table, indexes=(*table.indexes, change.index))
    if isinstance(change, DropIndex):
        left = _remove_item(table.indexes, change.index)
        if left is None:
            raise _fail(change, f"no index {change.index.name!r}")
        return replace(table, indexes=left)
    if isinstance(change, AddConstraint):
        c = change.constraint
        if isinstance(c, PrimaryKey):
            if table.primary_key is not None:
                raise _fail(change, f"{table.fullname} already has a primary key")
            return replace(table, primary_key=c)
        if isinstance(c, UniqueConstraint):
            return replace(table, unique_constraints=(*table.unique_constraints, c))
        if isinstance(c, CheckConstraint):
            return replace(table, check_constraints=(*table.check_constraints, c))
        return replace(table, foreign_keys=(*table.foreign_keys, c))
    if isinstance(change, DropConstraint):
        c = change.constraint
        if isinstance(c, PrimaryKey):
            if table.primary_key is None:
                raise _fail(change, f"{table.fullname} has no primary key")
            return replace(table, primary_key=None)
        left = _remove_item(getattr(table, _constraint_attr(c)), c)
        if left is None:
            raise _fail(change, f"no such constraint {c.name!r} on {table.fullname}")
        if isinstance(c, UniqueConstraint):
            return replace(table, unique_constraints=left)
        if isinstance(c, CheckConstraint):
            return replace(table, check_constraints=left)
        return replace(table, foreign_keys=left)
    if isinstance(change, AlterTableComment):
        return replace(table, comment=change.new)
    raise _fail(change, "unknown change")  # pragma: no cover


def apply(schema: Schema, changes: Iterable[Change]) -> Schema:
    """The schema that results from applying ``changes`` to ``schema``.

    Raises :class:`ChangeConflict` when a change does not fit (adding a
    table that exists, dropping a column that does not).
    """
    tables: dict[TableKey, Table] = dict(schema.tables_by_key)
    enums: dict[TableKey, EnumType] = dict(schema.enums_by_key)
    sequences: dict[TableKey, SequenceModel] = dict(schema.sequences_by_key)
    for change in changes:
        if isinstance(change, AddTable):
            if change.table.key in tables:
                raise _fail(change, f"table {change.table.fullname} exists")
            tables[change.table.key] = change.table
        elif isinstance(change, DropTable):
            if tables.pop(change.table.key, None) is None:
                raise _fail(change, f"no table {change.table.fullname}")
        elif isinstance(change, _TableChange):
            table = tables.get(change.table_key)
            if table is None:
                raise _fail(change, f"no table {change.table_name}")
            tables[change.table_key] = _apply_table_change(table, change)
        elif isinstance(change, CreateEnum):
            _put(enums, change.enum.key, change.enum, change, exists=False)
        elif isinstance(change, AlterEnum):
            _put(enums, change.new.key, change.new, change, exists=True)
        elif isinstance(change, DropEnum):
            _pop(enums, change.enum.key, change)
        elif isinstance(change, CreateSequence):
            _put(sequences, change.sequence.key, change.sequence, change, exists=False)
        elif isinstance(change, AlterSequence):
            _put(sequences, change.new.key, change.new, change, exists=True)
        elif isinstance(change, DropSequence):
            _pop(sequences, change.sequence.key, change)
        else:
            raise _fail(change, "unknown change")
    return Schema(
        tuple(tables.values()), tuple(enums.values()), tuple(sequences.values()), schema.dialect
    )


_V = TypeVar("_V")


def _put(
    store: dict[TableKey, _V], key: TableKey, value: _V, change: Change, *, exists: bool
) -> None:
    if (key in store) != exists:
        raise _fail(change, f"{key[1]!r} {'does not exist' if exists else 'exists'}")
    store[key] = value


def _pop(store: dict[TableKey, Any], key: TableKey, change: Change) -> None:
    if store.pop(key, None) is None:
        raise _fail(change, f"{key[1]!r} does not exist")
