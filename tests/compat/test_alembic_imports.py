"""``from alembic import op, context`` works inside a limbeck run and only
there: an Alembic module already imported is set aside and put back."""

from __future__ import annotations

import sys
import threading
import types
from pathlib import Path

import pytest

from limbeck.compat import alembic_imports
from limbeck.config import Config
from limbeck.runtime import MigrationContext


def test_alembic_names_resolve_to_limbeck_inside_a_run() -> None:
    with alembic_imports():
        import alembic
        from alembic import command, context, op
        from alembic.config import Config as AlembicConfig
        from alembic.operations import Operations, ops
        from alembic.runtime.migration import MigrationContext as AlembicMigrationContext
        from alembic.script import ScriptDirectory
        from alembic.util.exc import CommandError

        import limbeck.command
        import limbeck.context
        import limbeck.op
        from limbeck.errors import LimbeckError
        from limbeck.operations import Operations as LimbeckOperations
        from limbeck.scripts import ScriptDirectory as LimbeckScriptDirectory

        assert op is limbeck.op and context is limbeck.context
        assert command.upgrade is limbeck.command.upgrade
        # limbeck's Config, marked as reached through Alembic's name.
        assert issubclass(AlembicConfig, Config) and AlembicConfig._made_through_alembic
        assert not Config._made_through_alembic
        assert AlembicMigrationContext is MigrationContext
        assert Operations is LimbeckOperations and hasattr(ops, "AddColumnOp")
        assert ScriptDirectory is LimbeckScriptDirectory
        assert CommandError is LimbeckError
        assert alembic.__version__
    assert not [name for name in sys.modules if name == "alembic" or name.startswith("alembic.")]


def test_an_installed_alembic_is_untouched_outside_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    real = types.ModuleType("alembic")
    real.marker = "the real one"  # type: ignore[attr-defined]
    real_op = types.ModuleType("alembic.op")
    monkeypatch.setitem(sys.modules, "alembic", real)
    monkeypatch.setitem(sys.modules, "alembic.op", real_op)
    with alembic_imports():
        import alembic

        assert not hasattr(alembic, "marker")
        with alembic_imports():  # nested runs keep the aliases
            from alembic import op

            assert op.__name__ == "limbeck.op"
        assert sys.modules["alembic"] is not real
    assert sys.modules["alembic"] is real and sys.modules["alembic.op"] is real_op


def test_overlapping_runs_in_threads_keep_the_aliases_until_the_last_ends() -> None:
    inside = threading.Event()
    release = threading.Event()
    seen: list[str] = []

    def other_run() -> None:
        with alembic_imports():
            inside.set()
            release.wait(5)
            import alembic

            seen.append(alembic.__name__)

    thread = threading.Thread(target=other_run)
    thread.start()
    assert inside.wait(5)
    with alembic_imports():
        pass  # this run ends first; the other still needs the aliases
    release.set()
    thread.join(5)
    assert seen == ["limbeck.compat.alembic"]
    assert "alembic" not in sys.modules


ALEMBIC_ENV = """
from sqlalchemy import engine_from_config, pool
from alembic import context

config = context.config
engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.",
                            poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""

ALEMBIC_REVISION = '''"""create account table

Revision ID: 1975ea83b712
Revises:
Create Date: 2011-11-08 11:40:27.089406

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '1975ea83b712'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table("account", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("account")
'''


def test_an_alembic_project_runs_with_its_version_table(tmp_path: Path) -> None:
    import io

    import sqlalchemy as sa

    from limbeck import command

    (tmp_path / "alembic" / "versions").mkdir(parents=True)
    (tmp_path / "alembic" / "env.py").write_text(ALEMBIC_ENV)
    (tmp_path / "alembic" / "versions" / "1975ea83b712_create_account.py").write_text(
        ALEMBIC_REVISION
    )
    url = f"sqlite:///{tmp_path / 'app.db'}"
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nscript_location = %(here)s/alembic\nsqlalchemy.url = {url}\n"
    )
    out = io.StringIO()
    config = Config.discover(cwd=str(tmp_path), stdout=out)
    command.upgrade(config, "head")
    command.current(config)
    assert out.getvalue().strip() == "1975ea83b712 (head)"
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert rows == ["1975ea83b712"]
    assert {"account", "alembic_version", "limbeck_history"} <= tables
    assert "limbeck_version" not in tables
