"""``alembic.autogenerate``: limbeck's autogenerate under Alembic's names."""

from limbeck.autogenerate import (
    AutogenContext,
    Rewriter,
    compare_metadata,
    produce_migrations,
    render_python_code,
)
from limbeck.compat.alembic.autogenerate import comparators, renderers

__all__ = [
    "AutogenContext",
    "Rewriter",
    "comparators",
    "compare_metadata",
    "produce_migrations",
    "render_python_code",
    "renderers",
]
