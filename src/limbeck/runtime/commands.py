"""The commands that need the database: upgrade, downgrade, stamp, current,
ensure-version, ``history --applied``; each runs env.py with a work
function that turns the database's heads into steps."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from limbeck.errors import CheckFailed, LimbeckError, RevisionError
from limbeck.graph import (
    DowngradeTarget,
    Step,
    downgrade_plan,
    split_range,
    stamp_heads,
    upgrade_plan,
)
from limbeck.runtime.environment import EnvironmentContext, run_env
from limbeck.runtime.migration import MigrationContext, RunStep, masked_url
from limbeck.scripts.directory import ScriptDirectory

if TYPE_CHECKING:
    from limbeck.config import Config

WorkFn = Callable[[tuple[str, ...], MigrationContext], list[RunStep]]


def _run(config: Config, script: ScriptDirectory, fn: WorkFn, **opts: Any) -> None:
    with EnvironmentContext(config, script, fn=fn, **opts):
        run_env(script, config)


def _command_opts(
    config: Config, *, lock_timeout: float | None = None, accept_changed: bool = False
) -> dict[str, Any]:
    """Run options from the arguments, else from the parsed command line."""
    cmd = config.cmd_opts
    opts: dict[str, Any] = {}
    timeout = lock_timeout if lock_timeout is not None else getattr(cmd, "lock_timeout", None)
    if timeout is not None:
        opts["lock_timeout"] = timeout
    if accept_changed or getattr(cmd, "accept_changed", False):
        opts["accept_changed"] = True
    return opts


def _split_sql_range(revision: str, sql: bool, command: str) -> tuple[str | None, str]:
    if ":" not in revision:
        return None, revision
    if not sql:
        raise RevisionError(
            f"{command} {revision!r}: a range is only allowed with --sql",
            hint=f"online, give just the target: limbeck {command} {revision.split(':')[-1]}",
        )
    start, end = split_range(revision)
    return start, end or "heads"


def _precheck(script: ScriptDirectory, target: str) -> None:
    """Resolve a target that does not depend on the database before
    connecting, so a typo fails fast."""
    resolver = script.resolver()
    try:
        resolver.resolve(target)
    except RevisionError as exc:
        if "relative to the database" in exc.message:
            return
        raise


def upgrade(
    config: Config,
    revision: str,
    sql: bool = False,
    tag: str | None = None,
    accept_changed: bool = False,
    lock_timeout: float | None = None,
) -> None:
    script = ScriptDirectory.from_config(config)
    starting_rev, destination = _split_sql_range(revision, sql, "upgrade")
    _precheck(script, destination)
    if starting_rev not in (None, "base"):
        assert starting_rev is not None
        _precheck(script, starting_rev)

    def fn(heads: tuple[str, ...], context: MigrationContext) -> list[RunStep]:
        resolver = script.resolver(lambda: heads)
        if destination.startswith("-"):
            raise RevisionError(
                f"upgrade {destination!r} points downward", hint="use `limbeck downgrade`"
            )
        targets = resolver.upgrade_destinations(destination)
        steps = upgrade_plan(script.graph, heads, targets)
        if not steps and context.as_sql and heads:
            below = script.graph.ancestors(heads, inclusive=False)
            if targets and all(target in below for target in targets):
                # `upgrade --sql c:a` with a below c would write an empty script.
                raise RevisionError(
                    f"upgrade --sql {revision}: {destination} is below {', '.join(heads)}",
                    hint=f"use `limbeck downgrade --sql {revision}`",
                )
        return [RunStep(step, "upgrade") for step in steps]

    opts = _command_opts(config, lock_timeout=lock_timeout, accept_changed=accept_changed)
    _run(
        config,
        script,
        fn,
        as_sql=sql,
        starting_rev=starting_rev,
        destination_rev=destination,
        tag=tag,
        **opts,
    )


def downgrade(
    config: Config,
    revision: str,
    sql: bool = False,
    tag: str | None = None,
    lock_timeout: float | None = None,
) -> None:
    script = ScriptDirectory.from_config(config)
    if sql and ":" not in revision:
        raise RevisionError(
            "downgrade --sql needs a range from:to",
            hint="e.g. limbeck downgrade --sql head:base (offline there is no database to ask)",
        )
    starting_rev, destination = _split_sql_range(revision, sql, "downgrade")
    if destination not in ("base",) and not destination.startswith("-"):
        _precheck(
            script, destination.split("@")[0] if destination.endswith("@base") else destination
        )

    def fn(heads: tuple[str, ...], context: MigrationContext) -> list[RunStep]:
        resolver = script.resolver(lambda: heads)
        target: DowngradeTarget = resolver.downgrade_target(destination)
        steps = downgrade_plan(script.graph, heads, target)
        return [RunStep(step, "downgrade") for step in steps]

    opts = _command_opts(config, lock_timeout=lock_timeout)
    _run(
        config,
        script,
        fn,
        as_sql=sql,
        starting_rev=starting_rev,
        destination_rev=destination,
        tag=tag,
        **opts,
    )


def stamp(
    config: Config,
    revision: str | Sequence[str],
    sql: bool = False,
    tag: str | None = None,
    purge: bool = False,
) -> None:
    script = ScriptDirectory.from_config(config)
    targets = [revision] if isinstance(revision, str) else list(revision)
    if purge and sql:
        raise LimbeckError("stamp --purge cannot run with --sql", hint="drop --purge offline")
    starting_rev: str | None = None
    if sql and len(targets) == 1 and ":" in targets[0]:
        start, end = split_range(targets[0])
        starting_rev, targets = start, [end or "heads"]
    for target in targets:
        if target != "base":
            _precheck(script, target)

    def fn(heads: tuple[str, ...], context: MigrationContext) -> list[RunStep]:
        resolver = script.resolver(lambda: heads)
        wanted = resolver.stamp_target(targets)
        after = stamp_heads(script.graph, heads, wanted.revisions, cleared=wanted.cleared)
        unchanged = tuple(sorted(after)) == tuple(sorted(heads))
        connection = context.connection
        # A stamp to where the rows already are still clears a dirty state.
        dirty = connection is not None and context.store.dirty(connection) is not None
        if unchanged and not dirty:
            return []
        return [RunStep(Step("", True, heads, after), "stamp")]

    fn.allow_dirty = True  # type: ignore[attr-defined]  # stamping is how a dirty database is repaired
    _run(
        config,
        script,
        fn,
        as_sql=sql,
        starting_rev=starting_rev,
        destination_rev=targets,
        tag=tag,
        purge=purge,
    )


class _Snapshot:
    """What a read-only visit to the database found."""

    def __init__(self) -> None:
        self.heads: tuple[str, ...] = ()
        self.dirty: Any = None
        self.in_progress: Any = None
        self.entries: list[Any] = []
        self.url: str = "<unknown>"


def _inspect(config: Config, script: ScriptDirectory, *, ledger: bool = False) -> _Snapshot:
    snapshot = _Snapshot()

    def fn(heads: tuple[str, ...], context: MigrationContext) -> list[RunStep]:
        snapshot.heads = heads
        connection = context.connection
        if connection is not None:
            snapshot.url = masked_url(connection.engine.url)
            dirty = context.store.dirty(connection)
            if dirty is not None and dirty.outcome == "running" and not context.lock_is_free():
                # Another run is in the middle of that step right now.
                snapshot.in_progress = dirty
                dirty = None
            snapshot.dirty = dirty
            if ledger:
                snapshot.entries = context.store.entries(connection)
        return []

    fn.allow_dirty = True  # type: ignore[attr-defined]
    _run(config, script, fn, dont_mutate=True)
    return snapshot


def read_current_heads(config: Config, script: ScriptDirectory) -> tuple[str, ...]:
    """The database's version rows (runs env.py, changes nothing)."""
    return _inspect(config, script).heads


def current(
    config: Config, verbose: bool = False, check_heads: bool = False, as_json: bool = False
) -> None:
    from limbeck.command import _flags, _log_entry

    script = ScriptDirectory.from_config(config)
    snapshot = _inspect(config, script)
    graph = script.graph
    heads = snapshot.heads
    known = [head for head in heads if head in graph]
    unknown = [head for head in heads if head not in graph]
    at_heads = set(heads) == set(graph.effective_heads)
    if as_json:
        dirty = snapshot.dirty.as_dict() if snapshot.dirty is not None else None
        config.stdout.write(
            json.dumps(
                {
                    "heads": list(heads),
                    "unknown": unknown,
                    "at_heads": at_heads,
                    "script_heads": list(graph.effective_heads),
                    "dirty": dirty,
                    "in_progress": snapshot.in_progress.as_dict()
                    if snapshot.in_progress is not None
                    else None,
                },
                indent=2,
            )
            + "\n"
        )
    else:
        if verbose:
            config.print_stdout(f"Current revision(s) for {snapshot.url}:")
        for head in known:
            if verbose:
                config.print_stdout(_log_entry(graph, head))
            else:
                config.print_stdout(f"{head} {' '.join(_flags(graph, head))}".rstrip())
        for head in unknown:
            config.print_stdout(f"{head} (not in the revision files)")
        if snapshot.in_progress is not None:
            entry = snapshot.in_progress
            config.print_stdout(
                f"in progress: another run is applying {entry.revision} ({entry.direction})"
            )
        if snapshot.dirty is not None:
            entry = snapshot.dirty
            state = "was interrupted" if entry.outcome == "running" else "failed partway"
            config.print_stdout(
                f"DIRTY: {entry.direction} of {entry.revision} {state} "
                f"(ledger entry {entry.id}); repair, then `limbeck stamp <revision>`"
            )
    if check_heads and (not at_heads or snapshot.dirty is not None):
        raise CheckFailed(
            "the database is not at the head revisions: at "
            + (", ".join(heads) or "base")
            + "; heads are "
            + (", ".join(graph.effective_heads) or "none")
            + (" (and it is dirty)" if snapshot.dirty is not None else ""),
            hint="run `limbeck upgrade heads`",
        )


def history_applied(config: Config, as_json: bool = False) -> None:
    script = ScriptDirectory.from_config(config)
    snapshot = _inspect(config, script, ledger=True)
    if as_json:
        config.stdout.write(json.dumps([e.as_dict() for e in snapshot.entries], indent=2) + "\n")
        return
    for entry in snapshot.entries:
        when = entry.started_at.strftime("%Y-%m-%d %H:%M:%S") if entry.started_at else "?"
        duration = f"{entry.duration_ms:.0f} ms" if entry.duration_ms is not None else "-"
        config.print_stdout(
            f"{entry.id:>5} {when} {entry.direction:<9} {entry.revision:<14} "
            f"{entry.outcome:<9} {duration:>9}  {entry.run_by or ''}"
        )
        if entry.message and entry.outcome in ("failed", "partial", "accepted"):
            for line in entry.message.splitlines():
                config.print_stdout(f"      {line}")
        if entry.statements:
            config.print_stdout("      statements that ran before the failure:")
            for statement in entry.statements:
                config.print_stdout("        " + " ".join(statement.split()))


def ensure_version(config: Config, sql: bool = False) -> None:
    script = ScriptDirectory.from_config(config)

    def fn(heads: tuple[str, ...], context: MigrationContext) -> list[RunStep]:
        if context.as_sql:
            context._offline_create_version_table()
        return []

    fn.allow_dirty = True  # type: ignore[attr-defined]
    _run(config, script, fn, as_sql=sql)


def run_env_for_revision(config: Config, script: ScriptDirectory) -> None:
    """``revision_environment = true``: run env.py without migrating."""

    def fn(heads: tuple[str, ...], context: MigrationContext) -> list[RunStep]:
        return []

    fn.allow_dirty = True  # type: ignore[attr-defined]
    _run(config, script, fn, dont_mutate=True)
