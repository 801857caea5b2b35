"""Running Alembic projects unchanged: ``import alembic`` inside a run.

While :func:`alembic_imports` is active, ``alembic`` and ``alembic.*``
resolve to the modules under :mod:`limbeck.compat.alembic`, which re-export
limbeck's own objects under Alembic's names (``alembic.op``,
``alembic.context``, ``alembic.command``, ``alembic.config.Config``, ...).
Outside it, nothing is shadowed: an installed Alembic found in
``sys.modules`` is set aside for the run and put back afterwards, and a
fresh ``import alembic`` after the run finds the real package again.

Runs may nest and may overlap in threads: the aliases stay installed while
any run needs them (a counter under a lock).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

_PREFIX = "limbeck.compat.alembic"
_lock = threading.Lock()
_depth = 0
_saved: dict[str, ModuleType] = {}


def _is_alias(name: str) -> bool:
    return name == "alembic" or name.startswith("alembic.")


class _Loader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The limbeck module is already executed."""


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not _is_alias(fullname):
            return None
        real = _PREFIX + fullname[len("alembic") :]
        try:
            spec = importlib.util.find_spec(real)
        except ModuleNotFoundError:
            spec = None
        if spec is None:
            return None  # an Alembic module limbeck does not provide
        return importlib.machinery.ModuleSpec(
            fullname, _Loader(real), is_package=spec.submodule_search_locations is not None
        )


_finder = _Finder()


def _install() -> None:
    for name in [n for n in sys.modules if _is_alias(n)]:
        _saved[name] = sys.modules.pop(name)
    sys.meta_path.insert(0, _finder)


def _uninstall() -> None:
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if _is_alias(n)]:
        del sys.modules[name]
    sys.modules.update(_saved)
    _saved.clear()


@contextmanager
def alembic_imports() -> Iterator[None]:
    """Make ``alembic`` mean limbeck for the duration of the block."""
    global _depth
    with _lock:
        if _depth == 0:
            _install()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _uninstall()
