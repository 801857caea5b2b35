"""``alembic.autogenerate.rewriter``."""

from limbeck.autogenerate import Rewriter

__all__ = ["Rewriter"]
