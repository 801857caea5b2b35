"""Compare the models with the database (or with the migration history).

Both sides become :class:`~limbeck.schema.Schema` models; the hooks of
``context.configure()`` (``include_name``, ``include_object``,
``include_schemas``, ``compare_type``, ``compare_server_default``) narrow
or steer what is compared; :func:`limbeck.schema.diff` lists the changes;
then removed and added tables or columns that look alike are matched as
renames.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import sqlalchemy as sa

from limbeck.autogenerate._objects import Builder
from limbeck.errors import LimbeckError
from limbeck.schema import (
    VERSION_TABLES,
    AddColumn,
    AddTable,
    AlterColumn,
    Change,
    DiffOptions,
    DropColumn,
    DropTable,
    Schema,
    diff,
    from_database,
    from_metadata,
)
from limbeck.schema import model as m
from limbeck.schema.from_metadata import table_reader

__all__ = ["Comparison", "RenameColumn", "RenameTable", "compare", "parse_renames"]

#: Schemas never scanned by ``include_schemas=True``.
_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast", "mysql", "sys"})

Ask = Callable[[str], bool]


@dataclass(frozen=True)
class RenameTable(Change):
    """Rename table ``old_name`` to ``new_name`` (``table`` is the old definition)."""

    schema: str | None
    old_name: str
    new_name: str
    table: m.Table
    kind: ClassVar[str] = "rename_table"


@dataclass(frozen=True)
class RenameColumn(Change):
    """Rename column ``column`` of a table to ``new_name``."""

    schema: str | None
    table_name: str
    column: m.Column
    new_name: str
    kind: ClassVar[str] = "rename_column"


@dataclass
class Comparison:
    """What a comparison found: the changes, and notes for the person reading them.

    ``warnings`` are general notes (a computed column that cannot be
    altered). ``change_notes`` maps ``id(change)`` to the comment to write
    beside that change's operation (an unconfirmed rename).
    """

    old: Schema
    new: Schema
    changes: list[Change]
    warnings: list[str] = field(default_factory=list)
    change_notes: dict[int, str] = field(default_factory=dict)
    metadata_tables: dict[m.TableKey, sa.Table] = field(default_factory=dict)
    #: ``final_names``: naming conventions of the models use ``%(constraint_name)s``.
    final_names: bool = False
    #: Rebuilds the model of a table of ``metadata_tables`` exactly as it is in
    #: ``new``; None when ``include_object`` narrowed the tables of ``new``.
    metadata_reader: Callable[[sa.Table], m.Table] | None = None


def metadatas_of(target: Any) -> list[sa.MetaData]:
    if target is None:
        raise LimbeckError(
            "autogenerate needs target_metadata",
            hint="in env.py: context.configure(..., target_metadata=Base.metadata)",
        )
    if isinstance(target, sa.MetaData):
        return [target]
    if isinstance(target, Mapping):
        raise LimbeckError(
            "target_metadata is a dict; pass one MetaData or a list of them to configure()"
        )
    items = list(target)
    for item in items:
        if not isinstance(item, sa.MetaData):
            raise LimbeckError(
                f"target_metadata holds {type(item).__name__}, not MetaData",
                hint="in env.py, set target_metadata to your models' MetaData "
                "(Base.metadata), a list of them, or None",
            )
    return items


def uses_constraint_name_token(metadatas: Iterable[sa.MetaData]) -> bool:
    for md in metadatas:
        for value in (md.naming_convention or {}).values():
            if isinstance(value, str) and "%(constraint_name)s" in value:
                return True
    return False


def parse_renames(items: Iterable[str] | None) -> list[tuple[str, str]]:
    """``["old:new", "table.old:new"]`` as pairs; a bad item is a usage error."""
    out: list[tuple[str, str]] = []
    for item in items or ():
        old, sep, new = item.partition(":")
        if not sep or not old.strip() or not new.strip():
            raise LimbeckError(
                f"--rename {item!r}: expected OLD:NEW",
                hint="a table: --rename users:accounts; a column: --rename users.name:full_name",
            )
        out.append((old.strip(), new.strip()))
    return out


def _similar(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    if a in b or b in a:
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.5


def _table_shape(table: m.Table) -> frozenset[tuple[str, m.SqlType, bool]]:
    return frozenset((c.name, c.type, c.nullable) for c in table.columns)


class _Settings:
    """The comparison hooks from the migration context's options."""

    def __init__(self, opts: Mapping[str, Any]) -> None:
        self.include_name: Callable[..., bool] | None = opts.get("include_name")
        self.include_object: Callable[..., bool] | None = opts.get("include_object")
        self.include_schemas = bool(opts.get("include_schemas"))
        compare_type = opts.get("compare_type", True)
        compare_default = opts.get("compare_server_default")
        if compare_default is None:
            compare_default = True
        self.type_hook: Callable[..., Any] | None = compare_type if callable(compare_type) else None
        self.default_hook: Callable[..., Any] | None = (
            compare_default if callable(compare_default) else None
        )
        self.options = DiffOptions(
            compare_type=bool(compare_type),
            compare_server_default=bool(compare_default),
        )


def _excluded_tables(migration_context: Any) -> frozenset[str]:
    names = set(VERSION_TABLES)
    store = getattr(migration_context, "store", None)
    for attr in ("version_table", "history_table"):
        value = getattr(migration_context, attr, None) or migration_context.opts.get(attr)
        if value:
            names.add(str(value))
    if store is not None:
        version = getattr(store, "version", None)
        if version is not None:
            names.add(str(version.name))
    return frozenset(names)


def _metadata_tables(
    metadatas: Sequence[sa.MetaData], default_schema: str | None
) -> dict[m.TableKey, sa.Table]:
    out: dict[m.TableKey, sa.Table] = {}
    for md in metadatas:
        for table in md.tables.values():
            schema = None if table.schema in (None, default_schema) else table.schema
            out[(schema, table.name)] = table
    return out


def compare(
    migration_context: Any,
    metadata: Any,
    *,
    old: Schema | None = None,
    renames: Sequence[tuple[str, str]] = (),
    ask: Ask | None = None,
) -> Comparison:
    """Compare ``metadata`` with the database of ``migration_context``.

    ``old`` replaces the database with a given model (``check --offline``
    passes the schema computed from the migration history). ``renames`` are
    confirmed renames (``--rename``); ``ask`` asks a person about the
    likely ones.
    """
    metadatas = metadatas_of(metadata)
    settings = _Settings(migration_context.opts)
    dialect = migration_context.dialect
    connection = migration_context.connection
    default_schema: str | None = getattr(dialect, "default_schema_name", None)
    exclude = _excluded_tables(migration_context)

    schemas: list[str | None] = [None]
    if settings.include_schemas:
        if old is None and connection is not None:
            names = sa.inspect(connection).get_schema_names()
        else:
            names = sorted({t.schema for md in metadatas for t in md.tables.values() if t.schema})
        for name in names:
            if name in _SYSTEM_SCHEMAS or name.startswith("pg_") or name == default_schema:
                continue
            if settings.include_name is not None and not settings.include_name(name, "schema", {}):
                continue
            schemas.append(name)
    wanted = set(schemas)

    new = from_metadata(metadatas, dialect, default_schema=default_schema, exclude_tables=exclude)
    new = _narrow(new, wanted, settings.include_name)
    if old is None:
        if connection is None:
            raise LimbeckError(
                "autogenerate needs a database connection",
                hint="it cannot run with --sql; use `limbeck check --offline` to compare "
                "the models with the migration history instead",
            )
        old = from_database(
            connection,
            schemas=schemas,
            include_name=settings.include_name,
            exclude_tables=exclude,
        )
    else:
        old = _narrow(old, wanted, settings.include_name)

    md_tables = _metadata_tables(metadatas, default_schema)
    final_names = uses_constraint_name_token(metadatas)
    builder = Builder(final_names)
    if settings.include_object is not None:
        old, new = _filter_objects(old, new, settings.include_object, md_tables, builder)
    if settings.type_hook is not None or settings.default_hook is not None:
        old = _apply_column_hooks(old, new, settings, migration_context, md_tables, builder)

    changes = diff(old, new, settings.options)
    reader = None
    if settings.include_object is None:
        reader = table_reader(dialect, default_schema=default_schema)
    result = Comparison(
        old,
        new,
        changes,
        metadata_tables=md_tables,
        final_names=final_names,
        metadata_reader=reader,
    )
    _computed_warnings(result)
    if changes:
        _match_renames(result, settings.options, renames, md_tables, ask)
    return result


def _narrow(
    schema: Schema, wanted: set[str | None], include_name: Callable[..., bool] | None
) -> Schema:
    def keep(table: m.Table) -> bool:
        if table.schema not in wanted:
            return False
        if include_name is None:
            return True
        parents = {
            "schema_name": table.schema,
            "table_name": table.name,
            "schema_qualified_table_name": table.fullname,
        }
        return bool(include_name(table.name, "table", parents))

    tables = [t for t in schema.tables if keep(t)]
    if len(tables) == len(schema.tables) and all(e.schema in wanted for e in schema.enums):
        return schema
    return Schema.of(
        tables,
        [e for e in schema.enums if e.schema in wanted],
        [s for s in schema.sequences if s.schema in wanted],
        schema.dialect,
    )


# -- include_object -------------------------------------------------------------------------


def _by_name(items: Iterable[Any], name: str | None) -> Any:
    if name is None:
        return None
    for item in items:
        if item.name == name:
            return item
    return None


def _filter_objects(
    old: Schema,
    new: Schema,
    include_object: Callable[..., bool],
    md_tables: Mapping[m.TableKey, sa.Table],
    builder: Builder,
) -> tuple[Schema, Schema]:
    reflected_cache: dict[m.TableKey, sa.Table] = {}
    scratch = sa.MetaData()

    def reflected(key: m.TableKey) -> sa.Table | None:
        table = old.tables_by_key.get(key)
        if table is None:
            return None
        if key not in reflected_cache:
            reflected_cache[key] = builder.table(table, scratch)
        return reflected_cache[key]

    def metadata_obj(key: m.TableKey) -> sa.Table | None:
        return md_tables.get(key)

    def side(schema: Schema, is_reflected: bool) -> list[m.Table]:
        out: list[m.Table] = []
        for table in schema.tables:
            mine = reflected(table.key) if is_reflected else metadata_obj(table.key)
            other = metadata_obj(table.key) if is_reflected else reflected(table.key)
            if other is None and not is_reflected:
                other = None
            if not include_object(mine, table.name, "table", is_reflected, other):
                continue
            out.append(_filter_table(table, mine, other, is_reflected, include_object))
        return out

    old_tables = side(old, True)
    new_tables = side(new, False)
    return (
        Schema.of(old_tables, old.enums, old.sequences, old.dialect),
        Schema.of(new_tables, new.enums, new.sequences, new.dialect),
    )


def _filter_table(
    table: m.Table,
    mine: sa.Table | None,
    other: sa.Table | None,
    is_reflected: bool,
    include_object: Callable[..., bool],
) -> m.Table:
    def col_obj(t: sa.Table | None, name: str) -> Any:
        return None if t is None else t.c.get(name)

    columns = tuple(
        c
        for c in table.columns
        if include_object(
            col_obj(mine, c.name), c.name, "column", is_reflected, col_obj(other, c.name)
        )
    )

    def keep(
        items: Iterable[Any], kind: str, pool: Callable[[sa.Table], Iterable[Any]]
    ) -> tuple[Any, ...]:
        out = []
        for item in items:
            obj = _by_name(pool(mine), item.name) if mine is not None else None
            counterpart = _by_name(pool(other), item.name) if other is not None else None
            if include_object(obj, item.name, kind, is_reflected, counterpart):
                out.append(item)
        return tuple(out)

    def constraints(cls: type) -> Callable[[sa.Table], Iterable[Any]]:
        return lambda t: [c for c in t.constraints if isinstance(c, cls)]

    kept = {c.name for c in columns}

    def uses_kept(item: Any) -> bool:
        return all(col in kept for col in getattr(item, "columns", ()))

    return replace(
        table,
        columns=columns,
        indexes=keep([i for i in table.indexes if uses_kept(i)], "index", lambda t: t.indexes),
        unique_constraints=keep(
            [u for u in table.unique_constraints if uses_kept(u)],
            "unique_constraint",
            constraints(sa.UniqueConstraint),
        ),
        check_constraints=keep(
            table.check_constraints, "check_constraint", constraints(sa.CheckConstraint)
        ),
        foreign_keys=keep(
            [f for f in table.foreign_keys if uses_kept(f)],
            "foreign_key_constraint",
            constraints(sa.ForeignKeyConstraint),
        ),
        primary_key=table.primary_key
        if table.primary_key is None or uses_kept(table.primary_key)
        else None,
    )


# -- compare_type / compare_server_default callables ------------------------------------------


def _apply_column_hooks(
    old: Schema,
    new: Schema,
    settings: _Settings,
    migration_context: Any,
    md_tables: Mapping[m.TableKey, sa.Table],
    builder: Builder,
) -> Schema:
    """The database model adjusted so that :func:`diff` follows the callables' answers.

    A hook answering False makes the database column look like the model's
    (no change); True forces a change; None leaves the default comparison.
    """
    tables: list[m.Table] = []
    scratch = sa.MetaData()
    for table in old.tables:
        target = new.tables_by_key.get(table.key)
        md_table = md_tables.get(table.key)
        if target is None or md_table is None:
            tables.append(table)
            continue
        reflected = builder.table(table, scratch)
        columns: list[m.Column] = []
        for col in table.columns:
            other = target.column(col.name)
            md_col = md_table.c.get(col.name)
            if other is None or md_col is None:
                columns.append(col)
                continue
            insp_col = reflected.c[col.name]
            if settings.type_hook is not None:
                answer = settings.type_hook(
                    migration_context, insp_col, md_col, insp_col.type, md_col.type
                )
                if answer is False:
                    col = replace(col, type=other.type)
                elif answer is True and col.type == other.type:
                    col = replace(col, type=m.SqlType(col.type.name + " (changed)", col.type.args))
            if settings.default_hook is not None:
                insp_default = col.server_default.sql if col.server_default else None
                md_default = md_col.server_default
                rendered = other.server_default.sql if other.server_default else None
                answer = settings.default_hook(
                    migration_context, insp_col, md_col, insp_default, md_default, rendered
                )
                if answer is False:
                    col = replace(col, server_default=other.server_default)
                elif answer is True and col.server_default == other.server_default:
                    sql = col.server_default.sql if col.server_default else ""
                    col = replace(
                        col, server_default=m.ServerDefault("(changed) " + sql, sql or "NULL")
                    )
            columns.append(col)
        tables.append(replace(table, columns=tuple(columns)))
    return Schema.of(tables, old.enums, old.sequences, old.dialect)


def _computed_warnings(result: Comparison) -> None:
    out: list[Change] = []
    for change in result.changes:
        if isinstance(change, AlterColumn) and "computed" in change.changed:
            result.warnings.append(
                f"Computed default on {change.table_name}.{change.column_name} cannot be "
                "modified; change it by hand (drop and add the column)"
            )
            rest = tuple(a for a in change.changed if a != "computed")
            if not rest:
                continue
            change = replace(change, changed=rest)
        out.append(change)
    result.changes[:] = out


# -- renames ---------------------------------------------------------------------------------


def _rename_table_in(schema: Schema, key: m.TableKey, new_name: str) -> Schema:
    tables: list[m.Table] = []
    for table in schema.tables:
        fks = tuple(
            replace(fk, referred_table=new_name) if fk.referred_key == key else fk
            for fk in table.foreign_keys
        )
        if table.key == key:
            table = replace(table, name=new_name, foreign_keys=fks)
        elif fks != table.foreign_keys:
            table = replace(table, foreign_keys=fks)
        tables.append(table)
    return Schema.of(tables, schema.enums, schema.sequences, schema.dialect)


def _rename_column_in(schema: Schema, key: m.TableKey, old: str, new: str) -> Schema:
    def names(cols: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(new if c == old else c for c in cols)

    tables: list[m.Table] = []
    for table in schema.tables:
        fks = tuple(
            replace(fk, referred_columns=names(fk.referred_columns))
            if fk.referred_key == key
            else fk
            for fk in table.foreign_keys
        )
        if table.key == key:
            exprs_of = {id(i): set(i.expressions) for i in table.indexes}
            indexes = tuple(
                replace(
                    i,
                    elements=tuple(
                        new if (e == old and pos not in exprs_of[id(i)]) else e
                        for pos, e in enumerate(i.elements)
                    ),
                    sql=tuple(
                        new if (e == old and pos not in exprs_of[id(i)]) else e
                        for pos, e in enumerate(i.sql)
                    ),
                )
                for i in table.indexes
            )
            table = replace(
                table,
                columns=tuple(replace(c, name=new) if c.name == old else c for c in table.columns),
                primary_key=None
                if table.primary_key is None
                else replace(table.primary_key, columns=names(table.primary_key.columns)),
                indexes=indexes,
                unique_constraints=tuple(
                    replace(u, columns=names(u.columns)) for u in table.unique_constraints
                ),
                foreign_keys=tuple(replace(f, columns=names(f.columns)) for f in fks),
            )
        elif fks != table.foreign_keys:
            table = replace(table, foreign_keys=fks)
        tables.append(table)
    return Schema.of(tables, schema.enums, schema.sequences, schema.dialect)


def _info_hint(obj: Any) -> str | None:
    info = getattr(obj, "info", None) or {}
    value = info.get("renamed_from")
    return str(value) if value else None


def _match_renames(
    result: Comparison,
    options: DiffOptions,
    renames: Sequence[tuple[str, str]],
    md_tables: Mapping[m.TableKey, sa.Table],
    ask: Ask | None,
) -> None:
    hints = dict(renames)
    # -- tables
    dropped = [c.table for c in result.changes if isinstance(c, DropTable)]
    added = [c.table for c in result.changes if isinstance(c, AddTable)]
    confirmed: list[tuple[m.Table, m.Table]] = []
    unconfirmed: list[tuple[m.Table, m.Table]] = []
    if dropped and added:
        dropped_by_key = {t.key: t for t in dropped}
        claimed: set[m.TableKey] = set()
        for table in added:
            sa_table = md_tables.get(table.key)
            hint = _info_hint(sa_table) or _reverse_hint(hints, table.name)
            old = dropped_by_key.get((table.schema, hint)) if hint else None
            if old is not None and old.key not in claimed:
                claimed.add(old.key)
                confirmed.append((old, table))
                continue
            shape = _table_shape(table)
            alike = [
                d
                for d in dropped
                if d.key not in claimed
                and d.schema == table.schema
                and _table_shape(d) == shape
                and (_similar(d.name, table.name) or (len(dropped) == 1 and len(added) == 1))
            ]
            if len(alike) == 1:
                old = alike[0]
                claimed.add(old.key)
                if ask is not None and ask(
                    f"Was table {old.fullname!r} renamed to {table.fullname!r}?"
                ):
                    confirmed.append((old, table))
                else:
                    unconfirmed.append((old, table))
    renamed: list[Change] = []
    old_schema = result.old
    for old_table, new_table in confirmed:
        renamed.append(RenameTable(old_table.schema, old_table.name, new_table.name, old_table))
        old_schema = _rename_table_in(old_schema, old_table.key, new_table.name)
    changes = diff(old_schema, result.new, options) if confirmed else list(result.changes)

    # -- columns
    col_confirmed: list[tuple[m.TableKey, m.Column, m.Column]] = []
    col_unconfirmed: list[tuple[m.TableKey, m.Column, m.Column]] = []
    drops: dict[m.TableKey, list[m.Column]] = {}
    adds: dict[m.TableKey, list[m.Column]] = {}
    for change in changes:
        if isinstance(change, DropColumn):
            drops.setdefault(change.table_key, []).append(change.column)
        elif isinstance(change, AddColumn):
            adds.setdefault(change.table_key, []).append(change.column)
    for key, added_cols in adds.items():
        dropped_cols = drops.get(key)
        if not dropped_cols:
            continue
        sa_table = md_tables.get(key)
        claimed_cols: set[str] = set()
        for col in added_cols:
            sa_col = sa_table.c.get(col.name) if sa_table is not None else None
            hint = _info_hint(sa_col) or _column_hint(hints, key[1], col.name)
            by_name = {c.name: c for c in dropped_cols if c.name not in claimed_cols}
            if hint and hint in by_name:
                claimed_cols.add(hint)
                col_confirmed.append((key, by_name[hint], col))
                continue
            alike_cols = [
                dc
                for dc in by_name.values()
                if dc.type == col.type
                and dc.nullable == col.nullable
                and (
                    _similar(dc.name, col.name) or (len(dropped_cols) == 1 and len(added_cols) == 1)
                )
            ]
            if len(alike_cols) == 1:
                old_col = alike_cols[0]
                claimed_cols.add(old_col.name)
                table_name = key[1] if key[0] is None else f"{key[0]}.{key[1]}"
                if ask is not None and ask(
                    f"Was column {table_name}.{old_col.name} renamed to {col.name!r}?"
                ):
                    col_confirmed.append((key, old_col, col))
                else:
                    col_unconfirmed.append((key, old_col, col))
    for key, old_col, new_col in col_confirmed:
        renamed.append(RenameColumn(key[0], key[1], old_col, new_col.name))
        old_schema = _rename_column_in(old_schema, key, old_col.name, new_col.name)
    if col_confirmed:
        changes = diff(old_schema, result.new, options)

    result.changes[:] = renamed + changes
    _note_unconfirmed(result, unconfirmed, col_unconfirmed)


def _reverse_hint(hints: Mapping[str, str], new_name: str) -> str | None:
    for old, new in hints.items():
        if new == new_name and "." not in old:
            return old
    return None


def _column_hint(hints: Mapping[str, str], table: str, new_name: str) -> str | None:
    """``table.old:new`` (or ``table.old:table.new``), else a plain ``old:new``."""
    plain = None
    for old, new in hints.items():
        new_col = new.rpartition(".")[2]
        if new_col != new_name:
            continue
        if "." not in old:
            plain = old
            continue
        old_table, _, old_col = old.rpartition(".")
        if old_table.rpartition(".")[2] == table:
            return old_col
    return plain


def _note_unconfirmed(
    result: Comparison,
    tables: Sequence[tuple[m.Table, m.Table]],
    columns: Sequence[tuple[m.TableKey, m.Column, m.Column]],
) -> None:
    table_notes: dict[m.TableKey, str] = {}
    for old, new in tables:
        note = (
            f"WARNING: table {old.fullname!r} is dropped and {new.fullname!r} created; "
            f"this looks like a rename, and dropping loses the data. If it is one, use "
            f"op.rename_table({old.name!r}, {new.name!r}) or rerun with "
            f"--rename {old.name}:{new.name}"
        )
        table_notes[old.key] = note
        table_notes[new.key] = note
    column_notes: dict[tuple[m.TableKey, str], str] = {}
    for key, old_col, new_col in columns:
        note = (
            f"WARNING: column {key[1]}.{old_col.name} is dropped and {new_col.name!r} added; "
            f"this looks like a rename, and dropping loses the data. If it is one, use "
            f"op.alter_column({key[1]!r}, {old_col.name!r}, new_column_name={new_col.name!r}) "
            f"or rerun with --rename {key[1]}.{old_col.name}:{new_col.name}"
        )
        column_notes[(key, old_col.name)] = note
        column_notes[(key, new_col.name)] = note
    for change in result.changes:
        found: str | None = None
        if isinstance(change, DropTable | AddTable) and change.table.key in table_notes:
            found = table_notes[change.table.key]
        elif isinstance(change, DropColumn | AddColumn):
            found = column_notes.get((change.table_key, change.column.name))
        if found is not None:
            result.change_notes[id(change)] = found
    for note in dict.fromkeys([*table_notes.values(), *column_notes.values()]):
        result.warnings.append(note.replace("WARNING: ", "likely rename not confirmed: ", 1))
