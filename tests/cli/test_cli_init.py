"""``limbeck init`` and ``list-templates``."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from cli_helpers import Project

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TEMPLATES = ("generic", "async", "multidb", "pyproject", "pyproject_async")


@pytest.mark.parametrize("template", TEMPLATES)
def test_init_each_template_then_revision_and_heads(
    empty_dir: Path, capsys: pytest.CaptureFixture[str], template: str
) -> None:
    project = Project(empty_dir, capsys)
    out = project.ok("init", "-t", template, "migrations").out
    env = empty_dir / "migrations"
    assert {p.name for p in env.iterdir()} == {"README", "env.py", "script.py.mako", "versions"}
    assert "Generating" in out and "limbeck.ini" in out
    for name in ("env.py",):
        ast.parse((env / name).read_text(encoding="utf-8"))  # valid Python
    ini = project.ini()
    if template.startswith("pyproject"):
        table = tomllib.loads((empty_dir / "pyproject.toml").read_text(encoding="utf-8"))
        assert table["tool"]["limbeck"]["script_location"] == "%(here)s/migrations"
        assert "script_location" not in ini
    else:
        assert not (empty_dir / "pyproject.toml").exists()
        assert "script_location = %(here)s/migrations" in ini
    if template == "multidb":
        assert "databases" in ini

    path = project.ok("revision", "-m", "create users", "--rev-id", "aaa1").out
    assert "aaa1_create_users.py" in path
    text = (env / "versions" / "aaa1_create_users.py").read_text(encoding="utf-8")
    ast.parse(text)
    assert "revision: str = 'aaa1'" in text
    assert text.startswith('"""create users')
    if template == "multidb":
        assert "def upgrade_engine1() -> None:" in text
    assert project.ok("heads").out == "aaa1 (head)\n"


def test_init_package_writes_init_files(project: Project, empty_dir: Path) -> None:
    project.ok("init", "--package", "other")
    assert (empty_dir / "other" / "__init__.py").is_file()
    assert (empty_dir / "other" / "versions" / "__init__.py").is_file()
    # limbeck.ini existed already and is left alone.
    assert "other" not in project.ini()
    # __init__.py among the revisions is not mistaken for one.
    project.set_option("script_location", "%(here)s/other")
    project.ok("revision", "-m", "one", "--rev-id", "aaa1")
    assert project.ok("heads").out == "aaa1 (head)\n"


def test_init_into_non_empty_directory_fails(project: Project) -> None:
    before = project.files()
    project.fails("init", "migrations", match="migrations already exists and is not empty")
    assert project.files() == before


def test_init_unknown_template(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = Project(empty_dir, capsys)
    result = project.fails("init", "-t", "nope", "migrations", match="no template named 'nope'")
    assert "list-templates" in result.err
    assert project.files() == set()


def test_init_pyproject_appends_to_existing_pyproject(
    empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (empty_dir / "pyproject.toml").write_text('[project]\nname = "app"\n', encoding="utf-8")
    project = Project(empty_dir, capsys)
    project.ok("init", "-t", "pyproject", "migrations")
    data = tomllib.loads((empty_dir / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["name"] == "app"
    assert data["tool"]["limbeck"]["script_location"] == "%(here)s/migrations"
    project.ok("revision", "-m", "one", "--rev-id", "aaa1")
    assert project.ok("heads").out == "aaa1 (head)\n"


def test_list_templates(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = Project(empty_dir, capsys).ok("list-templates").out
    for name in TEMPLATES:
        assert f"\n{name} - " in out
    assert "limbeck init --template generic" in out
    assert Project(empty_dir, capsys).ok("list_templates").out == out
