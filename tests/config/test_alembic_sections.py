"""Which version table a configuration uses, for databases Alembic manages.

An Alembic database keeps its heads in ``alembic_version``. limbeck must read
that table for every configuration made the Alembic way (an ``alembic.ini``
whatever section ``-n`` selects, ``alembic.config.Config()`` without a file),
and must refuse, rather than start from scratch, when a limbeck configuration
meets such a database.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from limbeck import command
from limbeck.cli import main
from limbeck.compat import alembic_imports
from limbeck.config import Config
from limbeck.errors import ConfigError
from limbeck.runtime.environment import default_version_table

ALEMBIC_ENV = """
from sqlalchemy import engine_from_config, pool
from alembic import context

config = context.config
connectable = engine_from_config(
    config.get_section(config.config_ini_section, {}),
    prefix="sqlalchemy.",
    poolclass=pool.NullPool,
)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""

REVISION = """
from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("t_{rev}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("t_{rev}")
"""


def _alembic_project(root: Path, url: str, ini_name: str = "alembic.ini") -> Path:
    """An Alembic layout (``m/`` with env.py and revisions a1 <- b2) and an
    ini file with ``[alembic]`` and ``[prod]`` sections; the database is left
    as ``alembic upgrade a1`` leaves it (table t_a1, alembic_version = a1)."""
    (root / "m" / "versions").mkdir(parents=True)
    (root / "m" / "env.py").write_text(ALEMBIC_ENV, encoding="utf-8")
    for rev, down in (("a1", None), ("b2", "a1")):
        (root / "m" / "versions" / f"{rev}.py").write_text(
            REVISION.format(rev=rev, down=down), encoding="utf-8"
        )
    section = f"script_location = %(here)s/m\nsqlalchemy.url = {url}\n"
    (root / ini_name).write_text(f"[alembic]\n{section}\n[prod]\n{section}", encoding="utf-8")
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t_a1 (id INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES ('a1')"))
    engine.dispose()
    return root


def _state(url: str) -> tuple[set[str], list[str]]:
    """The tables, and the rows of alembic_version."""
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        rows = list(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    return tables, rows


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_named_section_of_alembic_ini_reads_alembic_version(
    empty_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``alembic -n prod upgrade a1`` then ``limbeck -n prod ...``: the same
    rows, and only the missing revision runs."""
    _alembic_project(empty_dir, sqlite_url)
    code, out, err = _cli(capsys, "-n", "prod", "current")
    assert (code, out.strip(), err) == (0, "a1", "")
    code, out, err = _cli(capsys, "-n", "prod", "upgrade", "head")
    assert code == 0, err
    tables, rows = _state(sqlite_url)
    assert rows == ["b2"]
    assert {"t_a1", "t_b2"} <= tables and "limbeck_version" not in tables


def test_other_ini_file_with_an_alembic_section_reads_alembic_version(
    empty_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _alembic_project(empty_dir, sqlite_url, ini_name="deploy.ini")
    code, out, err = _cli(capsys, "-c", "deploy.ini", "-n", "prod", "current")
    assert (code, out.strip(), err) == (0, "a1", "")


def test_config_without_file_through_alembic_import_path(empty_dir: Path, sqlite_url: str) -> None:
    """The test-fixture pattern: ``alembic.config.Config()`` with options set
    in code, while ``alembic`` resolves to limbeck."""
    _alembic_project(empty_dir, sqlite_url)
    out = io.StringIO()
    with alembic_imports():
        from alembic import command as alembic_command
        from alembic.config import Config as AlembicConfig

        config = AlembicConfig(stdout=out)
        config.set_main_option("script_location", str(empty_dir / "m"))
        config.set_main_option("sqlalchemy.url", sqlite_url)
        assert config.config_ini_section == "alembic"
        alembic_command.current(config)
        alembic_command.upgrade(config, "head")
    assert out.getvalue().strip() == "a1"
    tables, rows = _state(sqlite_url)
    assert rows == ["b2"] and "limbeck_version" not in tables


def test_version_table_defaults() -> None:
    """limbeck's own Config without a file keeps limbeck_version, also when
    made while ``alembic`` imports resolve to limbeck (another run, another
    thread); the class reached as ``alembic.config.Config`` uses
    alembic_version."""
    assert default_version_table(Config()) == "limbeck_version"
    with alembic_imports():
        from alembic.config import Config as AlembicConfig

        assert default_version_table(AlembicConfig()) == "alembic_version"
        assert default_version_table(Config()) == "limbeck_version"
    assert default_version_table(Config()) == "limbeck_version"


def test_limbeck_config_refuses_an_alembic_database(empty_dir: Path, sqlite_url: str) -> None:
    """``limbeck.config.Config()`` (limbeck_version by default) on a database
    Alembic manages: an error naming version_table, and nothing runs."""
    _alembic_project(empty_dir, sqlite_url)
    config = Config(stdout=io.StringIO())
    config.set_main_option("script_location", str(empty_dir / "m"))
    config.set_main_option("sqlalchemy.url", sqlite_url)
    for call in (lambda: command.upgrade(config, "head"), lambda: command.current(config)):
        with pytest.raises(ConfigError) as caught:
            call()
        assert "alembic_version" in caught.value.message
        assert caught.value.hint is not None and "version_table" in caught.value.hint
    tables, rows = _state(sqlite_url)
    assert rows == ["a1"] and "t_b2" not in tables and "limbeck_version" not in tables

    # Choosing a table explicitly is respected.
    config.set_main_option("version_table", "alembic_version")
    command.upgrade(config, "head")
    assert _state(sqlite_url)[1] == ["b2"]


def test_limbeck_ini_on_an_alembic_database_fails_with_a_hint(
    empty_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _alembic_project(empty_dir, sqlite_url, ini_name="limbeck.ini")
    ini = empty_dir / "limbeck.ini"
    ini.write_text(ini.read_text().replace("[alembic]", "[limbeck]"), encoding="utf-8")
    code, out, err = _cli(capsys, "upgrade", "head")
    lines = err.splitlines()
    assert code == 2 and len(lines) == 2, err
    assert lines[0].startswith("error: ") and "alembic_version" in lines[0]
    assert lines[1].startswith("hint: ") and "version_table = alembic_version" in lines[1]
    assert _state(sqlite_url)[1] == ["a1"]

    # A separate limbeck history on purpose: version_table = limbeck_version.
    ini.write_text(
        ini.read_text().replace("[limbeck]\n", "[limbeck]\nversion_table = limbeck_version\n"),
        encoding="utf-8",
    )
    code, out, err = _cli(capsys, "current")
    assert (code, out.strip(), err) == (0, "", "")
