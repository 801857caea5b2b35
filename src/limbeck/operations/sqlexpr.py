"""SQL expression helpers for migration scripts: :func:`inline_literal`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

__all__ = ["InlineLiteral", "inline_literal"]


class InlineLiteral(BindParameter[Any]):
    """A bound value always rendered inline as an escaped SQL literal."""

    inherit_cache = True


@compiles(InlineLiteral)
def _render_inline(element: InlineLiteral, compiler: SQLCompiler, **kw: Any) -> str:
    kw.pop("literal_binds", None)
    rendered: str = compiler.render_literal_bindparam(element, **kw)  # type: ignore[no-untyped-call]
    return rendered


def inline_literal(value: Any, type_: TypeEngine[Any] | None = None) -> InlineLiteral:
    """``value`` rendered inline (quoted and escaped by the dialect), online and offline.

    Use it for data changes that must read the same in ``--sql`` output,
    e.g. ``table.update().where(table.c.x == op.inline_literal("a"))``.
    """
    return InlineLiteral(None, value, type_=type_, unique=True)
