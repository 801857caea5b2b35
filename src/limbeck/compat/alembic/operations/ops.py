"""``alembic.operations.ops``: the directive objects."""

from limbeck.operations.ops import *  # noqa: F403
