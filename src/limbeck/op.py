"""``from limbeck import op``: the operations of the migration now running.

Every attribute is looked up on the :class:`~limbeck.operations.Operations`
object of the current run (a context variable), so two runs in two threads
do not collide.
"""

from __future__ import annotations

from typing import Any

from limbeck import _current
from limbeck.errors import LimbeckError


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        target = _current.operations.get()
    except LookupError:
        raise LimbeckError(
            f"op.{name} was used outside a migration run",
            hint="op is available only while limbeck runs upgrade() or downgrade()",
        ) from None
    return getattr(target, name)
