"""``alembic.config``: limbeck's Config and command line."""

from limbeck.cli import main
from limbeck.config import Config

__all__ = ["Config", "main"]
