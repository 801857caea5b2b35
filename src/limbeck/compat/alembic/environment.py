"""``alembic.environment``: the old name of ``alembic.runtime.environment``."""

from limbeck.runtime.environment import EnvironmentContext

__all__ = ["EnvironmentContext"]
