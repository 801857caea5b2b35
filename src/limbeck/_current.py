"""Per-run state that ``limbeck.op`` and ``limbeck.context`` resolve through.

Context variables rather than module globals, so that migrations run in two
threads or two asyncio tasks of one process never see each other's state.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

#: The EnvironmentContext of the env.py run under way (``limbeck.context``).
environment: ContextVar[Any] = ContextVar("limbeck_environment")

#: The Operations object of the migration under way (``limbeck.op``).
operations: ContextVar[Any] = ContextVar("limbeck_operations")
