"""``alembic.autogenerate`` and the operation extension points, as add-ons
use them, resolve to limbeck's inside a run."""

from __future__ import annotations

from typing import Any

import pytest

import limbeck.autogenerate
from limbeck.compat import alembic_imports
from limbeck.errors import LimbeckError
from limbeck.operations import Operations
from limbeck.operations.render import RenderContext, render_op
from limbeck.runtime.environment import EnvironmentContext as LimbeckEnvironmentContext
from limbeck.runtime.migration import MigrationContext as LimbeckMigrationContext


def test_autogenerate_names_are_limbecks() -> None:
    with alembic_imports():
        from alembic.autogenerate import (
            AutogenContext,
            Rewriter,
            compare_metadata,
            produce_migrations,
            render_python_code,
        )
        from alembic.autogenerate.api import compare_metadata as api_compare
        from alembic.autogenerate.rewriter import Rewriter as ModuleRewriter
        from alembic.environment import EnvironmentContext
        from alembic.migration import MigrationContext

    assert compare_metadata is limbeck.autogenerate.compare_metadata is api_compare
    assert produce_migrations is limbeck.autogenerate.produce_migrations
    assert render_python_code is limbeck.autogenerate.render_python_code
    assert Rewriter is limbeck.autogenerate.Rewriter is ModuleRewriter
    assert AutogenContext is limbeck.autogenerate.AutogenContext
    assert EnvironmentContext is LimbeckEnvironmentContext
    assert MigrationContext is LimbeckMigrationContext


def test_a_custom_operation_registers_renders_and_runs_the_alembic_way() -> None:
    with alembic_imports():
        from alembic.autogenerate import renderers
        from alembic.operations import MigrateOperation
        from alembic.operations import Operations as AlembicOperations

        assert AlembicOperations is Operations

        @AlembicOperations.register_operation("touch_marker")
        class TouchMarkerOp(MigrateOperation):
            def __init__(self, name: str) -> None:
                self.name = name

            @classmethod
            def touch_marker(cls, operations: Any, name: str) -> Any:
                return operations.invoke(cls(name))

        @AlembicOperations.implementation_for(TouchMarkerOp)
        def touch_marker(operations: Any, operation: TouchMarkerOp) -> str:
            return f"touched {operation.name}"

        @renderers.dispatch_for(TouchMarkerOp)
        def render_touch_marker(context: Any, operation: TouchMarkerOp) -> str:
            return f"op.touch_marker({operation.name!r})"

    try:
        assert render_op(RenderContext(), TouchMarkerOp("x")) == "op.touch_marker('x')"
        assert hasattr(Operations, "touch_marker")
    finally:
        delattr(Operations, "touch_marker")
        Operations._to_impl.pop(TouchMarkerOp, None)


def test_comparators_resolve_to_limbecks_registry() -> None:
    with alembic_imports():
        from alembic.autogenerate import comparators

        assert comparators.dispatch_for == limbeck.autogenerate.comparators.dispatch_for
        # Only schema-level comparators exist in limbeck: others are refused.
        with pytest.raises(LimbeckError, match="only schema-level") as info:
            comparators.dispatch_for("table")
    assert info.value.hint
