"""``alembic.util.exc``."""

from limbeck.errors import CommandError

__all__ = ["CommandError"]
