"""Offline (``--sql``) output against golden files, one per dialect.

The project has a branch (``b1`` and ``c1`` off ``a1``), a merge (``m1``) and
a revision after it; create_table, add_column, create_index and an
``op.execute`` whose string holds a quote and a percent sign. Every dialect
file holds the output of:

* ``upgrade head --sql``
* ``downgrade head:base --sql``
* ``upgrade a1:head --sql`` (a range)
* ``stamp head --sql``
* ``upgrade head --sql --tag x`` (env.py writes the tag as a comment)

No driver is needed: offline runs only compile SQL for the dialect.

To regenerate after an intended change, run::

    LIMBECK_REGEN_GOLDEN=1 pytest tests/runtime/test_offline.py

and read the diff of ``tests/runtime/golden/`` before committing it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from project import Rev, config_for, make_project, run_cli

from limbeck import command

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("LIMBECK_REGEN_GOLDEN", "") not in ("", "0")

DIALECT_URLS = {
    "postgresql": "postgresql://u:p@h/db",
    "mysql": "mysql+pymysql://u:p@h/db",
    "mariadb": "mariadb+pymysql://u:p@h/db",
    "sqlite": "sqlite://",
    "mssql": "mssql+pyodbc://u:p@dsn",
    "oracle": "oracle+oracledb://u:p@h/db",
}

REVISIONS = [
    Rev(
        "a1",
        None,
        """
        op.create_table(
            "account",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(50), nullable=False),
        )
        """,
        'op.drop_table("account")',
        message="create account",
    ),
    Rev(
        "b1",
        "a1",
        'op.add_column("account", sa.Column("email", sa.String(100)))',
        'op.drop_column("account", "email")',
        message="add email",
    ),
    Rev(
        "c1",
        "a1",
        """
        op.create_table(
            "note",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id")),
            sa.Column("body", sa.Text),
        )
        op.create_index("ix_note_account_id", "note", ["account_id"])
        """,
        """
        op.drop_index("ix_note_account_id", table_name="note")
        op.drop_table("note")
        """,
        branch_labels="notes",
        message="create note",
    ),
    Rev(
        "m1",
        ("b1", "c1"),
        """op.execute("INSERT INTO note (id, body) VALUES (1, 'it''s 50% done')")""",
        'op.execute("DELETE FROM note WHERE id = 1")',
        message="merge",
    ),
    Rev(
        "d1",
        "m1",
        """
        op.add_column("note", sa.Column("created_at", sa.DateTime, nullable=True))
        op.create_index("ix_note_created_at", "note", ["created_at"], unique=False)
        """,
        """
        op.drop_index("ix_note_created_at", table_name="note")
        op.drop_column("note", "created_at")
        """,
        message="note created_at",
    ),
]

COMMANDS: list[tuple[str, ...]] = [
    ("upgrade", "head", "--sql"),
    ("downgrade", "head:base", "--sql"),
    ("upgrade", "a1:head", "--sql"),
    ("stamp", "head", "--sql"),
    ("upgrade", "head", "--sql", "--tag", "x"),
]


def tag_comment(root: Path) -> None:
    """Make the offline branch of env.py write ``-- tag: <tag>`` first."""
    env_py = root / "migrations" / "env.py"
    source = env_py.read_text(encoding="utf-8")
    old = (
        "    with context.begin_transaction():\n        context.run_migrations()\n\n\ndef run_with"
    )
    assert old in source
    new = (
        "    if context.get_tag_argument():\n"
        '        context.static_output(f"-- tag: {context.get_tag_argument()}")\n' + old
    )
    env_py.write_text(source.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def offline_projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("offline")
    roots = {}
    for dialect, url in DIALECT_URLS.items():
        root = make_project(base, url, REVISIONS, name=dialect)
        tag_comment(root)
        roots[dialect] = root
    return roots


def offline_sql(root: Path, args: tuple[str, ...]) -> str:
    """Run one offline command through the Python API; return its SQL."""
    buffer = io.StringIO()
    config = config_for(root, output_buffer=buffer, stdout=buffer)
    name, target, *rest = args
    tag = rest[rest.index("--tag") + 1] if "--tag" in rest else None
    if name == "upgrade":
        command.upgrade(config, target, sql=True, tag=tag)
    elif name == "downgrade":
        command.downgrade(config, target, sql=True, tag=tag)
    else:
        command.stamp(config, target, sql=True, tag=tag)
    return buffer.getvalue()


def render_golden(root: Path) -> str:
    """Every command's output under a header line. Trailing spaces (SQLAlchemy
    leaves one after each comma of CREATE TABLE) are stripped, so editors
    and hooks that trim them do not break the comparison."""
    parts = []
    for args in COMMANDS:
        parts.append(f"-- ==== limbeck {' '.join(args)} ====\n")
        parts.append(offline_sql(root, args).rstrip("\n") + "\n\n")
    text = "".join(parts).rstrip("\n") + "\n"
    return "\n".join(line.rstrip() for line in text.split("\n"))


@pytest.mark.parametrize("dialect", sorted(DIALECT_URLS))
def test_offline_golden(dialect: str, offline_projects: dict[str, Path]) -> None:
    produced = render_golden(offline_projects[dialect])
    path = GOLDEN / f"{dialect}.sql"
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(produced, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}: run with LIMBECK_REGEN_GOLDEN=1"
    expected = "\n".join(line.rstrip() for line in path.read_text(encoding="utf-8").split("\n"))
    assert produced == expected, f"offline SQL for {dialect} differs from {path}"


@pytest.mark.parametrize("dialect", ["postgresql", "mssql"])
def test_cli_prints_the_same_sql(dialect: str, offline_projects: dict[str, Path]) -> None:
    """The CLI's ``--sql`` writes exactly what the Python API produced, on
    stdout, and nothing on stderr but log lines."""
    root = offline_projects[dialect]
    args = COMMANDS[-1]
    result = run_cli(root, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == offline_sql(root, args)
    assert all(line.startswith("INFO ") for line in result.stderr.splitlines()), result.stderr


def test_reader_leaving_early_stops_quietly(tmp_path: Path) -> None:
    """`limbeck upgrade head --sql | head -1`: no error about env.py when the
    reader closes the pipe."""
    import subprocess

    from project import cli_command, cli_env

    revs = [
        Rev(
            f"r{i:03d}",
            f"r{i - 1:03d}" if i else None,
            f"op.create_table('t{i}', sa.Column('id', sa.Integer, primary_key=True))",
        )
        for i in range(200)
    ]
    root = make_project(tmp_path, "sqlite://", revs)
    process = subprocess.Popen(
        cli_command("upgrade", "head", "--sql"),
        cwd=root,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # the reader leaves while output is still coming
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, error
    assert first.strip() == b"BEGIN;"
    assert "failed" not in error and "Traceback" not in error


@pytest.mark.parametrize(
    ("body", "exit_code", "message"),
    [
        (
            'op.execute("UPDATE account SET name = :name")',
            2,
            "offline SQL: the bound parameter :name has no value to write into the script",
        ),
        ("undefined_helper()", 1, "failed: NameError: name 'undefined_helper' is not defined"),
    ],
)
def test_offline_failure_names_the_migration(
    tmp_path: Path, body: str, exit_code: int, message: str
) -> None:
    revs = [
        Rev("a1", None, "op.create_table('account', sa.Column('id', sa.Integer))"),
        Rev("b2", "a1", body, message="broken step"),
    ]
    root = make_project(tmp_path, "sqlite://", revs)
    result = run_cli(root, "upgrade", "head", "--sql")
    assert result.returncode == exit_code, result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr
    path = root / "migrations" / "versions" / "b2_broken_step.py"
    assert error_lines[0].startswith(f"error: upgrade b2 ({path})"), error_lines[0]
    assert error_lines[0].endswith(message), error_lines[0]
    assert "Traceback" not in result.stderr


class _ClosingReader(io.StringIO):
    """Standard output whose reader leaves after 400 characters: inside the
    first migration, once the version table's CREATE TABLE is out."""

    def __init__(self, fileno: int) -> None:
        super().__init__()
        self._fileno = fileno

    def write(self, text: str) -> int:
        if self.tell() + len(text) > 400:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)

    def fileno(self) -> int:
        return self._fileno


def test_reader_leaving_inside_a_migration_is_no_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pipe breaking while a migration writes its SQL stops the run
    quietly (exit 0), as when it breaks between migrations."""
    from limbeck.cli import main

    revs = [
        Rev("a1", None, "op.execute('SELECT ' + '1' * 500)"),
        Rev("b2", "a1", "op.execute('SELECT 2')"),
    ]
    root = make_project(tmp_path, "sqlite://", revs)
    monkeypatch.chdir(root)
    with open(tmp_path / "stdout.txt", "w") as sink:
        monkeypatch.setattr("sys.stdout", _ClosingReader(sink.fileno()))
        code = main(["upgrade", "head", "--sql"])
    assert code == 0
    assert capsys.readouterr().err == ""


def test_offline_failure_keeps_the_error_class(tmp_path: Path) -> None:
    """A limbeck error raised by a migration offline comes back as the same
    class (callers catching it still do), with the migration named."""
    from limbeck.errors import RevisionError

    revs = [
        Rev("a1", None, "pass"),
        Rev("b2", "a1", "from limbeck.errors import RevisionError\nraise RevisionError('nope')"),
    ]
    root = make_project(tmp_path, "sqlite://", revs)
    config = config_for(root, stdout=io.StringIO())
    config.output_buffer = io.StringIO()
    with pytest.raises(RevisionError) as caught:
        command.upgrade(config, "head", sql=True)
    assert str(caught.value).startswith("upgrade b2 (") and str(caught.value).endswith("): nope")
