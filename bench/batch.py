"""Benchmark: batch move-and-copy of a big SQLite table, limbeck beside Alembic and raw SQL.

Run from the repository root::

    python bench/batch.py [--rows 1000000] [--small-rows 100000] [--repeat N] [--quick]
                          [--json FILE]

What it does:

1. Reuses the two virtual environments of ``bench/heads_history.py`` (Alembic
   from PyPI, this repository installed non-editable).
2. Builds each fixture database once (``big``: an integer primary key, four
   more columns and an index; 1,000,000 rows, 100,000 rows, and an empty
   one that measures the fixed cost of a run), and copies the file before
   every run.
3. Writes one Alembic-style project per case, each with a single revision
   that both tools run unchanged with ``upgrade head``::

       with op.batch_alter_table("big", recreate="always") as batch_op:
           batch_op.add_column(...)           # case add_column
           batch_op.alter_column("qty", ...)  # case alter_type (INTEGER -> BIGINT)

4. Runs the same change by hand in a third process (Python's ``sqlite3``,
   one transaction: CREATE the new table; ``INSERT INTO new SELECT ... FROM
   old``, with a CAST for the type change; DROP the old table; RENAME; CREATE
   the index): the raw copy. Then the same copy again, *tuned* with the two
   settings limbeck's SQLite rebuild uses (``PRAGMA secure_delete = FAST``
   for the DROP, ``PRAGMA threads`` for the CREATE INDEX): limbeck / tuned
   is limbeck's own overhead over the SQL it runs.
5. Checks the result of each tool once per case (row count, columns, the
   changed type, the index, a checksum of the data), then times whole
   processes (wall clock) in shuffled rounds so that noise on the machine
   hits all four alike, and records each process's peak resident set size
   (``os.wait4`` in a small launcher process, see :data:`LAUNCHER`).

It prints medians, the ratios limbeck / raw (goal from issue 4: at most 1.1
at 1,000,000 rows), limbeck / tuned and limbeck / Alembic, the fixed cost
(empty table) and the peak RSS at both row counts: memory is flat in the
number of rows when the two are about equal.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from heads_history import (
    ALEMBIC_INI,
    ALEMBIC_VENV,
    ENV_PY,
    LIMBECK_VENV,
    REVISION_FILE,
    ROOT,
    WORK,
    Series,
    _bin,
    ensure_environments,
    tool_version,
)

BATCH = WORK / "batch"
FIXTURE_FORMAT = "1"  # bump when the generated database or projects change
TOOLS = ("raw", "tuned", "alembic", "limbeck")
GOAL_RAW_RATIO = 1.1  # limbeck / raw at the largest row count (issue 4)
REVISION = "b0a7c4e1d2f3"

#: The fixture table (the DDL SQLAlchemy writes for it).
CREATE_BIG = """\
CREATE TABLE big (
\tid INTEGER NOT NULL,
\tname VARCHAR(40) NOT NULL,
\tqty INTEGER NOT NULL,
\tprice NUMERIC(10, 2),
\tcreated DATETIME,
\tCONSTRAINT pk_big PRIMARY KEY (id)
)"""
CREATE_INDEX = "CREATE INDEX ix_big_name ON big (name)"
OLD_COLUMNS = ("id", "name", "qty", "price", "created")


class Case:
    """One schema change: the migration's body and the same change by hand."""

    def __init__(
        self, name: str, batch_body: str, new_columns: str, select_list: str, check_type: str
    ) -> None:
        self.name = name
        self.batch_body = batch_body
        #: The column list of the hand-written CREATE TABLE.
        self.new_columns = new_columns
        #: What the hand-written INSERT ... SELECT selects from the old table.
        self.select_list = select_list
        #: ``column:TYPE`` the result must have (PRAGMA table_info).
        self.check_type = check_type


_PK = "\tCONSTRAINT pk_big PRIMARY KEY (id)"
CASES = {
    "add_column": Case(
        "add_column",
        'batch_op.add_column(sa.Column("note", sa.String(20), nullable=True))',
        "\tid INTEGER NOT NULL,\n\tname VARCHAR(40) NOT NULL,\n\tqty INTEGER NOT NULL,\n"
        "\tprice NUMERIC(10, 2),\n\tcreated DATETIME,\n\tnote VARCHAR(20),\n" + _PK,
        "id, name, qty, price, created",
        "note:VARCHAR(20)",
    ),
    "alter_type": Case(
        "alter_type",
        'batch_op.alter_column("qty", type_=sa.BigInteger(), existing_type=sa.Integer(), '
        "existing_nullable=False)",
        "\tid INTEGER NOT NULL,\n\tname VARCHAR(40) NOT NULL,\n\tqty BIGINT NOT NULL,\n"
        "\tprice NUMERIC(10, 2),\n\tcreated DATETIME,\n" + _PK,
        "id, name, CAST(qty AS BIGINT) AS qty, price, created",
        "qty:BIGINT",
    ),
}

#: The raw copy, run as its own process: ``python -c RAW_SCRIPT db case-json``.
RAW_SCRIPT = """\
import json, sqlite3, sys
path, spec = sys.argv[1], json.loads(sys.argv[2])
conn = sqlite3.connect(path, isolation_level=None)
conn.execute("BEGIN")
conn.execute("CREATE TABLE big_new (\\n" + spec["columns"] + "\\n)")
conn.execute(
    "INSERT INTO big_new (" + spec["names"] + ") SELECT " + spec["select"] + " FROM big"
)
if spec["tuned"]:
    conn.execute("PRAGMA secure_delete = FAST")
conn.execute("DROP TABLE big")
conn.execute("ALTER TABLE big_new RENAME TO big")
if spec["tuned"]:
    conn.execute("PRAGMA threads = " + str(spec["threads"]))
conn.execute(spec["index"])
conn.execute("COMMIT")
conn.close()
"""


# -- fixtures ---------------------------------------------------------------------------


def fixture_db(rows: int) -> Path:
    """The database with ``rows`` rows in ``big``, built unless present."""
    path = BATCH / f"big-{rows}.db"
    stamp = path.with_suffix(".format")
    if path.is_file() and stamp.is_file() and stamp.read_text() == FIXTURE_FORMAT:
        return path
    print(f"building {path.relative_to(ROOT)} ({rows:,} rows) ...", flush=True)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    conn.execute(CREATE_BIG)
    rng = random.Random(rows)
    conn.executemany(
        "INSERT INTO big (id, name, qty, price, created) VALUES (?, ?, ?, ?, ?)",
        (
            (
                i,
                f"item-{rng.randrange(10**9):09d}-{i % 977}",
                rng.randrange(1, 10**6),
                round(rng.uniform(0, 99999), 2),
                f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00.000000",
            )
            for i in range(1, rows + 1)
        ),
    )
    conn.execute(CREATE_INDEX)
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()
    stamp.write_text(FIXTURE_FORMAT)
    return path


def write_project(case: Case) -> Path:
    """An Alembic-style project whose single revision runs ``case`` in batch mode."""
    root = BATCH / "projects" / case.name
    stamp = root / "fixture-format.txt"
    if stamp.is_file() and stamp.read_text() == FIXTURE_FORMAT:
        return root
    if root.exists():
        shutil.rmtree(root)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(ALEMBIC_INI)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "migrations" / "README").write_text("Batch benchmark fixture.\n")
    upgrade = (
        'with op.batch_alter_table("big", recreate="always") as batch_op:\n'
        f"        {case.batch_body}"
    )
    text = REVISION_FILE.format(
        message=f"batch {case.name} on big",
        rev=REVISION,
        revises="",
        date="2024-01-01 00:00:00.000000",
        down=None,
        upgrade=upgrade,
        downgrade="pass",
    )
    (versions / f"{REVISION}_batch_{case.name}.py").write_text(text)
    stamp.write_text(FIXTURE_FORMAT)
    return root


# -- running ------------------------------------------------------------------------------


def _raw_spec(case: Case, tuned: bool) -> str:
    return json.dumps(
        {
            "columns": case.new_columns,
            "names": ", ".join(OLD_COLUMNS),
            "select": case.select_list,
            "index": CREATE_INDEX,
            "tuned": tuned,
            # The same count limbeck's SQLite rebuild uses (limbeck.ddl.sqlite).
            "threads": max(0, min(4, (os.cpu_count() or 1) - 1)),
        }
    )


def command_for(tool: str, case: Case, project: Path) -> list[str]:
    if tool in ("raw", "tuned"):
        python = str(_bin(LIMBECK_VENV, "python"))
        spec = _raw_spec(case, tuned=tool == "tuned")
        return [python, "-c", RAW_SCRIPT, str(project / "bench.db"), spec]
    env = ALEMBIC_VENV if tool == "alembic" else LIMBECK_VENV
    return [str(_bin(env, tool)), "upgrade", "head"]


#: Runs one measured process: ``python -S -I -c LAUNCHER command...`` forks, execs
#: ``command`` with stdout to /dev/null and prints ``seconds maxrss_kib exit_code``.
#: A child forked (or vforked) straight from this script would inherit this
#: script's own peak RSS as its floor (Linux carries ``ru_maxrss`` across fork
#: and exec); the launcher is a bare interpreter, smaller than any measured process.
LAUNCHER = """\
import os, sys, time
args = sys.argv[1:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        os.execv(args[0], args)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - start
print(repr(elapsed), usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_measured(command: Sequence[str], cwd: Path) -> tuple[float, int]:
    """Run ``command``; its wall-clock seconds and peak RSS in KiB."""
    completed = subprocess.run(
        [sys.executable, "-S", "-I", "-c", LAUNCHER, *command],
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    fields = completed.stdout.split()
    if completed.returncode != 0 or len(fields) != 3 or fields[2] != b"0":
        raise SystemExit(
            f"{' '.join(command)} (in {cwd}) failed ({completed.stdout.decode().strip()}):\n"
            + completed.stderr.decode(errors="replace")
        )
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    rss = int(fields[1]) // 1024 if sys.platform == "darwin" else int(fields[1])
    return float(fields[0]), rss


def run_tool(tool: str, case: Case, project: Path, source: Path) -> tuple[float, int]:
    """Copy the fixture into the project, then run ``tool`` on it (copy not timed).

    The copy is written out to disk before the run starts: otherwise the
    kernel flushes its dirty pages (60 MB at 1,000,000 rows) while the tool
    runs, which slowed whichever tool came next by up to 0.5 s."""
    target = project / "bench.db"
    target.unlink(missing_ok=True)
    shutil.copyfile(source, target)
    if hasattr(os, "sync"):
        os.sync()
    return run_measured(command_for(tool, case, project), project)


def describe(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        columns = {row[1]: row[2] for row in conn.execute("PRAGMA table_info(big)")}
        indexes = sorted(
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'big' "
                "AND name NOT LIKE 'sqlite_autoindex%'"
            )
        )
        count, checksum = conn.execute(
            "SELECT count(*), total(id * 7 + qty + length(name) + coalesce(price, 0)) FROM big"
        ).fetchone()
        types = sorted({row[0] for row in conn.execute("SELECT DISTINCT typeof(qty) FROM big")})
        tables = sorted(
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if row[0] not in ("alembic_version", "limbeck_history")
        )
    finally:
        conn.close()
    return {
        "columns": columns,
        "indexes": indexes,
        "count": count,
        "checksum": checksum,
        "qty_storage": types,
        "tables": tables,
    }


def cross_check(case: Case, project: Path, source: Path, rows: int) -> None:
    """Every tool must leave the same rows, columns and index."""
    want_column, want_type = case.check_type.split(":")
    before = describe(source)
    results = {}
    for tool in TOOLS:
        run_tool(tool, case, project, source)
        got = describe(project / "bench.db")
        results[tool] = got
        problems = []
        if got["count"] != rows or got["checksum"] != before["checksum"]:
            problems.append(f"rows {got['count']} checksum {got['checksum']}")
        if got["columns"].get(want_column) != want_type:
            problems.append(f"column {want_column} is {got['columns'].get(want_column)}")
        if list(got["columns"])[:5] != list(OLD_COLUMNS):
            problems.append(f"columns {list(got['columns'])}")
        if got["indexes"] != ["ix_big_name"] or got["tables"] != ["big"]:
            problems.append(f"indexes {got['indexes']} tables {got['tables']}")
        if problems:
            raise SystemExit(f"CROSS-CHECK FAILED: {tool} {case.name} at {rows} rows: {problems}")
    if len({json.dumps(r, sort_keys=True) for r in results.values()}) != 1:
        raise SystemExit(f"CROSS-CHECK FAILED: {case.name} at {rows} rows differs: {results}")


def measure(
    case: Case, project: Path, source: Path, rounds: int, rng: random.Random
) -> dict[str, dict[str, Any]]:
    """Shuffled rounds, each running every tool once; seconds and peak RSS."""
    times = {tool: Series() for tool in TOOLS}
    rss: dict[str, list[int]] = {tool: [] for tool in TOOLS}
    for _ in range(rounds):
        order = list(TOOLS)
        rng.shuffle(order)
        for tool in order:
            elapsed, peak = run_tool(tool, case, project, source)
            times[tool].samples.append(elapsed)
            rss[tool].append(peak)
    (project / "bench.db").unlink(missing_ok=True)
    return {
        tool: {
            "median_s": times[tool].median,
            "best_s": min(times[tool].samples),
            "samples_s": times[tool].samples,
            "peak_rss_kib": max(rss[tool]),
            "rss_samples_kib": rss[tool],
        }
        for tool in TOOLS
    }


# -- reporting ------------------------------------------------------------------------


def report(results: dict[str, Any], sizes: Sequence[int]) -> bool:
    big = max(sizes)
    met = True
    print()
    print(
        f"{'case':<12}{'rows':>10}{'raw s':>8}{'tuned s':>9}{'alembic s':>11}{'limbeck s':>11}"
        f"{'lb/raw':>8}{'lb/tuned':>10}{'lb/alembic':>12}"
        "   peak RSS MiB raw / tuned / alembic / limbeck"
    )
    for row in results["rows"]:
        timing = row["tools"]
        raw, tuned, alembic, limbeck = (timing[t]["median_s"] for t in TOOLS)
        ratio = limbeck / raw
        verdict = ""
        if row["rows"] == big:
            ok = ratio <= GOAL_RAW_RATIO
            met &= ok
            verdict = "ok" if ok else "MISS"
        rss = " / ".join(f"{timing[t]['peak_rss_kib'] / 1024:.1f}" for t in TOOLS)
        print(
            f"{row['case']:<12}{row['rows']:>10,}{raw:8.2f}{tuned:9.2f}{alembic:11.2f}"
            f"{limbeck:11.2f}{ratio:7.2f}x{limbeck / tuned:9.2f}x{limbeck / alembic:11.2f}x"
            f"   {rss}  {verdict}"
        )
    print()
    print("best of the samples (the least disturbed run of each; noise only ever adds time):")
    for row in results["rows"]:
        best = {t: row["tools"][t]["best_s"] for t in TOOLS}
        print(
            f"  {row['case']:<12}{row['rows']:>10,}  raw {best['raw']:.2f} s, tuned "
            f"{best['tuned']:.2f} s, alembic {best['alembic']:.2f} s, limbeck "
            f"{best['limbeck']:.2f} s, limbeck / raw {best['limbeck'] / best['raw']:.2f}x, "
            f"limbeck / tuned {best['limbeck'] / best['tuned']:.2f}x, limbeck / alembic "
            f"{best['limbeck'] / best['alembic']:.2f}x"
        )
    print()
    print("net of the fixed cost (median at the given size minus median on an empty table):")
    fixed = {r["case"]: r["tools"] for r in results["rows"] if r["rows"] == 0}
    for row in results["rows"]:
        if row["rows"] == 0:
            continue
        base = fixed[row["case"]]
        net = {t: row["tools"][t]["median_s"] - base[t]["median_s"] for t in TOOLS}
        print(
            f"  {row['case']:<12}{row['rows']:>10,}  raw {net['raw']:.2f} s, tuned "
            f"{net['tuned']:.2f} s, alembic {net['alembic']:.2f} s, limbeck "
            f"{net['limbeck']:.2f} s, limbeck / raw {net['limbeck'] / net['raw']:.2f}x, "
            f"limbeck / tuned {net['limbeck'] / net['tuned']:.2f}x"
        )
    print()
    print("peak RSS growth from the smaller to the larger table (flat memory: a few MiB):")
    nonzero = sorted(s for s in sizes if s)
    if len(nonzero) >= 2:
        small, large = nonzero[0], nonzero[-1]
        for case in dict.fromkeys(r["case"] for r in results["rows"]):
            by_size = {r["rows"]: r["tools"] for r in results["rows"] if r["case"] == case}
            deltas = {
                t: (by_size[large][t]["peak_rss_kib"] - by_size[small][t]["peak_rss_kib"]) / 1024
                for t in TOOLS
            }
            growth = ", ".join(f"{t} {delta:+.1f} MiB" for t, delta in deltas.items())
            print(f"  {case:<12}{small:,} -> {large:,} rows: {growth}")
    print()
    print(
        "medians of whole-process wall-clock times (start-up included); peak RSS = maximum "
        "resident set size of the process (os.wait4)"
    )
    print(
        "tuned = the raw copy with the two settings limbeck's SQLite rebuild uses: "
        "secure_delete = FAST for the DROP, sorter threads for CREATE INDEX"
    )
    print(f"goal (issue 4): limbeck / raw <= {GOAL_RAW_RATIO} at {big:,} rows")
    print("goal met" if met else "GOAL MISSED")
    return met


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big table")
    parser.add_argument(
        "--small-rows", type=int, default=100_000, help="second size, to compare peak RSS"
    )
    parser.add_argument("--cases", default=",".join(CASES), help="add_column,alter_type")
    parser.add_argument(
        "--repeat", type=int, default=None, help="rounds per cell (default 7, 3 with --quick)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a quick look")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON here")
    parser.add_argument(
        "--alembic", default="alembic", metavar="REQUIREMENT", help="what to pip install"
    )
    parser.add_argument("--seed", type=int, default=4, help="seed of the run-order shuffle")
    options = parser.parse_args(argv)

    cases = [CASES[name] for name in options.cases.split(",") if name]
    rounds = options.repeat or (3 if options.quick else 7)
    sizes = sorted({0, options.small_rows, options.rows})
    rng = random.Random(options.seed)

    started = time.perf_counter()
    BATCH.mkdir(parents=True, exist_ok=True)
    ensure_environments(options.alembic)
    versions = {
        "alembic": tool_version(ALEMBIC_VENV, "alembic"),
        "limbeck": tool_version(LIMBECK_VENV, "limbeck"),
    }
    print(
        f"alembic {versions['alembic']} vs limbeck {versions['limbeck']} vs raw sqlite3 "
        f"{sqlite3.sqlite_version} on Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    sources = {size: fixture_db(size) for size in sizes}
    projects = {case.name: write_project(case) for case in cases}
    for case in cases:
        for size in sizes:
            cross_check(case, projects[case.name], sources[size], size)
    print(f"cross-check passed: same rows, columns and index from all four, {len(sizes)} sizes")

    rows: list[dict[str, Any]] = []
    for case in cases:
        for size in sizes:
            # The empty table only measures the fixed cost: more rounds are cheap.
            cell_rounds = rounds * 2 if size == 0 else rounds
            tools = measure(case, projects[case.name], sources[size], cell_rounds, rng)
            rows.append({"case": case.name, "rows": size, "tools": tools})
            print(
                f"  {case.name} {size:,} rows: "
                + ", ".join(
                    f"{t} {tools[t]['median_s']:.2f} s ({tools[t]['peak_rss_kib'] / 1024:.1f} MiB)"
                    for t in TOOLS
                ),
                flush=True,
            )
    results: dict[str, Any] = {
        "versions": versions,
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "rows": rows,
        "elapsed_s": time.perf_counter() - started,
    }
    met = report(results, sizes)
    print(f"(took {time.perf_counter() - started:.0f} s)")
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {options.json}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
