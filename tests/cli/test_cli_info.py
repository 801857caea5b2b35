"""Informational commands: heads, branches, history, show, edit, and their --json."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from cli_helpers import Project


@pytest.fixture
def branched(project: Project) -> Project:
    """aaa1 -> bbb2 -> ddd4 (merge) ; aaa1 -> ccc3 (feat) -> ddd4 ; eee5 (other base)."""
    project.write_rev("aaa1", message="first")
    project.write_rev("bbb2", "aaa1", message="second")
    project.write_rev("ccc3", "aaa1", labels="feat", message="feature work\n\nLonger text.")
    project.write_rev("ddd4", ("bbb2", "ccc3"), message="merge")
    project.write_rev("eee5", None, depends_on="bbb2", message="other base")
    return project


def test_heads(branched: Project) -> None:
    assert branched.ok("heads").out == "ddd4 (feat) (head) (mergepoint)\neee5 (head)\n"
    verbose = branched.ok("heads", "-v").out
    assert "Rev: ddd4 (feat) (head) (mergepoint)\nMerges: bbb2, ccc3\n" in verbose
    assert "Rev: eee5 (head)\nParent: <base>\nAlso depends on: bbb2\n" in verbose
    assert f"Path: {branched.versions / 'eee5_rev.py'}" in verbose
    data = branched.ok("heads", "--json").json()
    assert [d["revision"] for d in data] == ["ddd4", "eee5"]
    assert data[0]["down_revisions"] == ["bbb2", "ccc3"]
    assert data[0]["branch_labels"] == ["feat"]
    assert data[0]["is_merge_point"] is True
    assert data[1]["depends_on"] == ["bbb2"]
    assert data[1]["message"] == "other base"
    resolved = branched.ok("heads", "--resolve-dependencies", "--json").json()
    assert [d["revision"] for d in resolved] == ["ddd4", "eee5"]


def test_effective_head(project: Project) -> None:
    project.write_rev("aaa1")
    project.write_rev("bbb2", depends_on="aaa1")
    assert project.ok("heads").out == "aaa1 (head) (dependency)\nbbb2 (head)\n"
    assert project.ok("heads", "--resolve-dependencies").out == "bbb2 (head)\n"
    data = project.ok("heads", "--json").json()
    assert [(d["revision"], d["is_effective_head"]) for d in data] == [
        ("aaa1", False),
        ("bbb2", True),
    ]


def test_branches(branched: Project) -> None:
    out = branched.ok("branches").out
    assert out == (
        "<base> -> aaa1 (branchpoint), first\n"
        "     -> bbb2, second\n"
        "     -> ccc3 (feat), feature work\n"
    )
    assert branched.ok("branches", "-v").out.startswith("Rev: aaa1 (branchpoint)\n")
    data = branched.ok("branches", "--json").json()
    assert [(d["revision"], d["branches"]) for d in data] == [("aaa1", ["bbb2", "ccc3"])]


def test_history(branched: Project) -> None:
    lines = branched.ok("history").out.splitlines()
    assert lines == [
        "<base> -> eee5 (head), other base",
        "bbb2, ccc3 -> ddd4 (feat) (head) (mergepoint), merge",
        "aaa1 -> ccc3 (feat), feature work",
        "aaa1 -> bbb2, second",
        "<base> -> aaa1 (branchpoint), first",
    ]
    data = branched.ok("history", "--json").json()
    assert [d["revision"] for d in data] == ["eee5", "ddd4", "ccc3", "bbb2", "aaa1"]
    verbose = branched.ok("history", "-v").out
    assert "Rev: ccc3 (feat)\nParent: aaa1\nBranch names: feat\n" in verbose
    assert "    feature work\n\n    Longer text." in verbose


@pytest.mark.parametrize(
    ("rev_range", "expected"),
    [
        ("aaa1:ccc3", ["ccc3", "aaa1"]),
        ("bbb2:", ["eee5", "ddd4", "bbb2"]),
        (":bbb2", ["bbb2", "aaa1"]),
        ("base:feat@head", ["ddd4", "ccc3", "bbb2", "aaa1"]),
        ("feat@base:feat@head", ["ddd4", "ccc3"]),
        ("ccc3:heads", ["ddd4", "ccc3"]),
        ("aaa1+1:ddd4", None),  # ambiguous: aaa1 is a branch point
        ("ddd4-2:ddd4", None),  # ambiguous: ddd4 is a merge point
        ("ccc3-1:ccc3", ["ccc3", "aaa1"]),
        ("ccc3", ["ddd4", "ccc3"]),  # a single start: everything from it up
    ],
)
def test_history_ranges(branched: Project, rev_range: str, expected: list[str] | None) -> None:
    if expected is None:
        result = branched.fails("history", "-r", rev_range, "--json", match="is ambiguous")
        assert "go to one of them by name" in result.err
        return
    data = branched.ok("history", f"--rev-range={rev_range}", "--json").json()
    assert [d["revision"] for d in data] == expected


@pytest.mark.parametrize(
    ("rev_range", "expected"),
    [
        ("-1:head", ["ddd4", "ccc3"]),  # counted down from the end, not the database
        ("-2:", ["ddd4", "ccc3", "bbb2"]),
        ("-1:ccc3", ["ccc3", "bbb2"]),
        ("bbb2:+1", ["ccc3", "bbb2"]),  # counted up from the start
    ],
)
def test_history_bare_relative_ends(project: Project, rev_range: str, expected: list[str]) -> None:
    """As Alembic: a bare -N start counts from the range's end (the head
    when open) and a bare +N end from its start; the database is not read,
    so none is created."""
    project.write_rev("aaa1")
    project.write_rev("bbb2", "aaa1")
    project.write_rev("ccc3", "bbb2")
    project.write_rev("ddd4", "ccc3")
    before = project.files()
    data = project.ok("history", f"--rev-range={rev_range}", "--json").json()
    assert [d["revision"] for d in data] == expected
    assert project.files() == before


def test_show(branched: Project) -> None:
    out = branched.ok("show", "ccc").out
    assert out == (
        "Rev: ccc3 (feat)\n"
        "Parent: aaa1\n"
        "Branch names: feat\n"
        f"Path: {branched.versions / 'ccc3_rev.py'}\n"
        "\n"
        "    feature work\n"
        "\n"
        "    Longer text.\n"
        "\n"
        "    Revision ID: ccc3\n"
        "\n"
    )
    assert branched.ok("show", "aaa1").out.startswith(
        "Rev: aaa1 (branchpoint)\nParent: <base>\nBranches into: bbb2, ccc3\n"
    )
    data = branched.ok("show", "heads", "--json").json()
    assert [d["revision"] for d in data] == ["ddd4", "eee5"]
    assert branched.ok("show", "feat", "--json").json()[0]["revision"] == "ccc3"
    assert branched.ok("show", "feat@base", "--json").json()[0]["revision"] == "ccc3"
    assert branched.ok("show", "bbb2@head", "--json").json()[0]["revision"] == "ddd4"


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An $EDITOR that records the files it was asked to open."""
    log = tmp_path / "edited.txt"
    script = tmp_path / "fake-editor"
    script.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"with open({str(log)!r}, 'a') as f:\n    f.write(' '.join(sys.argv[1:]) + '\\n')\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", f"{script} --wait")
    return log


def test_edit(branched: Project, editor: Path) -> None:
    branched.ok("edit", "ccc")
    assert editor.read_text(encoding="utf-8") == f"--wait {branched.versions / 'ccc3_rev.py'}\n"
    branched.ok("edit", "heads")
    assert editor.read_text(encoding="utf-8").splitlines()[1:] == [
        f"--wait {branched.versions / 'ddd4_rev.py'}",
        f"--wait {branched.versions / 'eee5_rev.py'}",
    ]
    branched.fails("edit", "zzzz", match="no revision or branch label 'zzzz'")


def test_edit_visual_and_failing_editor(
    branched: Project, editor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISUAL", os.environ["EDITOR"])
    monkeypatch.delenv("EDITOR")
    branched.ok("edit", "aaa1")
    assert editor.read_text(encoding="utf-8") == f"--wait {branched.versions / 'aaa1_rev.py'}\n"
    monkeypatch.setenv("EDITOR", "false")
    result = branched.run("edit", "aaa1")
    assert result.code == 2
    assert result.err == "error: editor 'false' exited with code 1\n"
