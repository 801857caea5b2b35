"""The revision index: static header reading and its on-disk cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_helpers import Project

import limbeck.scripts.index as index
from limbeck.scripts import ScriptDirectory
from limbeck.scripts.index import CACHE_NAME, read_header


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths passed to read_header, in order."""
    seen: list[str] = []
    real = index.read_header

    def counting(path: str) -> index.Header | None:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(index, "read_header", counting)
    return seen


@pytest.fixture
def three(project: Project) -> Project:
    project.write_rev("aaa1")
    project.write_rev("bbb2", "aaa1")
    project.write_rev("ccc3", "bbb2")
    return project


def cache_file(project: Project) -> Path:
    return project.root / "migrations" / "__pycache__" / CACHE_NAME


def test_second_run_reads_no_file(three: Project, reads: list[str]) -> None:
    assert three.ok("heads").out == "ccc3 (head)\n"
    assert len(reads) == 3
    assert cache_file(three).is_file()
    reads.clear()
    assert three.ok("heads").out == "ccc3 (head)\n"
    assert three.ok("history").out.count("\n") == 3
    assert reads == []


def test_touching_or_editing_rereads_exactly_that_file(three: Project, reads: list[str]) -> None:
    three.ok("heads")
    reads.clear()
    touched = three.versions / "bbb2_rev.py"
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert three.ok("heads").out == "ccc3 (head)\n"
    assert reads == [str(touched)]
    reads.clear()
    edited = three.versions / "ccc3_rev.py"
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("revision ccc3", "a new message"),
        encoding="utf-8",
    )
    assert three.ok("history", "-r", "ccc3:").out == "bbb2 -> ccc3 (head), a new message\n"
    assert reads == [str(edited)]
    reads.clear()
    # A new file is read, the others are not; a removed one simply disappears.
    added = three.write_rev("ddd4", "ccc3")
    assert three.ok("heads").out == "ddd4 (head)\n"
    assert reads == [str(added)]
    reads.clear()
    added.unlink()
    assert three.ok("heads").out == "ccc3 (head)\n"
    assert reads == []


def test_same_size_edit_is_seen_through_its_mtime(three: Project) -> None:
    three.ok("heads")
    path = three.versions / "ccc3_rev.py"
    stat = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("'bbb2'", "'aaa1'"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000))
    assert set(three.ok("heads").out.splitlines()) == {"bbb2 (head)", "ccc3 (head)"}


def test_corrupt_cache_is_ignored_and_rewritten(three: Project, reads: list[str]) -> None:
    three.ok("heads")
    cache_file(three).write_bytes(b"\x80\x04this is not a pickle")
    reads.clear()
    assert three.ok("heads").out == "ccc3 (head)\n"
    assert len(reads) == 3
    reads.clear()
    assert three.ok("heads").out == "ccc3 (head)\n"
    assert reads == []
    cache_file(three).write_bytes(b"")
    assert three.ok("heads").out == "ccc3 (head)\n"


def test_read_only_location_still_works(three: Project, reads: list[str]) -> None:
    # Tests run as root, where permissions do not stop writes: a regular
    # file where the cache directory should be makes it unwritable.
    (three.root / "migrations" / "__pycache__").write_text("in the way", encoding="utf-8")
    before = three.files()
    assert three.ok("heads").out == "ccc3 (head)\n"
    assert three.ok("heads").out == "ccc3 (head)\n"
    assert len(reads) == 6  # nothing cached, nothing broken
    assert three.files() == before


def test_cache_is_per_script_directory(three: Project) -> None:
    three.ok("heads")
    directory = ScriptDirectory(str(three.root / "migrations"))
    assert directory.get_heads() == ["ccc3"]
    assert directory.get_current_head() == "ccc3"
    assert directory.get_base() == "aaa1"
    assert [s.revision for s in directory.walk_revisions()] == ["ccc3", "bbb2", "aaa1"]
    script = directory.get_revision("bbb")
    assert (script.revision, script.down_revision, script.doc) == ("bbb2", "aaa1", "revision bbb2")
    assert script.nextrev == frozenset({"ccc3"})


# -- reading one header -------------------------------------------------------------------


def test_read_header_forms(tmp_path: Path) -> None:
    path = tmp_path / "rev.py"
    path.write_text(
        textwrap.dedent(
            '''\
            """Add things

            Longer description.
            """
            from typing import Sequence

            revision: str = "aaa1"
            down_revision: str | Sequence[str] | None = ("p1", "p2")
            branch_labels = ("x",)
            depends_on = "d1"
            '''
        ),
        encoding="utf-8",
    )
    header = read_header(str(path))
    assert header is not None
    assert header.revision == "aaa1"
    assert header.down_revisions == ("p1", "p2")
    assert header.down_revision_value == ("p1", "p2")
    assert header.branch_labels == ("x",)
    assert header.dependencies == ("d1",)
    assert header.docstring.startswith("Add things")
    assert header.to_revision().doc == "Add things"
    assert header.imported is False


def test_read_header_multiline_values_use_the_parser(tmp_path: Path) -> None:
    path = tmp_path / "rev.py"
    path.write_text(
        'revision = "aaa1"\ndown_revision = (\n    "p1",\n    "p2",\n)\n'
        "def upgrade():\n    revision = 'not me'\n",
        encoding="utf-8",
    )
    header = read_header(str(path))
    assert header is not None
    assert (header.revision, header.down_revisions) == ("aaa1", ("p1", "p2"))


def test_read_header_of_a_helper_module(tmp_path: Path) -> None:
    path = tmp_path / "util.py"
    path.write_text("def helper():\n    return 1\n", encoding="utf-8")
    assert read_header(str(path)) is None


# -- no SQLAlchemy, no revision modules ---------------------------------------------------------

CHECK = textwrap.dedent(
    """\
    import sys
    import limbeck.cli

    for args in (["heads"], ["history"], ["show", "heads"], ["branches"], ["heads", "-v"]):
        code = limbeck.cli.main(args)
        assert code == 0, (args, code)
    loaded = sorted(
        name for name in sys.modules
        if name == "sqlalchemy" or name.startswith(("sqlalchemy.", "_limbeck_rev_"))
        or name == "mako" or name.startswith("mako.")
    )
    print("LOADED:", loaded)
    """
)


@pytest.mark.parametrize("warm", [False, True])
def test_read_commands_import_no_sqlalchemy_and_no_revision_module(
    three: Project, warm: bool
) -> None:
    if warm:
        three.ok("heads")
    completed = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=three.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "LOADED: []" in completed.stdout
    assert "ccc3 (head)" in completed.stdout
