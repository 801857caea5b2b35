"""Where configuration comes from: -c, -n, -x, pyproject, alembic.ini, the environment."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Project

import limbeck.command
from limbeck.cli import main
from limbeck.config import Config, expand_env, parse_bool
from limbeck.errors import ConfigError

MINIMAL_TEMPLATE = (
    '"""${message}"""\n'
    "revision = ${repr(up_revision)}\n"
    "down_revision = ${repr(down_revision)}\n"
    "branch_labels = ${repr(branch_labels)}\n"
    "depends_on = ${repr(depends_on)}\n"
)


def make_env(folder: Path) -> Path:
    """A bare migration environment: a template and an empty versions/."""
    (folder / "versions").mkdir(parents=True)
    (folder / "script.py.mako").write_text(MINIMAL_TEMPLATE, encoding="utf-8")
    return folder


def test_config_file_given_with_c_from_another_directory(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write_rev("aaa1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ini = str(project.root / "limbeck.ini")
    assert project.ok("-c", ini, "heads").out == "aaa1 (head)\n"
    assert project.ok("--config", ini, "heads").out == "aaa1 (head)\n"
    # Without -c there is nothing here.
    project.fails(
        "heads",
        match=f"no limbeck.ini, alembic.ini or [tool.limbeck] in pyproject.toml in {elsewhere}",
    )
    monkeypatch.setenv("LIMBECK_CONFIG", ini)
    assert project.ok("heads").out == "aaa1 (head)\n"


def test_missing_config_file(project: Project) -> None:
    before = project.files()
    project.fails("-c", "nope.ini", "heads", match="config file nope.ini does not exist")
    project.fails("-c", "nope.ini", "revision", "-m", "x", match="config file nope.ini")
    assert project.files() == before


def test_name_selects_an_ini_section(project: Project) -> None:
    make_env(project.root / "second")
    project.set_option("script_location", "%(here)s/second", section="other")
    project.ok("-n", "other", "revision", "-m", "in other", "--rev-id", "ooo1")
    assert (project.root / "second" / "versions" / "ooo1_in_other.py").is_file()
    assert project.ok("--name", "other", "heads").out == "ooo1 (head)\n"
    assert project.ok("heads").out == ""
    before = project.files()
    result = project.fails("-n", "nope", "heads", match="limbeck.ini has no section [nope]")
    assert "other" in result.err
    project.fails("-n", "nope", "revision", "-m", "x", match="no section [nope]")
    assert project.files() == before


def test_x_arguments_reach_the_config(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Config] = []

    def fake_heads(config: Config, *args: Any, **kwargs: Any) -> None:
        seen.append(config)

    monkeypatch.setattr(limbeck.command, "heads", fake_heads)
    project.ok("-x", "tenant=acme", "-x", "dry", "heads")
    assert seen[0].cmd_opts.x == ["tenant=acme", "dry"]


def test_misspelt_key(project: Project) -> None:
    text = project.ini().replace("script_location =", "script_locaton =")
    (project.root / "limbeck.ini").write_text(text, encoding="utf-8")
    before = project.files()
    result = project.fails("heads", match="unknown key limbeck.ini [limbeck] script_locaton")
    assert result.error_lines[1] == "hint: did you mean script_location?"
    project.set_option("script_location", "%(here)s/migrations")
    project.fails("heads", match="unknown key limbeck.ini [limbeck] script_locaton")
    project.fails("revision", "-m", "x", match="script_locaton")
    assert project.files() == before


def test_misspelt_key_in_pyproject(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = Project(empty_dir, capsys)
    project.ok("init", "-t", "pyproject", "migrations")
    path = empty_dir / "pyproject.toml"
    path.write_text(path.read_text() + "\ntruncate_slug_lenght = 10\n", encoding="utf-8")
    result = project.fails(
        "heads", match="unknown key pyproject.toml [tool.limbeck] truncate_slug_lenght"
    )
    assert "did you mean truncate_slug_length?" in result.err


def test_nonexistent_script_location(project: Project) -> None:
    project.set_option("script_location", "%(here)s/nowhere")
    before = project.files()
    project.fails("heads", match=f"script directory {project.root / 'nowhere'} does not exist")
    project.fails("revision", "-m", "x", match="nowhere does not exist")
    assert project.files() == before


def test_here_is_the_ini_directory(project: Project, tmp_path: Path) -> None:
    config = Config(project.root / "limbeck.ini")
    assert config.get_main_option("script_location") == f"{project.root}/migrations"
    assert config.get_main_option("sqlalchemy.url") == f"sqlite:///{project.root}/app.db"
    assert config.here == str(project.root)


def test_pyproject_only(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_env(empty_dir / "db")
    (empty_dir / "pyproject.toml").write_text(
        '[tool.limbeck]\nscript_location = "%(here)s/db"\ntruncate_slug_length = 5\n',
        encoding="utf-8",
    )
    project = Project(empty_dir, capsys)
    project.ok("revision", "-m", "hello world", "--rev-id", "aaa1")
    assert (empty_dir / "db" / "versions" / "aaa1_hello.py").is_file()
    assert project.ok("heads").out == "aaa1 (head)\n"


def test_tool_alembic_fallback(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_env(empty_dir / "db")
    (empty_dir / "pyproject.toml").write_text(
        '[tool.alembic]\nscript_location = "%(here)s/db"\n', encoding="utf-8"
    )
    project = Project(empty_dir, capsys)
    project.ok("revision", "-m", "x", "--rev-id", "aaa1")
    assert project.ok("heads").out == "aaa1 (head)\n"
    # [tool.limbeck] wins when both exist.
    make_env(empty_dir / "mine")
    (empty_dir / "pyproject.toml").write_text(
        '[tool.limbeck]\nscript_location = "%(here)s/mine"\n\n'
        '[tool.alembic]\nscript_location = "%(here)s/db"\n',
        encoding="utf-8",
    )
    assert project.ok("heads").out == ""


def test_alembic_ini_with_alembic_section(
    empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_env(empty_dir / "alembic")
    (empty_dir / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/alembic\nsqlalchemy.url = sqlite://\n",
        encoding="utf-8",
    )
    project = Project(empty_dir, capsys)
    project.ok("revision", "-m", "x", "--rev-id", "aaa1")
    assert (empty_dir / "alembic" / "versions" / "aaa1_x.py").is_file()
    assert project.ok("heads").out == "aaa1 (head)\n"
    config = Config(empty_dir / "alembic.ini")
    assert config.config_ini_section == "alembic"
    # limbeck.ini is preferred over alembic.ini in the same directory.
    make_env(empty_dir / "mine")
    (empty_dir / "limbeck.ini").write_text(
        "[limbeck]\nscript_location = %(here)s/mine\n", encoding="utf-8"
    )
    assert project.ok("heads").out == ""


def test_ini_and_pyproject_together(empty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_env(empty_dir / "db")
    (empty_dir / "limbeck.ini").write_text("[limbeck]\nsqlalchemy.url = sqlite://\n")
    (empty_dir / "pyproject.toml").write_text(
        '[tool.limbeck]\nscript_location = "%(here)s/db"\n', encoding="utf-8"
    )
    project = Project(empty_dir, capsys)
    project.ok("revision", "-m", "x", "--rev-id", "aaa1")
    assert project.ok("-c", "limbeck.ini", "-c", "pyproject.toml", "heads").out == "aaa1 (head)\n"
    assert project.ok("heads").out == "aaa1 (head)\n"


# -- the environment ----------------------------------------------------------------------


def test_environment_references(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATIONS_DIR", str(project.root / "migrations"))
    project.set_option("script_location", "${MIGRATIONS_DIR}")
    project.set_option("sqlalchemy.url", "postgresql://app:${DB_PASSWORD:-devpw}@${DB_HOST}/app")
    project.write_rev("aaa1")
    assert project.ok("heads").out == "aaa1 (head)\n"
    config = Config(project.root / "limbeck.ini")
    with pytest.raises(ConfigError, match=r"uses \$\{DB_HOST\}, but the environment variable"):
        config.get_main_option("sqlalchemy.url")
    monkeypatch.setenv("DB_HOST", "db.internal")
    assert config.get_main_option("sqlalchemy.url") == "postgresql://app:devpw@db.internal/app"
    monkeypatch.setenv("DB_PASSWORD", "s3cret")
    assert config.get_main_option("sqlalchemy.url") == "postgresql://app:s3cret@db.internal/app"
    monkeypatch.setenv("LIMBECK_DATABASE_URL", "sqlite:///from-env.db")
    assert config.get_main_option("sqlalchemy.url") == "sqlite:///from-env.db"
    assert config.get_section("limbeck") is not None
    assert config.get_section("limbeck")["sqlalchemy.url"] == "sqlite:///from-env.db"  # type: ignore[index]
    monkeypatch.delenv("MIGRATIONS_DIR")
    result = project.fails(
        "heads", match="limbeck.ini [limbeck] script_location uses ${MIGRATIONS_DIR}"
    )
    assert "${MIGRATIONS_DIR:-default}" in result.err


def test_database_url_from_the_environment_without_an_ini_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ini = tmp_path / "limbeck.ini"
    ini.write_text("[limbeck]\nscript_location = x\n", encoding="utf-8")
    monkeypatch.delenv("LIMBECK_DATABASE_URL", raising=False)
    assert Config(ini).get_main_option("sqlalchemy.url") is None
    monkeypatch.setenv("LIMBECK_DATABASE_URL", "sqlite://")
    assert Config(ini).get_main_option("sqlalchemy.url") == "sqlite://"
    assert Config().get_main_option("sqlalchemy.url") == "sqlite://"


def test_expand_env_and_parse_bool_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A_VAR", "x")
    monkeypatch.delenv("B_VAR", raising=False)
    assert expand_env("${A_VAR}/${B_VAR:-}/${B_VAR:-d}", "here") == "x//d"
    assert expand_env("no references", "here") == "no references"
    for text in ("true", "True", "YES", "1", "on", " On "):
        assert parse_bool(text, "k") is True
    for text in ("false", "No", "0", "off", ""):
        assert parse_bool(text, "k") is False
    assert parse_bool(True, "k") is True and parse_bool(0, "k") is False
    with pytest.raises(ConfigError, match="k must be a boolean, not 'maybe'"):
        parse_bool("maybe", "k")


def test_prepend_sys_path_and_separators(tmp_path: Path) -> None:
    ini = tmp_path / "limbeck.ini"

    def config(body: str) -> Config:
        ini.write_text("[limbeck]\nscript_location = x\n" + body, encoding="utf-8")
        return Config(ini)

    assert config("prepend_sys_path = .\n").get_prepend_sys_paths_list() == ["."]
    assert config("").get_prepend_sys_paths_list() == []
    both = f"prepend_sys_path = .{os.pathsep}src\npath_separator = os\n"
    assert config(both).get_prepend_sys_paths_list() == [".", "src"]
    assert config(
        "prepend_sys_path = a b\npath_separator = space\n"
    ).get_prepend_sys_paths_list() == [
        "a",
        "b",
    ]
    (tmp_path / "pyproject.toml").write_text(
        '[tool.limbeck]\nprepend_sys_path = [".", "%(here)s/src"]\n', encoding="utf-8"
    )
    toml = Config(toml_file=tmp_path / "pyproject.toml")
    assert toml.get_prepend_sys_paths_list() == [".", f"{tmp_path}/src"]


@pytest.mark.parametrize(
    ("file_name", "text", "message"),
    [
        ("limbeck.ini", "no section header\n", "is not a valid ini file"),
        ("limbeck.ini", "[limbeck]\nscript_location = a\nscript_location = b\n", "valid ini"),
        ("pyproject.toml", "[tool.limbeck\n", "is not valid TOML"),
        (
            "limbeck.ini",
            "[limbeck]\nscript_location = m\nsqlalchemy.url = sqlite:///%(nope)s.db\n",
            "sqlalchemy.url",
        ),
    ],
)
def test_broken_configuration_is_one_line_with_a_hint(
    empty_dir: Path, file_name: str, text: str, message: str
) -> None:
    (empty_dir / file_name).write_bytes(text.encode())
    (empty_dir / "m").mkdir()
    (empty_dir / "m" / "versions").mkdir()
    (empty_dir / "m" / "env.py").write_text(
        "from limbeck import context\ncontext.config.get_main_option('sqlalchemy.url')\n"
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["current"])
    lines = err.getvalue().splitlines()
    assert code == 2
    assert len(lines) == 2, lines
    assert lines[0].startswith("error: ") and message in lines[0]
    assert lines[1].startswith("hint: ")


def test_missing_main_section_lists_the_sections(empty_dir: Path) -> None:
    (empty_dir / "limbeck.ini").write_text(
        "[other]\nscript_location = m\n\n[loggers]\nkeys = root\n"
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["heads"])
    assert code == 2
    assert err.getvalue().splitlines() == [
        f"error: {empty_dir / 'limbeck.ini'} has no [limbeck] section "
        "(its sections: [other], [loggers])",
        "hint: add [limbeck] with script_location, or pick a section with -n NAME",
    ]
