"""Benchmark: ``upgrade``, ``upgrade --sql`` and ``current`` for limbeck and Alembic.

Run from the repository root::

    python bench/runtime.py [--quick] [--repeat N] [--postgresql-url URL] [--json FILE]

What it does:

1. Reuses the two virtual environments of ``bench/heads_history.py`` (Alembic
   from PyPI, this repository installed non-editable) and adds psycopg2 to
   both.
2. Writes two fixtures: 1,000 and 5,000 tiny revisions (even steps
   ``op.create_table``, odd steps ``op.add_column``), each an ``alembic.ini``
   plus an Alembic-style ``env.py`` and revision files that both tools run
   unchanged.
3. Starts a private PostgreSQL with ``scripts/dbservers.py`` unless
   ``--postgresql-url`` (or ``LIMBECK_TEST_POSTGRESQL_URL``) names one, and
   stops it at the end. Its data directory is in memory (``/dev/shm``) unless
   ``--pg-data disk``: both tools send the server the same 1,000 DDL
   statements, and on a virtual machine's disk the time the server takes to
   create their files swings by 2-3x from run to run, which would measure
   the disk rather than the tools. The header says which was used; run both
   to see the difference.
4. Cross-checks both tools: the same tables, columns and version rows after
   ``upgrade head`` on SQLite and PostgreSQL; the same DDL statements (modulo
   formatting) from ``upgrade head --sql``; the same revision from
   ``current``. Stops if they differ.
5. Times whole processes (wall clock), the two tools interleaved in shuffled
   order, each run on a fresh database (a new SQLite file, a new PostgreSQL
   database created before and dropped after the run, outside the timing),
   and prints medians and the ratio Alembic / limbeck against the goals of
   issue 3.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from heads_history import (
    ALEMBIC_VENV,
    LIMBECK_VENV,
    REVISION_FILE,
    ROOT,
    WORK,
    Series,
    _bin,
    _lock_work_directory,
    _ms,
    ensure_environments,
    output_of,
    rev_id,
    run_once,
    tool_version,
)

FIXTURES = WORK / "runtime-fixtures"
SCRATCH = WORK / "runtime-scratch"
MEMORY_DIR = "/dev/shm"  # a tmpfs on Linux
FIXTURE_FORMAT = "1"  # bump when the generated files change
TOOLS = ("alembic", "limbeck")
URL_VARIABLE = "BENCH_DATABASE_URL"
OFFLINE_POSTGRESQL_URL = "postgresql://bench@localhost/bench"
UPGRADE_SIZE = 1000
CURRENT_SIZE = 5000

#: cell name -> minimum ratio Alembic / limbeck (issue 3, section "Speed").
GOALS = {
    "upgrade sqlite": 4.0,
    "upgrade postgresql": 1.6,
    "upgrade --sql sqlite": 2.0,
    "upgrade --sql postgresql": 2.0,
    "current sqlite": 15.0,
}


# -- fixtures ---------------------------------------------------------------------------

ENV_PY = '''\
"""Migration environment of the runtime benchmark (generic template shape)."""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

# The benchmark hands each run its own database.
url = os.environ.get("BENCH_DATABASE_URL")
if url:
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))

target_metadata = None


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
path_separator = os
sqlalchemy.url = sqlite:///%(here)s/bench.db

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = WARNING
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""


def revision_ids(size: int) -> list[str]:
    return [rev_id(size, "runtime", i) for i in range(size)]


def _steps(i: int) -> tuple[str, str, str]:
    """(message, upgrade, downgrade) of step ``i``: even steps create table
    ``t<i/2>``, odd steps add a column to the table the step before made."""
    table = f"t{i // 2}"
    if i % 2 == 0:
        return (
            f"create table {table}",
            f"op.create_table({table!r}, sa.Column('id', sa.Integer(), primary_key=True))",
            f"op.drop_table({table!r})",
        )
    return (
        f"add column c{i} to {table}",
        f"op.add_column({table!r}, sa.Column('c{i}', sa.String(50), nullable=True))",
        f"op.drop_column({table!r}, 'c{i}')",
    )


def write_fixture(size: int) -> Path:
    """A linear history of ``size`` revisions (kept while unchanged)."""
    root = FIXTURES / f"linear-{size}"
    stamp = root / "fixture-format.txt"
    if stamp.is_file() and stamp.read_text() == FIXTURE_FORMAT:
        return root
    if root.exists():
        shutil.rmtree(root)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(ALEMBIC_INI)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    ids = revision_ids(size)
    for i, key in enumerate(ids):
        message, upgrade, downgrade = _steps(i)
        down = ids[i - 1] if i else None
        minute, second = divmod(i, 60)
        hour, minute = divmod(minute, 60)
        text = REVISION_FILE.format(
            message=message,
            rev=key,
            revises=down or "",
            date=f"2024-02-{1 + hour // 24 % 28:02d} {hour % 24:02d}:{minute:02d}:{second:02d}"
            ".000000",
            down=down,
            upgrade=upgrade,
            downgrade=downgrade,
        )
        slug = re.sub(r"\W+", "_", message)[:40]
        (versions / f"{key}_{slug}.py").write_text(text)
    stamp.write_text(FIXTURE_FORMAT)
    return root


# -- databases ----------------------------------------------------------------------------

# A long-lived helper in the limbeck venv (which has SQLAlchemy and psycopg2):
# creates and drops PostgreSQL databases and describes a database's tables,
# one JSON request per line, outside the timed runs.
HELPER = r"""
import json, sys
import sqlalchemy as sa
from sqlalchemy.engine import make_url

admin_url = sys.argv[1] if len(sys.argv) > 1 else None
admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT") if admin_url else None


def describe(url):
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            tables = {}
            for name in inspector.get_table_names():
                tables[name] = sorted(
                    (c["name"], str(c["type"]).split("(")[0].upper(), bool(c["nullable"]))
                    for c in inspector.get_columns(name)
                )
            versions = []
            if "alembic_version" in tables:
                versions = sorted(
                    connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                    .scalars()
                    .all()
                )
            return {"tables": tables, "versions": versions}
    finally:
        engine.dispose()


for line in sys.stdin:
    request = json.loads(line)
    try:
        if request["do"] == "create":
            with admin.connect() as c:
                c.exec_driver_sql(f'CREATE DATABASE "{request["name"]}"')
            url = make_url(admin_url).set(database=request["name"])
            answer = {"url": url.render_as_string(hide_password=False)}
        elif request["do"] == "drop":
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{request["name"]}" WITH (FORCE)')
            answer = {}
        else:
            answer = describe(request["url"])
    except Exception as exc:
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(answer), flush=True)
"""


class Helper:
    def __init__(self, admin_url: str | None) -> None:
        args = [str(_bin(LIMBECK_VENV, "python")), "-c", HELPER]
        if admin_url:
            args.append(admin_url)
        self.process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, **request: str) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        if "error" in answer:
            raise SystemExit(f"benchmark helper failed on {request}: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@contextmanager
def postgresql_server(url: str | None, needed: bool, data: str) -> Iterator[str | None]:
    """A PostgreSQL URL: the one given, or a private server for this run
    (data directory in memory or on disk, see the module's docstring)."""
    if url or not needed:
        yield url if needed else None
        return
    state = SCRATCH / f"dbservers-{os.getpid()}.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    script = str(ROOT / "scripts" / "dbservers.py")
    env = dict(os.environ)
    if data == "memory":
        env["TMPDIR"] = MEMORY_DIR
    print(f"starting a private PostgreSQL server (data {data}) ...", flush=True)
    completed = subprocess.run(
        [sys.executable, script, "start", "--state", str(state), "--only", "postgresql"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    try:
        if completed.returncode != 0:
            raise SystemExit(f"cannot start PostgreSQL:\n{completed.stderr}")
        match = re.search(r"LIMBECK_TEST_POSTGRESQL_URL=(\S+)", completed.stdout)
        if not match:
            raise SystemExit(f"no PostgreSQL URL in:\n{completed.stdout}")
        yield match.group(1).strip("'\"")
    finally:
        if state.exists():
            subprocess.run(
                [sys.executable, script, "stop", "--state", str(state)],
                capture_output=True,
                check=False,
            )
            state.unlink(missing_ok=True)


class Databases:
    """Fresh databases, one per run."""

    def __init__(self, helper: Helper) -> None:
        self.helper = helper

    @contextmanager
    def fresh(self, backend: str) -> Iterator[str]:
        name = f"bench_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            path = SCRATCH / f"{name}.db"
            try:
                yield f"sqlite:///{path}"
            finally:
                path.unlink(missing_ok=True)
        else:
            url = str(self.helper.ask(do="create", name=name)["url"])
            try:
                yield url
            finally:
                self.helper.ask(do="drop", name=name)


@contextmanager
def database_url(url: str) -> Iterator[None]:
    """Hand ``url`` to env.py (the child processes inherit the environment)."""
    os.environ[URL_VARIABLE] = url
    try:
        yield
    finally:
        del os.environ[URL_VARIABLE]


# -- cross-checks -------------------------------------------------------------------------

_VERSION_TABLES = ("alembic_version", "limbeck_version", "limbeck_history")


def check_upgrade(root: Path, backend: str, databases: Databases, size: int) -> None:
    """Both tools leave the same tables, columns and version row."""
    head = revision_ids(size)[-1]
    seen: dict[str, dict[str, Any]] = {}
    for tool in TOOLS:
        with databases.fresh(backend) as url, database_url(url):
            run_once(tool, ["upgrade", "head"], root)
            described = databases.helper.ask(do="describe", url=url)
        tables = {k: v for k, v in described["tables"].items() if k not in _VERSION_TABLES}
        if len(tables) != size // 2 or described["versions"] != [head]:
            raise SystemExit(
                f"CROSS-CHECK FAILED: {tool} upgrade head on {backend} left "
                f"{len(tables)} tables and version rows {described['versions']}, "
                f"expected {size // 2} and [{head!r}]"
            )
        seen[tool] = tables
    if seen["alembic"] != seen["limbeck"]:
        differing = [k for k in seen["alembic"] if seen["alembic"][k] != seen["limbeck"].get(k)]
        raise SystemExit(
            f"CROSS-CHECK FAILED: upgrade head on {backend}: the tools' tables differ "
            f"(first differences: {differing[:5]})"
        )


_STATEMENT_END = re.compile(r";\s*$", re.MULTILINE)


def ddl_statements(sql: str) -> Counter[str]:
    """CREATE/ALTER/DROP statements on the fixture's tables and changes of the
    version rows, with whitespace, quoting and case normalised."""
    found: Counter[str] = Counter()
    for raw in _STATEMENT_END.split(sql):
        lines = [line for line in raw.splitlines() if not line.lstrip().startswith("--")]
        text = " ".join(" ".join(lines).split()).replace('"', "").replace("`", "")
        text = re.sub(r"\s*([(),])\s*", r"\1", text).upper()
        if not text or text.startswith(("BEGIN", "COMMIT")):
            continue
        if re.match(r"(CREATE|ALTER|DROP) TABLE T\d+\b", text):
            found[text] += 1
        elif "ALEMBIC_VERSION" in text and text.startswith(("INSERT", "UPDATE", "DELETE")):
            # Only what changes: the verb and the revision ids, in order (the
            # tools spell the WHERE clause and RETURNING differently).
            ids = re.findall(r"'([0-9A-F]{12})'", text)
            found[f"{text.split()[0]} ALEMBIC_VERSION {' -> '.join(reversed(ids))}"] += 1
    return found


def check_sql(root: Path, dialect_url: str, size: int) -> None:
    with database_url(dialect_url):
        outputs = {tool: output_of(tool, ["upgrade", "head", "--sql"], root) for tool in TOOLS}
    statements = {tool: ddl_statements(text) for tool, text in outputs.items()}
    ddl = sum(n for s, n in statements["alembic"].items() if "ALEMBIC_VERSION" not in s)
    if ddl != size:
        raise SystemExit(
            f"CROSS-CHECK FAILED: alembic --sql ({dialect_url}) printed {ddl} DDL statements, "
            f"expected {size}"
        )
    if statements["alembic"] != statements["limbeck"]:
        only_a = list((statements["alembic"] - statements["limbeck"]).elements())[:3]
        only_l = list((statements["limbeck"] - statements["alembic"]).elements())[:3]
        raise SystemExit(
            f"CROSS-CHECK FAILED: upgrade head --sql ({dialect_url}) differs: only alembic "
            f"{only_a}, only limbeck {only_l}"
        )


def check_current(root: Path, url: str, size: int) -> None:
    head = revision_ids(size)[-1]
    with database_url(url):
        for tool in TOOLS:
            out = output_of(tool, ["current"], root)
            if head not in out.split():
                raise SystemExit(
                    f"CROSS-CHECK FAILED: {tool} current printed {out.strip()!r}, expected {head}"
                )


# -- timing ---------------------------------------------------------------------------------


def interleaved(
    rounds: int,
    rng: random.Random,
    run: Callable[[str], float],
) -> dict[str, Series]:
    """``rounds`` rounds, each running both tools once in shuffled order."""
    series = {tool: Series() for tool in TOOLS}
    for _ in range(rounds):
        order = list(TOOLS)
        rng.shuffle(order)
        for tool in order:
            series[tool].samples.append(run(tool))
    return series


def time_upgrade(root: Path, backend: str, databases: Databases) -> Callable[[str], float]:
    def run(tool: str) -> float:
        with databases.fresh(backend) as url, database_url(url):
            return run_once(tool, ["upgrade", "head"], root)

    return run


def time_command(root: Path, url: str, args: Sequence[str]) -> Callable[[str], float]:
    def run(tool: str) -> float:
        with database_url(url):
            return run_once(tool, args, root)

    return run


# -- reporting ------------------------------------------------------------------------------


def report(rows: list[dict[str, Any]]) -> bool:
    print()
    print(f"{'cell':<28}{'alembic ms':>11}{'limbeck ms':>11}{'ratio':>8}  goal")
    all_met = True
    for row in rows:
        goal = row["goal"]
        met = row["ratio"] >= goal
        all_met &= met
        print(
            f"{row['cell']:<28}{_ms(row['alembic_median_s']):>11}"
            f"{_ms(row['limbeck_median_s']):>11}{row['ratio']:7.2f}x  "
            f"{'ok  ' if met else 'MISS'} >= {goal:g}x"
        )
    print()
    print(
        "medians of whole-process wall-clock times (fresh database per upgrade run); "
        "ratio = alembic / limbeck"
    )
    print("all goals met" if all_met else "SOME GOALS MISSED")
    return all_met


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="rounds per cell (default 5, 2 with --quick; current: half as many, at least 1)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a quick look")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON here")
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("LIMBECK_TEST_POSTGRESQL_URL"),
        metavar="URL",
        help="a PostgreSQL whose user may create databases (default: "
        "$LIMBECK_TEST_POSTGRESQL_URL, else a private server started for this run)",
    )
    parser.add_argument(
        "--pg-data",
        choices=("memory", "disk"),
        default=None,
        help="where the private PostgreSQL server keeps its data (default: memory "
        f"when {MEMORY_DIR} is writable, else disk)",
    )
    parser.add_argument(
        "--cells",
        default=",".join(GOALS),
        help="comma-separated subset of: " + ", ".join(GOALS),
    )
    parser.add_argument(
        "--alembic", default="alembic", metavar="REQUIREMENT", help="what to pip install"
    )
    parser.add_argument("--seed", type=int, default=3, help="seed of the run-order shuffle")
    options = parser.parse_args(argv)

    rounds = options.repeat or (2 if options.quick else 5)
    pg_data = options.pg_data or ("memory" if os.access(MEMORY_DIR, os.W_OK) else "disk")
    cells = [c.strip() for c in options.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in GOALS]
    if unknown:
        parser.error(f"unknown cells {unknown}")
    rng = random.Random(options.seed)
    started = time.perf_counter()

    WORK.mkdir(parents=True, exist_ok=True)
    # The lock of heads_history.py: no other benchmark run may reinstall
    # limbeck-venv under this one (held until the process exits).
    lock = _lock_work_directory()
    if lock is None:
        print("another benchmark run is using bench/.work; waiting for it ...", flush=True)
    deadline = time.monotonic() + 900
    while lock is None and time.monotonic() < deadline:
        time.sleep(5)
        lock = _lock_work_directory()
    if lock is None:
        print("bench/.work stayed busy for 15 minutes; try again later")
        return 2
    started = time.perf_counter()  # not counting the wait
    if SCRATCH.exists():
        shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True)
    # Both tools import every revision file they run: measure the usual state,
    # where Python caches their bytecode in __pycache__ (some shells and CI
    # images switch that off; the first, untimed runs write the caches).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    ensure_environments(options.alembic)
    for env in (ALEMBIC_VENV, LIMBECK_VENV):
        python = str(_bin(env, "python"))
        if subprocess.run([python, "-c", "import psycopg2"], capture_output=True).returncode:
            subprocess.run(
                [
                    python,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "psycopg2-binary",
                ],
                check=True,
            )
    versions = {
        "alembic": tool_version(ALEMBIC_VENV, "alembic"),
        "limbeck": tool_version(LIMBECK_VENV, "limbeck"),
    }
    print(
        f"alembic {versions['alembic']} vs limbeck {versions['limbeck']} on Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs"
    )
    small = write_fixture(UPGRADE_SIZE)
    big = write_fixture(CURRENT_SIZE) if "current sqlite" in cells else None
    need_pg = any("postgresql" in c and "--sql" not in c for c in cells)

    rows: list[dict[str, Any]] = []
    if need_pg:
        where = "given server" if options.postgresql_url else f"private server, data {pg_data}"
        print(f"PostgreSQL: {where}")
    with postgresql_server(options.postgresql_url, need_pg, pg_data) as pg_url:
        helper = Helper(pg_url)
        try:
            databases = Databases(helper)
            plans: list[tuple[str, Callable[[], None], Callable[[str], float]]] = []
            for backend in ("sqlite", "postgresql"):
                cell = f"upgrade {backend}"
                if cell in cells:
                    plans.append(
                        (
                            cell,
                            lambda b=backend: check_upgrade(small, b, databases, UPGRADE_SIZE),
                            time_upgrade(small, backend, databases),
                        )
                    )
            for backend, dialect_url in (
                ("sqlite", "sqlite:///" + str(SCRATCH / "offline.db")),
                ("postgresql", OFFLINE_POSTGRESQL_URL),
            ):
                cell = f"upgrade --sql {backend}"
                if cell in cells:
                    plans.append(
                        (
                            cell,
                            lambda u=dialect_url: check_sql(small, u, UPGRADE_SIZE),
                            time_command(small, dialect_url, ["upgrade", "head", "--sql"]),
                        )
                    )
            if big is not None:
                stamped = f"sqlite:///{SCRATCH / 'current.db'}"
                with database_url(stamped):
                    run_once("alembic", ["stamp", "head"], big)
                    run_once("limbeck", ["stamp", "head"], big)
                plans.append(
                    (
                        "current sqlite",
                        lambda: check_current(big, stamped, CURRENT_SIZE),
                        time_command(big, stamped, ["current"]),
                    )
                )
            # Cross-check everything first (this also warms both tools' caches).
            for cell, check, _ in plans:
                check()
                print(f"cross-check passed: {cell}", flush=True)
            for cell, _, run in plans:
                run("alembic")
                run("limbeck")  # one more warm-up of each, untimed
                # Alembic's current at 5,000 takes many seconds: fewer rounds.
                cell_rounds = max(1, rounds // 2) if cell.startswith("current") else rounds
                series = interleaved(cell_rounds, rng, run)
                alembic, limbeck = series["alembic"].median, series["limbeck"].median
                rows.append(
                    {
                        "cell": cell,
                        "alembic_median_s": alembic,
                        "limbeck_median_s": limbeck,
                        "ratio": alembic / limbeck,
                        "goal": GOALS[cell],
                        "rounds": cell_rounds,
                        "samples_s": {t: s.samples for t, s in series.items()},
                    }
                )
                print(
                    f"  {cell}: alembic {_ms(alembic).strip()} ms, "
                    f"limbeck {_ms(limbeck).strip()} ms",
                    flush=True,
                )
        finally:
            helper.close()
    met = report(rows)
    elapsed = time.perf_counter() - started
    print(f"(took {elapsed:.0f} s; {rounds} rounds per cell)")
    if options.json:
        results = {
            "versions": versions,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "rounds": rounds,
            "rows": rows,
            "elapsed_s": elapsed,
        }
        Path(options.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {options.json}")
    shutil.rmtree(SCRATCH, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
