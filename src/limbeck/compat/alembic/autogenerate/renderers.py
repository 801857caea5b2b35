"""``alembic.autogenerate.renderers``: ``dispatch_for(OpClass)`` registers how
a (custom) operation renders as Python, ``fn(context, operation) -> str``."""

from limbeck.operations.render import renderer_for

#: ``@renderers.dispatch_for(MyOp)``: limbeck's :func:`renderer_for`.
dispatch_for = renderer_for

__all__ = ["dispatch_for"]
