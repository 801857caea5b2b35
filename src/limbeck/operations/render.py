"""Render operations as Python source for revision files.

``render_op(ctx, operation)`` returns the ``op.…(...)`` call (or ``with``
block) for one operation, dispatching on its class; ``renderer_for(OpClass)``
registers the renderer of a custom operation. :class:`RenderContext` holds
the module prefixes and collects the imports the rendered code needs
(``from sqlalchemy.dialects import postgresql``, a custom type's module).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import (
    CheckConstraint,
    Column,
    Computed,
    ForeignKeyConstraint,
    Identity,
    Index,
    PrimaryKeyConstraint,
    UniqueConstraint,
)
from sqlalchemy.schema import Constraint, DefaultClause
from sqlalchemy.sql.elements import ClauseElement, TextClause, conv
from sqlalchemy.types import TypeEngine

from limbeck.errors import LimbeckError
from limbeck.operations import ops
from limbeck.operations.ops import bound_table

__all__ = ["RenderContext", "render_op", "render_python_code", "render_type", "renderer_for"]


@dataclass
class RenderContext:
    """Settings and collected imports of one rendering."""

    sqlalchemy_module_prefix: str = "sa."
    alembic_module_prefix: str = "op."
    user_module_prefix: str | None = None
    render_as_batch: bool = False
    imports: set[str] = field(default_factory=set)
    #: ``render_item(kind, obj, ctx)`` returning source text, or False for the default.
    render_item: Callable[[str, Any, RenderContext], str | bool] | None = None
    #: Set while rendering inside a ``batch_alter_table`` block.
    batch: bool = False

    @property
    def op_prefix(self) -> str:
        return "batch_op." if self.batch else self.alembic_module_prefix

    @contextlib.contextmanager
    def in_batch(self) -> Iterator[None]:
        previous, self.batch = self.batch, True
        try:
            yield
        finally:
            self.batch = previous


_Op = TypeVar("_Op", bound=ops.MigrateOperation)
Renderer = Callable[[RenderContext, Any], str]
_renderers: dict[type, Renderer] = {}


def renderer_for(op_cls: type[_Op]) -> Callable[[Renderer], Renderer]:
    """Decorator registering ``fn(ctx, operation) -> str`` as the renderer of ``op_cls``."""

    def register(fn: Renderer) -> Renderer:
        _renderers[op_cls] = fn
        return fn

    return register


def render_op(ctx: RenderContext, operation: ops.MigrateOperation) -> str:
    """Python source for ``operation``."""
    for klass in type(operation).__mro__:
        fn = _renderers.get(klass)
        if fn is not None:
            return fn(ctx, operation)
    raise LimbeckError(f"no renderer for {type(operation).__name__}")


def render_python_code(
    operations: ops.OpContainer | Sequence[ops.MigrateOperation],
    ctx: RenderContext | None = None,
) -> str:
    """The body of ``upgrade()``/``downgrade()`` for ``operations`` (``pass`` if none)."""
    ctx = ctx or RenderContext()
    items = operations.ops if isinstance(operations, ops.OpContainer) else list(operations)
    lines = [render_op(ctx, o) for o in items]
    return "\n".join(lines) if lines else "pass"


# -- values ----------------------------------------------------------------------------


def _name(ctx: RenderContext, name: Any) -> str:
    if isinstance(name, conv):
        return f"{ctx.alembic_module_prefix}f({str(name)!r})"
    if name is None:
        return "None"
    return repr(str(name))


def _args(*positional: str, **keywords: Any) -> str:
    parts = list(positional)
    parts += [f"{k}={v}" for k, v in keywords.items()]
    return ", ".join(parts)


def _opt(keywords: dict[str, str], key: str, value: Any, rendered: str | None = None) -> None:
    if value is not None:
        keywords[key] = rendered if rendered is not None else repr(value)


def render_type(ctx: RenderContext, type_: TypeEngine[Any]) -> str:
    """``sa.String(length=50)``, ``postgresql.JSONB(...)`` or ``mymodule.MyType()``."""
    if ctx.render_item is not None:
        custom = ctx.render_item("type", type_, ctx)
        if custom is not False:
            return str(custom)
    module = type(type_).__module__
    text = repr(type_)
    if module.startswith("sqlalchemy.dialects."):
        dialect = module.split(".")[2]
        ctx.imports.add(f"from sqlalchemy.dialects import {dialect}")
        return f"{dialect}.{text}"
    if module.startswith("sqlalchemy."):
        return ctx.sqlalchemy_module_prefix + text
    if ctx.user_module_prefix is not None:
        return ctx.user_module_prefix + text
    ctx.imports.add(f"import {module}")
    return f"{module}.{text}"


def _sql_text(ctx: RenderContext, value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, TextClause):
        return f"{ctx.sqlalchemy_module_prefix}text({value.text!r})"
    if isinstance(value, ClauseElement):
        compiled = str(value.compile(compile_kwargs={"literal_binds": True}))
        return f"{ctx.sqlalchemy_module_prefix}text({compiled!r})"
    return repr(value)


def _server_default(ctx: RenderContext, default: Any) -> str:
    if isinstance(default, Identity):
        keywords = {
            k: repr(getattr(default, k))
            for k in ("always", "on_null", "start", "increment", "minvalue", "maxvalue", "cycle")
            if getattr(default, k, None) is not None
        }
        return f"{ctx.sqlalchemy_module_prefix}Identity({_args(**keywords)})"
    if isinstance(default, Computed):
        keywords = {}
        if default.persisted is not None:
            keywords["persisted"] = repr(default.persisted)
        args = _args(_sql_text(ctx, default.sqltext), **keywords)
        return f"{ctx.sqlalchemy_module_prefix}Computed({args})"
    if isinstance(default, DefaultClause):
        default = default.arg
    return _sql_text(ctx, default)


def render_column(
    ctx: RenderContext, column: Column[Any], rendered_apart: frozenset[int] = frozenset()
) -> str:
    """``sa.Column(...)``; ``rendered_apart`` holds the ids of constraints rendered
    beside the column (in ``create_table``), which it then does not repeat."""
    if ctx.render_item is not None:
        custom = ctx.render_item("column", column, ctx)
        if custom is not False:
            return str(custom)
    sa = ctx.sqlalchemy_module_prefix
    args = [repr(column.name), render_type(ctx, column.type)]
    for fk in sorted(column.foreign_keys, key=lambda f: f._get_colspec()):
        if fk.constraint is not None and len(fk.constraint.elements) > 1:
            continue
        if fk.constraint is not None and id(fk.constraint) in rendered_apart:
            continue
        fk_kw: dict[str, str] = {}
        _opt(fk_kw, "name", fk.name, _name(ctx, fk.name) if fk.name else None)
        _opt(fk_kw, "ondelete", fk.ondelete)
        _opt(fk_kw, "onupdate", fk.onupdate)
        args.append(f"{sa}ForeignKey({_args(repr(fk._get_colspec()), **fk_kw)})")
    keywords: dict[str, str] = {}
    if isinstance(column.server_default, Identity | Computed):
        args.append(_server_default(ctx, column.server_default))
    elif column.server_default is not None:
        keywords["server_default"] = _server_default(ctx, column.server_default)
    if column.primary_key and not any(
        isinstance(c, PrimaryKeyConstraint) and id(c) in rendered_apart
        for c in ([column.table.primary_key] if bound_table(column) is not None else [])
    ):
        keywords["primary_key"] = "True"
    if column.autoincrement is not True and column.autoincrement != "auto":
        keywords["autoincrement"] = repr(column.autoincrement)
    keywords["nullable"] = repr(bool(column.nullable))
    if column.comment is not None:
        keywords["comment"] = repr(column.comment)
    if column.info:
        keywords["info"] = repr(column.info)
    return f"{sa}Column({_args(*args, **keywords)})"


def render_constraint(ctx: RenderContext, constraint: Constraint) -> str | None:
    if ctx.render_item is not None:
        custom = ctx.render_item("constraint", constraint, ctx)
        if custom is not False:
            return str(custom)
    sa = ctx.sqlalchemy_module_prefix
    keywords: dict[str, str] = {}
    if constraint.name is not None and isinstance(constraint.name, str):
        keywords["name"] = _name(ctx, constraint.name)
    for attr in ("deferrable", "initially"):
        _opt(keywords, attr, getattr(constraint, attr, None))
    if isinstance(constraint, PrimaryKeyConstraint):
        if not constraint.columns:
            return None
        cols = [repr(c.name) for c in constraint.columns]
        return f"{sa}PrimaryKeyConstraint({_args(*cols, **keywords)})"
    if isinstance(constraint, UniqueConstraint):
        cols = [repr(c.name) for c in constraint.columns]
        return f"{sa}UniqueConstraint({_args(*cols, **keywords)})"
    if isinstance(constraint, ForeignKeyConstraint):
        _opt(keywords, "ondelete", constraint.ondelete)
        _opt(keywords, "onupdate", constraint.onupdate)
        _opt(keywords, "match", constraint.match)
        local = repr(list(constraint.column_keys))
        remote = repr([e._get_colspec() for e in constraint.elements])
        return f"{sa}ForeignKeyConstraint({_args(local, remote, **keywords)})"
    if isinstance(constraint, CheckConstraint):
        if getattr(constraint, "_type_bound", False):
            return None
        return f"{sa}CheckConstraint({_args(_sql_text(ctx, constraint.sqltext), **keywords)})"
    raise LimbeckError(f"cannot render constraint {constraint!r}")


def _dialect_kw(kw: Any) -> dict[str, str]:
    return {k: repr(v) for k, v in dict(kw).items()}


def _schema_kw(operation: Any) -> dict[str, str]:
    schema = getattr(operation, "schema", None)
    return {"schema": repr(schema)} if schema is not None else {}


def _columns_list(ctx: RenderContext, columns: Sequence[Any]) -> str:
    rendered = [repr(c) if isinstance(c, str) else _sql_text(ctx, c) for c in columns]
    return "[" + ", ".join(rendered) + "]"


# -- operations -----------------------------------------------------------------------


@renderer_for(ops.CreateTableOp)
def _create_table(ctx: RenderContext, operation: ops.CreateTableOp) -> str:
    items: list[str] = []
    indexes: list[Index] = []
    apart = frozenset(
        id(item)
        for item in operation.columns
        if isinstance(item, Constraint)
        and (not isinstance(item, PrimaryKeyConstraint) or item.columns)
    )
    for item in operation.columns:
        if isinstance(item, Column):
            items.append(render_column(ctx, item, apart))
        elif isinstance(item, Index):
            indexes.append(item)
        elif isinstance(item, Constraint):
            rendered = render_constraint(ctx, item)
            if rendered is not None:
                items.append(rendered)
    keywords = _schema_kw(operation)
    if operation.if_not_exists is not None:
        keywords["if_not_exists"] = repr(operation.if_not_exists)
    keywords.update(_dialect_kw(operation.kw))
    parts = [repr(operation.table_name), *items, *[f"{k}={v}" for k, v in keywords.items()]]
    text = f"{ctx.alembic_module_prefix}create_table(" + ",\n    ".join(parts) + "\n)"
    for index in indexes:
        text += "\n" + render_op(ctx, _index_op(operation, index))
    return text


def _index_op(operation: ops.CreateTableOp, index: Index) -> ops.CreateIndexOp:
    return ops.CreateIndexOp(
        index.name,
        operation.table_name,
        [e.name if isinstance(e, Column) else e for e in index.expressions],
        schema=operation.schema,
        unique=bool(index.unique),
        kw=dict(index.dialect_kwargs),
    )


@renderer_for(ops.DropTableOp)
def _drop_table(ctx: RenderContext, operation: ops.DropTableOp) -> str:
    keywords = _schema_kw(operation)
    if operation.if_exists is not None:
        keywords["if_exists"] = repr(operation.if_exists)
    keywords.update(_dialect_kw({k: v for k, v in operation.table_kw.items() if k != "comment"}))
    return f"{ctx.alembic_module_prefix}drop_table({_args(repr(operation.table_name), **keywords)})"


@renderer_for(ops.RenameTableOp)
def _rename_table(ctx: RenderContext, operation: ops.RenameTableOp) -> str:
    args = _args(
        repr(operation.table_name), repr(operation.new_table_name), **_schema_kw(operation)
    )
    return f"{ctx.alembic_module_prefix}rename_table({args})"


@renderer_for(ops.CreateTableCommentOp)
def _create_table_comment(ctx: RenderContext, operation: ops.CreateTableCommentOp) -> str:
    keywords: dict[str, str] = {}
    if operation.existing_comment is not None:
        keywords["existing_comment"] = repr(operation.existing_comment)
    if ctx.batch:
        return f"batch_op.create_table_comment({_args(repr(operation.comment), **keywords)})"
    keywords.update(_schema_kw(operation))
    args = _args(repr(operation.table_name), repr(operation.comment), **keywords)
    return f"{ctx.alembic_module_prefix}create_table_comment({args})"


@renderer_for(ops.DropTableCommentOp)
def _drop_table_comment(ctx: RenderContext, operation: ops.DropTableCommentOp) -> str:
    keywords: dict[str, str] = {}
    if operation.existing_comment is not None:
        keywords["existing_comment"] = repr(operation.existing_comment)
    if ctx.batch:
        return f"batch_op.drop_table_comment({_args(**keywords)})"
    keywords.update(_schema_kw(operation))
    args = _args(repr(operation.table_name), **keywords)
    return f"{ctx.alembic_module_prefix}drop_table_comment({args})"


def _table_args(ctx: RenderContext, operation: Any, *positional: str, **keywords: str) -> str:
    if ctx.batch:
        return _args(*positional, **keywords)
    return _args(repr(operation.table_name), *positional, **{**keywords, **_schema_kw(operation)})


@renderer_for(ops.AddColumnOp)
def _add_column(ctx: RenderContext, operation: ops.AddColumnOp) -> str:
    keywords: dict[str, str] = {}
    for key in ("if_not_exists", "inline_references", "inline_primary_key"):
        value = getattr(operation, key)
        if value is not None:
            keywords[key] = repr(value)
    if ctx.batch:
        for key in ("insert_before", "insert_after"):
            value = getattr(operation, key)
            if value is not None:
                keywords[key] = repr(value)
    args = _table_args(ctx, operation, render_column(ctx, operation.column), **keywords)
    return f"{ctx.op_prefix}add_column({args})"


@renderer_for(ops.DropColumnOp)
def _drop_column(ctx: RenderContext, operation: ops.DropColumnOp) -> str:
    keywords = _dialect_kw(operation.kw)
    if operation.if_exists is not None:
        keywords["if_exists"] = repr(operation.if_exists)
    args = _table_args(ctx, operation, repr(operation.column_name), **keywords)
    return f"{ctx.op_prefix}drop_column({args})"


@renderer_for(ops.AlterColumnOp)
def _alter_column(ctx: RenderContext, operation: ops.AlterColumnOp) -> str:
    keywords: dict[str, str] = {}
    if operation.existing_type is not None:
        keywords["existing_type"] = render_type(ctx, operation.existing_type)
    if operation.modify_type is not None:
        keywords["type_"] = render_type(ctx, operation.modify_type)
    if operation.modify_nullable is not None:
        keywords["nullable"] = repr(operation.modify_nullable)
    elif operation.existing_nullable is not None:
        keywords["existing_nullable"] = repr(operation.existing_nullable)
    if operation.modify_server_default is not False:
        default = operation.modify_server_default
        keywords["server_default"] = "None" if default is None else _server_default(ctx, default)
    elif (
        operation.existing_server_default is not False
        and operation.existing_server_default is not None
    ):
        keywords["existing_server_default"] = _server_default(
            ctx, operation.existing_server_default
        )
    if operation.modify_name is not None:
        keywords["new_column_name"] = repr(operation.modify_name)
    if operation.modify_comment is not False:
        keywords["comment"] = repr(operation.modify_comment)
        if operation.existing_comment is not None:
            keywords["existing_comment"] = repr(operation.existing_comment)
    elif operation.existing_comment is not None:
        keywords["existing_comment"] = repr(operation.existing_comment)
    keywords.update(_dialect_kw(operation.kw))
    args = _table_args(ctx, operation, repr(operation.column_name), **keywords)
    return f"{ctx.op_prefix}alter_column({args})"


@renderer_for(ops.CreateIndexOp)
def _create_index(ctx: RenderContext, operation: ops.CreateIndexOp) -> str:
    keywords: dict[str, str] = {"unique": repr(bool(operation.unique))}
    if operation.if_not_exists is not None:
        keywords["if_not_exists"] = repr(operation.if_not_exists)
    keywords.update({k: _sql_text(ctx, v) for k, v in operation.kw.items()})
    columns = _columns_list(ctx, operation.columns)
    if ctx.batch:
        return (
            f"batch_op.create_index({_args(_name(ctx, operation.index_name), columns, **keywords)})"
        )
    args = _args(
        _name(ctx, operation.index_name),
        repr(operation.table_name),
        columns,
        **{**keywords, **_schema_kw(operation)},
    )
    return f"{ctx.alembic_module_prefix}create_index({args})"


@renderer_for(ops.DropIndexOp)
def _drop_index(ctx: RenderContext, operation: ops.DropIndexOp) -> str:
    keywords = _dialect_kw(operation.kw)
    if operation.if_exists is not None:
        keywords["if_exists"] = repr(operation.if_exists)
    if ctx.batch:
        return f"batch_op.drop_index({_args(_name(ctx, operation.index_name), **keywords)})"
    if operation.table_name is not None:
        keywords = {"table_name": repr(operation.table_name), **keywords}
    keywords.update(_schema_kw(operation))
    args = _args(_name(ctx, operation.index_name), **keywords)
    return f"{ctx.alembic_module_prefix}drop_index({args})"


@renderer_for(ops.CreatePrimaryKeyOp)
def _create_primary_key(ctx: RenderContext, operation: ops.CreatePrimaryKeyOp) -> str:
    args = _table_args(ctx, operation, repr(list(operation.columns)))
    return f"{ctx.op_prefix}create_primary_key({_name(ctx, operation.constraint_name)}, {args})"


@renderer_for(ops.CreateUniqueConstraintOp)
def _create_unique(ctx: RenderContext, operation: ops.CreateUniqueConstraintOp) -> str:
    args = _table_args(ctx, operation, repr(list(operation.columns)), **_dialect_kw(operation.kw))
    name = _name(ctx, operation.constraint_name)
    return f"{ctx.op_prefix}create_unique_constraint({name}, {args})"


@renderer_for(ops.CreateCheckConstraintOp)
def _create_check(ctx: RenderContext, operation: ops.CreateCheckConstraintOp) -> str:
    args = _table_args(
        ctx, operation, _sql_text(ctx, operation.condition), **_dialect_kw(operation.kw)
    )
    name = _name(ctx, operation.constraint_name)
    return f"{ctx.op_prefix}create_check_constraint({name}, {args})"


@renderer_for(ops.CreateForeignKeyOp)
def _create_fk(ctx: RenderContext, operation: ops.CreateForeignKeyOp) -> str:
    keywords: dict[str, str] = {}
    for key in ("onupdate", "ondelete", "deferrable", "initially", "match"):
        _opt(keywords, key, getattr(operation, key))
    if not ctx.batch:
        _opt(keywords, "source_schema", operation.source_schema)
    _opt(keywords, "referent_schema", operation.referent_schema)
    keywords.update(_dialect_kw(operation.kw))
    positional = [
        repr(operation.referent_table),
        repr(list(operation.local_cols)),
        repr(list(operation.remote_cols)),
    ]
    if not ctx.batch:
        positional.insert(0, repr(operation.source_table))
    args = _args(_name(ctx, operation.constraint_name), *positional, **keywords)
    return f"{ctx.op_prefix}create_foreign_key({args})"


@renderer_for(ops.CreateExcludeConstraintOp)
def _create_exclude(ctx: RenderContext, operation: ops.CreateExcludeConstraintOp) -> str:
    elements = [f"({_sql_text(ctx, e)}, {o!r})" for e, o in operation.elements]
    keywords = _dialect_kw(operation.kw)
    if operation.where is not None:
        keywords["where"] = _sql_text(ctx, operation.where)
    args = _table_args(ctx, operation, *elements, **keywords)
    name = _name(ctx, operation.constraint_name)
    return f"{ctx.op_prefix}create_exclude_constraint({name}, {args})"


@renderer_for(ops.DropConstraintOp)
def _drop_constraint(ctx: RenderContext, operation: ops.DropConstraintOp) -> str:
    keywords: dict[str, str] = {}
    _opt(keywords, "type_", operation.type_)
    if operation.if_exists is not None and not ctx.batch:
        keywords["if_exists"] = repr(operation.if_exists)
    args = _table_args(ctx, operation, **keywords)
    text = f"{ctx.op_prefix}drop_constraint({_name(ctx, operation.constraint_name)}, {args})"
    if operation.constraint_name is None:
        text += "  # WARNING: this constraint has no name; name it before running"
    return text


@renderer_for(ops.ExecuteSQLOp)
def _execute(ctx: RenderContext, operation: ops.ExecuteSQLOp) -> str:
    keywords: dict[str, str] = {}
    if operation.execution_options:
        keywords["execution_options"] = repr(dict(operation.execution_options))
    return f"{ctx.op_prefix}execute({_args(_sql_text(ctx, operation.sqltext), **keywords)})"


@renderer_for(ops.BulkInsertOp)
def _bulk_insert(ctx: RenderContext, operation: ops.BulkInsertOp) -> str:
    sa = ctx.sqlalchemy_module_prefix
    table = operation.table
    cols = [f"{sa}column({c.name!r}, {render_type(ctx, c.type)})" for c in table.columns]
    table_kw = {"schema": repr(table.schema)} if getattr(table, "schema", None) else {}
    table_src = f"{sa}table({_args(repr(table.name), *cols, **table_kw)})"
    keywords = {} if operation.multiinsert else {"multiinsert": "False"}
    rows = repr([dict(r) for r in operation.rows])
    return f"{ctx.alembic_module_prefix}bulk_insert({_args(table_src, rows, **keywords)})"


@renderer_for(ops.AddEnumValueOp)
def _add_enum_value(ctx: RenderContext, operation: ops.AddEnumValueOp) -> str:
    keywords: dict[str, str] = {}
    for key in ("schema", "before", "after", "autocommit"):
        _opt(keywords, key, getattr(operation, key))
    if not operation.if_not_exists:
        keywords["if_not_exists"] = "False"
    args = _args(repr(operation.enum_name), repr(operation.value), **keywords)
    return f"{ctx.alembic_module_prefix}add_enum_value({args})"


@renderer_for(ops.CreateEnumOp)
def _create_enum(ctx: RenderContext, operation: ops.CreateEnumOp) -> str:
    keywords: dict[str, str] = {}
    _opt(keywords, "schema", operation.schema)
    args = _args(repr(operation.enum_name), repr(list(operation.values)), **keywords)
    return f"{ctx.alembic_module_prefix}create_enum({args})"


@renderer_for(ops.DropEnumOp)
def _drop_enum(ctx: RenderContext, operation: ops.DropEnumOp) -> str:
    keywords: dict[str, str] = {}
    _opt(keywords, "schema", operation.schema)
    if operation.values is not None:
        keywords["values"] = repr(list(operation.values))
    args = _args(repr(operation.enum_name), **keywords)
    return f"{ctx.alembic_module_prefix}drop_enum({args})"


@renderer_for(ops.ModifyTableOps)
def _modify_table(ctx: RenderContext, operation: ops.ModifyTableOps) -> str:
    if not ctx.render_as_batch:
        return "\n".join(render_op(ctx, o) for o in operation.ops) or "pass"
    keywords = _schema_kw(operation)
    args = _args(repr(operation.table_name), **keywords)
    header = f"with {ctx.alembic_module_prefix}batch_alter_table({args}) as batch_op:"
    with ctx.in_batch():
        body = [render_op(ctx, o) for o in operation.ops] or ["pass"]
    lines = [header]
    for chunk in body:
        lines += ["    " + line for line in chunk.splitlines()]
    return "\n".join(lines)


@renderer_for(ops.OpContainer)
def _container(ctx: RenderContext, operation: ops.OpContainer) -> str:
    return render_python_code(operation, ctx)
