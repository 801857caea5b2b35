"""The script directory: finding, reading and writing revision files."""

from limbeck.scripts.directory import Script, ScriptDirectory

__all__ = ["Script", "ScriptDirectory"]
