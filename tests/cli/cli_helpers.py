"""Helpers shared by the CLI, config and scripts tests: a project in a temporary
directory, driven through ``limbeck.cli.main``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from limbeck.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def error_lines(self) -> list[str]:
        return self.err.splitlines()


class Project:
    """``root`` holds limbeck.ini; ``migrations/versions`` the revision files."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys

    @property
    def versions(self) -> Path:
        return self.root / "migrations" / "versions"

    def run(self, *args: str) -> Result:
        self.capsys.readouterr()
        code = main(list(args))
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.code == 0, result.err
        assert result.err == ""
        return result

    def fails(self, *args: str, match: str) -> Result:
        """Exit code 2, one ``error:`` line containing ``match``, an optional
        ``hint:`` line, and no traceback."""
        result = self.run(*args)
        assert result.code == 2, (result.out, result.err)
        lines = result.error_lines
        assert 1 <= len(lines) <= 2, result.err
        assert lines[0].startswith("error: "), result.err
        assert match in lines[0], result.err
        if len(lines) == 2:
            assert lines[1].startswith("hint: ")
        assert "Traceback" not in result.err
        return result

    def files(self) -> set[str]:
        """Every file below the project, relative (the index cache excluded)."""
        return {
            str(path.relative_to(self.root))
            for path in self.root.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }

    def write_rev(
        self,
        rev: str,
        down: str | tuple[str, ...] | None = None,
        *,
        labels: str | tuple[str, ...] | None = None,
        depends_on: str | tuple[str, ...] | None = None,
        message: str = "",
        name: str | None = None,
        folder: Path | None = None,
        extra: str = "",
    ) -> Path:
        path = (folder or self.versions) / (name or f"{rev}_rev.py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'"""{message or "revision " + rev}\n\nRevision ID: {rev}\n"""\n'
            f"{extra}"
            f"revision = {rev!r}\n"
            f"down_revision = {down!r}\n"
            f"branch_labels = {labels!r}\n"
            f"depends_on = {depends_on!r}\n\n\n"
            "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
            encoding="utf-8",
        )
        return path

    def ini(self) -> str:
        return (self.root / "limbeck.ini").read_text(encoding="utf-8")

    def set_option(self, key: str, value: str, section: str = "limbeck") -> None:
        """Add (or replace) ``key`` in an ini section."""
        lines = self.ini().splitlines()
        header = f"[{section}]"
        out: list[str] = []
        in_section = False
        for line in lines:
            if line.startswith("["):
                in_section = line.strip() == header
            if in_section and line.split("=")[0].strip() == key:
                continue
            out.append(line)
            if line.strip() == header:
                out.append(f"{key} = {value}")
        if header not in lines:
            out += ["", header, f"{key} = {value}"]
        (self.root / "limbeck.ini").write_text("\n".join(out) + "\n", encoding="utf-8")


@pytest.fixture
def empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working directory with no limbeck settings in the environment."""
    for name in ("LIMBECK_CONFIG", "ALEMBIC_CONFIG", "LIMBECK_DATABASE_URL", "EDITOR", "VISUAL"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    yield root
    os.chdir(tmp_path)


@pytest.fixture
def project(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> Project:
    """``limbeck init migrations`` (generic template) in a fresh directory."""
    proj = Project(empty_dir, capsys)
    proj.ok("init", "migrations")
    return proj
