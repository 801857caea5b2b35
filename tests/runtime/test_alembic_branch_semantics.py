"""Downgrades past ``depends_on`` and ``label@base`` in upgrade / stamp, on
SQLite, through the CLI.

Every expected state (version rows and tables) is the one Alembic 1.20
leaves for the same revision files and commands.
"""

from __future__ import annotations

from pathlib import Path

from project import Rev, db_state, make_project, run_cli


def _table_rev(rev_id: str, down: str | None, **kw: object) -> Rev:
    """A revision that creates table t_<id> (dropped on downgrade)."""
    return Rev(
        rev_id,
        down,
        f'op.create_table("t_{rev_id}", sa.Column("id", sa.Integer, primary_key=True))',
        f'op.drop_table("t_{rev_id}")',
        **kw,  # type: ignore[arg-type]
    )


def _ok(root: Path, *args: str) -> None:
    result = run_cli(root, *args)
    assert result.returncode == 0, f"{args}: {result.stderr}"


def _state(url: str) -> tuple[set[str], set[str]]:
    """(version rows, ids of the t_<id> tables present)."""
    state = db_state(url)
    return state.heads, {t[2:] for t in state.tables if t.startswith("t_")}


# -- downgrade keeps what only depends on the target -------------------------------------


def test_downgrade_keeps_a_revision_that_only_depends_on_the_target(
    tmp_path: Path, sqlite_url: str
) -> None:
    # a1 -> a2;  s1 -> s2 (depends_on a1)
    root = make_project(
        tmp_path,
        sqlite_url,
        [
            _table_rev("a1", None),
            _table_rev("a2", "a1"),
            _table_rev("s1", None),
            _table_rev("s2", "s1", depends_on="a1"),
        ],
    )
    _ok(root, "upgrade", "heads")
    assert _state(sqlite_url) == ({"a2", "s2"}, {"a1", "a2", "s1", "s2"})
    _ok(root, "downgrade", "a1")
    # a1 stays applied (s2 implies it), so s2 stays too.
    assert _state(sqlite_url) == ({"s2"}, {"a1", "s1", "s2"})


# a1 -> a2 -> a3;  s1 -> s2 (depends_on a2) -> s3
CHAINS = [
    _table_rev("a1", None),
    _table_rev("a2", "a1"),
    _table_rev("a3", "a2"),
    _table_rev("s1", None),
    _table_rev("s2", "s1", depends_on="a2"),
    _table_rev("s3", "s2"),
]


def test_downgrade_to_a_dependency_then_step_down_the_dependent_branch(
    tmp_path: Path, sqlite_url: str
) -> None:
    root = make_project(tmp_path, sqlite_url, CHAINS)
    _ok(root, "upgrade", "heads")
    assert _state(sqlite_url) == ({"a3", "s3"}, {"a1", "a2", "a3", "s1", "s2", "s3"})
    _ok(root, "downgrade", "a2")
    assert _state(sqlite_url) == ({"s3"}, {"a1", "a2", "s1", "s2", "s3"})
    _ok(root, "downgrade", "-1")
    assert _state(sqlite_url) == ({"s2"}, {"a1", "a2", "s1", "s2"})
    _ok(root, "downgrade", "-1")
    assert _state(sqlite_url) == ({"a2", "s1"}, {"a1", "a2", "s1"})
    _ok(root, "downgrade", "a1")
    assert _state(sqlite_url) == ({"a1", "s1"}, {"a1", "s1"})


def test_downgrade_below_a_dependency_removes_its_dependents(
    tmp_path: Path, sqlite_url: str
) -> None:
    root = make_project(tmp_path, sqlite_url, CHAINS)
    _ok(root, "upgrade", "heads")
    _ok(root, "downgrade", "a1")
    assert _state(sqlite_url) == ({"a1", "s1"}, {"a1", "s1"})
    _ok(root, "upgrade", "heads")
    _ok(root, "downgrade", "s1")
    assert _state(sqlite_url) == ({"a3", "s1"}, {"a1", "a2", "a3", "s1"})
    _ok(root, "downgrade", "base")
    assert _state(sqlite_url) == (set(), set())


def test_relative_downgrade_keeps_a_dependent_base(tmp_path: Path, sqlite_url: str) -> None:
    # a1 -> a2;  s1 (a base of its own, depends_on a1)
    root = make_project(
        tmp_path,
        sqlite_url,
        [_table_rev("a1", None), _table_rev("a2", "a1"), _table_rev("s1", None, depends_on="a1")],
    )
    _ok(root, "upgrade", "heads")
    assert _state(sqlite_url) == ({"a2", "s1"}, {"a1", "a2", "s1"})
    _ok(root, "downgrade", "a2-1")
    assert _state(sqlite_url) == ({"s1"}, {"a1", "s1"})
    _ok(root, "downgrade", "-1")
    assert _state(sqlite_url) == ({"a1"}, {"a1"})


# -- label@base in upgrade and stamp -------------------------------------------------------

# a1;  s1 (label "side") -> s2
SIDE = [
    _table_rev("a1", None),
    _table_rev("s1", None, branch_labels=("side",)),
    _table_rev("s2", "s1"),
]


def test_upgrade_to_label_base_applies_nothing(tmp_path: Path, sqlite_url: str) -> None:
    root = make_project(tmp_path, sqlite_url, SIDE)
    _ok(root, "upgrade", "side@base")
    assert _state(sqlite_url) == (set(), set())
    _ok(root, "upgrade", "a1")
    _ok(root, "upgrade", "side@base")
    assert _state(sqlite_url) == ({"a1"}, {"a1"})


def test_stamp_label_base_deletes_only_that_branchs_rows(tmp_path: Path, sqlite_url: str) -> None:
    root = make_project(tmp_path, sqlite_url, SIDE)
    _ok(root, "upgrade", "heads")
    assert _state(sqlite_url) == ({"a1", "s2"}, {"a1", "s1", "s2"})
    _ok(root, "stamp", "side@base")
    assert _state(sqlite_url) == ({"a1"}, {"a1", "s1", "s2"})


def test_stamp_label_base_can_leave_no_rows(tmp_path: Path, sqlite_url: str) -> None:
    root = make_project(tmp_path, sqlite_url, SIDE)
    _ok(root, "upgrade", "s2")
    _ok(root, "stamp", "side@base")
    assert _state(sqlite_url) == (set(), {"s1", "s2"})


def test_stamp_label_base_clears_the_fork_point_below_the_branch(
    tmp_path: Path, sqlite_url: str
) -> None:
    # a1 -> a2;  a1 -> s1 (label "side") -> s2
    root = make_project(
        tmp_path,
        sqlite_url,
        [
            _table_rev("a1", None),
            _table_rev("a2", "a1"),
            _table_rev("s1", "a1", branch_labels=("side",)),
            _table_rev("s2", "s1"),
        ],
    )
    _ok(root, "upgrade", "heads")
    _ok(root, "stamp", "side@base")
    assert _state(sqlite_url) == ({"a2"}, {"a1", "a2", "s1", "s2"})
    _ok(root, "stamp", "a1")
    _ok(root, "stamp", "side@base")
    assert _state(sqlite_url)[0] == set()
