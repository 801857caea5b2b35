"""``alembic.util``: the error types scripts catch."""

from limbeck.errors import CommandError

__all__ = ["CommandError"]
