"""Autogenerate for 1,000 tables: limbeck beside Alembic, time and peak memory.

    python bench/autogenerate.py [--tables 1000] [--repeat 5] [--pg URL] [--json FILE]

Each table has 10 columns, 2 indexes, 1 foreign key and 1 unique constraint.
Two databases per backend: one already holding exactly the models
("identical": the result must be empty) and one empty (everything is
created). Backends: SQLite, and PostgreSQL when ``--pg`` or
``LIMBECK_TEST_POSTGRESQL_URL`` names a server (a scratch database is
created and dropped).

Each measurement runs in a fresh process: limbeck with this repository's
interpreter, Alembic with ``bench/.work/alembic-venv`` (made by
``bench/heads_history.py``; created here with pip if missing). What is
timed: comparing the models with the database and rendering the upgrade
and downgrade as Python (``produce_migrations`` plus ``render_python_code``
in both tools), not the process start. Peak memory is tracemalloc's peak
during the same work (in separate runs, untimed), next to the peak of
building the MetaData and reflecting the database with SQLAlchemy alone.

Goals (issue 5): at least 2.5x faster than Alembic against an identical
PostgreSQL database; limbeck's peak memory within 1.3x of MetaData plus
reflection. The exit code is 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work"
ALEMBIC_PY = WORK / "alembic-venv" / "bin" / "python"
TOOLS = (("limbeck", Path(sys.executable)), ("alembic", ALEMBIC_PY))

MODELS = """
import sqlalchemy as sa

def build(n):
    md = sa.MetaData()
    for i in range(n):
        ref = f"t{(i - 1) % n:04d}"
        cols = [
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("ref_id", sa.Integer, sa.ForeignKey(f"{ref}.id", name=f"fk_t{i:04d}_ref",
                      use_alter=(i == 0))),
            sa.Column("code", sa.String(32), nullable=False),
            sa.Column("name", sa.String(100), nullable=False, server_default="x"),
            sa.Column("qty", sa.Integer, server_default="0"),
            sa.Column("price", sa.Numeric(10, 2)),
            sa.Column("flag", sa.Boolean),
            sa.Column("created", sa.DateTime),
            sa.Column("note", sa.Text),
            sa.Column("score", sa.Float),
        ]
        sa.Table(f"t{i:04d}", md, *cols,
                 sa.UniqueConstraint("code", name=f"uq_t{i:04d}_code"),
                 sa.Index(f"ix_t{i:04d}_name", "name"),
                 sa.Index(f"ix_t{i:04d}_qty_created", "qty", "created"))
    return md
"""

WORKER = """
import sys, time, tracemalloc, json
sys.setrecursionlimit(100000)  # SQLAlchemy follows a chain of 1,000 foreign keys recursively
sys.path.insert(0, {models_dir!r})
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from models import build

tool, url, n, measure = {tool!r}, {url!r}, {n!r}, {measure!r}
engine = sa.create_engine(url, poolclass=NullPool)
if measure == "memory":
    tracemalloc.start()
start = time.perf_counter()
md = build(n)
with engine.connect() as conn:
    if tool == "baseline":
        sa.MetaData().reflect(bind=conn)
        count = 0
    elif tool == "limbeck":
        from limbeck.autogenerate import produce_migrations, render_python_code
        from limbeck.runtime.migration import MigrationContext
        ctx = MigrationContext.configure(connection=conn, opts={{"target_metadata": md}})
        script = produce_migrations(ctx, md)
        render_python_code(script.upgrade_ops, migration_context=ctx)
        render_python_code(script.downgrade_ops, migration_context=ctx)
        count = len(script.upgrade_ops.ops)
    else:
        from alembic.autogenerate import produce_migrations, render_python_code
        from alembic.migration import MigrationContext
        ctx = MigrationContext.configure(connection=conn, opts={{"target_metadata": md,
                                                                 "compare_server_default": True}})
        script = produce_migrations(ctx, md)
        render_python_code(script.upgrade_ops, migration_context=ctx)
        render_python_code(script.downgrade_ops, migration_context=ctx)
        count = len(script.upgrade_ops.ops)
elapsed = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1] if measure == "memory" else 0
print(json.dumps({{"seconds": elapsed, "peak": peak, "ops": count}}))
"""


def run_worker(python: Path, tool: str, url: str, n: int, measure: str, models_dir: str) -> dict:
    code = WORKER.format(models_dir=models_dir, tool=tool, url=url, n=n, measure=measure)
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"{tool} worker failed:\n{done.stderr[-3000:]}")
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def ensure_alembic() -> None:
    if ALEMBIC_PY.exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(ALEMBIC_PY.parents[1])], check=True)
    subprocess.run(
        [str(ALEMBIC_PY), "-m", "pip", "install", "-q", "alembic", "psycopg2-binary"], check=True
    )


def prepare(url: str, n: int, models_dir: str, create: bool) -> None:
    code = textwrap.dedent(
        f"""
        import sys; sys.path.insert(0, {models_dir!r})
        import sqlalchemy as sa
        from models import build
        engine = sa.create_engine({url!r})
        if {create!r}:
            build({n}).create_all(engine)
        engine.dispose()
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def pg_databases(server: str) -> tuple[str, str, object]:
    import sqlalchemy as sa

    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    names = [f"lbbench_{os.getpid()}_{k}" for k in ("same", "empty")]
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = sa.engine.make_url(server)
    urls = [base.set(database=name).render_as_string(hide_password=False) for name in names]

    def cleanup() -> None:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return urls[0], urls[1], cleanup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg", default=os.environ.get("LIMBECK_TEST_POSTGRESQL_URL"))
    parser.add_argument("--json")
    options = parser.parse_args()
    ensure_alembic()
    n = options.tables
    results: list[dict] = []
    with tempfile.TemporaryDirectory(dir=WORK if WORK.exists() else None) as tmp:
        (Path(tmp) / "models.py").write_text(MODELS, encoding="utf-8")
        backends: list[tuple[str, str, str, object]] = [
            ("sqlite", f"sqlite:///{tmp}/same.db", f"sqlite:///{tmp}/empty.db", None)
        ]
        if options.pg:
            same, empty, cleanup = pg_databases(options.pg)
            backends.append(("postgresql", same, empty, cleanup))
        try:
            for backend, same_url, empty_url, _ in backends:
                prepare(same_url, n, tmp, True)
                prepare(empty_url, n, tmp, False)
                for case, url in (("identical", same_url), ("empty", empty_url)):
                    times: dict[str, list[float]] = {"limbeck": [], "alembic": []}
                    for _ in range(options.repeat):
                        for tool, python in (
                            ("limbeck", Path(sys.executable)),
                            ("alembic", ALEMBIC_PY),
                        ):
                            sample = run_worker(python, tool, url, n, "time", tmp)
                            if case == "identical" and sample["ops"]:
                                raise SystemExit(
                                    f"{tool} found {sample['ops']} changes on {backend}"
                                )
                            times[tool].append(sample["seconds"])
                    peaks = {
                        tool: run_worker(python, tool, url, n, "memory", tmp)["peak"]
                        for tool, python in (
                            ("baseline", Path(sys.executable)),
                            ("limbeck", Path(sys.executable)),
                            ("alembic", ALEMBIC_PY),
                        )
                    }
                    row = {
                        "backend": backend,
                        "case": case,
                        "limbeck_s": statistics.median(times["limbeck"]),
                        "alembic_s": statistics.median(times["alembic"]),
                        "baseline_mb": peaks["baseline"] / 2**20,
                        "limbeck_mb": peaks["limbeck"] / 2**20,
                        "alembic_mb": peaks["alembic"] / 2**20,
                    }
                    row["speedup"] = row["alembic_s"] / row["limbeck_s"]
                    row["limbeck_memory_ratio"] = row["limbeck_mb"] / row["baseline_mb"]
                    row["alembic_memory_ratio"] = row["alembic_mb"] / row["baseline_mb"]
                    results.append(row)
                    print(
                        f"{backend:<10} {case:<9} limbeck {row['limbeck_s']:.2f}s  "
                        f"alembic {row['alembic_s']:.2f}s  x{row['speedup']:.1f}   "
                        f"peak MB: baseline {row['baseline_mb']:.0f}  limbeck "
                        f"{row['limbeck_mb']:.0f} ({row['limbeck_memory_ratio']:.2f}x)  "
                        f"alembic {row['alembic_mb']:.0f} ({row['alembic_memory_ratio']:.2f}x)",
                        flush=True,
                    )
        finally:
            for *_, cleanup in backends:
                if callable(cleanup):
                    cleanup()
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    missed = [
        r
        for r in results
        if (r["backend"] == "postgresql" and r["case"] == "identical" and r["speedup"] < 2.5)
        or r["limbeck_memory_ratio"] > 1.3
    ]
    for r in missed:
        print(f"goal missed: {r['backend']} {r['case']}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
