"""What env.py sees of the command line: ``context.get_revision_argument()``
and ``config.cmd_opts`` (``cmd`` and ``name``, as Alembic's namespace has),
and ``merge --splice``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_helpers import Project

PROBE_ENV = """
import json
from sqlalchemy import engine_from_config, pool
from limbeck import context

config = context.config
options = config.cmd_opts
cmd = getattr(options, "cmd", None)
revision = context.get_revision_argument()
with open(config.get_main_option("probe_file"), "w") as out:
    json.dump(
        {
            "revision": revision,
            "revision_type": type(revision).__name__,
            "cmd": [cmd[0].__name__, cmd[1], cmd[2]] if cmd else None,
            "cmd_type": type(cmd).__name__,
            "name": options.name,
        },
        out,
    )
engine = engine_from_config(config.get_section(config.config_ini_section),
                            prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


def _probe_project(project: Project) -> Path:
    """aaa1 <- bbb2, and aaa1 <- ccc3 (a second branch); a real SQLite file."""
    probe = project.root / "probe.json"
    project.set_option("sqlalchemy.url", f"sqlite:///{project.root / 'db.sqlite'}")
    project.set_option("probe_file", str(probe))
    (project.root / "migrations" / "env.py").write_text(PROBE_ENV, encoding="utf-8")
    project.write_rev("aaa1")
    project.write_rev("bbb2", "aaa1")
    project.write_rev("ccc3", "aaa1")
    return probe


def _run(project: Project, *args: str) -> None:
    """Run a command that must succeed (log lines on stderr are allowed:
    another test may have configured logging in this process)."""
    result = project.run(*args)
    assert result.code == 0, result.err


def _seen(probe: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(probe.read_text(encoding="utf-8"))
    return data


def test_stamp_one_revision_is_a_string(project: Project) -> None:
    probe = _probe_project(project)
    _run(project, "stamp", "bbb2")
    seen = _seen(probe)
    assert (seen["revision"], seen["revision_type"]) == ("bbb2", "str")


def test_stamp_several_revisions_is_a_tuple(project: Project) -> None:
    probe = _probe_project(project)
    _run(project, "stamp", "bbb2", "ccc3")
    seen = _seen(probe)
    assert (seen["revision"], seen["revision_type"]) == (["bbb2", "ccc3"], "tuple")


def test_cmd_opts_carry_cmd_and_name(project: Project) -> None:
    probe = _probe_project(project)
    _run(project, "stamp", "bbb2")
    seen = _seen(probe)
    assert seen["cmd"] == ["stamp", ["revisions"], ["sql", "tag", "purge"]]
    assert seen["cmd_type"] == "tuple"
    assert seen["name"] == "limbeck"

    _run(project, "upgrade", "heads")
    seen = _seen(probe)
    assert seen["cmd"] == ["upgrade", ["revision"], ["sql", "tag"]]

    _run(project, "current")
    assert _seen(probe)["cmd"] == ["current", [], ["check_heads", "verbose"]]

    _run(project, "-n", "limbeck", "current")
    assert _seen(probe)["name"] == "limbeck"


def test_merge_refuses_a_non_head_unless_splice(project: Project) -> None:
    project.write_rev("aaa1")
    project.write_rev("bbb2", "aaa1")
    project.write_rev("ccc3", "aaa1")
    project.fails("merge", "aaa1", "ccc3", "--rev-id", "ddd4", match="not a head")
    project.ok("merge", "aaa1", "ccc3", "--rev-id", "ddd4", "--splice")
    assert any(path.name.startswith("ddd4") for path in project.versions.iterdir())
