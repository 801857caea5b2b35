"""Bad input: exit code 2, one ``error:`` line naming the culprit, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Project

from limbeck.cli import main
from limbeck.errors import RevisionError, ScriptError

READ_COMMANDS = (["heads"], ["history"], ["branches"], ["show", "heads"])


def assert_every_command_fails(project: Project, match: str) -> None:
    """Reading commands and ``revision`` all fail the same way, writing nothing."""
    before = project.files()
    for args in READ_COMMANDS:
        project.fails(*args, match=match)
    project.fails("revision", "-m", "new", "--head", "base", match=match)
    project.fails("merge", "heads", match=match)
    assert project.files() == before


def test_syntax_error_in_revision_file(project: Project) -> None:
    project.write_rev("aaa1")
    bad = project.write_rev("bbb2", "aaa1")
    text = bad.read_text(encoding="utf-8").replace(
        "down_revision = 'aaa1'", "down_revision = ('aaa1'"
    )
    bad.write_text(text, encoding="utf-8")
    assert_every_command_fails(project, f"syntax error in revision file {bad}, line")


def test_missing_revision_variable(project: Project) -> None:
    project.write_rev("aaa1")
    bad = project.versions / "bbb2_no_id.py"
    bad.write_text('"""no id"""\ndown_revision = "aaa1"\n', encoding="utf-8")
    assert_every_command_fails(project, f"revision file {bad} has no `revision`")


def test_unusable_revision_value(project: Project) -> None:
    bad = project.versions / "x.py"
    bad.write_text("revision = 42\ndown_revision = None\n", encoding="utf-8")
    assert_every_command_fails(project, f"revision file {bad} has no usable `revision` id")


def test_bad_down_revision_value(project: Project) -> None:
    bad = project.versions / "x.py"
    bad.write_text("revision = 'aaa1'\ndown_revision = 3\n", encoding="utf-8")
    assert_every_command_fails(project, f"down_revision in {bad} must be None, a string")


def test_helper_module_without_header_is_ignored(project: Project) -> None:
    (project.versions / "helpers.py").write_text("VALUE = 1\n", encoding="utf-8")
    project.write_rev("aaa1")
    assert project.ok("heads").out == "aaa1 (head)\n"


def test_non_literal_down_revision_falls_back_to_importing_that_file(project: Project) -> None:
    # Importing any other file would fail loudly.
    project.write_rev("aaa1", extra="raise RuntimeError('imported')\n")
    project.write_rev("bbb2", "aaa1", extra="raise RuntimeError('imported')\n")
    odd = project.versions / "ccc3_odd.py"
    odd.write_text(
        '"""computed parent"""\nPARENT = "bb" + "b2"\nrevision = "ccc3"\n'
        "down_revision = PARENT\nbranch_labels = None\ndepends_on = None\n",
        encoding="utf-8",
    )
    assert project.ok("heads").out == "ccc3 (head)\n"
    out = project.ok("heads", "-v").out
    assert out.startswith(f"note: {odd} was imported to read its header (not literals)\n")
    assert "Parent: bbb2" in out
    history = project.ok("history", "-v").out
    assert f"note: {odd} was imported" in history
    assert "note:" not in project.ok("heads").out
    # Warm cache: still reported.
    assert f"note: {odd} was imported" in project.ok("heads", "-v").out


def test_non_literal_down_revision_whose_import_fails(project: Project) -> None:
    odd = project.versions / "ccc3_odd.py"
    odd.write_text(
        'import no_such_module_here\nrevision = "ccc3"\ndown_revision = no_such_module_here.X\n',
        encoding="utf-8",
    )
    project.fails("heads", match=f"importing revision file {odd} failed: ModuleNotFoundError")


def test_duplicate_revision_ids(project: Project) -> None:
    one = project.write_rev("aaa1", name="one.py")
    two = project.write_rev("aaa1", name="two.py")
    result = project.run("heads")
    assert_every_command_fails(project, "duplicate revision id 'aaa1'")
    assert str(one) in result.err and str(two) in result.err


def test_missing_parent(project: Project) -> None:
    project.write_rev("aaa1")
    child = project.write_rev("bbb2", "gone1")
    assert_every_command_fails(project, f"revision 'bbb2' ({child}) names a missing parent 'gone1'")


def test_cycle(project: Project) -> None:
    project.write_rev("aaa1", "ccc3")
    project.write_rev("bbb2", "aaa1")
    project.write_rev("ccc3", "bbb2")
    assert_every_command_fails(project, "revisions form a cycle: aaa1 -> bbb2 -> ccc3 -> aaa1")


def test_duplicate_branch_label(project: Project) -> None:
    project.write_rev("aaa1", labels="x")
    project.write_rev("bbb2", labels="x")
    assert_every_command_fails(project, "branch label 'x' is declared by both")


def test_unknown_target(project: Project) -> None:
    project.write_rev("aaa1")
    before = project.files()
    project.fails("show", "zzzz", match="no revision or branch label 'zzzz'")
    project.fails("history", "-r", "zzzz:", match="'zzzz'")
    project.fails("revision", "-m", "x", "--head", "zzzz", match="'zzzz'")
    project.fails("merge", "aaa1", "zzzz", match="'zzzz'")
    project.fails("edit", "zzzz", match="'zzzz'")
    assert project.files() == before


def test_ambiguous_target(project: Project) -> None:
    project.write_rev("abc1")
    project.write_rev("abc2", "abc1")
    before = project.files()
    result = project.fails("show", "abc", match="revision 'abc' is ambiguous: it starts 2 ids")
    assert "abc1, abc2" in result.err
    project.fails("revision", "-m", "x", "--head", "abc", match="'abc' is ambiguous")
    assert project.files() == before


def test_head_with_several_heads(project: Project) -> None:
    project.write_rev("aaa1")
    project.write_rev("bbb2", labels="left")
    result = project.fails("show", "head", match="'head' is ambiguous: there are 2 heads")
    assert "`left@head`" in result.err


def test_unknown_branch_label(project: Project) -> None:
    project.write_rev("aaa1", labels="main")
    before = project.files()
    result = project.fails("show", "nope@base", match="unknown branch label 'nope'")
    assert result.error_lines[1] == "hint: branch labels in this project: main"
    project.fails("history", "-r", "nope@base:", match="unknown branch label 'nope'")
    project.fails("revision", "-m", "x", "--head", "nope@base", match="unknown branch label")
    assert project.files() == before


def test_unwritable_versions_directory_is_a_file(project: Project) -> None:
    project.versions.rmdir()
    project.versions.write_text("not a directory", encoding="utf-8")
    before = project.files()
    project.fails("revision", "-m", "x", match=f"versions directory {project.versions}")
    project.fails("heads", match=f"versions directory {project.versions} does not exist")
    assert project.files() == before


def test_unwritable_sub_directory_from_file_template(project: Project) -> None:
    project.write_rev("aaa1")
    project.set_option("file_template", "blocked/%%(rev)s")
    project.set_option("recursive_version_locations", "true")
    (project.versions / "blocked").write_text("a file where a directory should be")
    before = project.files()
    project.fails(
        "revision",
        "-m",
        "x",
        match=f"cannot write to versions directory {project.versions / 'blocked'}",
    )
    assert project.files() == before
    assert not list(project.root.rglob(".limbeck-*"))


def test_traceback_option(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RevisionError, match="no revision or branch label 'zzzz'"):
        main(["--traceback", "show", "zzzz"])
    with pytest.raises(RevisionError):
        main(["--raiseerr", "show", "zzzz"])
    (project.versions / "x.py").write_text("revision = (\n", encoding="utf-8")
    with pytest.raises(ScriptError, match="syntax error"):
        main(["--traceback", "heads"])


def test_usage_error_exits_2(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["show"])
    assert caught.value.code == 2
    assert "the following arguments are required: rev" in capsys.readouterr().err
    assert main([]) == 2
    assert "usage: limbeck" in capsys.readouterr().out


def test_unexpected_exception_is_one_line(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import limbeck.command

    def boom(*args: object, **kwargs: object) -> None:
        raise ValueError("surprise")

    monkeypatch.setattr(limbeck.command, "heads", boom)
    result = project.run("heads")
    assert result.code == 2
    assert result.error_lines == [
        "error: unexpected ValueError: surprise",
        "hint: rerun with --traceback for the full trace",
    ]
    with pytest.raises(ValueError, match="surprise"):
        main(["--traceback", "heads"])


def test_file_in_versions_not_readable_as_text(project: Project) -> None:
    bad: Path = project.versions / "bin.py"
    bad.write_bytes(b"revision = '\xff\xfe'\n")
    project.fails("heads", match=f"revision file {bad}")
