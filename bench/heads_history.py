"""Benchmark: ``heads`` and ``history`` for limbeck and Alembic, side by side.

Run from the repository root::

    python bench/heads_history.py [--sizes 1000,10000] [--repeat N] [--quick] [--json FILE]

What it does:

1. Creates two virtual environments under ``bench/.work/``: one with Alembic
   from PyPI, one with this repository installed the way users get it (not
   editable). Each is reused while it is current (same Python, same Alembic
   requirement, same limbeck sources).
2. Writes one fixture per size and shape (``linear``, and ``branchy`` with a
   branch and a merge every 50 revisions): an ``alembic.ini`` plus a
   migration directory of ordinary Alembic-style revision files, which both
   tools read unchanged.
3. Checks that both tools report the same heads and the same revisions in
   ``history`` for every fixture, and stops if they do not.
4. Times whole processes (wall clock), interleaving the tools so that noise
   on the machine hits both alike, and reports medians and the ratio
   Alembic / limbeck: limbeck with its index cache removed before each run
   (cold) and present (warm), plus ``--help`` of both programs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
ALEMBIC_VENV = WORK / "alembic-venv"
LIMBECK_VENV = WORK / "limbeck-venv"
FIXTURES = WORK / "fixtures"
CACHE_NAME = "limbeck-index-v1.pickle"
FIXTURE_FORMAT = "3"  # bump when the generated files change

SHAPES = ("linear", "branchy")
COMMANDS = ("heads", "history")
BLOCK = 50  # branchy: one branch and one merge per this many revisions

#: (command, size) -> minimum ratio Alembic / limbeck, from issue 2.
GOALS_COLD = {1000: 5.0, 10000: 8.0}
GOALS_WARM = {1000: 10.0, 10000: 30.0}
GOAL_HELP = 5.0


# -- virtual environments ---------------------------------------------------------------


def _bin(env: Path, name: str) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return env / folder / f"{name}{suffix}"


def _python_tag() -> str:
    return f"{platform.python_implementation()}-{platform.python_version()}-{sys.executable}"


def _source_digest() -> str:
    """A digest of everything that goes into the limbeck wheel."""
    digest = hashlib.sha256()
    paths = [ROOT / "pyproject.toml"]
    paths += sorted(p for p in (ROOT / "src").rglob("*") if p.is_file() and _packaged(p))
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _packaged(path: Path) -> bool:
    parts = path.parts
    return "__pycache__" not in parts and not any(p.endswith(".egg-info") for p in parts)


def _ensure_venv(env: Path, marker_value: str, install: Sequence[str], label: str) -> None:
    marker = env / "bench-marker.txt"
    if marker.is_file() and marker.read_text() == marker_value and _bin(env, "python").exists():
        return
    print(f"setting up {label} in {env.relative_to(ROOT)} ...", flush=True)
    if not _bin(env, "python").exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
    python = str(_bin(env, "python"))
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *install],
        check=True,
    )
    marker.write_text(marker_value)


def ensure_environments(alembic_requirement: str) -> None:
    _ensure_venv(
        ALEMBIC_VENV,
        f"{_python_tag()}\n{alembic_requirement}\n",
        [alembic_requirement],
        "Alembic",
    )
    # Not editable: measure the installed, byte-compiled package users get.
    _ensure_venv(
        LIMBECK_VENV,
        f"{_python_tag()}\n{_source_digest()}\n",
        ["--force-reinstall", "--no-deps", str(ROOT)]
        if _bin(LIMBECK_VENV, "limbeck").exists()
        else [str(ROOT)],
        "limbeck",
    )


def tool_version(env: Path, package: str) -> str:
    completed = subprocess.run(
        [
            str(_bin(env, "python")),
            "-c",
            f"import importlib.metadata as m; print(m.version({package!r}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


# -- fixtures ---------------------------------------------------------------------------


def rev_id(size: int, shape: str, index: int) -> str:
    return hashlib.sha1(f"{shape}/{size}/{index}".encode()).hexdigest()[:12]


def plan_revisions(size: int, shape: str) -> list[tuple[str, tuple[str, ...]]]:
    """``(id, parents)`` in creation order.

    ``branchy``: in each block of 50 revisions, the 20th opens a side branch
    of 10 revisions, the trunk goes on beside it, and the block's last
    revision merges the two.
    """
    ids = [rev_id(size, shape, i) for i in range(size)]
    plan: list[tuple[str, tuple[str, ...]]] = []
    for i, key in enumerate(ids):
        if i == 0:
            parents: tuple[str, ...] = ()
        elif shape == "linear":
            parents = (ids[i - 1],)
        else:
            start = i - i % BLOCK
            pos = i % BLOCK
            if pos == 20 or pos == 30:
                parents = (ids[start + 19],)  # the branch point gets two children
            elif pos == BLOCK - 1 and i > 30:
                parents = (ids[i - 1], ids[start + 29])  # merge trunk and side branch
            else:
                parents = (ids[i - 1],)
        plan.append((key, parents))
    return plan


def expected_heads(plan: list[tuple[str, tuple[str, ...]]]) -> set[str]:
    parents = {p for _, ps in plan for p in ps}
    return {key for key, _ in plan if key not in parents}


ENV_PY = '''\
"""Migration environment of the benchmark fixture (never run by heads/history)."""

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
target_metadata = None


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
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
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

REVISION_FILE = '''\
"""{message}

Revision ID: {rev}
Revises: {revises}
Create Date: {date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# identifiers read by the migration tool
revision: str = {rev!r}
down_revision: Union[str, Sequence[str], None] = {down!r}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''


def fixture_dir(size: int, shape: str) -> Path:
    return FIXTURES / f"{shape}-{size}"


def write_fixture(size: int, shape: str) -> Path:
    """Write the fixture unless an identical one is there already."""
    root = fixture_dir(size, shape)
    stamp = root / "fixture-format.txt"
    if stamp.is_file() and stamp.read_text() == FIXTURE_FORMAT:
        return root
    if root.exists():
        shutil.rmtree(root)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text(ALEMBIC_INI)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "migrations" / "README").write_text("Benchmark fixture.\n")
    for i, (key, parents) in enumerate(plan_revisions(size, shape)):
        table = f"table_{i % 97}"
        if len(parents) > 1:
            message = f"merge branches at step {i}"
            upgrade = downgrade = "pass"
        else:
            message = f"add column c{i} to {table}"
            upgrade = f"op.add_column({table!r}, sa.Column('c{i}', sa.Integer(), nullable=True))"
            downgrade = f"op.drop_column({table!r}, 'c{i}')"
        down: str | tuple[str, ...] | None = (
            None if not parents else parents[0] if len(parents) == 1 else parents
        )
        minute, second = divmod(i, 60)
        hour, minute = divmod(minute, 60)
        text = REVISION_FILE.format(
            message=message,
            rev=key,
            revises=", ".join(parents),
            date=f"2024-01-{1 + hour // 24 % 28:02d} {hour % 24:02d}:{minute:02d}:{second:02d}"
            ".000000",
            down=down,
            upgrade=upgrade,
            downgrade=downgrade,
        )
        slug = re.sub(r"\W+", "_", message)[:40]
        (versions / f"{key}_{slug}.py").write_text(text)
    stamp.write_text(FIXTURE_FORMAT)
    return root


# -- running ------------------------------------------------------------------------------


def _command(tool: str, args: Sequence[str]) -> list[str]:
    env = ALEMBIC_VENV if tool == "alembic" else LIMBECK_VENV
    return [str(_bin(env, tool)), *args]


def run_once(tool: str, args: Sequence[str], cwd: Path) -> float:
    command = _command(tool, args)
    start = time.perf_counter()
    completed = subprocess.run(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} (in {cwd}) failed with exit code {completed.returncode}:\n"
            + completed.stderr.decode(errors="replace")
        )
    return elapsed


def output_of(tool: str, args: Sequence[str], cwd: Path) -> str:
    completed = subprocess.run(
        _command(tool, args), cwd=cwd, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"{tool} {' '.join(args)} failed in {cwd}:\n{completed.stderr}")
    return completed.stdout


_HEX = re.compile(r"^[0-9a-f]{12}$")
_ARROW = re.compile(r"-> ([0-9a-f]{12})\b")


def cross_check(root: Path, size: int, shape: str) -> None:
    """Both tools must agree with each other and with the generator."""
    plan = plan_revisions(size, shape)
    want_heads = expected_heads(plan)
    want_all = {key for key, _ in plan}
    for tool in ("alembic", "limbeck"):
        heads_out = output_of(tool, ["heads"], root)
        heads = {line.split()[0] for line in heads_out.splitlines() if line.strip()}
        if heads != want_heads or not all(_HEX.match(h) for h in heads):
            raise SystemExit(
                f"CROSS-CHECK FAILED: {tool} heads in {root} printed {sorted(heads)}, "
                f"expected {sorted(want_heads)}"
            )
        history = set(_ARROW.findall(output_of(tool, ["history"], root)))
        if history != want_all:
            missing = sorted(want_all - history)[:5]
            extra = sorted(history - want_all)[:5]
            raise SystemExit(
                f"CROSS-CHECK FAILED: {tool} history in {root} lists {len(history)} "
                f"revisions, expected {len(want_all)} (missing {missing}, extra {extra})"
            )


@dataclass
class Series:
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def _drop_cache(root: Path) -> None:
    cache = root / "migrations" / "__pycache__" / CACHE_NAME
    cache.unlink(missing_ok=True)


def measure_fixture(
    root: Path, command: str, rounds: int, per_round: int, rng: random.Random
) -> dict[str, Series]:
    """Interleaved runs: each round runs Alembic once and limbeck cold and
    warm ``per_round`` times each, in a shuffled order."""
    series = {"alembic": Series(), "cold": Series(), "warm": Series()}
    # Warm-up: Alembic writes its .pyc files, limbeck its index.
    run_once("alembic", [command], root)
    run_once("limbeck", [command], root)
    for _ in range(rounds):
        jobs = ["alembic"] + ["cold"] * per_round + ["warm"] * per_round
        rng.shuffle(jobs)
        for job in jobs:
            if job == "alembic":
                series[job].samples.append(run_once("alembic", [command], root))
            elif job == "cold":
                _drop_cache(root)
                series[job].samples.append(run_once("limbeck", [command], root))
            else:
                # Make sure the cache exists (a cold run may have been last).
                if not (root / "migrations" / "__pycache__" / CACHE_NAME).exists():
                    run_once("limbeck", [command], root)
                series[job].samples.append(run_once("limbeck", [command], root))
    return series


def measure_help(rounds: int, rng: random.Random) -> dict[str, Series]:
    series = {"alembic": Series(), "limbeck": Series()}
    run_once("alembic", ["--help"], WORK)
    run_once("limbeck", ["--help"], WORK)
    for _ in range(rounds):
        jobs = ["alembic", "limbeck"] * 3
        rng.shuffle(jobs)
        for job in jobs:
            series[job].samples.append(run_once(job, ["--help"], WORK))
    return series


# -- reporting ------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def _verdict(ratio: float, goal: float | None) -> str:
    if goal is None:
        return "   (no goal)"
    return f"{'ok ' if ratio >= goal else 'MISS'} >= {goal:g}x"


def report(results: dict[str, Any]) -> bool:
    rows: list[dict[str, Any]] = results["rows"]
    print()
    print(
        f"{'fixture':<15}{'command':<9}{'alembic ms':>11}{'cold ms':>9}{'warm ms':>9}"
        f"{'cold x':>8}  {'goal':<12}{'warm x':>8}  {'goal':<12}"
    )
    all_met = True
    for row in rows:
        size = int(row["size"])
        cold_ratio = float(row["cold_ratio"])
        warm_ratio = float(row["warm_ratio"])
        cold_goal = GOALS_COLD.get(size)
        warm_goal = GOALS_WARM.get(size)
        all_met &= cold_goal is None or cold_ratio >= cold_goal
        all_met &= warm_goal is None or warm_ratio >= warm_goal
        print(
            f"{row['shape']}-{size:<7}".ljust(15)
            + f"{row['command']:<9}"
            + f"{_ms(float(row['alembic_median_s'])):>11}"
            + f"{_ms(float(row['cold_median_s'])):>9}"
            + f"{_ms(float(row['warm_median_s'])):>9}"
            + f"{cold_ratio:7.1f}x  {_verdict(cold_ratio, cold_goal):<12}"
            + f"{warm_ratio:7.1f}x  {_verdict(warm_ratio, warm_goal):<12}"
        )
    help_row: dict[str, float] = results["help"]
    help_ratio = help_row["ratio"]
    all_met &= help_ratio >= GOAL_HELP
    print()
    print(
        f"--help: alembic {_ms(help_row['alembic_median_s']).strip()} ms, "
        f"limbeck {_ms(help_row['limbeck_median_s']).strip()} ms, "
        f"{help_ratio:.1f}x ({'ok' if help_ratio >= GOAL_HELP else 'MISS'}: "
        f"goal limbeck < 1/{GOAL_HELP:g} of alembic)"
    )
    print()
    print("medians of whole-process wall-clock times; ratio = alembic / limbeck")
    print("goals (issue 2): cold >= 5x at 1,000 and >= 8x at 10,000 revisions;")
    print("                 warm >= 10x at 1,000 and >= 30x at 10,000; --help >= 5x")
    print("all goals met" if all_met else "SOME GOALS MISSED")
    return all_met


def _lock_work_directory() -> IO[bytes] | None:
    """Hold an exclusive lock on bench/.work for the whole run: a second run
    would reinstall limbeck under the first one's feet. None if taken."""
    handle = open(WORK / "bench.lock", "wb")  # noqa: SIM115 - held until exit
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated revision counts")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="linear,branchy")
    parser.add_argument("--commands", default=",".join(COMMANDS), help="heads,history")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="rounds per cell (default 7, 3 with --quick); each round runs Alembic once "
        "and limbeck cold and warm 3 times each",
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a quick look")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON here")
    parser.add_argument(
        "--alembic", default="alembic", metavar="REQUIREMENT", help="what to pip install"
    )
    parser.add_argument("--seed", type=int, default=2, help="seed of the run-order shuffle")
    options = parser.parse_args(argv)

    sizes = [int(s) for s in options.sizes.split(",") if s]
    shapes = [s for s in options.shapes.split(",") if s]
    commands = [c for c in options.commands.split(",") if c]
    rounds = options.repeat or (3 if options.quick else 7)
    per_round = 2 if options.quick else 3
    rng = random.Random(options.seed)

    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    lock = _lock_work_directory()
    if lock is None:
        print("another run of this benchmark is using bench/.work; try again later")
        return 2
    ensure_environments(options.alembic)
    versions = {
        "alembic": tool_version(ALEMBIC_VENV, "alembic"),
        "limbeck": tool_version(LIMBECK_VENV, "limbeck"),
    }
    print(
        f"alembic {versions['alembic']} vs limbeck {versions['limbeck']} on Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs"
    )
    fixtures: dict[tuple[int, str], Path] = {}
    for size in sizes:
        for shape in shapes:
            fixtures[size, shape] = write_fixture(size, shape)
            cross_check(fixtures[size, shape], size, shape)
    print(f"cross-check passed: same heads and history for {len(fixtures)} fixtures")

    rows: list[dict[str, Any]] = []
    for (size, shape), root in fixtures.items():
        for command in commands:
            # Fewer Alembic runs on big fixtures keep the whole run to minutes.
            cell_rounds = max(3, rounds * 5 // 7) if size >= 10000 else rounds
            series = measure_fixture(root, command, cell_rounds, per_round, rng)
            alembic = series["alembic"].median
            row = {
                "size": size,
                "shape": shape,
                "command": command,
                "alembic_median_s": alembic,
                "cold_median_s": series["cold"].median,
                "warm_median_s": series["warm"].median,
                "cold_ratio": alembic / series["cold"].median,
                "warm_ratio": alembic / series["warm"].median,
                "cold_goal": GOALS_COLD.get(size),
                "warm_goal": GOALS_WARM.get(size),
                "samples_s": {name: s.samples for name, s in series.items()},
            }
            rows.append(row)
            print(
                f"  {shape}-{size} {command}: alembic {_ms(alembic).strip()} ms, "
                f"limbeck cold {_ms(series['cold'].median).strip()} ms, "
                f"warm {_ms(series['warm'].median).strip()} ms",
                flush=True,
            )
    help_series = measure_help(max(rounds, 5), rng)
    help_result = {
        "alembic_median_s": help_series["alembic"].median,
        "limbeck_median_s": help_series["limbeck"].median,
        "ratio": help_series["alembic"].median / help_series["limbeck"].median,
        "goal": GOAL_HELP,
        "samples_s": {name: s.samples for name, s in help_series.items()},
    }
    results: dict[str, Any] = {
        "versions": versions,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "rows": rows,
        "help": help_result,
        "elapsed_s": time.perf_counter() - started,
    }
    met = report(results)
    print(f"(took {time.perf_counter() - started:.0f} s)")
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {options.json}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
