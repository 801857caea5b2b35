"""Projects whose env.py points target_metadata at a ``models.py`` the test
rewrites between steps, driven through the CLI like a user would."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

from project import make_project, run_cli

from limbeck.schema import Schema, from_database

MODELS_HEADER = """\
import enum
import sqlalchemy as sa

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})
"""


def ag_project(tmp_path: Path, url: str, *, env_extra: str = "") -> Path:
    """A project whose env.py reads ``target_metadata`` from ``models.py``.

    ``env_extra`` is code put into env.py before ``run_with`` (hooks to pass
    to ``configure`` go through ``CONFIGURE_KW``, a dict it may define)."""
    root = make_project(tmp_path, url, [])
    env = root / "migrations" / "env.py"
    text = env.read_text(encoding="utf-8")
    text = text.replace(
        "target_metadata = None",
        f"import sys\nsys.path.insert(0, {str(root)!r})\n"
        "from models import metadata as target_metadata\n"
        "CONFIGURE_KW = {}\n" + textwrap.dedent(env_extra),
    )
    text = text.replace(
        "context.configure(connection=connection, target_metadata=target_metadata)",
        "context.configure(connection=connection, target_metadata=target_metadata, **CONFIGURE_KW)",
    )
    env.write_text(text, encoding="utf-8")
    return root


def write_models(root: Path, body: str) -> None:
    (root / "models.py").write_text(MODELS_HEADER + "\n" + textwrap.dedent(body), encoding="utf-8")
    for cached in (root / "__pycache__").glob("models*"):
        cached.unlink()


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(root, *args, timeout=120)


def ok(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = cli(root, *args)
    assert result.returncode == 0, (
        f"limbeck {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


def autogenerate(root: Path, rev_id: str, *extra: str) -> str:
    """Run ``revision --autogenerate``; the text of the new file."""
    ok(root, "revision", "--autogenerate", "-m", f"rev {rev_id}", "--rev-id", rev_id, *extra)
    (path,) = (root / "migrations" / "versions").glob(f"{rev_id}_*.py")
    return path.read_text(encoding="utf-8")


def reflect(url: str) -> Schema:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return from_database(conn)
    finally:
        engine.dispose()


def is_empty(script: str) -> bool:
    body = script.split("def upgrade", 1)[1].split("def downgrade", 1)[0]
    lines = [
        line.strip()
        for line in body.splitlines()[1:]
        if line.strip() and not line.strip().startswith(("#", '"""'))
    ]
    return lines == ["pass"]
