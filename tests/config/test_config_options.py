"""Options that shape the script directory and new revision files, and post-write hooks."""

from __future__ import annotations

import datetime as dt
import os
import py_compile
import re
import stat
import sys
from pathlib import Path

import pytest
from cli_helpers import Project


def new_file(project: Project, before: set[str]) -> Path:
    created = project.files() - before
    assert len(created) == 1, created
    return project.root / created.pop()


# -- version locations --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("separator", "joiner"),
    [
        (None, ", "),  # legacy: commas or spaces
        (None, " "),
        ("os", os.pathsep),
        (":", ":"),
        (";", ";"),
        ("space", " "),
        ("newline", "\n    "),
    ],
)
def test_version_locations_and_path_separator(
    project: Project, separator: str | None, joiner: str
) -> None:
    second = project.root / "more"
    second.mkdir()
    project.write_rev("aaa1")
    project.write_rev("bbb1", folder=second, labels="more")
    project.set_option(
        "version_locations", joiner.join(["%(here)s/migrations/versions", str(second)])
    )
    if separator is None:
        text = "\n".join(
            line for line in project.ini().splitlines() if not line.startswith("path_separator")
        )
        (project.root / "limbeck.ini").write_text(text + "\n", encoding="utf-8")
    else:
        project.set_option("path_separator", separator)
    assert project.ok("heads").out == "aaa1 (head)\nbbb1 (more) (head)\n"
    project.ok("revision", "-m", "next", "--rev-id", "bbb2", "--head", "more@head")
    assert (second / "bbb2_next.py").is_file()


def test_bad_path_separator(project: Project) -> None:
    project.set_option("path_separator", "comma")
    project.set_option("version_locations", "%(here)s/migrations/versions")
    result = project.fails("heads", match="limbeck.ini [limbeck] path_separator is 'comma'")
    assert "os, :, ;, space, newline" in result.err


def test_pyproject_version_locations_list(
    empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(empty_dir, capsys)
    project.ok("init", "-t", "pyproject", "migrations")
    (empty_dir / "more").mkdir()
    project.write_rev("aaa1")
    project.write_rev("bbb1", folder=empty_dir / "more")
    path = empty_dir / "pyproject.toml"
    path.write_text(
        path.read_text()
        + '\nversion_locations = ["%(here)s/migrations/versions", "%(here)s/more"]\n',
        encoding="utf-8",
    )
    assert project.ok("heads").out == "aaa1 (head)\nbbb1 (head)\n"


BOOLEANS = [
    ("true", True),
    ("True", True),
    ("yes", True),
    ("1", True),
    ("on", True),
    ("false", False),
    ("no", False),
    ("0", False),
    ("off", False),
    ("OFF", False),
]


@pytest.mark.parametrize(("text", "value"), BOOLEANS)
def test_recursive_version_locations(project: Project, text: str, value: bool) -> None:
    project.write_rev("aaa1")
    project.write_rev("bbb2", "aaa1", folder=project.versions / "2024" / "q1")
    project.write_rev("zzz9", "nothing", folder=project.versions / ".hidden")
    project.set_option("recursive_version_locations", text)
    assert project.ok("heads").out == ("bbb2 (head)\n" if value else "aaa1 (head)\n")


def test_boolean_in_pyproject_must_be_a_boolean(
    empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(empty_dir, capsys)
    project.ok("init", "-t", "pyproject", "migrations")
    path = empty_dir / "pyproject.toml"
    base = path.read_text()
    path.write_text(base + "\nrecursive_version_locations = true\n", encoding="utf-8")
    project.ok("heads")
    path.write_text(base + '\nrecursive_version_locations = "sometimes"\n', encoding="utf-8")
    project.fails("heads", match="recursive_version_locations must be a boolean, not 'sometimes'")


def test_bad_boolean_in_ini(project: Project) -> None:
    project.set_option("sourceless", "maybe")
    result = project.fails("heads", match="limbeck.ini [limbeck] sourceless must be a boolean")
    assert result.error_lines[1] == "hint: write true/false, yes/no, 1/0 or on/off"


# -- new files: name, date, encoding ----------------------------------------------------------


def test_file_template_with_every_token(project: Project) -> None:
    project.set_option(
        "file_template",
        "%%(year)d/%%(month).2d/%%(day).2d_%%(hour).2d%%(minute).2d%%(second).2d"
        "_%%(epoch)s_%%(rev)s_%%(slug)s",
    )
    project.set_option("recursive_version_locations", "true")
    project.set_option("timezone", "UTC")
    before = project.files()
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    project.ok("revision", "-m", "Add a column", "--rev-id", "aaa1")
    end = dt.datetime.now(dt.timezone.utc)
    path = new_file(project, before)
    rel = path.relative_to(project.versions).as_posix()
    match = re.fullmatch(
        r"(\d{4})/(\d\d)/(\d\d)_(\d\d)(\d\d)(\d\d)_(\d+)_aaa1_add_a_column\.py", rel
    )
    assert match, rel
    year, month, day, hour, minute, second, epoch = map(int, match.groups())
    when = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone.utc)
    assert start <= when <= end
    assert epoch == int(when.timestamp())
    assert project.ok("heads").out == "aaa1 (head)\n"
    # The next revision lands in a sub-directory too and is found.
    project.ok("revision", "-m", "again", "--rev-id", "bbb2")
    assert project.ok("heads").out == "bbb2 (head)\n"


def test_file_template_invalid_token(project: Project) -> None:
    project.set_option("file_template", "%%(nope)s")
    before = project.files()
    result = project.fails("revision", "-m", "x", match="file_template '%(nope)s' is invalid")
    assert "tokens:" in result.err
    assert project.files() == before


@pytest.mark.parametrize(("length", "name"), [("10", "aaa1_add_user.py"), ("3", "aaa1_add.py")])
def test_truncate_slug_length(project: Project, length: str, name: str) -> None:
    project.set_option("truncate_slug_length", length)
    project.ok("revision", "-m", "Add user table now", "--rev-id", "aaa1")
    assert (project.versions / name).is_file()


def test_truncate_slug_length_not_a_number(project: Project) -> None:
    project.set_option("truncate_slug_length", "long")
    project.fails("revision", "-m", "x", match="truncate_slug_length must be a whole number")


@pytest.mark.parametrize(("zone", "offset"), [("UTC", "+00:00"), ("Asia/Tokyo", "+09:00")])
def test_timezone(project: Project, zone: str, offset: str) -> None:
    project.set_option("timezone", zone)
    project.ok("revision", "-m", "x", "--rev-id", "aaa1")
    text = (project.versions / "aaa1_x.py").read_text(encoding="utf-8")
    assert re.search(
        rf"Create Date: \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+{re.escape(offset)}\n", text
    )


def test_unknown_timezone(project: Project) -> None:
    project.set_option("timezone", "Mars/Olympus")
    before = project.files()
    project.fails("revision", "-m", "x", match="unknown timezone 'Mars/Olympus'")
    assert project.files() == before


def test_output_encoding(project: Project) -> None:
    template = project.root / "migrations" / "script.py.mako"
    # (Mako would take a literal coding comment for its own, so emit it as an expression.)
    template.write_text(
        '${"# -*- coding: latin-1 -*-"}\n' + template.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    project.set_option("output_encoding", "latin-1")
    project.ok("revision", "-m", "café crème", "--rev-id", "aaa1")
    path = project.versions / "aaa1_caf_cr_me.py"
    raw = path.read_bytes()
    assert "café crème".encode("latin-1") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    compile(raw, str(path), "exec")  # Python reads it too
    assert project.ok("heads").out == "aaa1 (head)\n"
    assert project.ok("show", "aaa1", "--json").json()[0]["message"] == "café crème"


@pytest.mark.parametrize("where", ["beside", "pycache"])
def test_sourceless(project: Project, where: str) -> None:
    project.write_rev("aaa1")
    source = project.write_rev("bbb2", "aaa1")
    if where == "beside":
        py_compile.compile(str(source), cfile=str(source) + "c", doraise=True)
    else:
        py_compile.compile(str(source), doraise=True)
    source.unlink()
    assert project.ok("heads").out == "aaa1 (head)\n"  # .pyc ignored by default
    project.set_option("sourceless", "true")
    assert project.ok("heads").out == "bbb2 (head)\n"
    assert project.ok("show", "bbb2", "--json").json()[0]["down_revisions"] == ["aaa1"]


# -- post-write hooks ---------------------------------------------------------------------------


def unformatted_template(project: Project) -> None:
    """A template whose output ruff format must change."""
    template = project.root / "migrations" / "script.py.mako"
    template.write_text(
        template.read_text(encoding="utf-8") + "\nVALUES = [1,2,   3]\n", encoding="utf-8"
    )


def test_ruff_format_hook_module(project: Project) -> None:
    unformatted_template(project)
    project.set_option("hooks", "ruff_format", section="post_write_hooks")
    project.set_option("ruff_format.type", "module", section="post_write_hooks")
    project.set_option("ruff_format.module", "ruff", section="post_write_hooks")
    project.set_option(
        "ruff_format.options",
        "format --no-cache REVISION_SCRIPT_FILENAME",
        section="post_write_hooks",
    )
    project.ok("revision", "-m", "formatted", "--rev-id", "aaa1")
    text = (project.versions / "aaa1_formatted.py").read_text(encoding="utf-8")
    assert "VALUES = [1, 2, 3]" in text
    assert 'revision: str = "aaa1"' in text  # quotes normalised too
    assert project.ok("heads").out == "aaa1 (head)\n"


def test_ruff_format_hook_from_pyproject(
    empty_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(empty_dir, capsys)
    project.ok("init", "-t", "pyproject", "migrations")
    unformatted_template(project)
    path = empty_dir / "pyproject.toml"
    path.write_text(
        path.read_text() + '\n[[tool.limbeck.post_write_hooks]]\nname = "ruff"\ntype = "exec"\n'
        f'executable = "{Path(sys.executable).parent / "ruff"}"\n'
        'options = "format --no-cache"\n',
        encoding="utf-8",
    )
    project.ok("revision", "-m", "formatted", "--rev-id", "aaa1")
    assert "VALUES = [1, 2, 3]" in (project.versions / "aaa1_formatted.py").read_text()


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[Path, Path]:
    """An executable that appends its arguments and working directory to a log."""
    log = tmp_path / "hook.log"
    script = tmp_path / "record-hook"
    script.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(os.getcwd() + ' ' + ' '.join(sys.argv[1:]) + '\\n')\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, log


def test_exec_hook_options_and_cwd(project: Project, recorder: tuple[Path, Path]) -> None:
    script, log = recorder
    project.set_option("hooks", "first, second", section="post_write_hooks")
    project.set_option("first.type", "exec", section="post_write_hooks")
    project.set_option("first.executable", str(script), section="post_write_hooks")
    project.set_option(
        "first.options", "--check REVISION_SCRIPT_FILENAME -v", section="post_write_hooks"
    )
    project.set_option("first.cwd", str(project.versions), section="post_write_hooks")
    project.set_option("second.type", "exec", section="post_write_hooks")
    project.set_option("second.executable", str(script), section="post_write_hooks")
    project.ok("revision", "-m", "x", "--rev-id", "aaa1")
    path = project.versions / "aaa1_x.py"
    assert log.read_text().splitlines() == [
        f"{project.versions} --check {path} -v",
        f"{project.root} {path}",  # no options: the file name is appended
    ]


def test_console_scripts_hook(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tiny installed distribution providing a console script.
    site = tmp_path / "site"
    (site / "stamp_hook-1.0.dist-info").mkdir(parents=True)
    (site / "stamp_hook-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: stamp-hook\nVersion: 1.0\n"
    )
    (site / "stamp_hook-1.0.dist-info" / "entry_points.txt").write_text(
        "[console_scripts]\nstamp-hook = stamp_hook:main\n"
    )
    (site / "stamp_hook.py").write_text(
        "import sys\n\ndef main():\n"
        "    path = sys.argv[-1]\n"
        "    with open(path, 'a') as f:\n"
        "        f.write('# stamped ' + ' '.join(sys.argv[1:-1]) + '\\n')\n"
        "    return 0\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    project.set_option("hooks", "stamp", section="post_write_hooks")
    project.set_option("stamp.type", "console_scripts", section="post_write_hooks")
    project.set_option("stamp.entrypoint", "stamp-hook", section="post_write_hooks")
    project.set_option("stamp.options", "-l 79", section="post_write_hooks")
    project.ok("revision", "-m", "x", "--rev-id", "aaa1")
    assert (project.versions / "aaa1_x.py").read_text().endswith("# stamped -l 79\n")


def test_hook_failures(project: Project, recorder: tuple[Path, Path]) -> None:
    project.set_option("hooks", "bad", section="post_write_hooks")
    project.set_option("bad.type", "nonsense", section="post_write_hooks")
    before = project.files()
    project.fails("revision", "-m", "x", match="post-write hook 'bad' has unknown type 'nonsense'")
    project.set_option("bad.type", "exec", section="post_write_hooks")
    project.fails("revision", "-m", "x", match="post-write hook 'bad' needs executable")
    project.set_option("bad.executable", "no-such-program-here", section="post_write_hooks")
    project.fails("revision", "-m", "x", match="executable 'no-such-program-here' not found")
    project.set_option("bad.type", "console_scripts", section="post_write_hooks")
    project.set_option("bad.entrypoint", "no-such-script", section="post_write_hooks")
    project.fails("revision", "-m", "x", match="no console script 'no-such-script' is installed")
    project.set_option("bad.type", "module", section="post_write_hooks")
    project.set_option("bad.module", "ruff", section="post_write_hooks")
    project.set_option(
        "bad.options", "check --select E999 --no-cache --bogus-flag", section="post_write_hooks"
    )
    # Up to here the hook could not run at all, and nothing was written.
    assert project.files() == before
    result = project.fails(
        "revision", "-m", "x", "--rev-id", "aaa1", match="post-write hook 'bad' failed"
    )
    # A hook that runs and fails leaves the (complete) revision file, and says so.
    assert "the revision file was written" in result.err
    assert project.files() - before == {"migrations/versions/aaa1_x.py"}
