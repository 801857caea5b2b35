"""The command line's start-up window: the cyclic garbage collector is off
while a run imports and sets itself up, and back on before migrations run.

What a command builds before its first migration (modules, classes, the
dialect, the engine, the revision graph) lives until the process exits, so
collecting while it is built finds next to nothing and costs about 5% of
that work. :func:`begin` (the CLI calls it first thing) turns the collector
off; :func:`end` moves everything then alive into the collector's permanent
generation, where full collections no longer scan it, and turns the
collector back on. The runtime calls :func:`end` as migrations start; the
CLI calls it again on its way out. Both are no-ops unless :func:`begin`
ran, so the Python API never touches the collector.
"""

from __future__ import annotations

import gc

__all__ = ["begin", "end"]

_open = False


def begin() -> None:
    """Turn the collector off until :func:`end` (only if it is on)."""
    global _open
    if not _open and gc.isenabled():
        gc.disable()
        _open = True


def end() -> None:
    """Freeze what start-up built and turn the collector back on (once)."""
    global _open
    if _open:
        _open = False
        gc.freeze()
        gc.enable()
