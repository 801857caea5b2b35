"""``alembic.command``: limbeck's commands."""

from limbeck.command import *  # noqa: F403
from limbeck.command import __all__ as __all__
