"""Autogenerate: empty after create, renames, hooks, rendering and imports."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from agproject import ag_project, autogenerate, cli, is_empty, ok, write_models
from sqlalchemy.dialects import postgresql

from limbeck.autogenerate import Rewriter, render_python_code
from limbeck.autogenerate._render import AutogenRenderContext, complete_imports, render_body
from limbeck.operations import ops

RICH_MODELS = """
class Color(enum.Enum):
    red = "red"
    blue = "blue"

parent = sa.Table("parent", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(20), nullable=False, unique=True),
)
rich = sa.Table("rich", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False, server_default="unnamed"),
    sa.Column("flag", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("qty", sa.Integer, server_default="0"),
    sa.Column("price", sa.Numeric(10, 2), server_default="1.50"),
    sa.Column("ratio", sa.Float),
    sa.Column("created", sa.DateTime, server_default=sa.func.current_timestamp()),
    sa.Column("day", sa.Date),
    sa.Column("body", sa.Text, comment="long text"),
    sa.Column("color", sa.Enum(Color, name="color")),
    sa.Column("data", sa.JSON),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id", ondelete="CASCADE")),
    sa.Index("ix_rich_name_qty", "name", "qty"),
    sa.CheckConstraint("qty >= 0", name="qty_positive"),
    comment="a rich table",
)
"""


def test_autogenerate_after_create_is_empty(tmp_path: Path, db_url: str) -> None:
    root = ag_project(tmp_path, db_url)
    write_models(root, RICH_MODELS)
    autogenerate(root, "a1")
    ok(root, "upgrade", "head")
    assert is_empty(autogenerate(root, "a2"))
    ok(root, "upgrade", "head")
    assert "No differences" in ok(root, "check").stdout
    assert "No differences" in ok(root, "check", "--offline").stdout


def test_refuses_when_not_at_heads_and_check_reports(tmp_path: Path, sqlite_url: str) -> None:
    root = ag_project(tmp_path, sqlite_url)
    write_models(root, 't = sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True))')
    autogenerate(root, "a1")
    refused = cli(root, "revision", "--autogenerate", "-m", "x")
    assert refused.returncode == 2
    assert "not up to date" in refused.stderr
    differs = cli(root, "check", "--json")
    assert differs.returncode == 2  # not at heads either
    ok(root, "upgrade", "head")
    write_models(
        root,
        't = sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("x", sa.Integer))',
    )
    differs = cli(root, "check")
    assert differs.returncode == 1
    assert "added column 't.x'" in differs.stdout
    assert '"differences"' in cli(root, "check", "--json").stdout
    offline = cli(root, "check", "--offline")
    assert offline.returncode == 1, offline.stderr


def test_unconfirmed_rename_warns_at_the_spot(tmp_path: Path, sqlite_url: str) -> None:
    root = ag_project(tmp_path, sqlite_url)
    write_models(
        root,
        """
        people = sa.Table("people", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("surname", sa.String(40)),
        )
        """,
    )
    autogenerate(root, "a1")
    ok(root, "upgrade", "head")
    write_models(
        root,
        """
        persons = sa.Table("persons", metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("surname", sa.String(40)),
        )
        """,
    )
    text = autogenerate(root, "a2")
    upgrade = text.split("def upgrade", 1)[1].split("def downgrade", 1)[0]
    lines = upgrade.splitlines()
    drop = next(i for i, line in enumerate(lines) if "op.drop_table('people')" in line)
    assert "looks like a rename" in " ".join(lines[drop - 3 : drop])
    assert "--rename people:persons" in upgrade
    (root / "migrations" / "versions" / "a2_rev_a2.py").unlink()
    confirmed = autogenerate(root, "a3", "--rename", "people:persons")
    assert "op.rename_table('people', 'persons')" in confirmed
    assert "drop_table('people')" not in confirmed.split("def downgrade")[0]


def test_hooks_include_object_compare_type_render_item(tmp_path: Path, sqlite_url: str) -> None:
    env_extra = """
    import sqlalchemy as sa

    def include_object(obj, name, type_, reflected, compare_to):
        return not (type_ == "table" and name.startswith("skip_"))

    def render_item(type_, obj, autogen_context):
        if type_ == "type" and isinstance(obj, sa.Integer):
            autogen_context.imports.add("import sqlalchemy.types as satypes")
            return "satypes.Integer()"
        return False

    CONFIGURE_KW = {
        "include_object": include_object,
        "compare_type": lambda *a: False,
        "render_item": render_item,
        "user_module_prefix": None,
    }
    """
    root = ag_project(tmp_path, sqlite_url, env_extra=env_extra)
    write_models(
        root,
        """
        t = sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("s", sa.String(10)))
        skip_me = sa.Table("skip_me", metadata, sa.Column("id", sa.Integer, primary_key=True))
        """,
    )
    text = autogenerate(root, "a1")
    assert "skip_me" not in text
    assert "satypes.Integer()" in text and "import sqlalchemy.types as satypes" in text
    ok(root, "upgrade", "head")
    write_models(
        root,
        """
        t = sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("s", sa.String(99)))
        """,
    )
    assert is_empty(autogenerate(root, "a2"))  # compare_type says no


def test_render_imports_nested_and_custom_types() -> None:
    class Money(sa.types.TypeDecorator[int]):
        impl = sa.Integer
        cache_ok = True

    Money.__module__ = "shop.types"
    table = sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("a", postgresql.JSONB()),
        sa.Column("b", sa.ARRAY(sa.Integer())),
        sa.Column("c", Money()),
        sa.Column("d", sa.String(5).with_variant(sa.Text(), "mysql")),
    )
    upgrade = ops.UpgradeOps(ops=[ops.CreateTableOp.from_table(table)])
    ctx = AutogenRenderContext()
    body = render_body(ctx, upgrade)
    imports = complete_imports(ctx, [body])
    assert "import shop.types" in imports
    assert "from sqlalchemy.dialects import postgresql" in imports
    assert "from sqlalchemy import Text" in imports  # JSONB(astext_type=Text())
    assert "sa.ARRAY(sa.Integer())" in body
    assert "shop.types.Money()" in body
    assert ".with_variant(sa.Text(), 'mysql')" in body
    compile(body.replace("    ", ""), "<body>", "exec")
    assert render_python_code([]).count("pass") == 1


def test_rewriter_replaces_and_removes() -> None:
    writer = Rewriter()

    @writer.rewrites(ops.AddColumnOp)
    def not_null_later(context: object, revision: object, op: ops.AddColumnOp) -> object:
        column = op.column._copy()
        column.nullable = True
        return [
            ops.AddColumnOp(op.table_name, column, schema=op.schema),
            ops.AlterColumnOp(op.table_name, column.name, modify_nullable=False),
        ]

    @writer.rewrites(ops.DropColumnOp)
    def keep(context: object, revision: object, op: ops.DropColumnOp) -> object:
        return []

    seen: list[int] = []
    chained = writer.chain(lambda ctx, rev, directives: seen.append(len(directives)))
    add = ops.AddColumnOp("t", sa.Column("x", sa.Integer, nullable=False))
    script = ops.MigrationScript(
        "r1",
        ops.UpgradeOps(ops=[ops.ModifyTableOps("t", [add, ops.DropColumnOp("t", "y")])]),
        ops.DowngradeOps(ops=[]),
    )
    directives = [script]
    chained(None, ("base",), directives)
    group = script.upgrade_ops.ops[0]
    assert isinstance(group, ops.ModifyTableOps)
    assert [type(o).__name__ for o in group.ops] == ["AddColumnOp", "AlterColumnOp"]
    assert seen == [1]
