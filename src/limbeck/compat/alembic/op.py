"""``alembic.op``: limbeck's operations of the migration now running."""

from typing import Any

import limbeck.op as _op


def __getattr__(name: str) -> Any:
    return getattr(_op, name)
