"""Fixtures for the CLI tests (defined in cli_helpers, shared with other packages)."""

from cli_helpers import empty_dir, project

__all__ = ["empty_dir", "project"]
