"""The revision index: revision headers read statically, cached on disk.

Reading a header never imports the revision module. A fast scan finds the
four module-level assignments (``revision``, ``down_revision``,
``branch_labels``, ``depends_on``) and evaluates their literals; anything it
is unsure of goes to a full :mod:`ast` parse; a ``down_revision`` that is
not a literal at all falls back to importing that one file (and says so in
:attr:`Header.imported`).

The cache lives in ``<script_location>/__pycache__/`` and is keyed by each
file's path, size and mtime. Alongside the headers it keeps data derived
from all of them (the validated graph, see :meth:`RevisionIndex.derived`),
valid while the listing is exactly the same, so a warm ``heads`` or
``history`` reads one file plus a directory listing and builds nothing.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import re
import sys
from collections.abc import Iterable
from operator import attrgetter, itemgetter

from limbeck._record import Record
from limbeck.errors import ScriptError
from limbeck.graph.revision import Revision

TYPE_CHECKING = False  # typing is not imported at run time (mypy reads this as usual)
if TYPE_CHECKING:
    from typing import Any

    _Listing = list[tuple[str, int, int]]
    _Values = list[tuple[Any, ...] | None]

CACHE_NAME = "limbeck-index-v1.pickle"
#: First item of the pickled cache; older layouts are ignored (rebuilt).
_CACHE_FORMAT = "limbeck-index/3"
_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")
_NEEDLES = tuple((name, "\n" + name) for name in _FIELDS)
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
_QUOTED = r"""(?:'[^'\\\n]*'|"[^"\\\n]*")"""
#: A tuple of two or more plain strings, or of one with a trailing comma.
_STRING_TUPLE = re.compile(rf"\([ \t]*{_QUOTED}[ \t]*(?:(?:,[ \t]*{_QUOTED}[ \t]*)+,?|,)[ \t]*\)")
_TUPLE_ITEM = re.compile(r"'([^'\\\n]*)'|\"([^\"\\\n]*)\"")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


class Header(Record):
    """What a revision file declares, read without running it.

    ``down_revision_value`` is the ``down_revision`` exactly as written (None,
    a str or a tuple); ``imported`` is True when the file had to be imported
    because a value was not a literal.
    """

    __slots__ = (
        "path",
        "revision",
        "down_revisions",
        "dependencies",
        "branch_labels",
        "docstring",
        "down_revision_value",
        "imported",
    )
    path: str
    revision: str
    down_revisions: tuple[str, ...]
    dependencies: tuple[str, ...]
    branch_labels: tuple[str, ...]
    docstring: str
    down_revision_value: str | tuple[str, ...] | None
    imported: bool

    def __init__(
        self,
        path: str,
        revision: str,
        down_revisions: tuple[str, ...],
        dependencies: tuple[str, ...],
        branch_labels: tuple[str, ...],
        docstring: str,
        down_revision_value: str | tuple[str, ...] | None,
        imported: bool = False,
    ) -> None:
        self._set("path", path)
        self._set("revision", revision)
        self._set("down_revisions", down_revisions)
        self._set("dependencies", dependencies)
        self._set("branch_labels", branch_labels)
        self._set("docstring", docstring)
        self._set("down_revision_value", down_revision_value)
        self._set("imported", imported)

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


#: Header's field names, in declaration order (``Header(*values)`` rebuilds one).
HEADER_FIELDS: tuple[str, ...] = Header.__slots__
_header_values = attrgetter(*HEADER_FIELDS)
_REVISION_POSITION = HEADER_FIELDS.index("revision")


def header_values(header: Header) -> tuple[Any, ...]:
    """The values of ``header``'s fields, in :data:`HEADER_FIELDS` order."""
    values: tuple[Any, ...] = _header_values(header)
    return values


def first_paragraph(docstring: str) -> str:
    text = docstring.strip()
    return _PARAGRAPH_BREAK.split(text, maxsplit=1)[0].strip() if text else ""


# -- reading one file ---------------------------------------------------------------


class _NotLiteral(Exception):
    """A header value is not a literal; the module must be imported."""


def read_header(path: str) -> Header | None:
    """The header of one revision file, or None for a file that declares no
    ``revision`` (a helper module living among the revisions)."""
    if path.endswith((".pyc", ".pyo")):
        return _header_from_module(path, _import_file(path), "")
    try:
        text = _read_utf8(path)
    except UnicodeDecodeError:
        text = _read_declared_encoding(path)  # output_encoding + a coding comment
    except OSError as exc:
        raise ScriptError(f"cannot read revision file {path}: {exc}") from None
    doc = _DOCSTRING.match(text)
    values = _fast_scan(text, doc)
    if values is None:
        try:
            values = _ast_scan(text, path)
        except _NotLiteral:
            return _header_from_module(path, _import_file(path), _docstring(doc))
    if "revision" not in values:
        _without_revision(path, values)
        return None
    return _make_header(path, values, _docstring(doc))


def _read_utf8(path: str) -> str:
    """``open(path, encoding="utf-8").read()``, in fewer system calls (this
    runs once per revision file on a cold start)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
    text = b"".join(chunks).decode("utf-8")
    if "\r" in text:  # universal newlines, as text mode reads them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


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


def _docstring(match: re.Match[str] | None) -> str:
    if not match:
        return ""
    body: str = match["body"]
    if "\\" not in body:
        # No escapes: the value is the text between the quotes, whatever the
        # prefix (the file was read with universal newlines).
        return body
    import ast  # only the cold path needs it: keep it off the start-up path

    try:
        value = ast.literal_eval(match["literal"])
    except (SyntaxError, ValueError):
        return match["body"]
    return value if isinstance(value, str) else ""


def _literal(text: str) -> Any:
    """``ast.literal_eval(text)``, without a parse for the usual values:
    ``None``, a plain quoted string, a tuple of plain quoted strings."""
    if text == "None":
        return None
    first = text[:1]
    if first in ("'", '"'):
        if text[-1] == first and text.count(first) == 2 and "\\" not in text:
            return text[1:-1]
    elif first == "(" and _STRING_TUPLE.fullmatch(text):
        return tuple(single or double for single, double in _TUPLE_ITEM.findall(text))
    import ast

    return ast.literal_eval(text)


def _fast_scan(text: str, doc: re.Match[str] | None = None) -> dict[str, Any] | None:
    """The four values by pattern, or None when a full parse is needed."""
    if doc is None:
        doc = _DOCSTRING.match(text)
    start = doc.end() if doc else 0
    values: dict[str, Any] = {}
    # Every line from `start` on that _ASSIGNMENT matches, found with
    # str.find (much faster than letting the pattern scan the whole file).
    for name, needle in _NEEDLES:
        if start == 0 and text.startswith(name):
            line = 0
        else:
            found = text.find(needle, max(start - 1, 0))
            line = found + 1 if found >= 0 else -1
        while line >= 0:
            match = _ASSIGNMENT.match(text, line)
            if match is not None:
                if name in values:
                    return None  # assigned twice (or inside a string): let ast decide
                try:
                    values[name] = _literal(match["value"].strip())
                except (SyntaxError, ValueError):
                    return None
            found = text.find(needle, line)
            line = found + 1 if found >= 0 else -1
    if "revision" not in values:
        return None
    return values


def _ast_scan(text: str, path: str) -> dict[str, Any]:
    import ast

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


def module_name_for(path: str) -> str:
    """The name revision modules get (``__name__``): never a real package's."""
    return "_limbeck_rev_" + re.sub(r"\W", "_", os.path.basename(path))


def _import_file(path: str) -> Any:
    import importlib.util

    name = module_name_for(path)
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
    return Header(
        header.path,
        header.revision,
        header.down_revisions,
        header.dependencies,
        header.branch_labels,
        header.docstring,
        header.down_revision_value,
        imported=True,
    )


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

_first = itemgetter(0)


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
    # The paths are unique, so ordering by path alone is the tuples' order
    # (and sorting plain strings is several times faster).
    return sorted(found.values(), key=_first)


def _scan(
    directory: str, recursive: bool, sourceless: bool, found: dict[str, tuple[str, int, int]]
) -> None:
    compiled: list[os.DirEntry[str]] = []
    sources: set[str] = set()
    real_prefix: str | None = None
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
                # One realpath per directory: a name that is no symlink
                # resolves to the real directory joined with that name.
                if real_prefix is None:
                    real_prefix = os.path.join(os.path.realpath(directory), "")
                real = os.path.realpath(entry.path) if entry.is_symlink() else real_prefix + name
                found.setdefault(real, (entry.path, stat.st_size, stat.st_mtime_ns))
                if sourceless:  # sources only matter for compiled-only revisions
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
    """Headers of every revision file, read through the on-disk cache.

    The cache file holds two pickles. The first is the listing it was made
    from and data derived from all headers (:meth:`derived`), which is only
    handed out while the listing is exactly the same: all a warm ``heads``
    needs. The second, read only when asked for, holds each file's header
    values and more derived data (:meth:`derived_more`).
    """

    def __init__(self, cache_dir: str | None) -> None:
        self.cache_path = os.path.join(cache_dir, CACHE_NAME) if cache_dir else None
        self.imported: list[str] = []
        self._first: tuple[_Listing, Any] | None = None
        self._rest: io.BytesIO | None = None  # the file, positioned at the second pickle
        self._second: tuple[_Values, Any] | None = None
        self._fresh: tuple[_Listing, _Values] = ([], [])

    def _load_first(self) -> tuple[_Listing, Any]:
        if self._first is None:
            self._first = ([], None)
            if self.cache_path is None:
                return self._first
            try:
                with open(self.cache_path, "rb") as handle:
                    stream = io.BytesIO(handle.read())
                data = pickle.load(stream)
            except Exception:  # a missing or damaged cache is only a slower run
                return self._first
            if (
                isinstance(data, tuple)
                and len(data) == 4
                and data[0] == _CACHE_FORMAT
                and data[1] == HEADER_FIELDS
                and isinstance(data[2], list)
            ):
                self._first = (data[2], data[3])
                self._rest = stream
        return self._first

    def _load_second(self) -> tuple[_Values, Any]:
        if self._second is None:
            listing = self._load_first()[0]
            stream, self._rest = self._rest, None
            data = None
            if stream is not None:
                try:
                    data = pickle.load(stream)
                except Exception:
                    data = None
            if (
                isinstance(data, tuple)
                and len(data) == 2
                and isinstance(data[0], list)
                and len(data[0]) == len(listing)
            ):
                self._second = (data[0], data[1])
            else:
                # No usable header values: forget the listing too, so that
                # every file is read again.
                self._first = ([], None)
                self._second = ([], None)
        return self._second

    def _store_cache(self, first: tuple[Any, ...], second: tuple[Any, ...]) -> None:
        if self.cache_path is None:
            return
        temporary = f"{self.cache_path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.cache_path), exist_ok=True)
            with open(temporary, "wb") as handle:
                pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
                pickler.dump(first)
                # Objects shared with the first pickle are written again here;
                # each pickle must load on its own.
                pickler.clear_memo()
                pickler.dump(second)
            os.replace(temporary, self.cache_path)
        except OSError:
            # A read-only checkout still works, just without the cache.
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def derived(self, files: _Listing) -> Any:
        """What :meth:`store` saved as ``derived`` along with exactly this
        listing, or None."""
        listing, derived = self._load_first()
        if derived is None or listing != files:
            return None
        return derived

    def derived_more(self) -> Any:
        """What :meth:`store` saved as ``more`` (call after :meth:`derived`
        returned something)."""
        return self._load_second()[1]

    def headers(self, files: _Listing, *, store: bool = True) -> list[Header]:
        """The headers of ``files`` (reading only files new or changed since
        the cache was written). With ``store`` the cache is updated now;
        otherwise call :meth:`store` later."""
        values = self._load_second()[0]
        listing = self._load_first()[0]
        cached = {item[0]: (item, value) for item, value in zip(listing, values, strict=True)}
        fresh_values: _Values = []
        headers: list[Header] = []
        changed = listing != files
        for item in files:
            hit = cached.get(item[0])
            header: Header | None
            if hit is not None and hit[0] == item:
                value = hit[1]
                header = Header(*value) if value is not None else None
            else:
                header = read_header(item[0])
                changed = True
                value = None if header is None else header_values(header)
            fresh_values.append(value)
            if header is not None:
                if header.imported:
                    self.imported.append(item[0])
                headers.append(header)
        self._fresh = (files, fresh_values)
        if store and changed:
            self.store()
        return headers

    def header_values(self) -> dict[str, tuple[Any, ...]]:
        """Each revision id's header values (as :func:`header_values` gives
        them) from the last :meth:`headers` call."""
        position = _REVISION_POSITION
        return {value[position]: value for value in self._fresh[1] if value is not None}

    def store(self, derived: Any = None, more: Any = None) -> None:
        """Write the cache: the headers of the last :meth:`headers` call,
        ``derived`` (plain, picklable data computed from them, loaded on
        every warm run) and ``more`` (loaded only when asked for)."""
        files, values = self._fresh
        self._store_cache((_CACHE_FORMAT, HEADER_FIELDS, files, derived), (values, more))
        self._first = (files, derived)
        self._second = (values, more)
        self._rest = None


def load_module(path: str) -> Any:
    """Import a revision file (to run its upgrade() or downgrade())."""
    name = module_name_for(path)
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) == path:
        return existing
    return _import_file(path)
