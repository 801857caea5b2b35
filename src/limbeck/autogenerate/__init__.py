"""Autogenerate: compare the models with the database, write the difference
as operations.

The models (``target_metadata``) and the database (or, for
``check --offline``, the schema the migration history builds) become two
:class:`~limbeck.schema.Schema` models; :func:`limbeck.schema.diff` lists the
changes in an order that runs; each change becomes one operation object;
operations render as Python for the revision file. Removed and added tables
or columns that look alike are matched as renames.

The names follow Alembic's ``alembic.autogenerate``: :func:`compare_metadata`,
:func:`produce_migrations`, :func:`render_python_code`, :class:`Rewriter`.
"""

from __future__ import annotations

from limbeck.autogenerate._api import compare_metadata, describe, produce_migrations
from limbeck.autogenerate._comparators import CompareContext, comparators
from limbeck.autogenerate._compare import Comparison, RenameColumn, RenameTable, compare
from limbeck.autogenerate._render import AutogenRenderContext, render_python_code
from limbeck.autogenerate._rewriter import Rewriter
from limbeck.autogenerate._toops import AlterEnumOp, RenameSequenceOp, SequenceOp

#: Alembic's name for the object ``render_item`` hooks receive.
AutogenContext = AutogenRenderContext

__all__ = [
    "AlterEnumOp",
    "AutogenContext",
    "AutogenRenderContext",
    "CompareContext",
    "Comparison",
    "RenameColumn",
    "RenameSequenceOp",
    "RenameTable",
    "Rewriter",
    "SequenceOp",
    "comparators",
    "compare",
    "compare_metadata",
    "describe",
    "produce_migrations",
    "render_python_code",
]
