"""Operation objects: reverse, diff tuples, rendering, risk, and the extension API."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from online_support import Database, open_database
from sqlalchemy.dialects import postgresql

import limbeck.op
from limbeck.errors import LimbeckError
from limbeck.operations import BatchOperations, MigrateOperation, Operations, Risk, ops
from limbeck.operations.render import RenderContext, render_python_code, renderer_for


@pytest.fixture
def memory_db() -> Iterator[Database]:
    yield from open_database("sqlite://")


def _table() -> sa.Table:
    return sa.Table(
        "account",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False, server_default="x"),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("owner.id", ondelete="CASCADE")),
        sa.UniqueConstraint("name", name="uq_account_name"),
        sa.Index("ix_account_owner", "owner_id"),
        schema="s",
        comment="accounts",
    )


def test_operations_are_frozen_and_collect_dialect_kwargs() -> None:
    op = ops.CreateTableOp("t", [], mysql_engine="InnoDB", comment="c")
    assert op.kw == {"mysql_engine": "InnoDB", "comment": "c"}
    assert op.comment == "c"
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.table_name = "u"  # type: ignore[misc]
    op.info["mine"] = 1
    assert op.info == {"mine": 1}


def test_create_table_round_trip_reverse_and_diff() -> None:
    table = _table()
    create = ops.CreateTableOp.from_table(table)
    drop = create.reverse()
    assert isinstance(drop, ops.DropTableOp) and drop.table_name == "account"
    assert drop.schema == "s"
    assert drop.reverse().to_diff_tuple()[1].c.keys() == ["id", "name", "owner_id"]
    kind, built = create.to_diff_tuple()
    assert kind == "add_table"
    assert [c.name for c in built.columns] == ["id", "name", "owner_id"]
    assert built.comment == "accounts"
    assert drop.to_diff_tuple()[0] == "remove_table"
    assert create.risk() is Risk.SAFE and drop.risk() is Risk.DANGEROUS
    with pytest.raises(LimbeckError, match="cannot be reversed"):
        ops.DropTableOp("x").reverse()


def test_column_operations_reverse_and_diff() -> None:
    column = sa.Column("email", sa.String(100), nullable=False)
    add = ops.AddColumnOp("account", column, schema="s")
    drop = add.reverse()
    assert (drop.table_name, drop.column_name, drop.schema) == ("account", "email", "s")
    assert drop.reverse().column is column
    assert add.to_diff_tuple() == ("add_column", "s", "account", column)
    assert drop.to_diff_tuple()[:3] == ("remove_column", "s", "account")
    assert add.risk() is Risk.REVIEW  # NOT NULL without a default fails on existing rows
    assert ops.AddColumnOp("t", sa.Column("x", sa.Integer())).risk() is Risk.SAFE
    assert drop.risk() is Risk.DANGEROUS


def test_alter_column_reverse_and_diff_tuples() -> None:
    alter = ops.AlterColumnOp(
        "account",
        "name",
        existing_type=sa.String(50),
        existing_nullable=True,
        existing_server_default="a",
        modify_type=sa.String(80),
        modify_nullable=False,
        modify_server_default="b",
        modify_name="title",
        modify_comment="c",
    )
    kinds = [d[0] for d in alter.to_diff_tuple()]
    assert kinds == ["modify_type", "modify_nullable", "modify_default", "modify_comment"]
    modify_nullable = alter.to_diff_tuple()[1]
    assert modify_nullable[1:4] == (None, "account", "name")
    assert modify_nullable[5:] == (True, False)
    back = alter.reverse()
    assert back.column_name == "title" and back.modify_name == "name"
    assert back.modify_nullable is True and back.existing_nullable is False
    assert back.modify_server_default == "a" and back.existing_server_default == "b"
    assert back.modify_comment is None
    assert alter.risk() is Risk.REVIEW
    assert ops.AlterColumnOp("t", "c", modify_comment="x").risk() is Risk.SAFE


def test_constraint_and_index_operations_from_objects() -> None:
    table = _table()
    unique = next(c for c in table.constraints if isinstance(c, sa.UniqueConstraint))
    fk = next(c for c in table.constraints if isinstance(c, sa.ForeignKeyConstraint))
    create_unique = ops.AddConstraintOp.from_constraint(unique)
    assert isinstance(create_unique, ops.CreateUniqueConstraintOp)
    assert create_unique.columns == ["name"]
    create_fk = ops.AddConstraintOp.from_constraint(fk)
    assert isinstance(create_fk, ops.CreateForeignKeyOp)
    assert (create_fk.referent_table, create_fk.ondelete) == ("owner", "CASCADE")
    assert create_fk.to_diff_tuple()[0] == "add_fk"
    drop_fk = create_fk.reverse()
    assert drop_fk.type_ == "foreignkey" and drop_fk.to_diff_tuple()[0] == "remove_fk"
    assert ops.DropConstraintOp.from_constraint(unique).type_ == "unique"
    index = next(iter(table.indexes))
    create_index = ops.CreateIndexOp.from_index(index)
    assert create_index.columns == ["owner_id"] and create_index.schema == "s"
    assert create_index.reverse().reverse().index_name == "ix_account_owner"


def test_containers_reverse_and_flatten() -> None:
    upgrade = ops.UpgradeOps(
        ops=[
            ops.CreateTableOp.from_table(_table()),
            ops.ModifyTableOps(
                "other",
                [ops.AddColumnOp("other", sa.Column("x", sa.Integer()))],
            ),
        ]
    )
    downgrade = upgrade.reverse()
    assert isinstance(downgrade, ops.DowngradeOps)
    assert isinstance(downgrade.ops[0], ops.ModifyTableOps)
    assert isinstance(downgrade.ops[0].ops[0], ops.DropColumnOp)
    assert isinstance(downgrade.ops[1], ops.DropTableOp)
    assert [d[0] for d in upgrade.as_diffs()] == ["add_table", "add_column"]
    assert upgrade.risk() is Risk.SAFE and downgrade.risk() is Risk.DANGEROUS
    script = ops.MigrationScript("abc", upgrade, downgrade, message="m")
    script.rev_id = "def"  # revision hooks edit scripts in place
    assert script.upgrade_ops_list == [upgrade]


def test_render_operations_as_python() -> None:
    ctx = RenderContext()
    column = sa.Column("email", sa.String(length=100), nullable=True, comment="mail")
    assert (
        ops.AddColumnOp("account", column).render(ctx)
        == "op.add_column('account', sa.Column('email', sa.String(length=100), "
        "nullable=True, comment='mail'))"
    )
    assert ops.DropColumnOp("account", "email", schema="s").render(ctx) == (
        "op.drop_column('account', 'email', schema='s')"
    )
    alter = ops.AlterColumnOp(
        "account", "name", existing_type=sa.String(50), modify_nullable=False, modify_name="n"
    )
    assert alter.render(ctx) == (
        "op.alter_column('account', 'name', existing_type=sa.String(length=50), "
        "nullable=False, new_column_name='n')"
    )
    assert (
        ops.CreateIndexOp("ix", "account", ["a", sa.text("lower(b)")], unique=True).render(ctx)
        == "op.create_index('ix', 'account', ['a', sa.text('lower(b)')], unique=True)"
    )
    assert (
        ops.CreateUniqueConstraintOp(sa.sql.elements.conv("uq_x"), "t", ["a"]).render(ctx)
        == "op.create_unique_constraint(op.f('uq_x'), 't', ['a'])"
    )
    assert (
        ops.DropConstraintOp(None, "t", type_="unique")
        .render(ctx)
        .startswith("op.drop_constraint(None, 't', type_='unique')  # WARNING")
    )
    assert ops.ExecuteSQLOp("SELECT 1").render(ctx) == "op.execute('SELECT 1')"
    created = ops.CreateTableOp(
        "pet",
        [
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("data", postgresql.JSONB()),
            sa.ForeignKeyConstraint(["id"], ["owner.id"], name="fk_pet_owner"),
        ],
        comment="pets",
    ).render(ctx)
    assert created == (
        "op.create_table('pet',\n"
        "    sa.Column('id', sa.Integer(), primary_key=True, nullable=False),\n"
        "    sa.Column('data', postgresql.JSONB(astext_type=Text()), nullable=True),\n"
        "    sa.ForeignKeyConstraint(['id'], ['owner.id'], name='fk_pet_owner'),\n"
        "    comment='pets'\n"
        ")"
    )
    assert "from sqlalchemy.dialects import postgresql" in ctx.imports


def test_render_batch_blocks_and_code_compiles() -> None:
    ctx = RenderContext(render_as_batch=True)
    modify = ops.ModifyTableOps(
        "account",
        [
            ops.AddColumnOp("account", sa.Column("x", sa.Integer()), insert_after="id"),
            ops.DropConstraintOp("uq", "account", type_="unique"),
            ops.CreateForeignKeyOp("fk", "account", "owner", ["x"], ["id"]),
        ],
    )
    code = render_python_code(ops.UpgradeOps(ops=[modify]), ctx)
    assert code == (
        "with op.batch_alter_table('account') as batch_op:\n"
        "    batch_op.add_column(sa.Column('x', sa.Integer(), nullable=True), "
        "insert_after='id')\n"
        "    batch_op.drop_constraint('uq', type_='unique')\n"
        "    batch_op.create_foreign_key('fk', 'owner', ['x'], ['id'])"
    )
    compile(code, "<rendered>", "exec")
    assert render_python_code([], ctx) == "pass"


def test_rendered_code_runs_and_recreates_the_schema(memory_db: Database) -> None:
    upgrade = ops.UpgradeOps(
        ops=[
            ops.CreateTableOp("owner", [sa.Column("id", sa.Integer(), primary_key=True)]),
            ops.CreateTableOp(
                "pet",
                [
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.String(20), server_default="rex"),
                    sa.Column("owner_id", sa.Integer(), sa.ForeignKey("owner.id")),
                ],
            ),
            ops.CreateIndexOp("ix_pet_name", "pet", ["name"]),
        ]
    )
    code = render_python_code(upgrade)
    with memory_db.migration() as op:
        exec(code, {"op": op, "sa": sa})
    insp = memory_db.inspector()
    assert set(insp.get_table_names()) == {"owner", "pet"}
    assert [i["name"] for i in insp.get_indexes("pet")] == ["ix_pet_name"]
    assert insp.get_foreign_keys("pet")[0]["referred_table"] == "owner"


@dataclasses.dataclass(frozen=True)
class CreateSequenceOp(MigrateOperation):
    """A user's own directive, as in Alembic's cookbook."""

    name: str

    @classmethod
    def create_sequence(cls, operations: Any, name: str) -> Any:
        return operations.invoke(cls(name))

    @classmethod
    def batch_create_sequence(cls, operations: Any, name: str) -> Any:
        return operations.invoke(cls(f"{operations.table_name}_{name}"))

    def reverse(self) -> MigrateOperation:
        return ops.ExecuteSQLOp(f"DROP TABLE {self.name}")


Operations.register_operation("create_sequence")(CreateSequenceOp)
BatchOperations.register_operation("create_sequence", "batch_create_sequence")(CreateSequenceOp)


@Operations.implementation_for(CreateSequenceOp)
def _create_sequence(operations: Any, operation: CreateSequenceOp) -> str:
    operations.execute(f"CREATE TABLE {operation.name} (n INTEGER)")
    return operation.name


@renderer_for(CreateSequenceOp)
def _render_sequence(ctx: RenderContext, operation: CreateSequenceOp) -> str:
    return f"{ctx.op_prefix}create_sequence({operation.name!r})"


def test_extension_api_adds_directives(memory_db: Database) -> None:
    with memory_db.migration() as op:
        assert op.create_sequence("seq_a") == "seq_a"  # type: ignore[attr-defined]
        with op.batch_alter_table("pet_table") as batch_op:
            batch_op.create_sequence("s")  # type: ignore[attr-defined]
        op.invoke(CreateSequenceOp("seq_b"))
    tables = set(memory_db.inspector().get_table_names())
    assert tables == {"seq_a", "pet_table_s", "seq_b"}
    assert CreateSequenceOp("q").render() == "op.create_sequence('q')"
    with pytest.raises(LimbeckError, match="already has an implementation"):
        Operations.implementation_for(CreateSequenceOp)(_create_sequence)


def test_implementation_for_replace_overrides_a_builtin(memory_db: Database) -> None:
    seen: list[str] = []
    original = Operations._to_impl[ops.DropTableOp]

    def recording_drop(operations: Any, operation: ops.DropTableOp) -> None:
        seen.append(operation.table_name)
        original(operations, operation)

    Operations.implementation_for(ops.DropTableOp, replace=True)(recording_drop)
    try:
        with memory_db.migration() as op:
            op.create_table("t", sa.Column("id", sa.Integer()))
            op.drop_table("t")
    finally:
        Operations.implementation_for(ops.DropTableOp, replace=True)(original)
    assert seen == ["t"]
    assert memory_db.inspector().get_table_names() == []


def test_op_proxy_resolves_through_operations_context(memory_db: Database) -> None:
    with pytest.raises(LimbeckError, match="outside a migration run"):
        limbeck.op.create_table  # noqa: B018
    with Operations.context(memory_db.ctx) as operations, memory_db.migration():
        assert limbeck.op.get_context() is memory_db.ctx
        limbeck.op.create_table("via_proxy", sa.Column("id", sa.Integer()))
        assert operations.get_bind() is memory_db.conn
    assert memory_db.inspector().get_table_names() == ["via_proxy"]
    assert str(Operations.f("exact")) == "exact"
    assert isinstance(Operations.f("exact"), sa.sql.elements.conv)


def test_run_async_needs_an_async_driver(memory_db: Database) -> None:
    async def job(connection: Any) -> None:
        raise AssertionError("not reached")

    with pytest.raises(LimbeckError, match="run_async\\(\\) needs an async driver"):
        memory_db.op.run_async(job)
