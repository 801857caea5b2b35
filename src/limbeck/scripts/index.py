"""The revision index: revision headers read statically, cached on disk.

Reading a header never imports the revision module. A fast scan finds the
four module-level assignments (``revision``, ``down_revision``,
``branch_labels``, ``depends_on``) and evaluates their literals; anything it
is unsure of goes to a full :mod:`ast` parse; a ``down_revision`` that is
not a literal at all falls back to importing that one file (and says so in
:attr:`Header.imported`).

The cache lives in ``<script_location>/__pycache__/`` and is keyed by each
file's path, size and mtime, so a warm ``heads`` or ``history`` reads one
small file plus a directory listing.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import importlib.util
import os
import pickle
import re
import sys
from collections.abc import Iterable
from typing import Any

from limbeck.errors import ScriptError
from limbeck.graph.revision import Revision

CACHE_NAME = "limbeck-index-v1.pickle"
_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")
_ASSIGNMENT = re.compile(
    r"^(?P<name>revision|down_revision|branch_labels|depends_on)[ \t]*"
    r"(?::[^=\n]*)?=[ \t]*(?P<value>[^\n]*)$",
    re.MULTILINE,
)
_DOCSTRING = re.compile(
    r"\A(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*(?P<literal>[rRuU]?(?P<quote>\"\"\"|'''|\"|')"
    r"(?P<body>.*?)(?P=quote))",
    re.DOTALL,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Header:
    """What a revision file declares, read without running it."""

    path: str
    revision: str
    down_revisions: tuple[str, ...]
    dependencies: tuple[str, ...]
    branch_labels: tuple[str, ...]
    docstring: str
    #: The ``down_revision`` value exactly as written: None, a str or a tuple.
    down_revision_value: str | tuple[str, ...] | None
    #: True when the file had to be imported because a value was not literal.
    imported: bool = False

    def to_revision(self) -> Revision:
        return Revision(
            revision=self.revision,
            down_revisions=self.down_revisions,
            dependencies=self.dependencies,
            branch_labels=frozenset(self.branch_labels),
            path=self.path,
            doc=first_paragraph(self.docstring),
            longdoc=self.docstring,
        )


def first_paragraph(docstring: str) -> str:
    text = docstring.strip()
    return re.split(r"\n\s*\n", text, maxsplit=1)[0].strip() if text else ""


# -- reading one file ---------------------------------------------------------------


class _NotLiteral(Exception):
    """A header value is not a literal; the module must be imported."""


def read_header(path: str) -> Header | None:
    """The header of one revision file, or None for a file that declares no
    ``revision`` (a helper module living among the revisions)."""
    if path.endswith((".pyc", ".pyo")):
        return _header_from_module(path, _import_file(path), "")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        text = _read_declared_encoding(path)  # output_encoding + a coding comment
    except OSError as exc:
        raise ScriptError(f"cannot read revision file {path}: {exc}") from None
    values = _fast_scan(text)
    if values is None:
        try:
            values = _ast_scan(text, path)
        except _NotLiteral:
            return _header_from_module(path, _import_file(path), _docstring(text))
    if "revision" not in values:
        _without_revision(path, values)
        return None
    return _make_header(path, values, _docstring(text))


def _read_declared_encoding(path: str) -> str:
    """A source file that is not UTF-8, decoded as its coding comment says."""
    import tokenize

    try:
        with tokenize.open(path) as handle:
            return handle.read()
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise ScriptError(
            f"cannot read revision file {path}: {exc}",
            hint="save it as UTF-8, or declare its encoding (# -*- coding: latin-1 -*-)",
        ) from None


def _without_revision(path: str, present: Iterable[str]) -> None:
    """A file with no ``revision`` is a helper module, unless it sets other
    header fields: then it is a revision file missing its id."""
    fields = sorted(present)
    if fields:
        raise ScriptError(
            f"revision file {path} has no `revision` id (it sets {', '.join(fields)})",
            hint="add a line like revision = 'ae1027a6acf' at the top of the file",
        )


def _docstring(text: str) -> str:
    match = _DOCSTRING.match(text)
    if not match:
        return ""
    try:
        value = ast.literal_eval(match["literal"])
    except (SyntaxError, ValueError):
        return match["body"]
    return value if isinstance(value, str) else ""


def _fast_scan(text: str) -> dict[str, Any] | None:
    """The four values by pattern, or None when a full parse is needed."""
    doc = _DOCSTRING.match(text)
    start = doc.end() if doc else 0
    values: dict[str, Any] = {}
    for match in _ASSIGNMENT.finditer(text, start):
        name = match["name"]
        if name in values:
            return None  # assigned twice (or inside a string): let ast decide
        try:
            values[name] = ast.literal_eval(match["value"].strip())
        except (SyntaxError, ValueError):
            return None
    if "revision" not in values:
        return None
    return values


def _ast_scan(text: str, path: str) -> dict[str, Any]:
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        raise ScriptError(
            f"syntax error in revision file {path}, line {exc.lineno}: {exc.msg}",
            hint="fix the file (or move it out of the versions directory)",
        ) from None
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.value is None:
                continue
            targets = [node.target.id]
            value = node.value
        else:
            continue
        for name in targets:
            if name in _FIELDS:
                try:
                    values[name] = ast.literal_eval(value)
                except ValueError:
                    raise _NotLiteral(name) from None
    return values


def _import_file(path: str) -> Any:
    name = "_limbeck_rev_" + re.sub(r"\W", "_", os.path.basename(path))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ScriptError(f"cannot import revision file {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ScriptError(
            f"importing revision file {path} failed: {type(exc).__name__}: {exc}",
            hint="its header is not made of literals, so limbeck imported it to read it",
        ) from None
    return module


def _header_from_module(path: str, module: Any, docstring: str) -> Header | None:
    if not hasattr(module, "revision"):
        _without_revision(path, [name for name in _FIELDS if hasattr(module, name)])
        return None
    values = {name: getattr(module, name, None) for name in _FIELDS}
    header = _make_header(path, values, docstring or (module.__doc__ or ""))
    return dataclasses.replace(header, imported=True)


def _as_tuple(value: Any, name: str, path: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ScriptError(
        f"{name} in {path} must be None, a string or a tuple of strings, not {value!r}",
        hint="fix the revision file's header",
    )


def _make_header(path: str, values: dict[str, Any], docstring: str) -> Header:
    revision = values.get("revision")
    if not isinstance(revision, str) or not revision:
        raise ScriptError(
            f"revision file {path} has no usable `revision` id (found {revision!r})",
            hint="add a line like revision = 'ae1027a6acf' at the top of the file",
        )
    down = values.get("down_revision")
    down_tuple = _as_tuple(down, "down_revision", path)
    written: str | tuple[str, ...] | None = (
        None if not down_tuple else down if isinstance(down, str) else down_tuple
    )
    return Header(
        path=path,
        revision=revision,
        down_revisions=down_tuple,
        dependencies=_as_tuple(values.get("depends_on"), "depends_on", path),
        branch_labels=_as_tuple(values.get("branch_labels"), "branch_labels", path),
        docstring=docstring,
        down_revision_value=written,
    )


# -- the directory and its cache -------------------------------------------------------


def list_revision_files(
    locations: Iterable[str], *, recursive: bool = False, sourceless: bool = False
) -> list[tuple[str, int, int]]:
    """``(path, size, mtime_ns)`` of every candidate revision file, sorted."""
    found: dict[str, tuple[str, int, int]] = {}
    for location in locations:
        if not os.path.isdir(location):
            raise ScriptError(
                f"versions directory {location} does not exist",
                hint="create it, or fix script_location / version_locations in the config",
            )
        _scan(location, recursive, sourceless, found)
    return sorted(found.values())


def _scan(
    directory: str, recursive: bool, sourceless: bool, found: dict[str, tuple[str, int, int]]
) -> None:
    compiled: list[os.DirEntry[str]] = []
    sources: set[str] = set()
    with os.scandir(directory) as entries:
        for entry in entries:
            name = entry.name
            if entry.is_dir():
                if name == "__pycache__":
                    if sourceless:
                        _scan_pycache(entry.path, found, sources, directory)
                elif recursive and not name.startswith("."):
                    _scan(entry.path, recursive, sourceless, found)
                continue
            if name.startswith((".#", "__init__")):
                continue
            if name.endswith(".py"):
                stat = entry.stat()
                real = os.path.realpath(entry.path)
                found.setdefault(real, (entry.path, stat.st_size, stat.st_mtime_ns))
                sources.add(name[:-3])
            elif sourceless and name.endswith((".pyc", ".pyo")):
                compiled.append(entry)
    for entry in compiled:
        if entry.name[:-4] not in sources:
            stat = entry.stat()
            found.setdefault(entry.path, (entry.path, stat.st_size, stat.st_mtime_ns))


def _scan_pycache(
    cache_dir: str,
    found: dict[str, tuple[str, int, int]],
    sources: set[str],
    directory: str,
) -> None:
    # Compiled-only revisions are kept only when no .py sits beside them;
    # `sources` is complete once the parent directory's loop is done, so the
    # check happens against the directory listing here.
    present = {name[:-3] for name in os.listdir(directory) if name.endswith(".py")}
    with os.scandir(cache_dir) as entries:
        for entry in entries:
            if entry.name.endswith(".pyc") and not entry.name.startswith("__init__"):
                stem = entry.name.split(".", 1)[0]
                if stem not in present and stem not in sources:
                    stat = entry.stat()
                    found.setdefault(entry.path, (entry.path, stat.st_size, stat.st_mtime_ns))


class RevisionIndex:
    """Headers of every revision file, read through the on-disk cache."""

    def __init__(self, cache_dir: str | None) -> None:
        self.cache_path = os.path.join(cache_dir, CACHE_NAME) if cache_dir else None
        self.imported: list[str] = []

    def _load_cache(self) -> dict[str, tuple[int, int, tuple[Any, ...] | None]]:
        if self.cache_path is None:
            return {}
        try:
            with open(self.cache_path, "rb") as handle:
                data = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            return {}
        except Exception:  # a damaged cache is only a slower run
            return {}
        return data if isinstance(data, dict) else {}

    def _store_cache(self, data: dict[str, tuple[int, int, tuple[Any, ...] | None]]) -> None:
        if self.cache_path is None:
            return
        temporary = f"{self.cache_path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.cache_path), exist_ok=True)
            with open(temporary, "wb") as handle:
                pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.cache_path)
        except OSError:
            # A read-only checkout still works, just without the cache.
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def headers(self, files: list[tuple[str, int, int]]) -> list[Header]:
        cached = self._load_cache()
        fresh: dict[str, tuple[int, int, tuple[Any, ...] | None]] = {}
        headers: list[Header] = []
        changed = len(cached) != len(files)
        for path, size, mtime in files:
            entry = cached.get(path)
            header: Header | None
            if entry is not None and entry[0] == size and entry[1] == mtime:
                header = Header(*entry[2]) if entry[2] is not None else None
                fresh[path] = entry
            else:
                header = read_header(path)
                changed = True
                fields = (
                    None
                    if header is None
                    else tuple(getattr(header, f.name) for f in dataclasses.fields(Header))
                )
                fresh[path] = (size, mtime, fields)
            if header is not None:
                if header.imported:
                    self.imported.append(path)
                headers.append(header)
        if changed:
            self._store_cache(fresh)
        return headers


def load_module(path: str) -> Any:
    """Import a revision file (to run its upgrade() or downgrade())."""
    name = "_limbeck_rev_" + re.sub(r"\W", "_", os.path.basename(path))
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) == path:
        return existing
    return _import_file(path)
