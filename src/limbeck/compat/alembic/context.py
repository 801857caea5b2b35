"""``alembic.context``: limbeck's environment of the env.py run under way."""

from typing import Any

import limbeck.context as _context


def __getattr__(name: str) -> Any:
    return getattr(_context, name)
