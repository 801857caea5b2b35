"""``alembic.runtime``."""
