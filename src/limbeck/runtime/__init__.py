"""The runtime: env.py's context, the migration context, the version store
(heads table and ledger) and the migration lock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from limbeck.runtime.commands import read_current_heads, run_env_for_revision
from limbeck.runtime.environment import EnvironmentContext, run_env
from limbeck.runtime.migration import MigrationContext, MigrationInfo, RunStep

if TYPE_CHECKING:
    from limbeck.config import Config
    from limbeck.scripts.directory import Script

__all__ = [
    "EnvironmentContext",
    "MigrationContext",
    "MigrationInfo",
    "RunStep",
    "read_current_heads",
    "revision_with_environment",
    "run_env",
    "run_env_for_revision",
]


def revision_with_environment(config: Config, **kw: Any) -> Script | list[Script]:
    """``revision --autogenerate`` (and ``--sql``, or a revision with a
    ``process_revision_directives`` hook): run env.py, then write the file."""
    from limbeck.autogenerate._command import revision

    return revision(config, **kw)
