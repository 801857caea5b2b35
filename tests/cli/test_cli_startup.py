"""The command line turns the cyclic garbage collector off while it starts up
and back on before migrations run (limbeck._startup); the Python API never
touches it."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator

import pytest
from cli_helpers import Project

from limbeck import _startup, command
from limbeck.config import Config

# Written by the migration: what the collector looked like while it ran.
PROBE = """
import gc, json, pathlib
pathlib.Path("probe.json").write_text(json.dumps(
    {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
))
"""


@pytest.fixture
def collector() -> Iterator[None]:
    """Start with the collector on and nothing frozen; leave it so."""
    assert gc.isenabled()
    gc.unfreeze()  # earlier CLI runs in this process froze their start-up
    yield
    _startup.end()
    gc.unfreeze()
    gc.enable()


def _probe_revision(project: Project) -> None:
    path = project.write_rev("a1", None)
    source = path.read_text(encoding="utf-8")
    path.write_text(
        source.replace("def upgrade():\n    pass", "def upgrade():\n" + _indented(PROBE)),
        encoding="utf-8",
    )


def _indented(code: str) -> str:
    return "".join(f"    {line}\n" for line in code.strip().splitlines())


def test_migrations_run_with_the_collector_on(project: Project, collector: None) -> None:
    _probe_revision(project)
    result = project.run("upgrade", "head")
    assert result.code == 0, result.err
    probe = json.loads((project.root / "probe.json").read_text())
    # On while the migration ran, with what start-up built frozen.
    assert probe["enabled"] is True
    assert probe["frozen"] > 0
    assert gc.isenabled()


def test_commands_without_migrations_leave_the_collector_on(
    project: Project, collector: None
) -> None:
    project.write_rev("a1", None)
    project.ok("history")
    assert gc.isenabled()
    project.fails("upgrade", "nope", match="nope")
    assert gc.isenabled()


def test_the_python_api_leaves_the_collector_alone(project: Project, collector: None) -> None:
    _probe_revision(project)
    command.upgrade(Config(str(project.root / "limbeck.ini")), "head")
    probe = json.loads((project.root / "probe.json").read_text())
    # Nothing frozen (a freeze would hold every live object: tens of thousands).
    assert probe == {"enabled": True, "frozen": 0}
    assert gc.get_freeze_count() == 0


def test_begin_and_end_respect_a_collector_turned_off_by_the_caller(collector: None) -> None:
    gc.disable()
    _startup.begin()
    _startup.end()
    assert not gc.isenabled()  # the caller's choice stands
    gc.enable()
