"""upgrade, downgrade and stamp across branches, merges and depends_on, on
every backend: the version rows and the tables must follow the graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from project import Rev, db_state, make_project, run_cli


def _table_rev(rev_id: str, down: str | tuple[str, ...] | None, **kw: object) -> Rev:
    """A revision that creates table t_<id> (dropped on downgrade)."""
    return Rev(
        rev_id,
        down,
        f'op.create_table("t_{rev_id}", sa.Column("id", sa.Integer, primary_key=True))',
        f'op.drop_table("t_{rev_id}")',
        **kw,  # type: ignore[arg-type]
    )


#     a1 ─┬─ b2 ───────┬─ d4 (merge)
#         └─ c3 (shop) ┘
#     x1 (other base, label "aux") ── x2 depends_on c3
REVISIONS = [
    _table_rev("aaaa0001", None),
    _table_rev("bbbb0002", "aaaa0001"),
    _table_rev("cccc0003", "aaaa0001", branch_labels=("shop",)),
    _table_rev("dddd0004", ("bbbb0002", "cccc0003")),
    _table_rev("xxxx0001", None, branch_labels=("aux",)),
    _table_rev("xxxx0002", "xxxx0001", depends_on=("cccc0003",)),
]


def _tables(url: str) -> set[str]:
    return {t[2:] for t in db_state(url).tables if t.startswith("t_")}


def _ok(root: Path, *args: str) -> str:
    result = run_cli(root, *args)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result.stdout


def _current(root: Path) -> dict[str, object]:
    data = json.loads(_ok(root, "current", "--json"))
    assert isinstance(data, dict)
    return data


def test_branches_merges_and_dependencies(tmp_path: Path, db_url: str) -> None:
    root = make_project(tmp_path, db_url, REVISIONS)

    # Only ancestors of the target run, not siblings.
    _ok(root, "upgrade", "bbbb0002")
    assert db_state(db_url).heads == {"bbbb0002"}
    assert _tables(db_url) == {"aaaa0001", "bbbb0002"}

    # A second branch gets its own row.
    _ok(root, "upgrade", "shop@head")
    state = db_state(db_url)
    assert state.heads == {"dddd0004"}  # shop's head is the merge, which needs b2 too
    assert _tables(db_url) == {"aaaa0001", "bbbb0002", "cccc0003", "dddd0004"}

    # depends_on pulls in the dependency's line; the dependency is no row.
    _ok(root, "upgrade", "xxxx0002")
    assert db_state(db_url).heads == {"dddd0004", "xxxx0002"}

    # Unmerge: removing the merge leaves its parents applied; c3 needs no row
    # of its own because x2 depends on it.
    _ok(root, "downgrade", "bbbb0002")
    state = db_state(db_url)
    assert "dddd0004" not in _tables(db_url)
    assert state.heads == {"bbbb0002", "xxxx0002"}
    assert {"aaaa0001", "bbbb0002", "cccc0003", "xxxx0001", "xxxx0002"} == _tables(db_url)

    # Removing c3 must first remove what depends on it (x2).
    _ok(root, "downgrade", "shop@base")
    assert db_state(db_url).heads == {"bbbb0002", "xxxx0001"}
    assert _tables(db_url) == {"aaaa0001", "bbbb0002", "xxxx0001"}

    _ok(root, "upgrade", "heads")
    assert db_state(db_url).heads == {"dddd0004", "xxxx0002"}
    current = _current(root)
    assert current["at_heads"] is True

    _ok(root, "downgrade", "base")
    assert db_state(db_url).heads == set()
    assert _tables(db_url) == set()

    ledger = db_state(db_url).ledger
    outcomes = {row["outcome"] for row in ledger}
    assert outcomes == {"applied", "reverted"}
    assert all(row["run_by"] and row["tool_version"] for row in ledger)
    assert all(row["checksum"] for row in ledger if row["outcome"] == "applied")


def test_relative_targets_and_stamp(tmp_path: Path, db_url: str) -> None:
    root = make_project(tmp_path, db_url, REVISIONS)
    _ok(root, "upgrade", "aaaa0001")
    # +1 from a branch point is ambiguous, and the message names the ways on.
    result = run_cli(root, "upgrade", "+1")
    assert result.returncode == 2
    assert "bbbb0002" in result.stderr and "cccc0003 (branch shop)" in result.stderr
    assert "Traceback" not in result.stderr

    _ok(root, "upgrade", "bbbb0002")
    _ok(root, "downgrade", "-1")
    assert db_state(db_url).heads == {"aaaa0001"}

    # stamp writes rows and runs nothing.
    _ok(root, "stamp", "dddd0004")
    assert db_state(db_url).heads == {"dddd0004"}
    assert _tables(db_url) == {"aaaa0001"}
    _ok(root, "stamp", "aux@head")
    assert db_state(db_url).heads == {"dddd0004", "xxxx0002"}
    _ok(root, "stamp", "base")
    assert db_state(db_url).heads == set()


def test_stamp_purge_recovers_from_an_unknown_revision(tmp_path: Path, sqlite_url: str) -> None:
    root = make_project(tmp_path, sqlite_url, REVISIONS)
    _ok(root, "stamp", "bbbb0002")
    import sqlalchemy as sa

    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE limbeck_version SET version_num = 'gone1234'"))
    engine.dispose()
    result = run_cli(root, "upgrade", "heads")
    assert result.returncode == 2
    assert "gone1234" in result.stderr and "stamp --purge" in result.stderr
    _ok(root, "stamp", "--purge", "aaaa0001")
    assert db_state(sqlite_url).heads == {"aaaa0001"}


def test_current_check_heads_and_json(tmp_path: Path, db_url: str) -> None:
    root = make_project(tmp_path, db_url, REVISIONS)
    _ok(root, "upgrade", "dddd0004")
    result = run_cli(root, "current", "--check-heads")
    assert result.returncode == 1
    assert "not at the head revisions" in result.stderr
    data = _current(root)
    assert data["heads"] == ["dddd0004"]
    assert data["at_heads"] is False and data["dirty"] is None
    _ok(root, "upgrade", "heads")
    assert run_cli(root, "current", "--check-heads").returncode == 0
    verbose = _ok(root, "current", "-v")
    # The password never shows.
    if "@" in db_url:
        password = db_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert password not in verbose
        assert "***" in verbose


def test_history_indicate_current_and_applied(tmp_path: Path, db_url: str) -> None:
    root = make_project(tmp_path, db_url, REVISIONS[:2])
    _ok(root, "upgrade", "head")
    out = _ok(root, "history", "-i")
    assert "bbbb0002 (head) (current)" in out
    applied = json.loads(_ok(root, "history", "--applied", "--json"))
    assert [row["revision"] for row in applied] == ["bbbb0002", "aaaa0001"]
    assert all(row["outcome"] == "applied" and row["duration_ms"] >= 0 for row in applied)


def test_offline_range_needs_sql_and_downgrade_sql_needs_range(tmp_path: Path) -> None:
    root = make_project(tmp_path, "sqlite:///" + str(tmp_path / "x.db"), REVISIONS)
    result = run_cli(root, "upgrade", "aaaa0001:head")
    assert result.returncode == 2 and "only allowed with --sql" in result.stderr
    result = run_cli(root, "downgrade", "--sql", "base")
    assert result.returncode == 2 and "from:to" in result.stderr


@pytest.mark.parametrize("target", ["nosuch", "zzzz"])
def test_unknown_target_fails_before_connecting(tmp_path: Path, target: str) -> None:
    # The URL points nowhere: a target typo must be reported first.
    root = make_project(tmp_path, "postgresql+psycopg2://u:secret@127.0.0.1:1/none", REVISIONS)
    result = run_cli(root, "upgrade", target)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no revision or branch label")
    assert "secret" not in result.stderr


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    root = make_project(tmp_path, "postgresql+psycopg2://u:secret@127.0.0.1:1/none", REVISIONS)
    result = run_cli(root, "upgrade", "heads")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(
        "error: cannot connect to postgresql+psycopg2://u:***@127.0.0.1:1/none"
    )
    assert lines[1].startswith("hint: ")
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_password_in_the_query_string_is_masked(tmp_path: Path) -> None:
    url = "postgresql+psycopg2://u@127.0.0.1:1/none?password=qsecretq&connect_timeout=3"
    root = make_project(tmp_path, url, REVISIONS)
    result = run_cli(root, "upgrade", "heads")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: cannot connect to postgresql+psycopg2://u@127.0.0.1:1/none?"
    )
    assert "password=***" in result.stderr
    assert "qsecretq" not in result.stderr


@pytest.mark.parametrize(
    ("url", "starts"),
    [
        (
            "mssql+pyodbc://u:secret@dsn",
            "error: the database driver for mssql+pyodbc://u:***@dsn is not installed: "
            "No module named 'pyodbc'",
        ),
        (
            "postgresql+psycopg2://u:secret@127.0.0.1:abc/db",
            "error: cannot use database URL postgresql+psycopg2://u:***@127.0.0.1:abc/db: ",
        ),
    ],
)
def test_driver_or_url_problem_names_the_url(tmp_path: Path, url: str, starts: str) -> None:
    import importlib.util

    assert importlib.util.find_spec("pyodbc") is None, "the test needs a driver that is missing"
    root = make_project(tmp_path, url, REVISIONS)
    result = run_cli(root, "current")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(starts), lines
    assert lines[1].startswith("hint: ") and len(lines) == 2
    assert "secret" not in result.stderr


def test_offline_upgrade_range_that_goes_down_is_refused(tmp_path: Path) -> None:
    revs = [Rev("aaa1", None), Rev("bbb2", "aaa1"), Rev("ccc3", "bbb2")]
    root = make_project(tmp_path, "sqlite://", revs)
    result = run_cli(root, "upgrade", "--sql", "ccc3:aaa1")
    assert result.returncode == 2
    assert "version_num" not in result.stdout  # no script that does nothing
    assert result.stderr.splitlines() == [
        "error: upgrade --sql ccc3:aaa1: aaa1 is below ccc3",
        "hint: use `limbeck downgrade --sql ccc3:aaa1`",
    ]
    assert run_cli(root, "upgrade", "--sql", "aaa1:ccc3").returncode == 0


def test_empty_target_is_named_as_such(tmp_path: Path) -> None:
    root = make_project(tmp_path, "postgresql+psycopg2://u:secret@127.0.0.1:1/none", REVISIONS)
    result = run_cli(root, "upgrade", "")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "error: an empty revision was given"
