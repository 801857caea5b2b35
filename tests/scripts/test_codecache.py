"""The code cache of revision modules: one marshal file, used only while
each source file is unchanged, ignored when unreadable, never written when
bytecode writing is off."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from limbeck.errors import ScriptError
from limbeck.scripts import codecache
from limbeck.scripts.codecache import CodeCache

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

from project import Rev, db_state, make_project, run_cli


@pytest.fixture(autouse=True)
def _bytecode_writing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI may run with PYTHONDONTWRITEBYTECODE; these tests are about writing.
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def _revision(path: Path, value: int) -> None:
    path.write_text(f"VALUE = {value}\n\ndef upgrade():\n    return VALUE\n", encoding="utf-8")


def test_second_run_uses_the_cache_without_compiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "a_rev.py"
    _revision(source, 1)
    first = CodeCache(str(tmp_path / "__pycache__"))
    assert first.load_module(str(source)).upgrade() == 1
    first.save()
    assert first.path is not None and os.path.exists(first.path)

    def no_compiling(path: str) -> None:
        raise AssertionError(f"{path} compiled again")

    monkeypatch.setattr(codecache, "_compile_file", no_compiling)
    second = CodeCache(str(tmp_path / "__pycache__"))
    module = second.load_module(str(source))
    assert module.upgrade() == 1
    assert module.__file__ == str(source)
    assert module.__name__ == codecache.module_name_for(str(source))


def test_an_edited_file_is_compiled_again(tmp_path: Path) -> None:
    source = tmp_path / "a_rev.py"
    _revision(source, 1)
    cache = CodeCache(str(tmp_path / "__pycache__"))
    cache.load_module(str(source))
    cache.save()
    _revision(source, 22)  # another size
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert CodeCache(str(tmp_path / "__pycache__")).load_module(str(source)).upgrade() == 22


def test_same_size_edit_with_new_mtime_is_compiled_again(tmp_path: Path) -> None:
    source = tmp_path / "a_rev.py"
    _revision(source, 1)
    cache = CodeCache(str(tmp_path / "__pycache__"))
    cache.load_module(str(source))
    cache.save()
    before = source.stat()
    _revision(source, 7)  # same size
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    assert CodeCache(str(tmp_path / "__pycache__")).load_module(str(source)).upgrade() == 7


def test_an_unreadable_cache_is_ignored_and_replaced(tmp_path: Path) -> None:
    source = tmp_path / "a_rev.py"
    _revision(source, 3)
    cache = CodeCache(str(tmp_path / "__pycache__"))
    assert cache.path is not None
    os.makedirs(os.path.dirname(cache.path))
    Path(cache.path).write_bytes(b"\x00garbage")
    assert cache.load_module(str(source)).upgrade() == 3
    cache.save()
    assert CodeCache(str(tmp_path / "__pycache__")).load_module(str(source)).upgrade() == 3


def test_nothing_is_written_when_bytecode_writing_is_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    source = tmp_path / "a_rev.py"
    _revision(source, 1)
    cache = CodeCache(str(tmp_path / "__pycache__"))
    cache.load_module(str(source))
    cache.save()
    assert not (tmp_path / "__pycache__").exists()


def test_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    source = tmp_path / "broken.py"
    source.write_text("def upgrade():\n    op.create_table(\n", encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        CodeCache(None).load_module(str(source))
    assert str(source) in info.value.message
    assert "line" in info.value.message


def test_error_while_importing_names_the_file(tmp_path: Path) -> None:
    source = tmp_path / "raises.py"
    source.write_text("import no_such_module_here\n", encoding="utf-8")
    with pytest.raises(ScriptError, match="no_such_module_here") as info:
        CodeCache(None).load_module(str(source))
    assert str(source) in info.value.message


def test_cli_upgrade_writes_the_cache_and_picks_up_edits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    first = Rev(
        "a1",
        None,
        "op.create_table('first', sa.Column('id', sa.Integer, primary_key=True))",
        "op.drop_table('first')",
    )
    root = make_project(tmp_path, url, [first])
    unset = {"PYTHONDONTWRITEBYTECODE": ""}
    done = run_cli(root, "upgrade", "head", env=unset)
    assert done.returncode == 0, done.stderr
    pycache = root / "migrations" / "__pycache__"
    assert [p.name for p in pycache.glob("limbeck-code-*.marshal")]
    assert run_cli(root, "downgrade", "base", env=unset).returncode == 0

    edited = root / "migrations" / "versions" / first.filename
    before = edited.stat()
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("'first'", "'second'"), encoding="utf-8"
    )
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    done = run_cli(root, "upgrade", "head", "--accept-changed", env=unset)
    assert done.returncode == 0, done.stderr
    tables = db_state(url).tables
    assert "second" in tables and "first" not in tables
