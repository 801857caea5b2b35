"""Schema-level comparators registered by add-ons add their operations to
autogenerate; their reverse goes into the downgrade."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from limbeck.autogenerate import _comparators, comparators, produce_migrations, render_python_code
from limbeck.operations import MigrateOperation
from limbeck.operations.render import renderer_for
from limbeck.runtime import MigrationContext


class CreateViewOp(MigrateOperation):
    def __init__(self, name: str, sql: str) -> None:
        self.name = name
        self.sql = sql

    def reverse(self) -> DropViewOp:
        return DropViewOp(self.name, self.sql)


class DropViewOp(MigrateOperation):
    def __init__(self, name: str, sql: str) -> None:
        self.name = name
        self.sql = sql

    def reverse(self) -> CreateViewOp:
        return CreateViewOp(self.name, self.sql)


@renderer_for(CreateViewOp)
def _render_create(context: Any, operation: CreateViewOp) -> str:
    return f"op.execute({'CREATE VIEW ' + operation.name + ' AS ' + operation.sql!r})"


@renderer_for(DropViewOp)
def _render_drop(context: Any, operation: DropViewOp) -> str:
    return f"op.execute({'DROP VIEW ' + operation.name!r})"


@pytest.fixture
def view_comparator() -> Iterator[list[Any]]:
    calls: list[Any] = []

    @comparators.dispatch_for("schema")
    def compare_views(context: Any, upgrade_ops: Any, schemas: Any) -> None:
        calls.append((context.dialect.name, set(schemas)))
        existing = sa.inspect(context.connection).get_view_names()
        if "active_users" not in existing:
            upgrade_ops.ops.append(CreateViewOp("active_users", "SELECT id FROM users"))

    @comparators.dispatch_for("schema", qualifier="postgresql")
    def never_on_sqlite(context: Any, upgrade_ops: Any, schemas: Any) -> None:
        raise AssertionError("a postgresql comparator ran on sqlite")

    yield calls
    _comparators._schema_comparators[:] = [
        entry
        for entry in _comparators._schema_comparators
        if entry[1] not in (compare_views, never_on_sqlite)
    ]


def test_schema_comparator_adds_operations_and_their_reverse(
    view_comparator: list[Any], sqlite_url: str
) -> None:
    metadata = sa.MetaData()
    sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True))
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"target_metadata": metadata})
        script = produce_migrations(context, metadata)
    engine.dispose()
    assert view_comparator == [("sqlite", {None})]
    upgrade = script.upgrade_ops.ops
    assert isinstance(upgrade[-1], CreateViewOp)
    assert any(isinstance(op, DropViewOp) for op in script.downgrade_ops.ops)
    rendered = render_python_code(script.upgrade_ops)
    assert "op.create_table('users'" in rendered
    assert "CREATE VIEW active_users AS SELECT id FROM users" in rendered
    assert "DROP VIEW active_users" in render_python_code(script.downgrade_ops)


def test_other_targets_are_refused() -> None:
    with pytest.raises(Exception, match="only schema-level"):
        comparators.dispatch_for("column")
