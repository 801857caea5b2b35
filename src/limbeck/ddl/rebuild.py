"""Move and copy: rebuild a table with a new definition, keeping its rows.

The steps, all inside the database and the migration's transaction where
the database allows:

1. (dialect) prepare: drop foreign keys that point in, note triggers, set
   pragmas;
2. rename the table to ``_limbeck_old_<name>``;
3. (dialect) release the names the new table needs (PostgreSQL: the old
   primary key and unique constraints, whose indexes share the namespace);
4. CREATE TABLE with the new definition, under the real name;
5. ``INSERT INTO <name> (...) SELECT ... FROM _limbeck_old_<name>``, one
   statement with a ``CAST`` where a column's type changed, so memory stays
   flat whatever the row count;
6. DROP the old table, then create the new table's indexes;
7. (dialect) finish: put back foreign keys that pointed in, triggers,
   sequences, and check foreign keys.

Creating the new table under its final name (rather than a temporary name
renamed afterwards) keeps naming-convention names, self-referencing foreign
keys and comments exactly as declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, Table, cast, select
from sqlalchemy.schema import CreateTable, ForeignKeyConstraint
from sqlalchemy.sql.expression import column as sql_column
from sqlalchemy.sql.expression import table as sql_table

from limbeck.ddl import constructs as ddl

if TYPE_CHECKING:
    from limbeck.ddl.impl import DialectImpl

__all__ = [
    "ColumnSource",
    "TableRebuild",
    "ensure_fk_targets",
    "generic_rebuild",
    "keeps_every_old_column",
    "old_table_name",
]


@dataclass(frozen=True)
class ColumnSource:
    """Where a column of the new table takes its values from in the old one."""

    old_name: str
    cast: bool = False


@dataclass
class TableRebuild:
    """A rebuild to run: the table as it is, and as it is to become.

    ``new_table`` is named like the old table and lives in a MetaData that
    resolves its foreign keys. ``sources`` maps a new column name to its
    source column; new columns absent from it get their defaults.
    """

    table_name: str
    schema: str | None
    old_table: Table
    new_table: Table
    sources: dict[str, ColumnSource]
    #: Dialect scratch space between the prepare and finish steps.
    state: dict[str, Any] = field(default_factory=dict)


def old_table_name(impl: DialectImpl, table_name: str) -> str:
    name = f"_limbeck_old_{table_name}"
    limit = impl.dialect.max_identifier_length or 63
    return name[:limit]


def ensure_fk_targets(table: Table) -> None:
    """Add stub tables to ``table.metadata`` for foreign-key targets it lacks."""
    metadata = table.metadata
    for constraint in list(table.constraints):
        if not isinstance(constraint, ForeignKeyConstraint):
            continue
        for fk in constraint.elements:
            spec = fk._get_colspec()
            parts = spec.split(".")
            col_name = parts[-1]
            tname = parts[-2]
            schema = ".".join(parts[:-2]) or None
            key = f"{schema}.{tname}" if schema else tname
            target = metadata.tables.get(key)
            if target is None:
                from sqlalchemy import Column
                from sqlalchemy.types import NullType

                target = Table(tname, metadata, schema=schema)
                target.append_column(Column(col_name, NullType()))
            elif col_name not in target.c:
                from sqlalchemy import Column
                from sqlalchemy.types import NullType

                target.append_column(Column(col_name, NullType()))


def insert_from_old(rebuild: TableRebuild, old_name: str) -> Any:
    """``INSERT INTO new (...) SELECT ... FROM old`` for the copied columns."""
    old_cols = [c.name for c in rebuild.old_table.columns]
    old = sql_table(old_name, *[sql_column(n) for n in old_cols], schema=rebuild.schema)
    names: list[str] = []
    exprs: list[Any] = []
    for new_col in rebuild.new_table.columns:
        source = rebuild.sources.get(new_col.name)
        if source is None:
            continue
        expr: Any = old.c[source.old_name]
        if source.cast:
            expr = cast(expr, new_col.type)
        names.append(new_col.name)
        exprs.append(expr.label(new_col.name) if source.cast else expr)
    if not names:
        return None
    return rebuild.new_table.insert().from_select(names, select(*exprs))


def generic_rebuild(impl: DialectImpl, rebuild: TableRebuild) -> None:
    """Run the rebuild steps with the dialect's prepare/release/finish hooks."""
    old_name = old_table_name(impl, rebuild.table_name)
    impl.rebuild_prepare(rebuild)
    impl.execute(ddl.RenameTable(rebuild.table_name, old_name, rebuild.schema))
    old = Table(old_name, MetaData(), schema=rebuild.schema)
    impl.rebuild_release_names(rebuild, old_name)
    new = rebuild.new_table
    new.dispatch.before_create(new, impl.bind, checkfirst=True, _ddl_runner=impl)
    impl.execute(CreateTable(new))
    impl.rebuild_comments(rebuild)
    statement = insert_from_old(rebuild, old_name)
    if statement is not None:
        impl.rebuild_copy_rows(rebuild, statement)
    impl.rebuild_before_drop_old(rebuild, old_name)
    impl.rebuild_drop_old(rebuild, old)
    impl.rebuild_create_indexes(rebuild, sorted(new.indexes, key=lambda i: i.name or ""))
    impl.rebuild_finish(rebuild)


def keeps_every_old_column(rebuild: TableRebuild) -> bool:
    """True when each column of the old table is copied into the new one.

    The rows of the old table then live on in the new table, so nothing the
    user meant to delete is in the old table's pages.
    """
    copied = {source.old_name for source in rebuild.sources.values()}
    return all(column.name in copied for column in rebuild.old_table.columns)
