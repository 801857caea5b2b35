"""``alembic.operations``."""

from limbeck.operations import BatchOperations, MigrateOperation, Operations, ops

__all__ = ["BatchOperations", "MigrateOperation", "Operations", "ops"]
