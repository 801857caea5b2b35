"""Checksums of revision code that ignore formatting and comments.

The checksum is taken over the module's syntax tree (without positions and
without the module docstring), so reformatting a file (``ruff format``),
editing comments or its message never changes it; changing what the code
does does.
"""

from __future__ import annotations

import ast
import hashlib
import os
import pickle
from collections.abc import Iterable

from limbeck.errors import ScriptError

CACHE_NAME = "limbeck-checksums-v1.pickle"


def code_checksum(source: str, path: str = "<revision>") -> str:
    """sha256 (hex) of the code in ``source``, formatting and comments aside."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise ScriptError(
            f"syntax error in revision file {path}, line {exc.lineno}: {exc.msg}"
        ) from None
    body = tree.body
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        body = body[1:]
    for node in ast.walk(tree):
        # Function and class docstrings are documentation too.
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
                and len(node.body) > 1
            ):
                node.body = node.body[1:]
    parts: list[str] = []
    for node in body:
        _serialize(node, parts)
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


# Fields that carry no meaning for what the code does.
_SKIPPED_FIELDS = frozenset({"ctx", "type_comment", "kind"})


def _serialize(value: object, parts: list[str]) -> None:
    """A canonical, version-stable spelling of a syntax tree.

    Unlike ``ast.dump`` (whose output changed between Python releases), empty
    and missing fields are left out, so a field a newer Python adds with an
    empty default never changes an existing checksum.
    """
    if isinstance(value, ast.AST):
        parts.append(type(value).__name__)
        for field in value._fields:
            if field in _SKIPPED_FIELDS:
                continue
            item = getattr(value, field, None)
            if item is None or (isinstance(item, list) and not item):
                continue
            parts.append(field)
            _serialize(item, parts)
        parts.append(")")
    elif isinstance(value, list):
        parts.append("[")
        for item in value:
            _serialize(item, parts)
        parts.append("]")
    else:
        parts.append(f"{type(value).__name__}:{value!r}")


def file_checksum(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return code_checksum(handle.read(), path)
    except OSError as exc:
        raise ScriptError(f"cannot read revision file {path}: {exc.strerror}") from None


class ChecksumCache:
    """Checksums of files keyed by path, size and mtime, kept on disk."""

    def __init__(self, cache_dir: str | None) -> None:
        self.path = os.path.join(cache_dir, CACHE_NAME) if cache_dir else None
        self._data: dict[str, tuple[int, int, str]] = {}
        self._changed = False
        if self.path:
            try:
                with open(self.path, "rb") as handle:
                    loaded = pickle.load(handle)
                if isinstance(loaded, dict):
                    self._data = loaded
            except Exception:  # a missing or damaged cache only costs time
                self._data = {}

    def checksum(self, path: str) -> str:
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise ScriptError(f"cannot read revision file {path}: {exc.strerror}") from None
        entry = self._data.get(path)
        if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
            return entry[2]
        value = file_checksum(path)
        self._data[path] = (stat.st_size, stat.st_mtime_ns, value)
        self._changed = True
        return value

    def checksums(self, paths: Iterable[str]) -> dict[str, str]:
        return {path: self.checksum(path) for path in paths}

    def save(self) -> None:
        if not self.path or not self._changed:
            return
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(temporary, "wb") as handle:
                pickle.dump(self._data, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.path)
        except OSError:
            if os.path.exists(temporary):
                os.unlink(temporary)
