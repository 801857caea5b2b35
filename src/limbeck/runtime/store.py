"""The database's records: the heads table and the ledger beside it.

The heads table keeps Alembic's shape: one ``version_num`` row per current
head, primary key ``<table>_pkc``, so databases Alembic manages are read as
they are. The ledger (``limbeck_history`` by default) records every step:
revision, direction, checksum, times, duration, outcome, who and which
limbeck. Outcomes:

``applied`` / ``reverted`` / ``stamped``
    the step completed and is part of the database's state;
``failed``
    the step raised and its transaction was rolled back: nothing changed;
``partial``
    the step raised on a database whose DDL commits as it goes (MySQL,
    MariaDB): some statements stayed applied; ``statements`` lists them;
``running``
    written before a non-transactional step starts; if it is still the
    latest row once the lock is free, that run was killed mid-step;
``accepted``
    a changed revision file's new checksum was accepted.

The database is *dirty* while the newest ledger row is ``partial`` or an
orphaned ``running``: ``current`` says so until a stamp or a successful
re-run repairs it.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from limbeck import __version__

DIRTY_OUTCOMES = frozenset({"partial", "running"})


def who_runs() -> str:
    """``user@host`` of this process (for the ledger and lock messages)."""
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One row of the ledger, as ``history --applied`` shows it."""

    id: int
    revision: str
    direction: str
    outcome: str
    checksum: str | None
    started_at: _dt.datetime | None
    finished_at: _dt.datetime | None
    duration_ms: float | None
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]
    run_by: str | None
    tool_version: str | None
    message: str | None
    statements: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "revision": self.revision,
            "direction": self.direction,
            "outcome": self.outcome,
            "checksum": self.checksum,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_ms": self.duration_ms,
            "heads_before": list(self.heads_before),
            "heads_after": list(self.heads_after),
            "run_by": self.run_by,
            "tool_version": self.tool_version,
            "message": self.message,
            "statements": list(self.statements),
        }


class VersionStore:
    """Reads and writes the heads table and the ledger on one connection."""

    def __init__(
        self,
        *,
        version_table: str,
        version_table_schema: str | None,
        version_table_pk: bool,
        history_table: str | None,
    ) -> None:
        metadata = MetaData()
        self.version = Table(
            version_table,
            metadata,
            Column("version_num", String(32), nullable=False),
            schema=version_table_schema,
        )
        if version_table_pk:
            self.version.append_constraint(
                PrimaryKeyConstraint("version_num", name=f"{version_table}_pkc")
            )
        self.history: Table | None = None
        if history_table:
            self.history = Table(
                history_table,
                metadata,
                Column("id", Integer, primary_key=True, autoincrement=True),
                Column("revision", String(64), nullable=False),
                Column("direction", String(16), nullable=False),
                Column("outcome", String(16), nullable=False),
                Column("checksum", String(64)),
                Column("started_at", DateTime),
                Column("finished_at", DateTime),
                Column("duration_ms", Float),
                Column("heads_before", Text),
                Column("heads_after", Text),
                Column("run_by", String(255)),
                Column("tool_version", String(32)),
                Column("message", Text),
                Column("statements", Text),
                schema=version_table_schema,
            )
        self.run_by = who_runs()
        # Statements built once and executed with parameters: building a
        # statement costs more than running it on a tiny table, and a run
        # writes the heads and the ledger once per step. The bind names are
        # the ones the inline ``.values()`` forms get (same SQL).
        column = self.version.c.version_num
        self._move_head = (
            update(self.version)
            .where(column == bindparam("version_num_1"))
            .values(version_num=bindparam("version_num"))
        )
        self._remove_head = delete(self.version).where(column == bindparam("version_num_1"))
        self._add_head = insert(self.version)
        self._add_entry = insert(self.history) if self.history is not None else None

    # -- existence ------------------------------------------------------------------

    def has_version_table(self, connection: Connection) -> bool:
        return bool(
            connection.dialect.has_table(connection, self.version.name, schema=self.version.schema)
        )

    def has_history_table(self, connection: Connection) -> bool:
        if self.history is None:
            return False
        return bool(
            connection.dialect.has_table(connection, self.history.name, schema=self.history.schema)
        )

    def create_tables(self, connection: Connection) -> None:
        """Create the heads table and the ledger where missing."""
        self.version.create(connection, checkfirst=True)
        if self.history is not None:
            self.history.create(connection, checkfirst=True)

    # -- heads ------------------------------------------------------------------------

    def read_heads(self, connection: Connection) -> tuple[str, ...]:
        if not self.has_version_table(connection):
            return ()
        rows = connection.execute(select(self.version.c.version_num)).scalars().all()
        return tuple(row for row in rows if row)

    def replace_heads(
        self, connection: Connection, removed: Sequence[str], added: Sequence[str]
    ) -> None:
        """Turn rows ``removed`` into ``added``: an UPDATE where one row moves
        on (the common linear case), DELETEs and INSERTs otherwise."""
        removed = list(removed)
        added = list(added)
        while removed and added:
            old, new = removed.pop(0), added.pop(0)
            connection.execute(self._move_head, {"version_num": new, "version_num_1": old})
        for old in removed:
            connection.execute(self._remove_head, {"version_num_1": old})
        for new in added:
            connection.execute(self._add_head, {"version_num": new})

    def clear_heads(self, connection: Connection) -> None:
        connection.execute(delete(self.version))

    # -- ledger ---------------------------------------------------------------------------

    def record(self, connection: Connection, **fields: Any) -> int | None:
        """Append a ledger row (fields as :meth:`entry_row` takes them);
        returns its id (None without a ledger)."""
        if self._add_entry is None:
            return None
        row = self.entry_row(**fields)
        result = connection.execute(self._add_entry, row)
        key = result.inserted_primary_key
        return int(key[0]) if key and key[0] is not None else None

    def record_many(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Append ledger rows made by :meth:`entry_row` in one statement."""
        if self._add_entry is not None and rows:
            connection.execute(self._add_entry, list(rows))

    def entry_row(
        self,
        *,
        revision: str,
        direction: str,
        outcome: str,
        checksum: str | None = None,
        started_at: _dt.datetime | None = None,
        duration_ms: float | None = None,
        heads_before: Iterable[str] = (),
        heads_after: Iterable[str] = (),
        message: str | None = None,
        statements: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The values of one ledger row, finished now."""
        finished = _now()
        return {
            "revision": revision,
            "direction": direction,
            "outcome": outcome,
            "checksum": checksum,
            "started_at": started_at or finished,
            "finished_at": finished if outcome != "running" else None,
            "duration_ms": duration_ms,
            "heads_before": " ".join(heads_before),
            "heads_after": " ".join(heads_after),
            "run_by": self.run_by,
            "tool_version": __version__,
            "message": message,
            "statements": json.dumps(list(statements)) if statements else None,
        }

    def finish(
        self,
        connection: Connection,
        entry_id: int,
        *,
        outcome: str,
        duration_ms: float,
        heads_after: Iterable[str] = (),
        message: str | None = None,
        statements: Sequence[str] = (),
    ) -> None:
        """Complete a ``running`` row."""
        assert self.history is not None
        connection.execute(
            update(self.history)
            .where(self.history.c.id == entry_id)
            .values(
                outcome=outcome,
                finished_at=_now(),
                duration_ms=duration_ms,
                heads_after=" ".join(heads_after),
                message=message,
                statements=json.dumps(list(statements)) if statements else None,
            )
        )

    def entries(self, connection: Connection, *, limit: int | None = None) -> list[LedgerEntry]:
        """Ledger rows, newest first."""
        if self.history is None or not self.has_history_table(connection):
            return []
        table = self.history
        query = select(table).order_by(table.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return [_entry(row._mapping) for row in connection.execute(query)]

    def applied_checksums(
        self, connection: Connection
    ) -> dict[str, tuple[str, _dt.datetime | None]]:
        """For every revision whose newest checksum-bearing row is an apply
        (or an accepted change): that checksum and when it was recorded."""
        if self.history is None or not self.has_history_table(connection):
            return {}
        table = self.history
        rows = connection.execute(
            select(table.c.revision, table.c.outcome, table.c.checksum, table.c.finished_at)
            .where(table.c.outcome.in_(("applied", "accepted", "reverted")))
            .order_by(table.c.id)
        )
        found: dict[str, tuple[str, _dt.datetime | None]] = {}
        for revision, outcome, checksum, finished in rows:
            if outcome == "reverted":
                found.pop(revision, None)
            elif checksum:
                found[revision] = (checksum, finished)
        return found

    def dirty(self, connection: Connection) -> LedgerEntry | None:
        """The newest ledger row when it leaves the database dirty."""
        newest = self.entries(connection, limit=1)
        if newest and newest[0].outcome in DIRTY_OUTCOMES:
            return newest[0]
        return None


def _entry(row: Any) -> LedgerEntry:
    statements = row["statements"]
    return LedgerEntry(
        id=row["id"],
        revision=row["revision"],
        direction=row["direction"],
        outcome=row["outcome"],
        checksum=row["checksum"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        duration_ms=row["duration_ms"],
        heads_before=tuple((row["heads_before"] or "").split()),
        heads_after=tuple((row["heads_after"] or "").split()),
        run_by=row["run_by"],
        tool_version=row["tool_version"],
        message=row["message"],
        statements=tuple(json.loads(statements)) if statements else (),
    )
