"""``revision --autogenerate`` and ``check``: run env.py, compare, write or report."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from limbeck.autogenerate._api import describe, downgrade_ops_for, upgrade_ops_for
from limbeck.autogenerate._compare import Ask, Comparison, parse_renames
from limbeck.autogenerate._render import AutogenRenderContext, complete_imports, render_body
from limbeck.errors import CheckFailed, LimbeckError
from limbeck.operations import ops

if TYPE_CHECKING:
    from limbeck.config import Config
    from limbeck.runtime.migration import MigrationContext, RunStep
    from limbeck.scripts.directory import Script, ScriptDirectory

__all__ = ["check", "revision"]


@dataclass
class _Run:
    """One ``run_migrations()`` of env.py (a multi-database env.py makes several)."""

    context: MigrationContext
    heads: tuple[str, ...]
    upgrade_ops: ops.UpgradeOps | None = None
    comparison: Comparison | None = None


@dataclass
class _Collector:
    runs: list[_Run] = field(default_factory=list)


class NotUpToDate(LimbeckError):
    """The database is not at the head revisions."""


def _require_heads(script: ScriptDirectory, heads: tuple[str, ...]) -> None:
    wanted = set(script.graph.heads)
    if set(heads) != wanted:
        raise NotUpToDate(
            "the database is not up to date: it is at "
            + (", ".join(heads) or "base")
            + "; the heads are "
            + (", ".join(sorted(wanted)) or "none"),
            hint="run `limbeck upgrade heads` first",
        )


def terminal_ask() -> Ask | None:
    """A yes/no question on the terminal, or None when there is no terminal."""
    try:
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        interactive = False
    if not interactive:
        return None

    def ask(question: str) -> bool:
        try:
            answer = input(f"{question} [y/N] ")
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")

    return ask


def _render_as_batch(context: MigrationContext) -> bool:
    value = context.opts.get("render_as_batch")
    if value is None:
        return bool(context.dialect.name == "sqlite")
    return bool(value)


def _render_context(context: MigrationContext, imports: Sequence[str]) -> AutogenRenderContext:
    opts = context.opts
    return AutogenRenderContext(
        sqlalchemy_module_prefix=opts.get("sqlalchemy_module_prefix", "sa."),
        alembic_module_prefix=opts.get("alembic_module_prefix", "op."),
        user_module_prefix=opts.get("user_module_prefix"),
        render_as_batch=_render_as_batch(context),
        imports=imports,
        render_item=opts.get("render_item"),
        migration_context=context,
    )


def revision(
    config: Config,
    message: str | None = None,
    autogenerate: bool = False,
    sql: bool = False,
    head: str | Sequence[str] | None = "head",
    splice: bool = False,
    branch_label: str | Sequence[str] | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    depends_on: str | Sequence[str] | None = None,
    process_revision_directives: Callable[..., Any] | None = None,
    rename: Sequence[str] | None = None,
    ask: Ask | None = None,
    **_ignored: Any,
) -> Script | list[Script]:
    """Write a revision after running env.py; with ``autogenerate``, its
    operations are what the models need beyond the database."""
    from limbeck.runtime.commands import _run
    from limbeck.scripts.directory import ScriptDirectory
    from limbeck.scripts.write import new_rev_id

    if autogenerate and sql:
        raise LimbeckError(
            "revision --autogenerate cannot run with --sql",
            hint="autogenerate compares with a live database; drop --sql",
        )
    script = ScriptDirectory.from_config(config)
    if rename is None:
        rename = getattr(config.cmd_opts, "rename", None)
    renames = parse_renames(rename)
    if ask is None and autogenerate:
        ask = terminal_ask()
    collector = _Collector()

    def fn(heads: tuple[str, ...], context: MigrationContext) -> list[RunStep]:
        run = _Run(context, tuple(heads))
        if autogenerate:
            _require_heads(script, run.heads)
            run.upgrade_ops, run.comparison = upgrade_ops_for(
                context, context.opts.get("target_metadata"), renames=renames, ask=ask
            )
        collector.runs.append(run)
        return []

    opts: dict[str, Any] = {"dont_mutate": True}
    if sql:
        opts["as_sql"] = True
    _run(config, script, fn, **opts)
    if autogenerate and not collector.runs:
        raise LimbeckError(
            "env.py did not call context.run_migrations(), so nothing was compared",
            hint="check env.py runs context.run_migrations() in online mode",
        )

    for run in collector.runs:
        if run.comparison is not None:
            for warning in run.comparison.warnings:
                config.print_stdout(f"  WARNING: {warning}")
        if run.upgrade_ops is not None:
            for line in describe(run.upgrade_ops):
                config.print_stdout(f"  Detected {line}")

    first = collector.runs[0] if collector.runs else None
    upgrade_ops = first.upgrade_ops if first is not None and first.upgrade_ops is not None else None
    if upgrade_ops is None:
        upgrade_ops = ops.UpgradeOps(ops=[])
    migration_script = ops.MigrationScript(
        rev_id or new_rev_id(),
        upgrade_ops,
        _downgrade_for(upgrade_ops, first.context if first else None),
        message=message,
        imports=set(),
        head=head if isinstance(head, str) or head is None else ",".join(head),
        splice=splice,
        branch_label=branch_label
        if isinstance(branch_label, str) or branch_label is None
        else ",".join(branch_label),
        version_path=version_path,
        depends_on=depends_on,
    )
    directives: list[Any] = [migration_script]
    context = first.context if first is not None else None
    database_heads = first.heads if first is not None else ()
    if process_revision_directives is not None:
        process_revision_directives(context, database_heads, directives)
    env_hook = context.opts.get("process_revision_directives") if context is not None else None
    if env_hook is not None:
        env_hook(context, database_heads, directives)

    written: list[Script] = []
    for directive in directives:
        written.append(_write(config, script, directive, collector.runs, migration_script))
    if not written:
        config.print_stdout("  No revision written (process_revision_directives removed it)")
        return []
    return written[0] if len(written) == 1 else written


def _downgrade_for(upgrade_ops: ops.UpgradeOps, context: Any) -> ops.DowngradeOps:
    token = context.opts.get("downgrade_token") if context is not None else None
    return downgrade_ops_for(upgrade_ops, token)


def _write(
    config: Config,
    script: ScriptDirectory,
    directive: ops.MigrationScript,
    runs: Sequence[_Run],
    original: ops.MigrationScript,
) -> Script:
    from limbeck.scripts.write import generate_revision

    template_args: dict[str, Any] = {}
    bodies: list[str] = []
    first_context = runs[0].context if runs else None
    ctx: AutogenRenderContext | None = None
    pairs: list[tuple[ops.UpgradeOps, ops.DowngradeOps, Any]] = [
        (directive.upgrade_ops, directive.downgrade_ops, first_context)
    ]
    if directive is original:
        # the other databases of a multi-database env.py
        for run in runs[1:]:
            if run.upgrade_ops is not None:
                pairs.append(
                    (run.upgrade_ops, _downgrade_for(run.upgrade_ops, run.context), run.context)
                )
    autogenerated = any(run.upgrade_ops is not None for run in runs)
    for upgrade_ops, downgrade_ops, context in pairs:
        if context is not None:
            template_args.update(context.opts.get("template_args") or {})
        if not autogenerated and not upgrade_ops.ops and not downgrade_ops.ops:
            continue
        if context is not None:
            ctx = _render_context(context, sorted(directive.imports) if ctx is None else [])
        else:
            ctx = AutogenRenderContext(imports=sorted(directive.imports))
        up = render_body(ctx, upgrade_ops)
        down = render_body(ctx, downgrade_ops)
        bodies += [up, down]
        template_args[getattr(upgrade_ops, "upgrade_token", "upgrades")] = up
        template_args[getattr(downgrade_ops, "downgrade_token", "downgrades")] = down
        template_args["imports"] = "\n".join(
            sorted(set(complete_imports(ctx, bodies)) | set(_import_lines(template_args)))
        )
    if ctx is None and directive.imports:
        template_args["imports"] = "\n".join(sorted(directive.imports))
    head: Any = directive.head or "head"
    if isinstance(head, str) and "," in head:
        head = [h.strip() for h in head.split(",")]
    labels: Any = directive.branch_label
    if isinstance(labels, str) and "," in labels:
        labels = [label.strip() for label in labels.split(",")]
    written = generate_revision(
        script,
        directive.rev_id,
        directive.message,
        head=head,
        splice=bool(directive.splice),
        branch_labels=labels,
        version_path=directive.version_path,
        depends_on=directive.depends_on,
        **template_args,
    )
    config.print_stdout(f"  Generating {written.path} ... done")
    return written


def _import_lines(template_args: dict[str, Any]) -> list[str]:
    existing = template_args.get("imports") or ""
    return [line for line in str(existing).splitlines() if line.strip()]


# -- check ------------------------------------------------------------------------------------


def check(config: Config, offline: bool = False, as_json: bool = False) -> None:
    """Exit 1 (:class:`CheckFailed`) when the models and the database differ.

    ``offline``: compare the models with the schema the migration history
    builds (no database is needed: env.py runs in offline mode).
    """
    from limbeck.runtime.commands import _run
    from limbeck.scripts.directory import ScriptDirectory

    script = ScriptDirectory.from_config(config)
    collector = _Collector()

    def fn(heads: tuple[str, ...], context: MigrationContext) -> list[RunStep]:
        run = _Run(context, tuple(heads))
        metadata = context.opts.get("target_metadata")
        if offline:
            from limbeck.autogenerate._history import schema_from_history

            old = schema_from_history(script, context)
            run.upgrade_ops, run.comparison = upgrade_ops_for(context, metadata, old=old)
        else:
            _require_heads(script, run.heads)
            run.upgrade_ops, run.comparison = upgrade_ops_for(context, metadata)
        collector.runs.append(run)
        return []

    opts: dict[str, Any] = {"dont_mutate": True}
    if offline:
        opts["as_sql"] = True
        opts["output_buffer"] = io.StringIO()
    _run(config, script, fn, **opts)
    if not collector.runs:
        raise LimbeckError(
            "env.py did not call context.run_migrations(), so nothing was compared",
            hint="check env.py runs context.run_migrations()",
        )
    lines: list[str] = []
    warnings: list[str] = []
    for run in collector.runs:
        assert run.upgrade_ops is not None and run.comparison is not None
        lines.extend(describe(run.upgrade_ops))
        warnings.extend(run.comparison.warnings)
    against = "the migration history" if offline else "the database"
    if as_json:
        diffs = [{"change": line, "kind": line.split(" ", 1)[0]} for line in lines]
        config.stdout.write(
            json.dumps({"differences": diffs, "warnings": warnings, "against": against}, indent=2)
            + "\n"
        )
    else:
        for warning in warnings:
            config.print_stdout(f"WARNING: {warning}")
        if lines:
            config.print_stdout(f"The models differ from {against}:")
            for line in lines:
                config.print_stdout(f"  - {line}")
        else:
            config.print_stdout(f"No differences: the models match {against}.")
    if lines:
        raise CheckFailed(
            f"{len(lines)} difference{'s' if len(lines) != 1 else ''} between the models "
            f"and {against}",
            hint="run `limbeck revision --autogenerate -m ...` to write a migration",
        )
