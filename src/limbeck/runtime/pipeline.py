"""DDL sent from a second thread while the next migration is being prepared.

On PostgreSQL most of an upgrade's wall time is the server executing DDL
(``CREATE TABLE`` creates several files) while the client waits, and most of
the rest is the client importing and running the next revision while the
server waits. Within one transaction for the run, nothing the client does
next depends on a DDL statement's result, so the two can overlap: migrations
hand their DDL to a :class:`DdlPipeline`, whose worker thread executes it on
the run's connection, in order, while the main thread goes on. Drivers
release the GIL while they wait for the server, so the overlap is real.

What a caller may rely on:

* statements run in the order they were submitted, on the same connection
  and transaction, through SQLAlchemy's ``Connection.execute`` (events,
  error wrapping and logging as usual);
* any other use of the connection from another thread (a query of the
  migration, a commit, a rollback, a savepoint) first waits until every
  submitted statement has run: it sees the schema the migrations so far
  built;
* after a statement fails, nothing more runs; the failure, with the tag of
  the migration that submitted it, is raised at the next point the main
  thread waits for the pipeline, and again at every later one (so a
  migration catching exceptions cannot hide it);
* :meth:`DdlPipeline.close` always leaves the connection idle and free of
  the pipeline's event listeners.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.sql.ddl import ExecutableDDLElement

__all__ = ["DdlPipeline", "StatementFailed", "pipeline_supported"]

#: Connection events that mean "the main thread is about to use the connection".
_SYNC_EVENTS = (
    "before_execute",
    "begin",
    "commit",
    "release_savepoint",
    "rollback_savepoint",
    "begin_twophase",
    "prepare_twophase",
    "commit_twophase",
)
#: Events after which nothing queued may run any more (the transaction ends).
_ABORT_EVENTS = ("rollback", "rollback_twophase")


class StatementFailed(Exception):
    """A statement the pipeline ran raised ``error``; ``tag`` is what the
    submitter attached to it (the migration step)."""

    def __init__(self, error: BaseException, tag: Any) -> None:
        super().__init__(str(error))
        self.error = error
        self.tag = tag


def pipeline_supported(connection: Connection) -> bool:
    """Whether DDL on ``connection`` may be pipelined: PostgreSQL through a
    thread-friendly synchronous driver (not an asyncio adaptation, whose
    connection only works inside its own event loop)."""
    dialect = connection.dialect
    return dialect.name == "postgresql" and not getattr(dialect, "is_async", False)


class _Mark:
    __slots__ = ("callback", "finished")

    def __init__(self, callback: Callable[[float], None]) -> None:
        self.callback = callback
        self.finished = 0.0


_STOP = object()


class DdlPipeline:
    """Runs submitted DDL statements on ``connection`` from a worker thread.

    Use it as a context manager, or call :meth:`close` in a ``finally``.
    ``tag`` (settable) is attached to each statement submitted after it is
    set, and comes back in :class:`StatementFailed`.
    """

    def __init__(self, connection: Connection, clock: Callable[[], float]) -> None:
        self.connection = connection
        self.tag: Any = None
        self._clock = clock
        self._queue: collections.deque[Any] = collections.deque()
        self._ready = threading.Condition(threading.Lock())
        self._pending = 0  # submitted, not finished (under _ready)
        self._busy = False  # a statement is on the wire (under _ready)
        self._discarding = False
        self._failure: StatementFailed | None = None
        self._finished_marks: collections.deque[_Mark] = collections.deque()
        self._held = False
        self._closed = False
        self._worker = threading.Thread(target=self._work, name="limbeck-ddl", daemon=True)
        self._listeners: list[tuple[str, Callable[..., Any]]] = [
            (name, self._on_sync) for name in _SYNC_EVENTS
        ] + [(name, self._on_abort) for name in _ABORT_EVENTS]
        self._listeners.append(("savepoint", self._on_savepoint))
        for name, listener in self._listeners:
            event.listen(connection, name, listener)
        self._worker.start()

    # -- main thread --------------------------------------------------------------

    def accepts(self, statement: Any) -> bool:
        """Whether ``statement`` may be queued (DDL, pipeline open and not held)."""
        return (
            not self._held
            and not self._closed
            and isinstance(statement, ExecutableDDLElement)
            and self._failure is None
        )

    def submit(self, statement: Any) -> None:
        """Queue ``statement``; it runs after everything submitted before it."""
        self._raise_failure()
        with self._ready:
            self._pending += 1
            self._queue.append((statement, self.tag))
            self._ready.notify_all()

    def mark(self, callback: Callable[[float], None]) -> None:
        """Call ``callback(time)`` (from :meth:`collect`, on the main thread)
        once everything submitted so far has run; ``time`` is when it had."""
        with self._ready:
            self._pending += 1
            self._queue.append(_Mark(callback))
            self._ready.notify_all()

    def collect(self) -> None:
        """Run the callbacks of the marks reached so far, in order."""
        while self._finished_marks:
            mark = self._finished_marks.popleft()
            mark.callback(mark.finished)

    def drain(self) -> None:
        """Wait until every submitted statement has run; raise
        :class:`StatementFailed` if one failed (now or earlier)."""
        if threading.current_thread() is self._worker:
            return
        with self._ready:
            while self._pending:
                self._ready.wait()
        self._raise_failure()

    def hold(self) -> None:
        """Drain, then run every later statement directly until :meth:`release`
        (for code that takes the connection itself, even below SQLAlchemy)."""
        self.drain()
        self._held = True

    def release(self) -> None:
        self._held = False

    @property
    def failure(self) -> StatementFailed | None:
        return self._failure

    def abort(self) -> None:
        """Drop what is queued, cancel the statement on the wire, wait."""
        with self._ready:
            self._discarding = True
            busy = self._busy
        if busy:
            self._cancel()
        with self._ready:
            while self._pending:
                self._ready.wait()
            self._discarding = False

    def close(self) -> None:
        """Abort what is left, stop the worker, remove the listeners."""
        if self._closed:
            return
        self._closed = True
        try:
            self.abort()
            with self._ready:
                self._queue.append(_STOP)
                self._ready.notify_all()
            self._worker.join()
        finally:
            for name, listener in self._listeners:
                event.remove(self.connection, name, listener)

    def __enter__(self) -> DdlPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _cancel(self) -> None:
        raw = self.connection.connection.dbapi_connection
        cancel = getattr(raw, "cancel", None)
        if cancel is None:
            return
        with contextlib.suppress(Exception):  # the statement may have ended meanwhile
            cancel()

    def _on_sync(self, *args: Any, **kw: Any) -> None:
        if not self._closed:
            self.drain()

    def _on_savepoint(self, *args: Any, **kw: Any) -> None:
        # A migration that opens a savepoint means to catch a failure inside
        # it and roll back to it: from here to the end of the step, DDL runs
        # directly, so the failure is raised where the migration can catch it.
        if not self._closed and threading.current_thread() is not self._worker:
            self.hold()

    def _on_abort(self, *args: Any, **kw: Any) -> None:
        if not self._closed and threading.current_thread() is not self._worker:
            self.abort()

    # -- worker thread ------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                item = self._queue.popleft()
                if item is _STOP:
                    return
                skip = self._discarding or self._failure is not None
                self._busy = not skip and not isinstance(item, _Mark)
            try:
                if isinstance(item, _Mark):
                    item.finished = self._clock()
                    self._finished_marks.append(item)
                elif not skip:
                    statement, tag = item
                    try:
                        self.connection.execute(statement)
                    except BaseException as exc:
                        self._failure = StatementFailed(exc, tag)
            finally:
                with self._ready:
                    self._busy = False
                    self._pending -= 1
                    self._ready.notify_all()
