"""Fixtures shared with the CLI tests (tests/cli/cli_helpers.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))

from cli_helpers import empty_dir, project

__all__ = ["empty_dir", "project"]
