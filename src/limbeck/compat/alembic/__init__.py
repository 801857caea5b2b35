"""``import alembic`` during a limbeck run."""

from limbeck import command, context, op
from limbeck.compat.alembic import config

#: The Alembic release whose API this compatibility layer follows.
__version__ = "1.20.1"

__all__ = ["__version__", "command", "config", "context", "op"]
