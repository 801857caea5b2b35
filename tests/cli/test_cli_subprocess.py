"""The real entry points: ``python -m limbeck`` and the ``limbeck`` console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import Project

from limbeck import __version__


def run(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def console_script() -> str:
    found = shutil.which("limbeck", path=str(Path(sys.executable).parent))
    assert found, "the limbeck console script is not installed beside this Python"
    return found


@pytest.mark.parametrize("entry", ["module", "console"])
def test_entry_points_end_to_end(tmp_path: Path, entry: str) -> None:
    prefix = [sys.executable, "-m", "limbeck"] if entry == "module" else [console_script()]
    assert run(tmp_path, *prefix, "--version").stdout == f"limbeck {__version__}\n"
    assert run(tmp_path, *prefix, "init", "migrations").returncode == 0
    created = run(tmp_path, *prefix, "revision", "-m", "one", "--rev-id", "aaa1")
    assert created.returncode == 0, created.stderr
    assert run(tmp_path, *prefix, "heads").stdout == "aaa1 (head)\n"
    failed = run(tmp_path, *prefix, "show", "zzzz")
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr.splitlines()[0] == "error: no revision or branch label 'zzzz'"
    assert "Traceback" not in failed.stderr
    traced = run(tmp_path, *prefix, "--traceback", "show", "zzzz")
    assert traced.returncode == 1
    assert "Traceback (most recent call last)" in traced.stderr
    assert "RevisionError: no revision or branch label 'zzzz'" in traced.stderr


def test_help_and_usage_errors(project: Project) -> None:
    shown = run(project.root, sys.executable, "-m", "limbeck", "--help")
    assert shown.returncode == 0
    for name in ("init", "revision", "merge", "heads", "branches", "history", "show", "edit"):
        assert name in shown.stdout
    usage = run(project.root, sys.executable, "-m", "limbeck", "heads", "--bogus")
    assert usage.returncode == 2
    assert "unrecognized arguments: --bogus" in usage.stderr
