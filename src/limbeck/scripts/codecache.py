"""One file holding the compiled code of every revision file that has run.

Running a thousand migrations imports a thousand revision files; through
importlib each costs a spec, a stat of the source, an open and read of its
``.pyc`` and the checks of that header. :class:`CodeCache` keeps all the code
objects in a single marshal file beside the revision index
(``<script dir>/__pycache__/limbeck-code-<python>.marshal``), read once per
run. An entry is used only while its source file has the size and
modification time it had when compiled (the rule Python's own ``.pyc`` files
follow); otherwise the file is compiled again. The file is bound to one
interpreter's bytecode (its name carries the cache tag, its content the
magic number) and is written only when something changed, atomically, and
never when bytecode writing is turned off (``PYTHONDONTWRITEBYTECODE``).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
import types
from typing import Any

from limbeck.errors import ScriptError
from limbeck.scripts.index import module_name_for

__all__ = ["CodeCache", "module_name_for"]

_FORMAT = "limbeck-code/1"


def _magic() -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER


class CodeCache:
    """Compiled revision code by source path, loaded lazily from one file."""

    def __init__(self, cache_dir: str | None) -> None:
        tag = sys.implementation.cache_tag
        self.path = (
            os.path.join(cache_dir, f"limbeck-code-{tag}.marshal") if cache_dir and tag else None
        )
        self._entries: dict[str, tuple[int, int, types.CodeType]] | None = None
        #: Paths whose entry was checked against the file in this process.
        self._checked: set[str] = set()
        self._dirty = False

    def _load(self) -> dict[str, tuple[int, int, types.CodeType]]:
        entries: dict[str, tuple[int, int, types.CodeType]] = {}
        if self.path is not None:
            try:
                with open(self.path, "rb") as handle:
                    data = marshal.loads(handle.read())
                if (
                    isinstance(data, tuple)
                    and len(data) == 3
                    and data[0] == _FORMAT
                    and data[1] == _magic()
                    and isinstance(data[2], dict)
                ):
                    entries = data[2]
            except (OSError, EOFError, ValueError, TypeError):
                pass  # no cache, or one from elsewhere: compile as needed
        return entries

    def code(self, path: str) -> types.CodeType:
        """The code of the source file at ``path``, compiled if the cache has
        no current entry for it. Raises ScriptError (one line) for a file that
        cannot be read or does not compile."""
        if self._entries is None:
            self._entries = self._load()
        if path in self._checked:
            # Checked against its file earlier in this run (compile_revisions
            # before the run, then the load): no second stat.
            return self._entries[path][2]
        try:
            stat = os.stat(path)
        except OSError as exc:
            raise ScriptError(
                f"cannot read revision file {path}: {exc.strerror}",
                hint="was it moved or deleted while limbeck ran?",
            ) from None
        entry = self._entries.get(path)
        if entry is not None and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
            self._checked.add(path)
            return entry[2]
        code = _compile_file(path)
        self._entries[path] = (stat.st_size, stat.st_mtime_ns, code)
        self._checked.add(path)
        self._dirty = True
        return code

    def load_module(self, path: str) -> Any:
        """A fresh module object with the revision file's code executed in it."""
        code = self.code(path)
        module = types.ModuleType(module_name_for(path))
        module.__file__ = path
        module.__package__ = ""
        try:
            exec(code, module.__dict__)
        except Exception as exc:
            raise ScriptError(
                f"importing revision file {path} failed: {type(exc).__name__}: {exc}",
                hint="fix the file (--traceback shows where)",
            ) from exc
        return module

    def save(self) -> None:
        """Write the cache if anything was compiled (entries of files that
        no longer exist are dropped). Failing to write is not an error.
        Ends the run: later calls check each file again."""
        self._checked.clear()
        if not self._dirty or self.path is None or self._entries is None:
            return
        self._dirty = False
        if sys.dont_write_bytecode:
            return
        entries = {p: e for p, e in self._entries.items() if os.path.exists(p)}
        temporary = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(temporary, "wb") as handle:
                handle.write(marshal.dumps((_FORMAT, _magic(), entries)))
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _compile_file(path: str) -> types.CodeType:
    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError as exc:
        raise ScriptError(
            f"cannot read revision file {path}: {exc.strerror}",
            hint="check the file's permissions",
        ) from None
    try:
        # Bytes, so that a PEP 263 coding line is honoured as on import.
        return compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ScriptError(
            f"revision file {path} does not compile: {exc.msg} (line {exc.lineno})",
            hint="fix the syntax error",
        ) from None
    except ValueError as exc:
        raise ScriptError(f"revision file {path} does not compile: {exc}") from None
