"""``alembic.autogenerate.api``."""

from limbeck.autogenerate import (
    AutogenContext,
    compare_metadata,
    produce_migrations,
    render_python_code,
)

__all__ = ["AutogenContext", "compare_metadata", "produce_migrations", "render_python_code"]
