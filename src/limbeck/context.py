"""``from limbeck import context``: the environment of the env.py run under way.

Attributes resolve on the current :class:`~limbeck.runtime.environment.EnvironmentContext`
through a context variable, so concurrent runs do not collide.
"""

from __future__ import annotations

from typing import Any

from limbeck import _current
from limbeck.errors import LimbeckError


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        target = _current.environment.get()
    except LookupError:
        raise LimbeckError(
            f"context.{name} was used outside an env.py run",
            hint="limbeck.context is set only while a command runs env.py",
        ) from None
    return getattr(target, name)
