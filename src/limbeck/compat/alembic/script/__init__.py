"""``alembic.script``."""

from limbeck.scripts import hooks as write_hooks
from limbeck.scripts.directory import Script, ScriptDirectory

__all__ = ["Script", "ScriptDirectory", "write_hooks"]
