"""What only one tool can do, and writing new revisions: custom
``script.py.mako`` templates and post-write hooks give the same file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from acceptance_harness import connect, ok, run, snapshot, write_project
from acceptance_projects import env_py, ini, rev

pytestmark = pytest.mark.oracle


def _tools(alembic_python: Path) -> dict[str, list[str]]:
    return {
        "alembic": [str(alembic_python), "-m", "alembic"],
        "limbeck": [sys.executable, "-m", "limbeck"],
    }


def test_sqlite_constraint_without_batch_fails_in_alembic_and_works_in_limbeck(
    sqlite_url: str, alembic_python: Path, tmp_path: Path
) -> None:
    files = {
        "alembic.ini": ini(),
        "migrations/env.py": env_py(),
        **dict(
            [
                rev(
                    "s1000000tabl",
                    None,
                    'op.create_table("codes", sa.Column("id", sa.Integer, primary_key=True),'
                    ' sa.Column("code", sa.String(10)))',
                    'op.drop_table("codes")',
                ),
                rev(
                    "s2000000uniq",
                    "s1000000tabl",
                    'op.create_unique_constraint("uq_codes_code", "codes", ["code"])',
                    'op.drop_constraint("uq_codes_code", "codes", type_="unique")',
                ),
            ]
        ),
    }
    tools = _tools(alembic_python)
    alembic_db = sqlite_url.replace("limbeck_test.db", "alembic_side.db")
    a = write_project(tmp_path / "a", files, {"url": alembic_db})
    failed = run([*tools["alembic"], "upgrade", "head"], a.root)
    assert failed.returncode != 0
    assert "No support for ALTER of constraints in SQLite" in failed.stdout + failed.stderr
    assert snapshot(alembic_db).heads == ["s1000000tabl"]  # stopped before the constraint

    b = write_project(tmp_path / "b", files, {"url": sqlite_url})
    ok(run([*tools["limbeck"], "upgrade", "head"], b.root))
    with connect(sqlite_url) as conn:
        uniques = sa.inspect(conn).get_unique_constraints("codes")
    assert [u["column_names"] for u in uniques] == [["code"]]
    assert snapshot(sqlite_url).heads == ["s2000000uniq"]
    # ... and Alembic can take that database back down (it uses no ALTER there).
    ok(run([*tools["limbeck"], "downgrade", "base"], b.root))
    ok(run([*tools["alembic"], "upgrade", "s1000000tabl"], b.root))


TEMPLATE = '''<%doc>Revisions of the test application.</%doc>
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# Reviewed by: nobody yet
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''

HOOK = """#!/usr/bin/env python3
import sys

path, _, note = sys.argv[1:4]
with open(path, "a", encoding="utf-8") as stream:
    stream.write(f"# post-write hook: {note}\\n")
"""

HOOKS_INI = """
[post_write_hooks]
hooks = marker
marker.type = exec
marker.executable = %(here)s/hooks/mark.py
marker.options = REVISION_SCRIPT_FILENAME --note checked
"""


def test_custom_template_and_post_write_hook_write_the_same_file(
    sqlite_url: str, alembic_python: Path, tmp_path: Path
) -> None:
    files = {
        "alembic.ini": ini("file_template = %%(rev)s_%%(slug)s") + HOOKS_INI,
        "migrations/env.py": env_py(),
        "migrations/script.py.mako": TEMPLATE,
        "migrations/versions/.keep": "",
        "hooks/mark.py": HOOK,
    }
    written: dict[str, str] = {}
    for tool, argv in _tools(alembic_python).items():
        url = sqlite_url.replace("limbeck_test.db", f"{tool}.db")
        project = write_project(tmp_path / tool, files, {"url": url})
        (project.root / "hooks" / "mark.py").chmod(0o755)
        for rid, message, extra in (
            ("0001aaaa", "add widgets", ()),
            ("0002bbbb", "widget colour", ("--branch-label", "widgets")),
        ):
            ok(run([*argv, "revision", "-m", message, "--rev-id", rid, *extra], project.root))
        texts = []
        for path in sorted((project.root / "migrations" / "versions").glob("*.py")):
            text = re.sub(r"Create Date: .*", "Create Date: <now>", path.read_text("utf-8"))
            texts.append(f"== {path.name}\n{text}")
        written[tool] = "\n".join(texts)
        ok(run([*argv, "upgrade", "head"], project.root))
        assert snapshot(url).heads == ["0002bbbb"]
    assert written["limbeck"] == written["alembic"]
    assert "# post-write hook: checked" in written["limbeck"]
