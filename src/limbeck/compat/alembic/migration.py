"""``alembic.migration``: the old name of ``alembic.runtime.migration``."""

from limbeck.runtime.migration import MigrationContext, MigrationInfo

__all__ = ["MigrationContext", "MigrationInfo"]
