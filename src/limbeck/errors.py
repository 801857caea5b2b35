"""The errors limbeck raises.

Every error a user can cause is a :class:`LimbeckError`: a one-line message
saying what went wrong and where, and an optional hint saying what to do.
The command line prints ``error: <message>`` and ``hint: <hint>`` and exits
with :attr:`LimbeckError.exit_code` (2 for bad usage, configuration or
input; 1 for a migration or a check that failed).
"""

from __future__ import annotations


class LimbeckError(Exception):
    """Base class of every error meant for a person rather than a traceback."""

    exit_code: int = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


#: Alembic's name for the same idea; scripts and env.py files catch it.
CommandError = LimbeckError


class ConfigError(LimbeckError):
    """The configuration (ini, pyproject.toml, environment) is wrong."""


class ScriptError(LimbeckError):
    """A revision file, template or the script directory is unusable."""


class RevisionError(LimbeckError):
    """The revision graph is inconsistent, or a target does not resolve."""


class CycleDetected(RevisionError):
    """The down_revision / depends_on edges form a cycle."""


class MultipleHeads(RevisionError):
    """A target needing one head found several."""


class AmbiguousWalk(RevisionError):
    """A relative step (+N / -N) passed a branch point or a merge point."""


class DatabaseError(LimbeckError):
    """The database cannot be reached, or is not in the expected state."""


class MigrationFailed(LimbeckError):
    """A migration raised while running; the database was left consistent."""

    exit_code = 1


class CheckFailed(LimbeckError):
    """A check (``check``, ``current --check-heads``) found a difference."""

    exit_code = 1
