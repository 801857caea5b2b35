"""The programmatic autogenerate API, with Alembic's names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from limbeck.autogenerate._comparators import run_schema_comparators
from limbeck.autogenerate._compare import Ask, Comparison, compare
from limbeck.autogenerate._toops import changes_to_ops
from limbeck.operations import ops
from limbeck.schema import Schema

__all__ = [
    "compare_metadata",
    "describe",
    "downgrade_ops_for",
    "produce_migrations",
    "upgrade_ops_for",
]


def upgrade_ops_for(
    migration_context: Any,
    metadata: Any,
    *,
    old: Schema | None = None,
    renames: Sequence[tuple[str, str]] = (),
    ask: Ask | None = None,
) -> tuple[ops.UpgradeOps, Comparison]:
    """The upgrade operations that bring the database (or ``old``) to ``metadata``."""
    comparison = compare(migration_context, metadata, old=old, renames=renames, ask=ask)
    upgrade_ops = changes_to_ops(comparison, migration_context.dialect.name)
    if old is None:  # add-ons compare against the live database only
        schemas = {table.schema for table in comparison.new.tables} | {None}
        run_schema_comparators(migration_context, metadata, upgrade_ops, schemas)
    upgrade_ops.upgrade_token = migration_context.opts.get("upgrade_token") or "upgrades"
    return upgrade_ops, comparison


def _reverse(operation: ops.MigrateOperation) -> ops.MigrateOperation:
    if isinstance(operation, ops.CreateTableOp):
        # the drop of a table just created: its reverse is that very create operation
        # (operation.reverse() would rebuild the Table to read it back)
        comment = operation.comment
        return ops.DropTableOp(
            operation.table_name,
            schema=operation.schema,
            table_kw={"comment": comment} if comment else {},
            _reverse=operation,
        )
    if isinstance(operation, ops.ModifyTableOps):
        return ops.ModifyTableOps(
            operation.table_name,
            [_reverse(o) for o in reversed(operation.ops)],
            schema=operation.schema,
        )
    return operation.reverse()


def downgrade_ops_for(upgrade_ops: ops.UpgradeOps, token: str | None = None) -> ops.DowngradeOps:
    """The upgrade reversed: each operation's reverse, last first."""
    return ops.DowngradeOps(
        ops=[_reverse(o) for o in reversed(upgrade_ops.ops)],
        downgrade_token=token or "downgrades",
    )


def _diffs(operation: ops.MigrateOperation) -> list[Any]:
    if isinstance(operation, ops.OpContainer):
        out: list[Any] = []
        for child in operation.ops:
            out.extend(_diffs(child))
        return out
    diff = operation.to_diff_tuple()
    if isinstance(diff, list):
        # an alter_column: Alembic's shape is one list of modify_* tuples per column
        return [diff] if diff else []
    return [diff]


def compare_metadata(migration_context: Any, metadata: Any) -> list[Any]:
    """The differences between the database and ``metadata`` as diff tuples.

    ``("add_table", Table)``, ``("remove_column", schema, table, Column)``,
    ``("add_fk", ForeignKeyConstraint)``..., and for a changed column a list
    of ``("modify_type" | "modify_nullable" | "modify_default" |
    "modify_comment", schema, table, column, existing, old, new)`` tuples.
    """
    upgrade_ops, _ = upgrade_ops_for(migration_context, metadata)
    return _diffs(upgrade_ops)


def produce_migrations(migration_context: Any, metadata: Any) -> ops.MigrationScript:
    """A :class:`MigrationScript` whose upgrade brings the database to ``metadata``
    and whose downgrade is the upgrade reversed."""
    upgrade_ops, _ = upgrade_ops_for(migration_context, metadata)
    token = migration_context.opts.get("downgrade_token")
    return ops.MigrationScript(None, upgrade_ops, downgrade_ops_for(upgrade_ops, token))


def _table(op: Any) -> str:
    schema = getattr(op, "schema", None)
    name = getattr(op, "table_name", None) or ""
    return f"{schema}.{name}" if schema else str(name)


_DESCRIBERS: dict[type, Callable[[Any], str]] = {
    ops.CreateTableOp: lambda o: f"added table {_table(o)!r}",
    ops.DropTableOp: lambda o: f"removed table {_table(o)!r}",
    ops.RenameTableOp: lambda o: f"renamed table {o.table_name!r} to {o.new_table_name!r}",
    ops.AddColumnOp: lambda o: f"added column '{_table(o)}.{o.column.name}'",
    ops.DropColumnOp: lambda o: f"removed column '{_table(o)}.{o.column_name}'",
    ops.CreateIndexOp: lambda o: (
        f"added {'unique ' if o.unique else ''}index {o.index_name!r} on {_table(o)!r}"
    ),
    ops.DropIndexOp: lambda o: f"removed index {o.index_name!r} on {_table(o)!r}",
    ops.CreatePrimaryKeyOp: lambda o: f"added primary key on {_table(o)!r} {list(o.columns)}",
    ops.CreateUniqueConstraintOp: lambda o: (
        f"added unique constraint {o.constraint_name!r} on {_table(o)!r} {list(o.columns)}"
    ),
    ops.CreateCheckConstraintOp: lambda o: (
        f"added check constraint {o.constraint_name!r} on {_table(o)!r}"
    ),
    ops.CreateForeignKeyOp: lambda o: (
        f"added foreign key {o.constraint_name!r} on {_table(o)!r} "
        f"{list(o.local_cols)} -> {o.referent_table}{list(o.remote_cols)}"
    ),
    ops.DropConstraintOp: lambda o: (
        f"removed {o.type_ or ''} constraint {o.constraint_name!r} on {_table(o)!r}".replace(
            "  ", " "
        )
    ),
    ops.CreateTableCommentOp: lambda o: f"changed comment of table {_table(o)!r}",
    ops.DropTableCommentOp: lambda o: f"removed comment of table {_table(o)!r}",
    ops.CreateEnumOp: lambda o: f"added enum type {o.enum_name!r} {list(o.values)}",
    ops.DropEnumOp: lambda o: f"removed enum type {o.enum_name!r}",
}


def _describe_alter(o: ops.AlterColumnOp) -> str:
    where = f"'{_table(o)}.{o.column_name}'"
    parts = []
    if o.modify_name is not None:
        return f"renamed column {where} to {o.modify_name!r}"
    if o.modify_type is not None:
        parts.append(f"type {o.existing_type!r} -> {o.modify_type!r}")
    if o.modify_nullable is not None:
        parts.append(f"nullable {o.existing_nullable} -> {o.modify_nullable}")
    if o.modify_server_default is not False:
        parts.append(
            f"server default {_default_text(o.existing_server_default)} -> "
            f"{_default_text(o.modify_server_default)}"
        )
    if o.modify_comment is not False:
        parts.append(f"comment {o.existing_comment!r} -> {o.modify_comment!r}")
    return f"changed column {where}: " + "; ".join(parts)


def _default_text(value: Any) -> str:
    if value is None or value is False:
        return "None"
    text = getattr(value, "text", None)
    return repr(text) if text is not None else repr(value)


def describe(container: ops.MigrateOperation) -> list[str]:
    """One line per operation, for people (``check``, ``revision --autogenerate``)."""
    from limbeck.autogenerate._toops import AlterEnumOp, RenameSequenceOp, SequenceOp

    out: list[str] = []
    items = container.ops if isinstance(container, ops.OpContainer) else [container]
    for o in items:
        if isinstance(o, ops.OpContainer):
            out.extend(describe(o))
        elif isinstance(o, ops.AlterColumnOp):
            out.append(_describe_alter(o))
        elif isinstance(o, AlterEnumOp):
            out.append(
                f"changed enum type {o.enum_name!r}: {list(o.old_values)} -> {list(o.new_values)}"
            )
        elif isinstance(o, SequenceOp):
            out.append(f"{o.action} sequence {o.sequence.name!r}")
        elif isinstance(o, RenameSequenceOp):
            continue
        else:
            fn = next((f for k, f in _DESCRIBERS.items() if isinstance(o, k)), None)
            out.append(fn(o) if fn is not None else type(o).__name__)
    return out
