"""The corpus of model changes, on SQLite, PostgreSQL and MariaDB.

Every case is a pair of models (before, after) over tables of its own, so all
of them run in one project per backend: autogenerate "before" into an empty
database, upgrade, and check (nothing must be left); autogenerate "after",
upgrade, check again; then downgrade one step must give back the schema
"before" exactly (compared as :func:`limbeck.schema.from_database` models).
"""

from __future__ import annotations

from pathlib import Path

from agproject import ag_project, autogenerate, cli, is_empty, ok, reflect, write_models

from limbeck.schema import diff

#: (name, before, after): the tables of each case carry its name as prefix.
CASES: list[tuple[str, str, str]] = [
    (
        "add_table",
        "",
        """
        at_new = sa.Table("at_new", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(40), nullable=False, server_default="x"),
        )
        """,
    ),
    (
        "drop_table",
        """
        dt_old = sa.Table("dt_old", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("code", sa.String(10), unique=True),
        )
        """,
        "",
    ),
    (
        "columns",
        """
        col_t = sa.Table("col_t", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("gone", sa.Integer),
            sa.Column("short", sa.String(20)),
            sa.Column("loose", sa.String(20), nullable=True),
            sa.Column("plain", sa.String(20)),
            sa.Column("described", sa.Integer),
            sa.Column("defaulted", sa.String(10), server_default="a"),
        )
        """,
        """
        col_t = sa.Table("col_t", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("short", sa.String(50)),
            sa.Column("loose", sa.String(20), nullable=False),
            sa.Column("plain", sa.String(20), server_default="p"),
            sa.Column("described", sa.Integer, comment="a comment"),
            sa.Column("defaulted", sa.String(10), server_default="b"),
            sa.Column("added", sa.Numeric(10, 2)),
        )
        """,
    ),
    (
        "indexes",
        """
        ix_t = sa.Table("ix_t", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("a", sa.String(20)),
            sa.Column("b", sa.String(20)),
            sa.Column("c", sa.String(20)),
            sa.Index("ix_t_old", "a"),
        )
        """,
        """
        ix_t = sa.Table("ix_t", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("a", sa.String(20)),
            sa.Column("b", sa.String(20), index=True),
            sa.Column("c", sa.String(20)),
            sa.Index("ix_t_bc_unique", "b", "c", unique=True),
        )
        """,
    ),
    (
        "constraints",
        """
        cons_parent = sa.Table("cons_parent", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
        )
        cons_t = sa.Table("cons_t", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("email", sa.String(50)),
            sa.Column("qty", sa.Integer),
            sa.Column("parent_id", sa.Integer),
            sa.Column("other_id", sa.Integer, sa.ForeignKey("cons_parent.id")),
            sa.UniqueConstraint("qty", name="uq_cons_t_qty"),
        )
        """,
        """
        cons_parent = sa.Table("cons_parent", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
        )
        cons_t = sa.Table("cons_t", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("email", sa.String(50), unique=True),
            sa.Column("qty", sa.Integer),
            sa.Column("parent_id", sa.Integer, sa.ForeignKey("cons_parent.id")),
            sa.Column("other_id", sa.Integer),
            sa.CheckConstraint("qty > 0", name="positive_qty"),
        )
        """,
    ),
    (
        "cycle",
        "",
        """
        cy_a = sa.Table("cy_a", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("b_id", sa.Integer, sa.ForeignKey("cy_b.id", use_alter=True)),
        )
        cy_b = sa.Table("cy_b", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("a_id", sa.Integer, sa.ForeignKey("cy_a.id")),
        )
        """,
    ),
    (
        "enum",
        """
        en_t = sa.Table("en_t", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("mood", sa.Enum("sad", "ok", name="en_mood")),
        )
        """,
        """
        en_t = sa.Table("en_t", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("mood", sa.Enum("sad", "ok", "happy", name="en_mood")),
            sa.Column("size", sa.Enum("s", "m", name="en_size")),
        )
        """,
    ),
    (
        "renames",
        """
        rn_old = sa.Table("rn_old", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("label", sa.String(30)),
        )
        rc_t = sa.Table("rc_t", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("fullname", sa.String(60), nullable=False),
            sa.Column("nick", sa.String(20)),
        )
        """,
        """
        rn_new = sa.Table("rn_new", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("label", sa.String(30)),
            info={"renamed_from": "rn_old"},
        )
        rc_t = sa.Table("rc_t", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("full_name", sa.String(60), nullable=False),
            sa.Column("nickname", sa.String(20), info={"renamed_from": "nick"}),
        )
        """,
    ),
]


def _models(index: int) -> str:
    return "\n".join(case[index] for case in CASES)


def test_corpus(tmp_path: Path, db_url: str) -> None:
    root = ag_project(tmp_path, db_url)
    write_models(root, _models(1))
    first = autogenerate(root, "r1")
    assert "# ### commands auto generated by limbeck" in first
    assert "Alembic" not in first
    ok(root, "upgrade", "head")
    checked = ok(root, "check")
    assert "No differences" in checked.stdout
    again = autogenerate(root, "r1b")
    assert is_empty(again), again
    ok(root, "upgrade", "head")
    before = reflect(db_url)

    write_models(root, _models(2))
    second = autogenerate(root, "r2", "--rename", "rc_t.fullname:full_name")
    assert "op.rename_table('rn_old', 'rn_new'" in second
    assert "new_column_name='full_name'" in second
    assert "new_column_name='nickname'" in second
    if db_url.startswith("postgresql"):
        assert "autocommit_block()" in second
        assert "add_enum_value('en_mood', 'happy')" in second
        assert "op.create_enum('en_size'" in second
    upgraded = ok(root, "upgrade", "head")
    checked = cli(root, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr + upgraded.stderr
    offline = cli(root, "check", "--offline")
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert is_empty(autogenerate(root, "r2b"))
    ok(root, "upgrade", "head")

    ok(root, "downgrade", "r1b")
    after_downgrade = reflect(db_url)
    assert diff(after_downgrade, before) == []
    assert after_downgrade == before
