"""Operations: the directive objects and the ``op`` facade behind migration scripts.

``Operations(migration_context)`` is what ``from limbeck import op`` resolves
to during a run; :mod:`limbeck.operations.ops` holds one frozen record class per
directive; :mod:`limbeck.operations.render` turns them into Python source.
"""

from __future__ import annotations

from limbeck.operations import ops, render
from limbeck.operations import toimpl as _toimpl  # registers the built-in implementations
from limbeck.operations.base import (
    AbstractOperations,
    BatchOperations,
    Operations,
    OperationsContext,
)
from limbeck.operations.ops import MigrateOperation, Risk
from limbeck.operations.sqlexpr import inline_literal

del _toimpl

__all__ = [
    "AbstractOperations",
    "BatchOperations",
    "MigrateOperation",
    "Operations",
    "OperationsContext",
    "Risk",
    "inline_literal",
    "ops",
    "render",
]
