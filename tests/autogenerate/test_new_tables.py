"""New tables: their operations refer to the models instead of copying them, and
render exactly as the SQLAlchemy objects they stand for would."""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
import sqlalchemy.dialects.mysql  # rich_metadata("mariadb") reads sa.dialects.mysql
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.pool import NullPool

from limbeck.autogenerate import produce_migrations, render_python_code
from limbeck.autogenerate._api import upgrade_ops_for
from limbeck.autogenerate._render import BEGIN, END, AutogenRenderContext, render_body
from limbeck.autogenerate._toops import NewTableOp
from limbeck.operations import Operations, ops
from limbeck.operations.render import RenderContext, render_op
from limbeck.runtime.migration import MigrationContext
from limbeck.schema import Schema, from_metadata
from schema.models import rich_metadata


def chain(count: int) -> sa.MetaData:
    """``count`` tables, each pointing at the previous one; the first closes the cycle."""
    md = sa.MetaData()
    for i in range(count):
        sa.Table(
            f"t{i:04d}",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column(
                "ref_id",
                sa.Integer,
                sa.ForeignKey(f"t{(i - 1) % count:04d}.id", name=f"fk_t{i:04d}", use_alter=i == 0),
            ),
            sa.Column("code", sa.String(32), nullable=False),
            sa.Column("name", sa.String(100), nullable=False, server_default="x"),
            sa.Column("qty", sa.Integer, server_default="0"),
            sa.Column("note", sa.Text, comment="free text"),
            sa.UniqueConstraint("code", name=f"uq_t{i:04d}_code"),
            sa.Index(f"ix_t{i:04d}_name", "name"),
            sa.Index(f"ix_t{i:04d}_qty_code", "qty", "code"),
        )
    return md


def offline_upgrade(dialect: str, md: sa.MetaData) -> tuple[MigrationContext, ops.UpgradeOps]:
    url = {"mariadb": "mariadb+pymysql://"}.get(dialect)
    ctx = MigrationContext.configure(
        url=url,
        dialect_name=None if url else dialect,
        opts={"target_metadata": md, "as_sql": True},
    )
    upgrade, _ = upgrade_ops_for(ctx, md, old=Schema(dialect=ctx.dialect.name))
    return ctx, upgrade


def new_table_ops(container: ops.OpContainer) -> list[NewTableOp]:
    return [o for o in container.ops if isinstance(o, NewTableOp)]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mariadb"])
@pytest.mark.parametrize("naming", [True, False])
def test_a_new_table_renders_as_its_sqlalchemy_objects(dialect: str, naming: bool) -> None:
    md = rich_metadata(dialect, naming=naming)
    for extra in chain(3).tables.values():
        extra.to_metadata(md)
    for make_ctx in (
        lambda ctx: AutogenRenderContext(migration_context=ctx),
        lambda ctx: AutogenRenderContext(
            sqlalchemy_module_prefix="sqla.", alembic_module_prefix="x."
        ),
        lambda ctx: RenderContext(),
    ):
        ctx, upgrade = offline_upgrade(dialect, md)
        created = new_table_ops(upgrade)
        assert len(created) == len(md.tables)
        for operation in created:
            direct = render_op(make_ctx(ctx), operation)
            assert not operation.built  # rendering built no Table
            plain = operation.plain()  # with the Column, constraint and Index objects
            assert operation.built
            assert direct == render_op(make_ctx(ctx), plain), operation.table_name


def test_the_operations_refer_to_the_models_own_tables(sqlite_url: str) -> None:
    md = chain(5)
    with sa.create_engine(sqlite_url, poolclass=NullPool).connect() as conn:
        ctx = MigrationContext.configure(connection=conn, opts={"target_metadata": md})
        script = produce_migrations(ctx, md)
        before = render_python_code(script.upgrade_ops, migration_context=ctx)
        down_before = render_python_code(script.downgrade_ops, migration_context=ctx)
    created = new_table_ops(script.upgrade_ops)
    assert [o.table_name for o in created] == ["t0000", "t0001", "t0002", "t0003", "t0004"]
    for operation in created:
        source = operation._source
        assert source is not None and source.kept is None
        assert source.sa_table is md.tables[operation.table_name]
        assert not operation.built
    # the foreign key closing the cycle is left out of t0000 and added afterwards
    assert created[0]._source is not None and len(created[0]._source.deferred) == 1
    assert "sa.ForeignKeyConstraint" not in before.split("op.create_table('t0001'")[0]
    assert "op.create_foreign_key('fk_t0000', 't0000', 't0004', ['ref_id'], ['id'])" in before

    # the objects are built on first reading, once, and render the same text
    first = created[1]
    columns = first.columns
    assert first.columns is columns
    assert [c.name for c in columns if isinstance(c, sa.Column)] == [
        "id",
        "ref_id",
        "code",
        "name",
        "qty",
        "note",
    ]
    assert all(c.table is not md.tables["t0001"] for c in columns if isinstance(c, sa.Column))
    kinds = [type(c).__name__ for c in columns if not isinstance(c, sa.Column)]
    assert kinds == [
        "PrimaryKeyConstraint",
        "UniqueConstraint",
        "ForeignKeyConstraint",
        "Index",
        "Index",
    ]
    after = render_python_code(script.upgrade_ops, migration_context=ctx)
    assert after == before
    assert render_python_code(script.downgrade_ops, migration_context=ctx) == down_before

    # a hook editing the objects edits what is written
    unique = next(c for c in columns if isinstance(c, sa.UniqueConstraint))
    unique.name = "uq_renamed"
    assert "name='uq_renamed'" in render_python_code(script.upgrade_ops, migration_context=ctx)


def test_the_operations_run_and_can_be_replaced(sqlite_url: str) -> None:
    """As in Alembic's recipe "run operation objects directly", and edited by a hook."""
    md = chain(4)
    engine = sa.create_engine(sqlite_url, poolclass=NullPool)
    with engine.begin() as conn:
        ctx = MigrationContext.configure(connection=conn, opts={"target_metadata": md})
        script = produce_migrations(ctx, md)
        renamed = dataclasses.replace(new_table_ops(script.upgrade_ops)[3], table_name="t_other")
        assert "op.create_table('t_other'," in render_python_code([renamed])
        operations = Operations(ctx)
        stack: list[ops.MigrateOperation] = [script.upgrade_ops]
        while stack:
            item = stack.pop(0)
            if isinstance(item, ops.OpContainer):
                stack.extend(item.ops)
            else:
                operations.invoke(item)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(connection=conn, opts={"target_metadata": md})
        assert produce_migrations(ctx, md).upgrade_ops.ops == []
        assert sorted(sa.inspect(conn).get_table_names()) == sorted(md.tables)


def test_new_table_operations_do_not_copy_the_tables(sqlite_url: str) -> None:
    """The operations for new tables hold next to nothing beside the models."""
    engine = sa.create_engine(sqlite_url, poolclass=NullPool)
    with engine.connect() as conn:  # warm up: imports, caches
        ctx = MigrationContext.configure(connection=conn, opts={"target_metadata": chain(3)})
        produce_migrations(ctx, chain(3))
    gc.collect()
    tracemalloc.start()
    try:
        md = chain(200)
        size_of_models = tracemalloc.get_traced_memory()[0]
        with engine.connect() as conn:
            ctx = MigrationContext.configure(connection=conn, opts={"target_metadata": md})
            start = tracemalloc.get_traced_memory()[0]
            script = produce_migrations(ctx, md)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - start
            render_python_code(script.upgrade_ops, migration_context=ctx)
            render_python_code(script.downgrade_ops, migration_context=ctx)
    finally:
        tracemalloc.stop()
    assert len(new_table_ops(script.upgrade_ops)) == 200
    # copies of the tables cost about as much as the models themselves
    assert held < size_of_models * 0.15, (held, size_of_models)


def test_building_the_model_leaves_the_metadata_as_it_was() -> None:
    """No collections made and kept on the models' indexes and constraints (dialect
    options, ``.columns``), no names cached on the dialect."""
    md = chain(3)
    items = [item for table in md.tables.values() for item in [*table.indexes, *table.constraints]]

    def state() -> list[set[str]]:
        # the auto-increment column SQLAlchemy works out (and keeps) as create_all() does
        return [set(vars(item)) - {"_autoincrement_column"} for item in items]

    before = state()
    dialect = sa.create_engine("sqlite://").dialect
    from_metadata(md, dialect)
    assert state() == before
    assert not getattr(dialect.identifier_preparer, "_strings", {})


# -- indenting the body ------------------------------------------------------------------


def _reference_body(chunks: list[str]) -> str:
    """How the body was indented before it was done chunk by chunk."""
    text = "\n".join([BEGIN, *chunks, END] if chunks else [BEGIN, "pass", END])
    return "\n".join(("    " + line if line else line) for line in text.splitlines()).lstrip()


class _Text(ops.MigrateOperation):
    def __init__(self, text: str) -> None:
        self.text = text


@pytest.fixture(scope="module")
def text_renderer() -> Iterator[None]:
    from limbeck.operations.render import _renderers, renderer_for

    renderer_for(_Text)(lambda ctx, op: op.text)
    yield None
    _renderers.pop(_Text, None)


_LINE_TEXT = st.text(alphabet=st.sampled_from("ab \n\r\x0b\x0c\x1c\x85\u2028"), max_size=12)


@pytest.mark.usefixtures("text_renderer")
@given(st.lists(_LINE_TEXT, max_size=5))
def test_the_body_is_indented_as_one_text(chunks: list[str]) -> None:
    container = ops.UpgradeOps(ops=[_Text(c) for c in chunks])
    assert render_body(AutogenRenderContext(), container) == _reference_body(chunks)
