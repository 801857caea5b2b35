"""The Python API, with Alembic's command names.

``limbeck.command.upgrade(config, "head")`` and friends: each takes a
:class:`~limbeck.config.Config` first and the same options as the command
line. The parameters Alembic 1.20's ``alembic.command`` functions have come
in Alembic's order with Alembic's defaults, so positional calls written for
Alembic mean the same here; limbeck's own additions (``as_json``, the CLI's
``--json``; ``applied``, ``offline``, ``rename``) are keyword-only and come
last. Errors are :class:`~limbeck.errors.LimbeckError` subclasses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from limbeck.config import Config
from limbeck.errors import LimbeckError, RevisionError, ScriptError
from limbeck.scripts.directory import Script, ScriptDirectory

# json, shutil, subprocess and typing are imported where they are used:
# `heads` and `history` should start fast. (mypy treats this name as
# typing.TYPE_CHECKING.)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from limbeck.graph import RevisionGraph

__all__ = [
    "branches",
    "check",
    "current",
    "downgrade",
    "edit",
    "ensure_version",
    "heads",
    "history",
    "init",
    "list_templates",
    "merge",
    "revision",
    "show",
    "stamp",
    "upgrade",
]


# -- init -----------------------------------------------------------------------------


def list_templates(config: Config) -> None:
    """Print the templates ``init`` can use, with the first line of each README."""
    root = config.get_template_directory()
    config.print_stdout("Available templates:\n")
    for name in sorted(os.listdir(root)):
        readme = os.path.join(root, name, "README")
        if not os.path.isfile(readme):
            continue
        with open(readme, encoding="utf-8") as handle:
            summary = handle.readline().strip()
        config.print_stdout(f"{name} - {summary}")
    config.print_stdout("\nTemplates are used via the 'init' command, e.g.:")
    config.print_stdout("\n  limbeck init --template generic ./scripts")


def init(config: Config, directory: str, template: str = "generic", package: bool = False) -> None:
    """Create a migration environment in ``directory`` from ``template``.

    Writes ``limbeck.ini`` beside the configuration path (unless it exists)
    and, for the pyproject templates, ``[tool.limbeck]`` in pyproject.toml.
    """
    source = os.path.join(config.get_template_directory(), template)
    if not os.path.isdir(source):
        raise ScriptError(
            f"no template named {template!r}",
            hint="`limbeck list-templates` shows them",
        )
    if os.path.exists(directory) and os.listdir(directory):
        raise ScriptError(
            f"directory {directory} already exists and is not empty",
            hint="choose a new directory for the migration environment",
        )
    ini_path = config.config_file_name or "limbeck.ini"
    ini_dir = os.path.dirname(os.path.abspath(ini_path))
    relative = os.path.relpath(os.path.abspath(directory), ini_dir)
    location = "%(here)s/" + relative.replace(os.sep, "/")
    os.makedirs(os.path.join(directory, "versions"), exist_ok=True)
    for name in sorted(os.listdir(source)):
        if name in ("limbeck.ini", "pyproject.toml") or name == "__pycache__":
            continue
        import shutil

        shutil.copyfile(os.path.join(source, name), os.path.join(directory, name))
        config.print_stdout(
            f"  Generating {os.path.abspath(os.path.join(directory, name))} ... done"
        )
    if package:
        for folder in (directory, os.path.join(directory, "versions")):
            open(os.path.join(folder, "__init__.py"), "a").close()
    _write_init_config(config, source, ini_path, location)
    config.print_stdout(
        f"Please edit {os.path.abspath(ini_path)} (the database URL) and "
        f"{os.path.abspath(os.path.join(directory, 'env.py'))} (target_metadata) before going on."
    )


def _write_init_config(config: Config, source: str, ini_path: str, location: str) -> None:
    toml_template = os.path.join(source, "pyproject.toml")
    with open(os.path.join(source, "limbeck.ini"), encoding="utf-8") as handle:
        ini_text = handle.read().replace("@@SCRIPT_LOCATION@@", location)
    if os.path.exists(ini_path):
        config.print_stdout(f"  {os.path.abspath(ini_path)} already exists, left as it is")
    else:
        with open(ini_path, "w", encoding="utf-8") as handle:
            handle.write(ini_text)
        config.print_stdout(f"  Generating {os.path.abspath(ini_path)} ... done")
    if os.path.isfile(toml_template):
        project = os.path.join(os.path.dirname(os.path.abspath(ini_path)), "pyproject.toml")
        with open(toml_template, encoding="utf-8") as handle:
            table = handle.read().replace("@@SCRIPT_LOCATION@@", location)
        existing = ""
        if os.path.exists(project):
            with open(project, encoding="utf-8") as handle:
                existing = handle.read()
        if "[tool.limbeck]" in existing:
            config.print_stdout(f"  {project} already has [tool.limbeck], left as it is")
            return
        with open(project, "a", encoding="utf-8") as handle:
            handle.write(("\n" if existing and not existing.endswith("\n\n") else "") + table)
        config.print_stdout(f"  Writing [tool.limbeck] to {project} ... done")


# -- revisions --------------------------------------------------------------------------


def _script_directory(config: Config) -> ScriptDirectory:
    return ScriptDirectory.from_config(config)


def revision(
    config: Config,
    message: str | None = None,
    autogenerate: bool = False,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | Sequence[str] | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    depends_on: str | Sequence[str] | None = None,
    process_revision_directives: Callable[..., Any] | None = None,
    *,
    rename: Sequence[str] | None = None,
) -> Script | list[Script]:
    """Create a new revision file (``autogenerate`` compares models and
    database first). Returns the new :class:`Script`."""
    if autogenerate or sql or process_revision_directives is not None:
        from limbeck.runtime import revision_with_environment

        return revision_with_environment(
            config,
            message=message,
            autogenerate=autogenerate,
            sql=sql,
            head=head,
            splice=splice,
            branch_label=branch_label,
            version_path=version_path,
            rev_id=rev_id,
            depends_on=depends_on,
            process_revision_directives=process_revision_directives,
            rename=rename,
        )
    from limbeck.scripts.write import generate_revision

    directory = _script_directory(config)
    if config.get_bool_option("revision_environment"):
        from limbeck.runtime import run_env_for_revision

        run_env_for_revision(config, directory)
    script = generate_revision(
        directory,
        rev_id,
        message,
        head=head,
        splice=splice,
        branch_labels=branch_label,
        version_path=version_path,
        depends_on=depends_on,
    )
    config.print_stdout(f"  Generating {script.path} ... done")
    return script


def merge(
    config: Config,
    revisions: str | Sequence[str],
    message: str | None = None,
    branch_label: str | Sequence[str] | None = None,
    rev_id: str | None = None,
    splice: bool = False,
) -> Script:
    """Create a revision joining ``revisions`` (``heads`` joins them all).

    A revision that is not a head (it has children) is refused unless
    ``splice`` is true, as in Alembic."""
    from limbeck.scripts.write import generate_revision

    directory = _script_directory(config)
    targets = [revisions] if isinstance(revisions, str) else list(revisions)
    resolver = directory.resolver()
    parents: list[str] = []
    for target in targets:
        parents.extend(resolver.resolve(target))
    parents = list(dict.fromkeys(parents))
    if len(parents) < 2:
        raise RevisionError(
            "a merge needs at least two revisions, got " + (", ".join(parents) or "none"),
            hint="`limbeck heads` lists what there is to merge",
        )
    script = generate_revision(
        directory,
        rev_id,
        message,
        head=parents,
        splice=splice,
        branch_labels=branch_label,
    )
    config.print_stdout(f"  Generating {script.path} ... done")
    return script


# -- informational -------------------------------------------------------------------


def _flags(graph: RevisionGraph, key: str, current: tuple[str, ...] = ()) -> list[str]:
    labels = graph.labels(key)
    flags = [f"({label})" for label in sorted(labels)] if labels else []
    if not graph.children(key):
        # A head that another revision depends on gets no version row of its
        # own once that revision is applied: say so, as the JSON does.
        flags.append("(head)" if not graph.dependents(key) else "(head) (dependency)")
    if key in current:
        flags.append("(current)")
    if graph.is_branch_point(key):
        flags.append("(branchpoint)")
    if graph.is_merge_point(key):
        flags.append("(mergepoint)")
    return flags


def _short_line(graph: RevisionGraph, key: str, current: tuple[str, ...] = ()) -> str:
    # parents() and doc() rather than get(): no Revision object per line.
    down_revisions = graph.parents(key)
    parents = ", ".join(down_revisions) if down_revisions else "<base>"
    flags = " ".join(_flags(graph, key, current))
    return f"{parents} -> {key}{' ' + flags if flags else ''}, {graph.doc(key)}"


def _log_entry(graph: RevisionGraph, key: str, current: tuple[str, ...] = ()) -> str:
    rev = graph.get(key)
    lines = [f"Rev: {key} {' '.join(_flags(graph, key, current))}".rstrip()]
    if graph.is_merge_point(key):
        lines.append("Merges: " + ", ".join(rev.down_revisions))
    else:
        lines.append("Parent: " + (rev.down_revisions[0] if rev.down_revisions else "<base>"))
    deps = graph.dependencies(key)
    if deps:
        lines.append("Also depends on: " + ", ".join(deps))
    if graph.is_branch_point(key):
        lines.append("Branches into: " + ", ".join(graph.children(key)))
    if graph.labels(key):
        lines.append("Branch names: " + ", ".join(sorted(graph.labels(key))))
    lines.append(f"Path: {rev.path}")
    lines.append("")
    body = rev.longdoc.strip() or rev.doc
    lines.extend(("    " + line).rstrip() for line in body.splitlines())
    lines.append("")
    return "\n".join(lines)


def _as_dict(graph: RevisionGraph, key: str, current: tuple[str, ...] = ()) -> dict[str, Any]:
    rev = graph.get(key)
    return {
        "revision": key,
        "down_revisions": list(rev.down_revisions),
        "depends_on": list(graph.dependencies(key)),
        "branch_labels": sorted(graph.labels(key)),
        "children": list(graph.children(key)),
        "is_head": not graph.children(key),
        "is_effective_head": not graph.children(key) and not graph.dependents(key),
        "is_base": not rev.down_revisions,
        "is_branch_point": graph.is_branch_point(key),
        "is_merge_point": graph.is_merge_point(key),
        "is_current": key in current,
        "message": rev.doc,
        "path": rev.path,
    }


def _emit_json(config: Config, value: Any) -> None:
    import json

    config.stdout.write(json.dumps(value, indent=2) + "\n")


def _report_imported(config: Config, directory: ScriptDirectory, verbose: bool) -> None:
    if verbose:
        for path in directory.imported_headers:
            config.print_stdout(f"note: {path} was imported to read its header (not literals)")


def heads(
    config: Config,
    verbose: bool = False,
    resolve_dependencies: bool = False,
    *,
    as_json: bool = False,
) -> None:
    """Print the head revisions."""
    directory = _script_directory(config)
    graph = directory.graph
    keys = graph.effective_heads if resolve_dependencies else graph.heads
    if as_json:
        _emit_json(config, [_as_dict(graph, key) for key in keys])
        return
    _report_imported(config, directory, verbose)
    for key in keys:
        if verbose:
            config.print_stdout(_log_entry(graph, key))
        else:
            config.print_stdout(f"{key} {' '.join(_flags(graph, key))}".rstrip())


def branches(config: Config, verbose: bool = False, *, as_json: bool = False) -> None:
    """Print every branch point and the branches leaving it."""
    directory = _script_directory(config)
    graph = directory.graph
    points = graph.branch_points
    if as_json:
        _emit_json(
            config,
            [{**_as_dict(graph, key), "branches": list(graph.children(key))} for key in points],
        )
        return
    for key in points:
        if verbose:
            config.print_stdout(_log_entry(graph, key))
        else:
            config.print_stdout(_short_line(graph, key))
        for child in graph.children(key):
            flags = "".join(" " + flag for flag in _flags(graph, child))
            config.print_stdout(f"{' ' * len(key)} -> {child}{flags}, {graph.get(child).doc}")


def history(
    config: Config,
    rev_range: str | None = None,
    verbose: bool = False,
    indicate_current: bool = False,
    *,
    as_json: bool = False,
    applied: bool = False,
) -> None:
    """Print revisions newest first, optionally within ``rev_range``
    (``start:end``, either side optional); ``applied`` prints the
    database's ledger instead."""
    from limbeck.graph import revisions_between, split_range

    if applied:
        from limbeck.runtime import commands

        commands.history_applied(config, as_json=as_json)
        return

    directory = _script_directory(config)
    graph = directory.graph
    start: str | None = None
    end: str | None = None
    if rev_range:
        start, end = split_range(rev_range) if ":" in rev_range else (rev_range, None)
        start, end = _anchor_relative_ends(start, end)
        rev_range = f"{start or ''}:{end or ''}"
    needs_db = indicate_current or (rev_range is not None and _range_needs_db(rev_range))
    current = _current_heads(config, directory) if needs_db else None
    resolver = directory.resolver((lambda: current) if current is not None else None)
    lower: tuple[str, ...] | None = None
    upper: tuple[str, ...] | None = None
    if rev_range:
        if start is not None and start != "base":
            lower = resolver.resolve(start)
        if end is not None and end != "heads":
            upper = resolver.resolve(end)
    keys = revisions_between(graph, lower, upper)
    shown_current = current if indicate_current and current is not None else ()
    if as_json:
        _emit_json(config, [_as_dict(graph, key, shown_current) for key in keys])
        return
    _report_imported(config, directory, verbose)
    lines = [
        _log_entry(graph, key, shown_current) if verbose else _short_line(graph, key, shown_current)
        for key in keys
    ]
    if lines:
        config.print_stdout("\n".join(lines))


def _is_bare_relative(part: str | None) -> bool:
    return part is not None and part[:1] in "+-" and part[1:].isdigit()


def _anchor_relative_ends(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """Read a bare ``-N`` start as counted down from the range's end (the
    heads when it is open) and a bare ``+N`` end as counted up from its
    start, as Alembic's ``history`` does: ``-1:head`` is the last two
    entries whatever the database holds, ``abc:+1`` is ``abc`` and the one
    after it."""
    counts_down = start is not None and start.startswith("-") and _is_bare_relative(start)
    if counts_down and not _is_bare_relative(end):
        start = f"{end or 'heads'}{start}"
    counts_up = end is not None and end.startswith("+") and _is_bare_relative(end)
    if counts_up and start is not None and not _is_bare_relative(start):
        end = f"{start}{end}"
    return start, end


def _range_needs_db(rev_range: str) -> bool:
    parts = rev_range.split(":")
    return any(
        part == "current" or (part[:1] in "+-" and part[1:].isdigit()) for part in parts if part
    )


def _current_heads(config: Config, directory: ScriptDirectory) -> tuple[str, ...]:
    from limbeck.runtime import read_current_heads

    return read_current_heads(config, directory)


def show(config: Config, rev: str, *, as_json: bool = False) -> None:
    """Print the full entry of one or more revisions (``current``, labels,
    ``heads`` and partial ids work)."""
    directory = _script_directory(config)
    current_source = (lambda: _current_heads(config, directory)) if rev == "current" else None
    keys = directory.resolver(current_source).resolve(rev)
    graph = directory.graph
    if as_json:
        _emit_json(config, [_as_dict(graph, key) for key in keys])
        return
    for key in keys:
        config.print_stdout(_log_entry(graph, key))


def edit(config: Config, rev: str) -> None:
    """Open the file of ``rev`` in $EDITOR (then $VISUAL, then a common editor)."""
    directory = _script_directory(config)
    current_source = (lambda: _current_heads(config, directory)) if rev == "current" else None
    keys = directory.resolver(current_source).resolve(rev)
    if not keys:
        raise RevisionError(f"{rev!r} names no revision file", hint="give a revision id")
    import shlex
    import shutil
    import subprocess

    editor = os.environ.get("EDITOR") or os.environ.get("VISUAL")
    if not editor:
        for candidate in ("sensible-editor", "editor", "nano", "vim", "vi", "code"):
            if shutil.which(candidate):
                editor = candidate
                break
    if not editor:
        raise LimbeckError(
            "no editor found", hint="set the EDITOR environment variable, e.g. EDITOR=nano"
        )
    for key in keys:
        path = directory.graph.get(key).path or ""
        completed = subprocess.run([*shlex.split(editor), path], check=False)
        if completed.returncode != 0:
            raise LimbeckError(f"editor {editor!r} exited with code {completed.returncode}")


# -- commands that need the database (limbeck.runtime) -------------------------------------


def upgrade(
    config: Config,
    revision: str,
    sql: bool = False,
    tag: str | None = None,
    *,
    accept_changed: bool = False,
    lock_timeout: float | None = None,
) -> None:
    """Upgrade the database to ``revision`` (``head``, ``heads``, ``+1`` ...).

    ``accept_changed`` records applied revisions whose code changed instead
    of refusing; ``lock_timeout`` bounds the wait for the migration lock."""
    from limbeck.runtime import commands

    commands.upgrade(
        config,
        revision,
        sql=sql,
        tag=tag,
        accept_changed=accept_changed,
        lock_timeout=lock_timeout,
    )


def downgrade(
    config: Config,
    revision: str,
    sql: bool = False,
    tag: str | None = None,
    *,
    lock_timeout: float | None = None,
) -> None:
    """Downgrade the database to ``revision`` (``-1``, ``base``, an id ...);
    ``lock_timeout`` bounds the wait for the migration lock."""
    from limbeck.runtime import commands

    commands.downgrade(config, revision, sql=sql, tag=tag, lock_timeout=lock_timeout)


def stamp(
    config: Config,
    revision: str | Sequence[str],
    sql: bool = False,
    tag: str | None = None,
    purge: bool = False,
) -> None:
    """Record ``revision`` in the version table without running migrations."""
    from limbeck.runtime import commands

    commands.stamp(config, revision, sql=sql, tag=tag, purge=purge)


def current(
    config: Config, check_heads: bool = False, verbose: bool = False, *, as_json: bool = False
) -> None:
    """Print the database's current revision(s); with ``check_heads``, fail
    unless the database is at the script's heads."""
    from limbeck.runtime import commands

    commands.current(config, verbose=verbose, check_heads=check_heads, as_json=as_json)


def check(config: Config, *, offline: bool = False, as_json: bool = False) -> None:
    """Exit 1 when the models differ from the database (``offline``: from the
    schema the migration history builds, no database needed)."""
    from limbeck.autogenerate._command import check as run_check

    run_check(config, offline=offline, as_json=as_json)


def ensure_version(config: Config, sql: bool = False) -> None:
    """Create the version table if it is missing."""
    from limbeck.runtime import commands

    commands.ensure_version(config, sql=sql)
