"""The migration lock: one writer per database at a time.

* PostgreSQL: a session advisory lock held on a connection of its own (in
  autocommit), never the DDL connection, so ``CREATE INDEX CONCURRENTLY``
  inside ``autocommit_block`` cannot deadlock with it.
* MySQL / MariaDB: ``GET_LOCK`` on a connection of its own.
* SQLite: the database's own write lock, taken with ``BEGIN IMMEDIATE``
  when the run's transaction starts (see :class:`SQLiteLock`).

A process that has to wait says once who holds the lock; ``timeout`` (in
seconds, ``None`` waits for ever) bounds the wait.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
import zlib
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from limbeck.errors import LimbeckError
from limbeck.runtime.store import who_runs

_POLL_SECONDS = 0.1
#: First key of limbeck's PostgreSQL advisory locks ("LIMB").
_PG_NAMESPACE = 0x4C494D42


class LockTimeout(LimbeckError):
    """The migration lock was not free within the allowed time."""

    exit_code = 1


def describe_self() -> str:
    return f"limbeck {who_runs()} pid {os.getpid()}"


def _announce(holder: str) -> None:
    sys.stderr.write(f"waiting for the migration lock, held by {holder}\n")
    sys.stderr.flush()


class MigrationLock:
    """No lock at all: dialects without one, and offline runs."""

    def __init__(self, connection: Connection | None, name: str, timeout: float | None) -> None:
        self.connection = connection
        self.name = name
        self.timeout = timeout
        self.held = False

    def acquire(self) -> None:
        self.held = True

    def release(self) -> None:
        self.held = False

    def is_free(self) -> bool:
        """True when nobody holds the lock now (takes and drops it at once)."""
        saved = self.timeout
        self.timeout = 0
        try:
            self.acquire()
        except LockTimeout:
            return False
        finally:
            self.timeout = saved
        self.release()
        return True

    def _wait(self, try_once: Any, holder: Any) -> None:
        """Poll ``try_once`` until it succeeds or the timeout passes."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        announced = False
        while not try_once():
            who = holder() or "another process"
            if deadline is not None and time.monotonic() >= deadline:
                raise LockTimeout(
                    f"the migration lock on {self.name} was not free within "
                    f"{self.timeout:g} s: held by {who}",
                    hint="wait for that run to finish, or raise --lock-timeout",
                )
            if not announced:
                _announce(who)
                announced = True
            time.sleep(_POLL_SECONDS)
        self.held = True


class _ServerLock(MigrationLock):
    """A lock held by a server session of its own (autocommit), so the
    connection running the DDL never holds or waits on it."""

    def __init__(self, connection: Connection | None, name: str, timeout: float | None) -> None:
        super().__init__(connection, name, timeout)
        self._own: Connection | None = None

    def _open(self) -> None:
        """Prepare the lock's own session (``self._own``)."""

    def _try_once(self, own: Connection) -> bool:
        raise NotImplementedError

    def _holder(self, own: Connection) -> str | None:
        raise NotImplementedError

    def _unlock(self, own: Connection) -> None:
        raise NotImplementedError

    def acquire(self) -> None:
        assert self.connection is not None
        own = self.connection.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._own = own
        try:
            self._open()
            self._wait(lambda: self._try_once(own), lambda: self._holder(own))
        except BaseException:
            self._close()
            raise

    def release(self) -> None:
        own = self._own
        try:
            if own is not None and self.held:
                self._unlock(own)
        finally:
            self.held = False
            self._close()

    def _close(self) -> None:
        if self._own is not None:
            own, self._own = self._own, None
            own.close()


class PostgresLock(_ServerLock):
    def __init__(self, connection: Connection | None, name: str, timeout: float | None) -> None:
        super().__init__(connection, name, timeout)
        key = zlib.crc32(name.encode("utf-8"))
        self.params = {"ns": _PG_NAMESPACE, "key": key - (1 << 32) if key >= (1 << 31) else key}

    def _open(self) -> None:
        assert self._own is not None
        self._own.execute(
            text("SELECT set_config('application_name', :name, false)"),
            {"name": describe_self()[:63]},
        )

    def _try_once(self, own: Connection) -> bool:
        query = text("SELECT pg_try_advisory_lock(:ns, :key)")
        return bool(own.execute(query, self.params).scalar())

    def _holder(self, own: Connection) -> str | None:
        row = own.execute(
            text(
                "SELECT a.application_name, a.usename, a.pid, a.backend_start "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.classid = CAST(:ns AS bigint)::oid "
                "AND l.objid = CAST((CAST(:key AS bigint) & 4294967295) AS bigint)::oid "
                "AND l.objsubid = 2"
            ),
            self.params,
        ).first()
        if row is None:
            return None
        return f"{row[0] or 'a session'} (database user {row[1]}, backend pid {row[2]})"

    def _unlock(self, own: Connection) -> None:
        own.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), self.params)


class MySQLLock(_ServerLock):
    _lock_name = ""

    def _open(self) -> None:
        assert self._own is not None
        database = self._own.execute(text("SELECT DATABASE()")).scalar() or ""
        # Lock names are server-wide: include the database. At most 64 chars.
        self._lock_name = f"limbeck:{database}:{self.name}"[:64]

    def _try_once(self, own: Connection) -> bool:
        query = text("SELECT GET_LOCK(:name, 0)")
        return own.execute(query, {"name": self._lock_name}).scalar() == 1

    def _holder(self, own: Connection) -> str | None:
        row = own.execute(
            text(
                "SELECT p.ID, p.USER, p.HOST FROM information_schema.PROCESSLIST p "
                "WHERE p.ID = IS_USED_LOCK(:name)"
            ),
            {"name": self._lock_name},
        ).first()
        if row is None:
            return None
        return f"connection {row[0]} of {row[1]}@{row[2]}"

    def _unlock(self, own: Connection) -> None:
        own.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": self._lock_name})


class SQLiteLock(MigrationLock):
    """SQLite's write lock, taken by ``BEGIN IMMEDIATE`` on the run's own
    connection: :meth:`begin` opens the transaction that holds it.

    SQLite cannot say who holds its lock, so the holder writes a small note
    beside a database file (``<file>-limbeck-lock``) for waiting runs to read,
    and removes it when its transaction ends (:meth:`end`).
    """

    _note: str | None = None

    def _note_path(self, connection: Connection) -> str | None:
        database = connection.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return os.path.abspath(database) + "-limbeck-lock"

    def _holder(self, connection: Connection) -> str:
        path = self._note_path(connection)
        fallback = "another connection (SQLite write lock)"
        if path is None:
            return fallback
        try:
            with open(path, encoding="utf-8") as handle:
                note = json.load(handle)
            pid, host = int(note["pid"]), str(note["host"])
        except (OSError, ValueError, KeyError, TypeError):
            return fallback
        if host == socket.gethostname() and not _alive(pid):
            return fallback
        return f"{note.get('who', 'limbeck')} (since {note.get('since', '?')})"

    def end(self) -> None:
        """Remove the holder note once the transaction has ended."""
        note, self._note = self._note, None
        if note is not None:
            with contextlib.suppress(OSError):
                os.unlink(note)

    def begin(self, connection: Connection) -> None:
        """Start an IMMEDIATE transaction on ``connection``, waiting as allowed."""
        raw = connection.connection.dbapi_connection
        assert raw is not None

        def run(sql: str) -> Any:
            cursor = raw.cursor()
            try:
                cursor.execute(sql)
                return cursor.fetchone() if cursor.description else None
            finally:
                cursor.close()

        def try_once() -> bool:
            try:
                run("BEGIN IMMEDIATE")
            except Exception as exc:  # sqlite3.OperationalError: database is locked
                if "locked" in str(exc) or "busy" in str(exc):
                    return False
                raise
            return True

        previous = run("PRAGMA busy_timeout")[0]
        run("PRAGMA busy_timeout = 50")
        try:
            self._wait(try_once, lambda: self._holder(connection))
        finally:
            run(f"PRAGMA busy_timeout = {int(previous)}")
        path = self._note_path(connection)
        if path is not None:
            note = {
                "who": describe_self(),
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "since": time.strftime("%H:%M:%S"),
            }
            with contextlib.suppress(OSError):
                with open(path, "w", encoding="utf-8") as handle:
                    json.dump(note, handle)
                self._note = path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but not ours to signal
    return True


def lock_for(connection: Connection | None, name: str, timeout: float | None) -> MigrationLock:
    """The lock that fits ``connection``'s database (none offline)."""
    if connection is None:
        return MigrationLock(None, name, timeout)
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return PostgresLock(connection, name, timeout)
    if dialect in ("mysql", "mariadb"):
        return MySQLLock(connection, name, timeout)
    if dialect == "sqlite":
        return SQLiteLock(connection, name, timeout)
    return MigrationLock(connection, name, timeout)
