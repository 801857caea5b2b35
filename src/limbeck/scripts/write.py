"""Writing new revision files from the environment's ``script.py.mako``.

The file is rendered in memory and moved into place in one step, so an
error (a template bug, an unwritable directory) leaves nothing behind.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import tempfile
import uuid
from collections.abc import Sequence
from typing import Any

from limbeck.errors import ConfigError, RevisionError, ScriptError
from limbeck.scripts.directory import Script, ScriptDirectory
from limbeck.scripts.hooks import check_hooks, run_hooks

_FORBIDDEN_ID_CHARS = re.compile(r"[@\-+:\s/\\]")
#: Words the target grammar reads itself; an id or label spelled so is unreachable.
_RESERVED_NAMES = frozenset({"head", "heads", "base", "current"})
#: A branch label: no @ : + or spaces (they mean something in targets), no path.
_FORBIDDEN_LABEL_CHARS = re.compile(r"[@:+\s/\\]")


def new_rev_id() -> str:
    return uuid.uuid4().hex[-12:]


def slugify(message: str | None, length: int) -> str:
    """Lower-case words joined by ``_``, cut at a word boundary."""
    words = re.findall(r"[a-z0-9]+", (message or "").lower())
    slug = ""
    for word in words:
        candidate = f"{slug}_{word}" if slug else word
        if len(candidate) > length:
            if not slug:
                slug = word[:length]
            break
        slug = candidate
    return slug


def format_as_comma(value: str | Sequence[str] | None) -> str:
    """The ``comma`` filter templates use: ``a, b`` for a tuple."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return ", ".join(value)


def _now(timezone: str | None) -> _dt.datetime:
    if not timezone:
        return _dt.datetime.now()
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    except ImportError:  # pragma: no cover
        raise ConfigError("timezone needs Python's zoneinfo module") from None
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown timezone {timezone!r}",
            hint="use an IANA name such as Europe/Paris (pip install tzdata on Windows)",
        ) from None
    return _dt.datetime.now(tz=zone)


def file_name(
    directory: ScriptDirectory, rev_id: str, message: str | None, when: _dt.datetime
) -> str:
    tokens = {
        "rev": rev_id,
        "slug": slugify(message, directory.truncate_slug_length),
        "epoch": int(when.timestamp()),
        "year": when.year,
        "month": when.month,
        "day": when.day,
        "hour": when.hour,
        "minute": when.minute,
        "second": when.second,
    }
    template = directory.file_template.replace("%%", "%")
    try:
        name = template % tokens
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"file_template {directory.file_template!r} is invalid: {exc}",
            hint="tokens: %%(rev)s %%(slug)s %%(epoch)s %%(year)d %%(month).2d %%(day).2d "
            "%%(hour).2d %%(minute).2d %%(second).2d",
        ) from None
    return name.rstrip("_") + ".py" if name.endswith("_") else name + ".py"


def render_template(template_path: str, **values: Any) -> str:
    if not os.path.isfile(template_path):
        raise ScriptError(
            f"revision template {template_path} does not exist",
            hint="restore script.py.mako in the script directory (see `limbeck init`)",
        )
    from mako.exceptions import MakoException, text_error_template
    from mako.template import Template

    try:
        template = Template(filename=template_path)
        return str(template.render_unicode(**values))
    except MakoException as exc:
        raise ScriptError(f"template {template_path} is invalid: {exc}") from None
    except Exception as exc:
        detail = text_error_template().render().strip().splitlines()
        raise ScriptError(
            f"rendering {template_path} failed: {type(exc).__name__}: {exc}",
            hint=detail[-2].strip() if len(detail) > 1 else None,
        ) from None


def write_atomically(path: str, text: str, encoding: str) -> None:
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".limbeck-", suffix=".tmp")
    except OSError as exc:
        raise ScriptError(
            f"cannot write to versions directory {folder}: {exc.strerror}",
            hint="check its permissions, or set version_locations / --version-path",
        ) from None
    try:
        with os.fdopen(handle, "w", encoding=encoding) as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        os.unlink(temporary)
        raise ScriptError(f"cannot write {path}: {exc.strerror}") from None


def check_rev_id(directory: ScriptDirectory, rev_id: str) -> None:
    if (
        not rev_id
        or _FORBIDDEN_ID_CHARS.search(rev_id)
        or rev_id.lower() in _RESERVED_NAMES
        or rev_id.startswith(".")
    ):
        raise RevisionError(
            f"revision id {rev_id!r} is not allowed",
            hint="ids may not be empty, be head, heads, base or current, start with a dot, "
            "or contain @ - + : / \\ or spaces",
        )
    if rev_id in directory.graph:
        raise RevisionError(
            f"revision id {rev_id!r} already exists ({directory.graph.get(rev_id).path})",
            hint="choose another --rev-id",
        )


def generate_revision(
    directory: ScriptDirectory,
    rev_id: str | None,
    message: str | None,
    *,
    head: str | Sequence[str] | None = None,
    splice: bool = False,
    branch_labels: str | Sequence[str] | None = None,
    version_path: str | None = None,
    depends_on: str | Sequence[str] | None = None,
    run_hooks_after: bool = True,
    **template_args: Any,
) -> Script:
    """Write a new revision file and return it.

    ``head`` is where the revision goes (default ``head``; ``base`` for a
    new root; a tuple for a merge). A head that is not a current head
    needs ``splice``.
    """
    graph = directory.graph
    rev_id = new_rev_id() if rev_id is None else rev_id
    check_rev_id(directory, rev_id)
    resolver = directory.resolver()
    heads_given = [head] if isinstance(head, str) else list(head or [])
    if heads_given == ["head"]:
        heads_given = []
    if not heads_given:
        if len(graph.heads) > 1:
            raise RevisionError(
                f"there are {len(graph.heads)} heads ({', '.join(graph.heads)})",
                hint="say which with --head (e.g. --head <id> or --head <label>@head), "
                "or join them first with `limbeck merge heads`",
            )
        heads_given = ["head"] if graph.heads else ["base"]
    parents: list[str] = []
    for target in heads_given:
        parents.extend(resolver.resolve(target))
    parents = list(dict.fromkeys(parents))
    if not splice:
        for parent in parents:
            if graph.children(parent):
                raise RevisionError(
                    f"{parent!r} is not a head: it already has children "
                    f"({', '.join(graph.children(parent))})",
                    hint="use --splice to branch from it on purpose",
                )
    labels = [branch_labels] if isinstance(branch_labels, str) else list(branch_labels or [])
    declared = graph.declared_labels()
    for label in labels:
        if not label or _FORBIDDEN_LABEL_CHARS.search(label) or label.lower() in _RESERVED_NAMES:
            raise RevisionError(
                f"branch label {label!r} is not allowed",
                hint="labels may not be empty, be head, heads, base or current, "
                "or contain @ + : / \\ or spaces",
            )
        if label in declared:
            raise RevisionError(
                f"branch label {label!r} already exists (declared by {declared[label]})",
                hint="choose another --branch-label",
            )
    deps = _resolve_depends_on(directory, depends_on)
    folder = _choose_folder(directory, parents, version_path)
    when = _now(directory.timezone)
    path = os.path.join(folder, file_name(directory, rev_id, message, when))
    if os.path.exists(path):
        raise ScriptError(f"{path} already exists", hint="use another --rev-id or message")
    down: str | tuple[str, ...] | None = (
        None if not parents else parents[0] if len(parents) == 1 else tuple(parents)
    )
    text = render_template(
        directory.template_path,
        up_revision=rev_id,
        down_revision=down,
        branch_labels=tuple(labels) if labels else None,
        depends_on=(deps[0] if len(deps) == 1 else tuple(deps)) if deps else None,
        create_date=when,
        message=message if message is not None else "empty message",
        comma=format_as_comma,
        config=directory.config,
        **{"imports": "", "upgrades": "", "downgrades": "", **template_args},
    )
    if run_hooks_after and directory.hooks:
        check_hooks(directory.hooks)  # a hook that cannot run at all: write nothing
    write_atomically(path, text, directory.output_encoding)
    if run_hooks_after and directory.hooks:
        run_hooks(path, directory.hooks)
    directory.invalidate()
    return directory.script(rev_id)


def _resolve_depends_on(
    directory: ScriptDirectory, depends_on: str | Sequence[str] | None
) -> list[str]:
    entries = [depends_on] if isinstance(depends_on, str) else list(depends_on or [])
    graph = directory.graph
    resolved: list[str] = []
    for entry in entries:
        if entry in graph.declared_labels():
            resolved.append(entry)  # keep branch names as written
        else:
            resolved.append(directory.resolver().resolve_one(entry))
    return resolved


def _choose_folder(directory: ScriptDirectory, parents: list[str], version_path: str | None) -> str:
    if version_path is not None:
        wanted = os.path.abspath(version_path)
        if wanted not in directory.version_locations:
            raise ScriptError(
                f"--version-path {version_path} is not one of the version locations",
                hint="configured: " + ", ".join(directory.version_locations),
            )
        return wanted
    if parents:
        parent_path = directory.graph.get(parents[0]).path
        if parent_path:
            # The location that holds the parent (file_template may add
            # sub-directories below it).
            owners = [
                location
                for location in directory.version_locations
                if os.path.abspath(parent_path).startswith(location + os.sep)
            ]
            if owners:
                return max(owners, key=len)
    if len(directory.version_locations) > 1 and not parents:
        raise ScriptError(
            "several version locations are configured; say where a new base goes",
            hint="pass --version-path (one of: " + ", ".join(directory.version_locations) + ")",
        )
    return directory.versions
