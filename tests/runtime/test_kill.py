"""Killing a run (SIGKILL) at any point leaves a database whose ``current``
tells the truth.

A chain of revisions each creates two tables and adds a column, sleeping a
little between the operations; ``upgrade head`` is killed at seeded random
points, then ``current --json`` is checked against what the database holds:

* SQLite and PostgreSQL (transactional DDL): the revision tables that exist
  are exactly those of the applied revisions, the ledger agrees, and the
  database is never dirty;
* MariaDB (DDL commits as it goes): either the same holds, or ``current``
  reports the database dirty, naming the revision that was in flight, with
  every revision before it applied. The test repairs it the way a user
  would (drop the half-made tables, ``stamp`` the revision before it).

After the kills, ``upgrade head`` completes. Trials alternate between one
transaction per run and one per migration (``-x tpm=1``). The seed comes
from ``LIMBECK_KILL_SEED`` (default fixed) and is in every failure message.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from project import (
    Rev,
    allow_per_migration_switch,
    config_for,
    db_state,
    make_project,
    run_cli,
    start_cli,
)
from sqlalchemy.pool import NullPool

from limbeck import command

SEED = int(os.environ.get("LIMBECK_KILL_SEED", "20260611"))
TRIALS = 4
CHAIN = 5
PAUSE = 0.03


def rev_id(number: int) -> str:
    return f"k{number}"


def rev_tables(number: int) -> set[str]:
    return {f"k{number}_a", f"k{number}_b"}


def kill_revisions() -> list[Rev]:
    revs = []
    for n in range(1, CHAIN + 1):
        revs.append(
            Rev(
                rev_id(n),
                rev_id(n - 1) if n > 1 else None,
                f"""
                Path("started").touch()
                op.create_table("k{n}_a", sa.Column("id", sa.Integer, primary_key=True))
                time.sleep({PAUSE})
                op.create_table("k{n}_b", sa.Column("id", sa.Integer, primary_key=True))
                time.sleep({PAUSE})
                op.add_column("k{n}_a", sa.Column("c", sa.Integer))
                time.sleep({PAUSE})
                """,
                f"""
                op.drop_table("k{n}_b")
                op.drop_table("k{n}_a")
                """,
                header="import time\nfrom pathlib import Path",
            )
        )
    return revs


def backend_of(url: str) -> str:
    name = sa.engine.make_url(url).get_backend_name()
    return "mariadb" if name in ("mysql", "mariadb") else name


def wait_until_unlocked(url: str, backend: str, timeout: float = 15) -> None:
    """After a kill the server may need a moment to notice the dead client
    (and free its advisory lock / GET_LOCK); wait for that."""
    if backend == "sqlite":
        return
    engine = sa.create_engine(url, poolclass=NullPool)
    if backend == "postgresql":
        query = (
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    else:
        query = (
            "SELECT COUNT(*) FROM information_schema.processlist "
            "WHERE db = DATABASE() AND id <> CONNECTION_ID()"
        )
    deadline = time.monotonic() + timeout
    try:
        with engine.connect() as conn:
            while conn.execute(sa.text(query)).scalar():
                if time.monotonic() > deadline:
                    pytest.fail(f"the killed run's session is still there after {timeout} s")
                conn.rollback()
                time.sleep(0.05)
    finally:
        engine.dispose()


def columns(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {col["name"] for col in sa.inspect(conn).get_columns(table)}
    finally:
        engine.dispose()


def current_json(root: Path, *, cli: bool = False) -> dict[str, Any]:
    """``limbeck current --json``: through the CLI in a subprocess, or (the
    same command, faster) through the Python API."""
    if cli:
        result = run_cli(root, "current", "--json")
        assert result.returncode == 0, result.stderr
        output = result.stdout
    else:
        buffer = io.StringIO()
        command.current(config_for(root, stdout=buffer), as_json=True)
        output = buffer.getvalue()
    data: dict[str, Any] = json.loads(output)
    return data


def head_number(heads: set[str]) -> int:
    """How far the linear chain is applied (0 = base)."""
    assert len(heads) <= 1, heads
    return int(next(iter(heads))[1:]) if heads else 0


def check_truth(
    root: Path, url: str, backend: str, where: str, *, cli: bool = False
) -> dict[str, Any] | None:
    """Compare ``current --json`` with the database; return the dirty entry."""
    reported = current_json(root, cli=cli)
    state = db_state(url)
    assert set(reported["heads"]) == state.heads, where
    applied = head_number(state.heads)
    present = {t for t in state.tables if t.startswith("k")}
    expected = set().union(*(rev_tables(n) for n in range(1, applied + 1)))
    # The ledger agrees with the version table: applies minus reverts.
    balance = {rev_id(n): 0 for n in range(1, CHAIN + 1)}
    for row in state.ledger:
        if row["outcome"] == "applied":
            balance[row["revision"]] += 1
        elif row["outcome"] == "reverted":
            balance[row["revision"]] -= 1
    assert balance == {rev_id(n): int(n <= applied) for n in range(1, CHAIN + 1)}, where
    for n in range(1, applied + 1):
        assert "c" in columns(url, f"k{n}_a"), where
    dirty = reported["dirty"]
    if dirty is None:
        assert present == expected, f"{where}: tables {sorted(present)}, applied up to k{applied}"
        return None
    assert backend == "mariadb", f"{where}: dirty on {backend}: {dirty}"
    in_flight = applied + 1
    assert dirty["revision"] == rev_id(in_flight), f"{where}: {dirty}"
    assert dirty["direction"] == "upgrade", f"{where}: {dirty}"
    assert expected <= present <= expected | rev_tables(in_flight), f"{where}: {sorted(present)}"
    return dict(dirty)


def repair(root: Path, url: str, dirty: dict[str, Any]) -> None:
    """Undo the half-applied revision by hand, then stamp the one before it."""
    number = int(dirty["revision"][1:])
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for table in sorted(rev_tables(number)):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
    finally:
        engine.dispose()
    before = rev_id(number - 1) if number > 1 else "base"
    stamped = run_cli(root, "stamp", before)
    assert stamped.returncode == 0, stamped.stderr
    assert current_json(root)["dirty"] is None, "stamp did not clear the dirty mark"


def test_kill_at_random_points(tmp_path: Path, db_url: str) -> None:
    backend = backend_of(db_url)
    rng = random.Random(f"{SEED}-{backend}")
    root = make_project(tmp_path, db_url, kill_revisions())
    allow_per_migration_switch(root)
    marker = root / "started"
    seen_dirty = 0
    for trial in range(TRIALS):
        if head_number(db_state(db_url).heads) == CHAIN:
            reset = run_cli(root, "downgrade", "base")
            assert reset.returncode == 0, reset.stderr
        args = ["upgrade", "head"]
        if trial % 2:
            args[:0] = ["-x", "tpm=1"]
        marker.unlink(missing_ok=True)
        early = rng.random() < 0.2
        delay = rng.uniform(0.1, 0.6) if early else rng.uniform(0.0, CHAIN * PAUSE * 3)
        where = (
            f"seed {SEED}, {backend}, trial {trial} ({' '.join(args)}), "
            f"kill {delay:.3f} s after {'the start' if early else 'the first revision began'}"
        )
        proc = start_cli(root, *args)
        try:
            if not early:
                deadline = time.monotonic() + 30
                while not marker.exists() and proc.poll() is None:
                    assert time.monotonic() < deadline, where
                    time.sleep(0.005)
            time.sleep(delay)
        finally:
            proc.kill()
            _, err = proc.communicate(timeout=30)
        assert proc.returncode in (0, -9), f"{where}: {err}"
        wait_until_unlocked(db_url, backend)
        # The CLI itself on the first trial and after a dirty finding.
        dirty = check_truth(root, db_url, backend, where, cli=trial == 0)
        print(f"{where}: {'dirty, ' + dirty['revision'] if dirty else 'clean'}")
        if dirty is not None:
            assert check_truth(root, db_url, backend, where, cli=True) == dirty
            seen_dirty += 1
            repair(root, db_url, dirty)
            check_truth(root, db_url, backend, where + ", after the repair")

    final = run_cli(root, "upgrade", "head")
    assert final.returncode == 0, final.stderr
    assert check_truth(root, db_url, backend, "after the final upgrade") is None
    assert db_state(db_url).heads == {rev_id(CHAIN)}
