"""Rendering alter_column whose existing server default is a SQL expression
(a function such as now() cannot be compared with False or None)."""

from __future__ import annotations

import sqlalchemy as sa

from limbeck.operations import ops
from limbeck.operations.render import RenderContext, render_op


def test_existing_server_default_expression_renders() -> None:
    operation = ops.AlterColumnOp(
        "account",
        "created",
        modify_nullable=False,
        existing_type=sa.DateTime(),
        existing_server_default=sa.func.now(),
    )
    text = render_op(RenderContext(), operation)
    assert "existing_server_default=sa.text(" in text and "now()" in text
    assert "nullable=False" in text
