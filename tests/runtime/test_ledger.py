"""The ledger's checksums: a changed applied revision stops upgrade, while
formatting and comments never do."""

from __future__ import annotations

from pathlib import Path

from project import Rev, db_state, make_project, run_cli

from limbeck.runtime.checksum import code_checksum

REVS = [
    Rev(
        "aaaa0001",
        None,
        'op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("users")',
        message="create users",
    ),
    Rev("bbbb0002", "aaaa0001", 'op.execute("SELECT 1")', message="noop"),
]


def test_checksum_ignores_formatting_comments_and_docstrings() -> None:
    original = 'import x\n\ndef upgrade():\n    op.create_table("t", sa.Column("id"))\n'
    reformatted = (
        '"""message changed"""\nimport x\n\n\n'
        "def upgrade() :\n"
        '    """Apply."""\n'
        "    # a comment\n"
        "    op.create_table(\n        't',\n        sa.Column('id'),\n    )\n"
    )
    changed = 'import x\n\ndef upgrade():\n    op.create_table("t2", sa.Column("id"))\n'
    assert code_checksum(original) == code_checksum(reformatted)
    assert code_checksum(original) != code_checksum(changed)


def test_changed_applied_revision_is_refused_then_accepted(tmp_path: Path, db_url: str) -> None:
    root = make_project(tmp_path, db_url, REVS)
    assert run_cli(root, "upgrade", "aaaa0001").returncode == 0
    path = next((root / "migrations" / "versions").glob("aaaa0001_*.py"))

    # Reformatting (ruff format) and comments are not changes.
    original = path.read_text()
    formatted = run_cli(root, "--version")  # keeps the venv warm; ruff comes next
    assert formatted.returncode == 0
    import subprocess
    import sys

    path.write_text(original.replace("def upgrade():", "# reviewed\ndef upgrade():"))
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", str(path)], check=True, capture_output=True
    )
    assert run_cli(root, "upgrade", "head").returncode == 0, "formatting must not trip the checksum"

    # A real change to applied code stops the next upgrade, naming the file.
    path.write_text(path.read_text().replace('"users"', '"people"', 1))
    assert run_cli(root, "downgrade", "aaaa0001").returncode == 0
    refused = run_cli(root, "upgrade", "head")
    assert refused.returncode == 1
    assert "aaaa0001" in refused.stderr and str(path.name) in refused.stderr
    assert "--accept-changed" in refused.stderr
    assert db_state(db_url).heads == {"aaaa0001"}

    accepted = run_cli(root, "upgrade", "head", "--accept-changed")
    assert accepted.returncode == 0, accepted.stderr
    ledger = db_state(db_url).ledger
    assert any(row["outcome"] == "accepted" and row["revision"] == "aaaa0001" for row in ledger)
    # Accepted once, quiet afterwards.
    assert run_cli(root, "downgrade", "aaaa0001").returncode == 0
    assert run_cli(root, "upgrade", "head").returncode == 0
