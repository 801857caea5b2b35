"""``alembic.config``: limbeck's Config and command line."""

from limbeck.cli import main
from limbeck.config import Config as _LimbeckConfig

__all__ = ["Config", "main"]


class Config(_LimbeckConfig):
    """limbeck's Config as ``alembic.config.Config``: made without a file, it
    reads the ``[alembic]`` section and keeps the ``alembic_version`` table,
    as Alembic's own Config would."""

    _made_through_alembic = True
