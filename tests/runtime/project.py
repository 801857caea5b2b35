"""Build limbeck projects in a temporary directory and drive them the way a
user does: through ``python -m limbeck`` in a subprocess.

Typical use::

    from project import Rev, make_project, run_cli

    def test_something(tmp_path, db_url):
        root = make_project(tmp_path, db_url, [
            Rev("a1", None, 'op.create_table("t", sa.Column("id", sa.Integer))',
                'op.drop_table("t")'),
            Rev("b2", "a1", 'op.add_column("t", sa.Column("x", sa.String(20)))'),
        ])
        result = run_cli(root, "upgrade", "head")
        assert result.returncode == 0, result.stderr

``make_project`` runs ``limbeck init migrations`` (the generic template) in
``tmp_path / name``, points ``sqlalchemy.url`` at ``url`` and writes one file
per :class:`Rev` into ``migrations/versions``. ``run_cli`` / ``start_cli``
run the CLI with the project as the working directory and without any
``LIMBECK_*`` / ``ALEMBIC_CONFIG`` settings inherited from the environment.
``allow_per_migration_switch`` lets ``-x tpm=1`` turn on
``transaction_per_migration``. ``config_for`` gives a
:class:`limbeck.config.Config` for the Python API
(``limbeck.command.upgrade(config, "head")``), and ``db_state`` reads what a
database holds (tables, version rows, ledger rows) for assertions.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from limbeck import command
from limbeck.config import Config

VERSION_TABLE = "limbeck_version"
HISTORY_TABLE = "limbeck_history"

#: Environment variables that would redirect a run away from the project.
_SCRUBBED = ("LIMBECK_DATABASE_URL", "LIMBECK_CONFIG", "ALEMBIC_CONFIG")

Down = str | tuple[str, ...] | None


@dataclass(frozen=True)
class Rev:
    """One revision file.

    ``upgrade_body`` / ``downgrade_body`` are the bodies of ``upgrade()`` and
    ``downgrade()`` (any indentation; they are dedented and re-indented).
    ``down`` is the ``down_revision``: None for a base, a tuple for a merge.
    ``header`` is extra module-level code placed after the imports (e.g.
    ``import time``).
    """

    id: str
    down: Down
    upgrade_body: str = "pass"
    downgrade_body: str = "pass"
    depends_on: Down = None
    branch_labels: Down = None
    message: str | None = None
    header: str = ""

    @property
    def filename(self) -> str:
        return f"{self.id}_{(self.message or 'rev').replace(' ', '_')[:30]}.py"

    def source(self) -> str:
        """The text of the revision file."""
        if self.down is None:
            revises = ""
        elif isinstance(self.down, str):
            revises = self.down
        else:
            revises = ", ".join(self.down)
        header = textwrap.dedent(self.header).strip()
        return (
            f'"""{self.message or "revision " + self.id}\n\n'
            f"Revision ID: {self.id}\n"
            f"Revises: {revises}\n"
            '"""\n\n'
            "import sqlalchemy as sa\n\n"
            "from limbeck import op\n\n"
            + (f"{header}\n\n" if header else "")
            + f"revision = {self.id!r}\n"
            f"down_revision = {self.down!r}\n"
            f"branch_labels = {self.branch_labels!r}\n"
            f"depends_on = {self.depends_on!r}\n\n\n"
            f"def upgrade():\n{_indent(self.upgrade_body)}\n\n\n"
            f"def downgrade():\n{_indent(self.downgrade_body)}\n"
        )


def _indent(body: str) -> str:
    text = textwrap.dedent(body).strip("\n") or "pass"
    return textwrap.indent(text, "    ")


def make_project(
    tmp_path: Path,
    url: str,
    revisions: Sequence[Rev],
    *,
    name: str = "proj",
    ini_options: dict[str, str] | None = None,
) -> Path:
    """``limbeck init migrations`` in ``tmp_path / name`` with
    ``sqlalchemy.url = url`` and one file per revision; returns the project
    directory (the one holding ``limbeck.ini``).

    ``ini_options`` adds (or replaces) keys of the ``[limbeck]`` section.
    """
    root = tmp_path / name
    root.mkdir(parents=True)
    ini = root / "limbeck.ini"
    command.init(Config(file_=str(ini), stdout=io.StringIO()), str(root / "migrations"))
    options = {"sqlalchemy.url": url.replace("%", "%%"), **(ini_options or {})}
    lines = ini.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    for line in lines:
        key = line.split("=", 1)[0].strip()
        if "=" in line and not line.lstrip().startswith("#") and key in options:
            continue
        out.append(line)
        if line.strip() == "[limbeck]":
            out.extend(f"{k} = {v}" for k, v in options.items())
    ini.write_text("\n".join(out) + "\n", encoding="utf-8")
    write_revisions(root, revisions)
    return root


def write_revisions(root: Path, revisions: Sequence[Rev]) -> None:
    """Write (or overwrite) revision files in ``root/migrations/versions``."""
    versions = root / "migrations" / "versions"
    for rev in revisions:
        (versions / rev.filename).write_text(rev.source(), encoding="utf-8")


def allow_per_migration_switch(root: Path) -> None:
    """Edit the project's env.py so that ``-x tpm=1`` on the command line
    turns on ``transaction_per_migration`` (off otherwise)."""
    env_py = root / "migrations" / "env.py"
    source = env_py.read_text(encoding="utf-8")
    old = "context.configure(connection=connection, target_metadata=target_metadata)"
    if old not in source:
        raise AssertionError(f"{env_py} no longer has the line this helper edits: {old}")
    new = (
        "context.configure(\n"
        "        connection=connection,\n"
        "        target_metadata=target_metadata,\n"
        "        transaction_per_migration=bool("
        'context.get_x_argument(as_dictionary=True).get("tpm")),\n'
        "    )"
    )
    env_py.write_text(source.replace(old, new), encoding="utf-8")


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the CLI runs with: ours, minus limbeck's settings."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "limbeck", *args]


def run_cli(
    project_dir: Path,
    *args: str,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m limbeck *args`` in ``project_dir`` and wait for it
    (text output captured; never raises on a non-zero exit)."""
    return subprocess.run(
        cli_command(*args),
        cwd=project_dir,
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_cli(
    project_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    stderr_file: Path | None = None,
) -> subprocess.Popen[str]:
    """Start ``python -m limbeck *args`` in ``project_dir`` without waiting.

    stdout and stderr are pipes (read them with ``communicate()``), unless
    ``stderr_file`` is given: then stderr goes to that file, which a test can
    read while the process still runs (see :func:`wait_for_text`)."""
    if stderr_file is None:
        return subprocess.Popen(
            cli_command(*args),
            cwd=project_dir,
            env=cli_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    with open(stderr_file, "w", encoding="utf-8") as stream:
        return subprocess.Popen(
            cli_command(*args),
            cwd=project_dir,
            env=cli_env(env),
            stdout=subprocess.PIPE,
            stderr=stream,
            text=True,
        )


def wait_for_text(path: Path, text: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Wait until the file ``path`` exists and contains ``text`` (``text=""``:
    just exists); fail early if ``proc`` ends first."""
    deadline = time.monotonic() + timeout
    while True:
        if path.exists() and text in path.read_text(encoding="utf-8", errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(
                f"process {proc.args} ended ({proc.returncode}) before {path.name} had {text!r}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} did not get {text!r} within {timeout} s")
        time.sleep(0.02)


def config_for(project_dir: Path, **kwargs: Any) -> Config:
    """A Config for the Python API (``limbeck.command.*``) on this project.
    The ini's logging setup is skipped (``configure_logger = False``)."""
    config = Config(file_=str(project_dir / "limbeck.ini"), **kwargs)
    config.attributes["configure_logger"] = False
    return config


@dataclass
class DbState:
    """What a database holds, for assertions."""

    tables: set[str]
    heads: set[str]
    ledger: list[dict[str, Any]]

    def applied(self) -> list[str]:
        """Revisions of the ledger's ``applied`` rows, oldest first."""
        return [row["revision"] for row in self.ledger if row["outcome"] == "applied"]


def db_state(url: str) -> DbState:
    """Read the tables, the version rows and the ledger (oldest first)."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            heads: set[str] = set()
            ledger: list[dict[str, Any]] = []
            if VERSION_TABLE in tables:
                rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
                heads = set(rows.scalars())
            if HISTORY_TABLE in tables:
                rows = conn.execute(sa.text(f"SELECT * FROM {HISTORY_TABLE} ORDER BY id"))
                ledger = [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()
    return DbState(tables, heads, ledger)
