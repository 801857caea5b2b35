"""``limbeck revision`` and ``limbeck merge`` without autogenerate."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Project


def header(path: Path) -> dict[str, Any]:
    """The four header values of a generated file, read with ast."""
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            assert node.value is not None
            values[node.target.id] = ast.literal_eval(node.value)
    return values


def only_new(project: Project, before: set[str]) -> Path:
    new = project.files() - before
    assert len(new) == 1, new
    return project.root / new.pop()


def test_revision_chain_with_message(project: Project) -> None:
    out = project.ok("revision", "-m", "Create the Users table!", "--rev-id", "aaa1").out
    path = project.versions / "aaa1_create_the_users_table.py"
    assert out == f"  Generating {path} ... done\n"
    assert header(path) == {
        "revision": "aaa1",
        "down_revision": None,
        "branch_labels": None,
        "depends_on": None,
    }
    assert "Revises: \n" in path.read_text(encoding="utf-8")
    before = project.files()
    project.ok("revision", "-m", "second")
    second = only_new(project, before)
    rev = header(second)["revision"]
    assert len(rev) == 12 and all(c in "0123456789abcdef" for c in rev)
    assert second.name == f"{rev}_second.py"
    assert header(second)["down_revision"] == "aaa1"
    assert project.ok("heads").out == f"{rev} (head)\n"


def test_revision_without_message(project: Project) -> None:
    project.ok("revision", "--rev-id", "aaa1")
    path = project.versions / "aaa1.py"
    assert path.read_text(encoding="utf-8").startswith('"""empty message')


def test_head_base_starts_a_new_root(project: Project) -> None:
    project.ok("revision", "-m", "one", "--rev-id", "aaa1")
    project.ok("revision", "-m", "root two", "--rev-id", "bbb1", "--head", "base")
    assert header(project.versions / "bbb1_root_two.py")["down_revision"] is None
    assert set(project.ok("heads").out.split()) == {"aaa1", "bbb1", "(head)"}
    # With two heads a plain revision must say where it goes.
    before = project.files()
    result = project.fails("revision", "-m", "x", match="there are 2 heads (aaa1, bbb1)")
    assert "--head" in result.err
    assert project.files() == before


def test_head_label_at_head_and_branch_label(project: Project) -> None:
    project.ok("revision", "-m", "one", "--rev-id", "aaa1")
    project.ok(
        "revision", "-m", "feature", "--rev-id", "fff1", "--head", "base", "--branch-label", "feat"
    )
    assert header(project.versions / "fff1_feature.py")["branch_labels"] == ("feat",)
    project.ok("revision", "-m", "more", "--rev-id", "fff2", "--head", "feat@head")
    assert header(project.versions / "fff2_more.py")["down_revision"] == "fff1"
    assert project.ok("show", "feat@head").out.startswith("Rev: fff2 (feat) (head)\n")
    project.fails(
        "revision", "-m", "x", "--head", "base", "--branch-label", "feat", match="'feat' already"
    )


def test_splice(project: Project) -> None:
    project.ok("revision", "-m", "one", "--rev-id", "aaa1")
    project.ok("revision", "-m", "two", "--rev-id", "bbb2")
    before = project.files()
    result = project.fails(
        "revision", "-m", "x", "--head", "aaa1", match="'aaa1' is not a head: it already has"
    )
    assert "--splice" in result.err
    assert project.files() == before
    project.ok("revision", "-m", "side", "--rev-id", "ccc3", "--head", "aaa1", "--splice")
    assert header(project.versions / "ccc3_side.py")["down_revision"] == "aaa1"
    assert "aaa1 (branchpoint)" in project.ok("branches").out


def test_version_path_with_several_locations(project: Project) -> None:
    (project.root / "other").mkdir()
    project.set_option("path_separator", "os")
    project.set_option("version_locations", "%(here)s/migrations/versions:%(here)s/other")
    # A new base (the very first revision too) must say where it goes.
    before = project.files()
    project.fails("revision", "-m", "x", match="several version locations")
    assert project.files() == before
    project.ok("revision", "-m", "one", "--rev-id", "aaa1", "--version-path", str(project.versions))
    assert (project.versions / "aaa1_one.py").is_file()
    project.ok("revision", "-m", "two", "--rev-id", "aaa2")
    assert (project.versions / "aaa2_two.py").is_file()
    project.fails("revision", "-m", "x", "--head", "base", match="several version locations")
    assert project.files() == before | {
        "migrations/versions/aaa1_one.py",
        "migrations/versions/aaa2_two.py",
    }
    project.ok(
        "revision",
        "-m",
        "other root",
        "--rev-id",
        "ooo1",
        "--head",
        "base",
        "--version-path",
        str(project.root / "other"),
        "--branch-label",
        "other",
    )
    assert (project.root / "other" / "ooo1_other_root.py").is_file()
    # A child goes beside its parent.
    project.ok("revision", "-m", "next", "--rev-id", "ooo2", "--head", "other@head")
    assert (project.root / "other" / "ooo2_next.py").is_file()
    project.fails(
        "revision",
        "-m",
        "x",
        "--head",
        "base",
        "--version-path",
        str(project.root),
        match="is not one of the version locations",
    )


@pytest.mark.parametrize("bad", ["a@b", "a-b", "a+b", "a:b", "a b", ""])
def test_rev_id_forbidden_characters(project: Project, bad: str) -> None:
    before = project.files()
    project.fails("revision", "-m", "x", "--rev-id", bad, match=f"revision id {bad!r} is not")
    assert project.files() == before


def test_rev_id_already_taken(project: Project) -> None:
    project.ok("revision", "-m", "one", "--rev-id", "aaa1")
    project.fails("revision", "-m", "two", "--rev-id", "aaa1", match="'aaa1' already exists")


def test_depends_on_resolves_partial_ids_and_keeps_labels(project: Project) -> None:
    project.ok("revision", "-m", "one", "--rev-id", "aaa111")
    project.ok(
        "revision", "-m", "lib", "--rev-id", "lll1", "--head", "base", "--branch-label", "lib"
    )
    project.ok(
        "revision",
        "-m",
        "app",
        "--rev-id",
        "ppp1",
        "--head",
        "base",
        "--depends-on",
        "aaa1",
        "--depends-on",
        "lib",
    )
    assert header(project.versions / "ppp1_app.py")["depends_on"] == ("aaa111", "lib")
    project.ok(
        "revision", "-m", "app2", "--rev-id", "ppp2", "--head", "ppp1", "--depends-on", "lll"
    )
    assert header(project.versions / "ppp2_app2.py")["depends_on"] == "lll1"
    assert sorted(project.ok("heads").out.splitlines()) == [
        "aaa111 (head) (dependency)",
        "lll1 (lib) (head) (dependency)",
        "ppp2 (head)",
    ]
    assert project.ok("heads", "--resolve-dependencies").out == "ppp2 (head)\n"
    shown = project.ok("show", "ppp1").out
    assert "Also depends on: aaa111, lll1\n" in shown
    project.fails("revision", "-m", "x", "--head", "ppp2", "--depends-on", "zzz", match="'zzz'")


def test_merge_heads(project: Project) -> None:
    project.ok("revision", "-m", "one", "--rev-id", "aaa1")
    project.ok("revision", "-m", "two", "--rev-id", "bbb2")
    project.ok("revision", "-m", "side", "--rev-id", "ccc3", "--head", "aaa1", "--splice")
    out = project.ok("merge", "heads", "-m", "join them", "--rev-id", "mmm1").out
    path = project.versions / "mmm1_join_them.py"
    assert str(path) in out
    assert header(path)["down_revision"] == ("bbb2", "ccc3")
    assert "Revises: bbb2, ccc3" in path.read_text(encoding="utf-8")
    assert project.ok("heads").out == "mmm1 (head) (mergepoint)\n"


def test_merge_ids_with_branch_label(project: Project) -> None:
    project.ok("revision", "-m", "one", "--rev-id", "aaa111")
    project.ok("revision", "-m", "two", "--rev-id", "bbb222", "--head", "base")
    project.ok("merge", "aaa1", "bbb2", "--branch-label", "joined", "--rev-id", "mmm1")
    path = project.versions / "mmm1.py"
    assert header(path)["down_revision"] == ("aaa111", "bbb222")
    assert header(path)["branch_labels"] == ("joined",)
    assert project.ok("show", "joined").out.startswith("Rev: mmm1 (joined) (head) (mergepoint)")


def test_merge_needs_two(project: Project) -> None:
    project.ok("revision", "-m", "one", "--rev-id", "aaa1")
    before = project.files()
    project.fails("merge", "heads", match="a merge needs at least two revisions, got aaa1")
    assert project.files() == before


@pytest.mark.parametrize("rev_id", ["../../evil", "a/b", "head", "HEADS", "base", ".hidden", "a@b"])
def test_rev_id_that_targets_could_not_name_is_refused(project: Project, rev_id: str) -> None:
    """Nothing is written (not even outside the versions directory)."""
    before = project.files()
    project.fails("revision", "-m", "x", "--rev-id", rev_id, match="is not allowed")
    assert project.files() == before
    assert not (project.root.parent / "evil_x.py").exists()


@pytest.mark.parametrize("label", ["a@b", "head", "x:y", "with space"])
def test_branch_label_that_targets_could_not_name_is_refused(project: Project, label: str) -> None:
    before = project.files()
    project.fails("revision", "-m", "x", "--branch-label", label, match="is not allowed")
    assert project.files() == before
