"""``limbeck.command`` takes Alembic's positional arguments in Alembic's order.

The expected lists are Alembic 1.20.1's ``alembic.command`` signatures
(``inspect.signature``), written out here: code calling Alembic's functions
positionally must mean the same with limbeck's. limbeck's own additions must
be keyword-only, so they can never take a positional argument's place.
"""

from __future__ import annotations

import inspect
import io
from pathlib import Path
from typing import Any

import pytest

from limbeck import command
from limbeck.config import Config
from limbeck.errors import LimbeckError

_NO_DEFAULT = inspect.Parameter.empty

#: Alembic 1.20.1: name -> [(parameter, default)], in order.
ALEMBIC_SIGNATURES: dict[str, list[tuple[str, Any]]] = {
    "branches": [("config", _NO_DEFAULT), ("verbose", False)],
    "check": [("config", _NO_DEFAULT)],
    "current": [("config", _NO_DEFAULT), ("check_heads", False), ("verbose", False)],
    "downgrade": [
        ("config", _NO_DEFAULT),
        ("revision", _NO_DEFAULT),
        ("sql", False),
        ("tag", None),
    ],
    "edit": [("config", _NO_DEFAULT), ("rev", _NO_DEFAULT)],
    "ensure_version": [("config", _NO_DEFAULT), ("sql", False)],
    "heads": [("config", _NO_DEFAULT), ("verbose", False), ("resolve_dependencies", False)],
    "history": [
        ("config", _NO_DEFAULT),
        ("rev_range", None),
        ("verbose", False),
        ("indicate_current", False),
    ],
    "init": [
        ("config", _NO_DEFAULT),
        ("directory", _NO_DEFAULT),
        ("template", "generic"),
        ("package", False),
    ],
    "list_templates": [("config", _NO_DEFAULT)],
    "merge": [
        ("config", _NO_DEFAULT),
        ("revisions", _NO_DEFAULT),
        ("message", None),
        ("branch_label", None),
        ("rev_id", None),
        ("splice", False),
    ],
    "revision": [
        ("config", _NO_DEFAULT),
        ("message", None),
        ("autogenerate", False),
        ("sql", False),
        ("head", "head"),
        ("splice", False),
        ("branch_label", None),
        ("version_path", None),
        ("rev_id", None),
        ("depends_on", None),
        ("process_revision_directives", None),
    ],
    "show": [("config", _NO_DEFAULT), ("rev", _NO_DEFAULT)],
    "stamp": [
        ("config", _NO_DEFAULT),
        ("revision", _NO_DEFAULT),
        ("sql", False),
        ("tag", None),
        ("purge", False),
    ],
    "upgrade": [
        ("config", _NO_DEFAULT),
        ("revision", _NO_DEFAULT),
        ("sql", False),
        ("tag", None),
    ],
}


@pytest.mark.parametrize("name", sorted(ALEMBIC_SIGNATURES))
def test_positional_parameters_match_alembic(name: str) -> None:
    assert name in command.__all__
    parameters = inspect.signature(getattr(command, name)).parameters.values()
    positional = [(p.name, p.default) for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == ALEMBIC_SIGNATURES[name]
    others = [p for p in parameters if p.kind is not p.POSITIONAL_OR_KEYWORD]
    assert all(p.kind is p.KEYWORD_ONLY for p in others), others


def _project(root: Path) -> Config:
    """Two revisions, a1 <- b2, with the database at a1."""
    (root / "m" / "versions").mkdir(parents=True)
    (root / "m" / "env.py").write_text(
        "from sqlalchemy import engine_from_config, pool\n"
        "from limbeck import context\n"
        "config = context.config\n"
        "engine = engine_from_config(config.get_section(config.config_ini_section),\n"
        "                            prefix='sqlalchemy.', poolclass=pool.NullPool)\n"
        "with engine.connect() as connection:\n"
        "    context.configure(connection=connection)\n"
        "    with context.begin_transaction():\n"
        "        context.run_migrations()\n",
        encoding="utf-8",
    )
    for rev, down in (("a1", None), ("b2", "a1")):
        (root / "m" / "versions" / f"{rev}.py").write_text(
            f"revision = {rev!r}\ndown_revision = {down!r}\n"
            "def upgrade():\n    pass\ndef downgrade():\n    pass\n",
            encoding="utf-8",
        )
    config = Config(stdout=io.StringIO())
    config.set_main_option("script_location", str(root / "m"))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{root / 'db.sqlite'}")
    command.upgrade(config, "a1")
    return config


def test_current_second_positional_is_check_heads(tmp_path: Path) -> None:
    """``current(config, True)`` checks the heads, as in Alembic."""
    config = _project(tmp_path)
    command.current(config, False, True)  # verbose only: the database need not be at head
    with pytest.raises(LimbeckError):
        command.current(config, True)
