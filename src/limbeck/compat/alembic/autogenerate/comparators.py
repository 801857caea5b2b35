"""``alembic.autogenerate.comparators``.

limbeck compares schema models (:mod:`limbeck.schema`) and has no registry
of comparison functions yet, so ``dispatch_for`` stops with a clear error
instead of registering a function that would never run.
"""

from collections.abc import Callable
from typing import Any

from limbeck.errors import CommandError


def dispatch_for(target: str, qualifier: str = "default") -> Callable[[Any], Any]:
    """Not supported: custom autogenerate comparators."""
    raise CommandError(
        f"custom autogenerate comparators (comparators.dispatch_for({target!r})) "
        "are not supported by limbeck",
        hint="limbeck's autogenerate compares schema models; filter with include_object "
        "or include_name, or add operations in process_revision_directives",
    )


__all__ = ["dispatch_for"]
