"""The migration context: one connection (or one offline output), its
transactions, the migration lock, the version store, and the loop that runs
``upgrade()`` / ``downgrade()`` step by step.

Transactions, online:

* transactional DDL (PostgreSQL, SQLite, SQL Server): one transaction for
  the whole run, or one per migration with ``transaction_per_migration``;
  a failing migration rolls back, so the database is exactly as it was
  before it (before the run, in the one-transaction mode);
* DDL that commits as it goes (MySQL, MariaDB, Oracle): one transaction
  per migration around the bookkeeping; the ledger row is written as
  ``running`` first, so a failure (or a kill) shows as a dirty database
  with the statements that had already run.

A connection already inside a transaction when handed to ``configure`` is
the caller's: limbeck neither begins nor commits it.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.url import URL, make_url

from limbeck import _current, _startup
from limbeck.errors import CheckFailed, LimbeckError, MigrationFailed, RevisionError
from limbeck.graph import RevisionGraph, Step
from limbeck.runtime.checksum import ChecksumCache
from limbeck.runtime.lock import MigrationLock, SQLiteLock, lock_for
from limbeck.runtime.pipeline import DdlPipeline, StatementFailed, pipeline_supported
from limbeck.runtime.store import VersionStore

if TYPE_CHECKING:
    from limbeck.config import Config
    from limbeck.ddl import DialectImpl
    from limbeck.runtime.environment import EnvironmentContext
    from limbeck.scripts.directory import ScriptDirectory

log = logging.getLogger("limbeck.runtime.migration")

DEFAULT_VERSION_TABLE = "limbeck_version"
DEFAULT_HISTORY_TABLE = "limbeck_history"


@dataclass(frozen=True, slots=True)
class RunStep:
    """A step as the runtime runs it: a graph step plus what kind it is."""

    step: Step
    kind: str  # "upgrade", "downgrade" or "stamp"

    @property
    def revision(self) -> str:
        return self.step.revision


class MigrationInfo:
    """What ``on_version_apply`` callbacks receive about a finished step
    (Alembic's attribute names)."""

    def __init__(self, run_step: RunStep, graph: RevisionGraph | None) -> None:
        step = run_step.step
        self.is_upgrade = step.is_upgrade
        self.is_stamp = run_step.kind == "stamp"
        self.is_migration = not self.is_stamp
        self.revision_map = graph
        self.source_revision_ids = step.heads_before
        self.destination_revision_ids = step.heads_after
        if self.is_stamp:
            self._describe_stamp(step, graph)
        elif step.is_upgrade:
            self.up_revision_ids: tuple[str, ...] = (step.revision,) if step.revision else ()
            parents = graph.parents(step.revision) if graph and step.revision in graph else ()
            self.down_revision_ids: tuple[str, ...] = parents
        else:
            self.up_revision_ids = (step.revision,) if step.revision else ()
            parents = graph.parents(step.revision) if graph and step.revision in graph else ()
            self.down_revision_ids = parents

    def _describe_stamp(self, step: Step, graph: RevisionGraph | None) -> None:
        """A stamp goes down when every row it adds sits below a row it
        removes (``stamp base`` adds none); then, as in Alembic, the removed
        rows are the "up" revisions and the added ones the "down" ones."""
        removed, added = step.removed_heads, step.added_heads
        below = graph.ancestors(removed) if graph is not None and removed else set()
        downward = bool(removed) and all(key in below for key in added)
        self.is_upgrade = not downward
        self.up_revision_ids = removed if downward else added
        self.down_revision_ids = added if downward else removed

    @property
    def up_revision_id(self) -> str | None:
        return self.up_revision_ids[0] if len(self.up_revision_ids) == 1 else None

    def _revisions(self, keys: Sequence[str]) -> tuple[Any, ...]:
        graph = self.revision_map
        return tuple(graph.get(key) for key in keys if graph is not None and key in graph)

    @property
    def up_revision(self) -> Any:
        found = self._revisions(self.up_revision_ids)
        return found[0] if found else None

    @property
    def up_revisions(self) -> tuple[Any, ...]:
        return self._revisions(self.up_revision_ids)

    @property
    def down_revisions(self) -> tuple[Any, ...]:
        return self._revisions(self.down_revision_ids)

    @property
    def source_revisions(self) -> tuple[Any, ...]:
        return self._revisions(self.source_revision_ids)

    @property
    def destination_revisions(self) -> tuple[Any, ...]:
        return self._revisions(self.destination_revision_ids)


class _StatementLog:
    """The statements a migration sent, for the ledger of a partial failure."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.statements: list[str] = []

    def __enter__(self) -> _StatementLog:
        event.listen(self.connection, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.connection, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        self.statements.append(statement.strip())


#: Query-string keys that drivers read as a password (``?password=...``).
_SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "pass", "sslpassword"})


def masked_url(url: str | URL | None) -> str:
    """``url`` with any password replaced by ``***``, also one given in the
    query string (``?password=...``)."""
    if url is None:
        return "<no url>"
    try:
        parsed = make_url(url)
        secret = [key for key in parsed.query if key.lower() in _SECRET_QUERY_KEYS]
        if secret:
            parsed = parsed.update_query_dict({key: "***" for key in secret})
        # The URL encoder would write *** as %2A%2A%2A.
        return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")
    except Exception:
        # Unparseable (a bad port...): still show it, with what looks like a
        # password hidden.
        text = re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", str(url))
        keys = "|".join(sorted(_SECRET_QUERY_KEYS))
        return re.sub(rf"([?&](?:{keys})=)[^&]*", r"\1***", text, flags=re.IGNORECASE)


class MigrationContext:
    """The runtime engine for one database connection (or offline output).

    Usable on its own, as in Alembic::

        ctx = MigrationContext.configure(connection)
        ctx.get_current_heads()
    """

    def __init__(
        self,
        dialect: Dialect,
        connection: Connection | None,
        opts: Mapping[str, Any],
        environment_context: EnvironmentContext | None = None,
    ) -> None:
        from limbeck.ddl import impl_for

        self.dialect = dialect
        self.connection = connection
        self.opts: dict[str, Any] = dict(opts)
        self.environment_context = environment_context
        self.as_sql: bool = bool(self.opts.get("as_sql", False))
        self.literal_binds: bool = bool(self.opts.get("literal_binds", False))
        if self.literal_binds and not self.as_sql:
            raise LimbeckError(
                "literal_binds=True is only for offline (--sql) runs",
                hint="remove literal_binds from the online context.configure() call",
            )
        output = self.opts.get("output_buffer")
        self.output_buffer: TextIO | None = (
            output if output is not None else (sys.stdout if self.as_sql else None)
        )
        self.impl: DialectImpl = impl_for(
            dialect,
            connection,
            as_sql=self.as_sql,
            output_buffer=self.output_buffer,
            context_opts=self.opts,
        )
        self.transaction_per_migration: bool = bool(
            self.opts.get("transaction_per_migration", False)
        )
        self.store = VersionStore(
            version_table=self.opts.get("version_table") or DEFAULT_VERSION_TABLE,
            version_table_schema=self.opts.get("version_table_schema"),
            version_table_pk=bool(self.opts.get("version_table_pk", True)),
            history_table=self.opts.get("history_table", DEFAULT_HISTORY_TABLE),
        )
        self._version_sql: _VersionSqlTemplates | None = None
        self.version_table = self.store.version.name
        self.version_table_schema = self.store.version.schema
        callbacks = self.opts.get("on_version_apply") or ()
        self.on_version_apply_callbacks: list[Callable[..., Any]] = (
            [callbacks] if callable(callbacks) else list(callbacks)
        )
        self._migrations_fn: Callable[..., Any] | None = self.opts.get("fn")
        self._start_from_rev: str | None = self.opts.get("starting_rev")
        self.purge: bool = bool(self.opts.get("purge", False))
        self._external_transaction = bool(connection is not None and connection.in_transaction())
        self._run_transaction: Any = None
        self._pending_failure: dict[str, Any] | None = None
        #: An autocommit_block() committed part of this run: a failure after
        #: it cannot roll the run back to where it started.
        self._committed_midway = False
        self._lock: MigrationLock | None = None
        self._checksums: ChecksumCache | None = None
        self._pending_bookkeeping: list[tuple[Step, dict[str, Any]]] = []

    # -- construction -------------------------------------------------------------------

    @classmethod
    def configure(
        cls,
        connection: Connection | None = None,
        url: str | URL | None = None,
        dialect_name: str | None = None,
        dialect: Dialect | None = None,
        environment_context: EnvironmentContext | None = None,
        dialect_opts: Mapping[str, Any] | None = None,
        opts: Mapping[str, Any] | None = None,
    ) -> MigrationContext:
        """Build a context from a connection (online), or a URL / dialect
        name (offline SQL generation)."""
        opts = dict(opts or {})
        if connection is not None:
            if not isinstance(connection, Connection):
                raise LimbeckError(
                    "configure(connection=...) needs a Connection, "
                    f"got {type(connection).__name__}",
                    hint="use `with engine.connect() as connection:` and pass that",
                )
            dialect = connection.dialect
        elif url is not None:
            try:
                dialect = make_url(url).get_dialect()(**(dialect_opts or {}))
            except Exception as exc:
                raise LimbeckError(
                    f"cannot use database URL {masked_url(url)}: {exc}",
                    hint="check sqlalchemy.url (or LIMBECK_DATABASE_URL)",
                ) from None
        elif dialect_name is not None:
            try:
                dialect = URL.create(dialect_name).get_dialect()(**(dialect_opts or {}))
            except Exception as exc:
                raise LimbeckError(f"unknown dialect {dialect_name!r}: {exc}") from None
        elif dialect is None:
            raise LimbeckError(
                "configure() needs a connection, a url or a dialect_name",
                hint="online: connection=...; offline (--sql): url=...",
            )
        assert dialect is not None
        return cls(dialect, connection, opts, environment_context)

    # -- Alembic's attributes ------------------------------------------------------------

    @property
    def bind(self) -> Connection | None:
        """The connection; during a pipelined run, with every statement so far
        executed, and the rest of the step's DDL run directly."""
        pipeline = self.impl.pipeline
        if pipeline is not None:
            pipeline.hold()
        return self.connection

    @property
    def config(self) -> Config | None:
        return self.environment_context.config if self.environment_context else None

    @property
    def script(self) -> ScriptDirectory | None:
        return self.environment_context.script if self.environment_context else None

    # -- transactions -------------------------------------------------------------------

    def _transactional(self) -> bool:
        return bool(self.impl.transactional_ddl)

    @contextlib.contextmanager
    def begin_transaction(self, _per_migration: bool = False) -> Iterator[None]:
        """A transaction block, as env.py uses it (``_per_migration`` is the
        runtime's own per-step call). Where the mode says the other level
        owns the transaction, this is a no-op."""
        per_step_mode = self.transaction_per_migration or not self._transactional()
        if _per_migration != per_step_mode:
            yield
            return
        if self.as_sql:
            if self._transactional():
                self.impl.emit_begin()
                yield
                self.impl.emit_commit()
            else:
                yield
            return
        if self._external_transaction or self._run_transaction is not None:
            yield
            return
        with self._real_transaction():
            yield

    @contextlib.contextmanager
    def _real_transaction(self) -> Iterator[None]:
        connection = self._require_connection()
        if connection.in_transaction():
            # Autobegun by a query (has_table, env.py's own): close it first.
            connection.commit()
        with self.impl.around_transaction():
            transaction = connection.begin()
            self._run_transaction = transaction
            # Read-only visits (current, history -i) take no lock: on SQLite,
            # an IMMEDIATE transaction would wait for a run in progress.
            lock = None if self.opts.get("dont_mutate") else self._lock_object()
            try:
                if isinstance(lock, SQLiteLock):
                    lock.begin(connection)
                yield
            except BaseException:
                # autocommit_block() may have replaced the transaction: end the current one
                current = self._run_transaction or transaction
                if current.is_active:
                    current.rollback()
                self._run_transaction = None
                self._write_pending_failure()
                raise
            else:
                current = self._run_transaction or transaction
                self._run_transaction = None
                if current.is_active:
                    current.commit()
            finally:
                self._run_transaction = None
                if isinstance(lock, SQLiteLock):
                    lock.end()

    @contextlib.contextmanager
    def autocommit_block(self) -> Iterator[None]:
        """Commit what is open, run the block in AUTOCOMMIT, then open a new
        transaction. For ``CREATE INDEX CONCURRENTLY``, ``ALTER TYPE ... ADD
        VALUE``, ``VACUUM``. Offline it writes ``COMMIT;`` ... ``BEGIN;``."""
        if self.as_sql:
            if self._transactional():
                self.impl.emit_commit()
            yield
            if self._transactional():
                self.impl.emit_begin()
            return
        connection = self._require_connection()
        if self._external_transaction:
            raise LimbeckError(
                "autocommit_block() cannot run inside a transaction limbeck does not own",
                hint="pass a connection that is not in a transaction",
            )
        # Statements inside the block must run as they are issued, outside
        # any transaction: nothing may be left in the pipeline.
        pipeline = self.impl.pipeline
        if pipeline is not None:
            pipeline.hold()
        # What ran before the block commits now: its bookkeeping goes with it.
        self.flush_bookkeeping()
        self._committed_midway = True
        transaction = self._run_transaction
        if transaction is not None and transaction.is_active:
            transaction.commit()
        elif connection.in_transaction():
            connection.commit()
        previous = connection.get_isolation_level()
        connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield
        finally:
            if connection.in_transaction():
                # SQLAlchemy autobegins even in AUTOCOMMIT; close that first.
                connection.commit()
            connection.execution_options(isolation_level=previous)
            if transaction is not None:
                self._run_transaction = connection.begin()
                lock = self._lock_object()
                if isinstance(lock, SQLiteLock):
                    lock.begin(connection)

    def _require_connection(self) -> Connection:
        if self.connection is None:
            raise LimbeckError(
                "this needs a database connection, but the run is offline (--sql)",
                hint="run without --sql, or avoid reading from the database in the migration",
            )
        return self.connection

    # -- the lock ---------------------------------------------------------------------------

    def _lock_object(self) -> MigrationLock:
        if self._lock is None:
            timeout = self.opts.get("lock_timeout")
            name = ".".join(filter(None, (self.version_table_schema, self.version_table)))
            self._lock = lock_for(self.connection, name, timeout)
        return self._lock

    def lock_is_free(self) -> bool:
        """Whether no other run holds the migration lock right now."""
        lock = self._lock_object()
        if isinstance(lock, SQLiteLock) or self.as_sql or self.connection is None:
            return True
        return lock.is_free()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self._lock_object()
        if isinstance(lock, SQLiteLock) or self.as_sql:
            yield  # SQLite's lock is the IMMEDIATE transaction itself
            return
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

    # -- reading state ------------------------------------------------------------------------

    def get_current_heads(self) -> tuple[str, ...]:
        """The version rows (without creating the table)."""
        if self.as_sql:
            start = self._start_from_rev
            if start is None or start == "base":
                return ()
            if self.script is not None:
                return self.script.resolver().resolve(start)
            return tuple(start.split(","))
        return self.store.read_heads(self._require_connection())

    def get_current_revision(self) -> str | None:
        heads = self.get_current_heads()
        if len(heads) > 1:
            raise RevisionError(
                f"the database is at several heads ({', '.join(heads)})",
                hint="use get_current_heads()",
            )
        return heads[0] if heads else None

    # -- running ---------------------------------------------------------------------------------

    def execute(self, sql: Any, execution_options: Mapping[str, Any] | None = None) -> Any:
        return self.impl.execute(sql, execution_options)

    def run_migrations(self, **kw: Any) -> None:
        """Run the steps the command asked for (``fn``), with ``kw`` passed to
        every ``upgrade()`` / ``downgrade()``."""
        if self._migrations_fn is None:
            raise LimbeckError(
                "run_migrations() was called without a command to run",
                hint="call it from env.py while a limbeck command runs",
            )
        _startup.end()  # migrations make garbage: the collector is needed from here
        try:
            self._run_migrations(kw)
        finally:
            if self.script is not None:
                self.script.save_caches()

    def _run_migrations(self, kw: dict[str, Any]) -> None:
        if self.as_sql:
            self._run_offline(kw)
            return
        if (
            not self._external_transaction
            and self._run_transaction is None
            and self._transactional()
            and not self.transaction_per_migration
        ):
            # env.py did not open the run's transaction: open it here.
            with self.begin_transaction():
                self._run_online(kw)
            return
        self._run_online(kw)

    def _graph(self) -> RevisionGraph | None:
        return self.script.graph if self.script is not None else None

    def _plan(self, heads: tuple[str, ...]) -> list[RunStep]:
        assert self._migrations_fn is not None
        steps = list(self._migrations_fn(heads, self) or [])
        script = self.script
        if steps and script is not None:
            # A revision file that does not compile is a broken file (exit 2),
            # found before any migration runs, not a failed migration.
            script.compile_revisions(step.revision for step in steps if step.kind != "stamp")
        return steps

    def _run_offline(self, kw: dict[str, Any]) -> None:
        heads = self.get_current_heads()
        steps = self._plan(heads)
        if not steps:
            return
        if self._start_from_rev in (None, "base") and steps[0].kind != "downgrade":
            self._offline_create_version_table()
        for run_step in steps:
            self._offline_step(run_step, kw)
            self.impl.flush_output()

    def _offline_create_version_table(self) -> None:
        from sqlalchemy.schema import CreateTable

        self.impl.execute(CreateTable(self.store.version))

    def _offline_step(self, run_step: RunStep, kw: dict[str, Any]) -> None:
        step = run_step.step
        self.impl.static_output(f"-- {_describe(run_step, self._graph())}", flush=False)
        with self.begin_transaction(_per_migration=True):
            if run_step.kind != "stamp":
                try:
                    self._call_revision(run_step, kw)
                except (MigrationFailed, _StepRaced, BrokenPipeError):
                    # Already named, or the reader left (`| head`): no failure
                    # of this migration.
                    raise
                except Exception as exc:
                    raise self._offline_failure(run_step, exc) from exc
            self._offline_version_sql(step)
            self._notify(run_step)

    def _revision_path(self, revision: str) -> str | None:
        """The file of ``revision``, for messages (None when unknown)."""
        graph = self._graph()
        return graph.get(revision).path if graph and revision in graph else None

    def _offline_failure(self, run_step: RunStep, exc: Exception) -> Exception:
        """The error of a migration that failed while its SQL was written,
        naming the migration and its file (nothing ran: there is no database).
        A limbeck error keeps its class (and exit code) with the name added."""
        path = self._revision_path(run_step.revision)
        where = f"{run_step.kind} {run_step.revision}" + (f" ({path})" if path else "")
        if isinstance(exc, LimbeckError):
            # The directive's own error: it cannot be written offline.
            failure = copy.copy(exc)
            failure.message = f"{where}: {exc.message}"
            failure.args = (failure.message,)
            return failure
        return MigrationFailed(
            f"{where} failed: {type(exc).__name__}: {_first_line(exc)}",
            hint="fix the migration (--traceback shows where)",
        )

    def _offline_version_sql(self, step: Step) -> None:
        if self._version_sql is None:
            self._version_sql = _VersionSqlTemplates(
                self.impl.compile, self.store.version, self.dialect
            )
        removed, added = list(step.removed_heads), list(step.added_heads)
        while removed and added:
            self.impl.write_sql(self._version_sql.update(removed.pop(0), added.pop(0)))
        for old in removed:
            self.impl.write_sql(self._version_sql.delete(old))
        for new in added:
            self.impl.write_sql(self._version_sql.insert(new))

    def _run_online(self, kw: dict[str, Any]) -> None:
        connection = self._require_connection()
        if self.opts.get("dont_mutate"):
            # Read-only visits (current, history -i): no lock, no new tables.
            steps = self._plan(self.store.read_heads(connection))
            assert not steps, "a read-only run produced steps"
            # End the transaction our reads began; one that begin_transaction()
            # opened in env.py ends there, with whatever env.py did in it.
            if (
                connection.in_transaction()
                and not self._external_transaction
                and self._run_transaction is None
            ):
                connection.rollback()
            return
        if self._external_transaction:
            self._join_external_sqlite_transaction(connection)
        with self._locked():
            per_step = self.transaction_per_migration or not self._transactional()
            with self._bookkeeping_transaction(per_step):
                self.store.create_tables(connection)
                if self.purge:
                    self._purge(connection)
                steps = self._read_and_plan(connection)
            try:
                while True:
                    try:
                        self._execute_steps(steps, kw, per_step)
                        self.flush_bookkeeping()
                        break
                    except _StepRaced:
                        # SQLite, one transaction per migration: another run
                        # moved the heads between two of ours. Plan again.
                        with self._bookkeeping_transaction(per_step):
                            steps = self._read_and_plan(connection)
            finally:
                if self._checksums is not None:
                    self._checksums.save()

    def _purge(self, connection: Connection) -> None:
        purged = self.store.read_heads(connection)
        self.store.clear_heads(connection)
        if purged:
            self.store.record(
                connection,
                revision="purge",
                direction="stamp",
                outcome="stamped",
                heads_before=purged,
                message="stamp --purge emptied the version table",
            )

    def _read_and_plan(self, connection: Connection) -> list[RunStep]:
        """Read the heads (lock held), refuse a dirty database, plan, and
        check the checksums of what is already applied."""
        heads = self.store.read_heads(connection)
        self._refuse_dirty(connection)
        steps = self._plan(heads)
        self._verify_checksums(connection, heads, steps)
        return steps

    def _join_external_sqlite_transaction(self, connection: Connection) -> None:
        """The caller's SQLite "transaction" may not have begun in SQLite yet
        (pysqlite defers BEGIN to the first INSERT, and runs DDL outside):
        begin it now, so the migration's DDL commits or rolls back with it."""
        if connection.dialect.name != "sqlite":
            return
        raw = connection.connection.dbapi_connection
        if raw is None or getattr(raw, "in_transaction", True):
            return
        cursor = raw.cursor()
        try:
            cursor.execute("BEGIN")
        finally:
            cursor.close()

    @contextlib.contextmanager
    def _bookkeeping_transaction(self, per_step: bool) -> Iterator[None]:
        """Where the run has no transaction of its own, reads and table
        creation happen in a short one (after the lock is held)."""
        if per_step and not self._external_transaction:
            with self._real_transaction():
                yield
        else:
            yield

    def _refuse_dirty(self, connection: Connection) -> None:
        if self._migrations_fn is not None and getattr(self._migrations_fn, "allow_dirty", False):
            return
        dirty = self.store.dirty(connection)
        if dirty is not None:
            raise CheckFailed(
                f"the database is dirty: {dirty.direction} of {dirty.revision} "
                f"{'was interrupted' if dirty.outcome == 'running' else 'failed partway'}"
                f" (ledger entry {dirty.id})",
                hint="repair the schema by hand, then `limbeck stamp <revision>` "
                "(`limbeck history --applied` shows what ran)",
            )

    def _verify_checksums(
        self, connection: Connection, heads: tuple[str, ...], steps: Sequence[RunStep]
    ) -> None:
        if not steps or not any(s.kind == "upgrade" for s in steps) or self.script is None:
            return
        recorded = self.store.applied_checksums(connection)
        if not recorded:
            return
        from limbeck.graph import applied_set

        graph = self.script.graph
        applied = applied_set(graph, heads)
        cache = self._checksum_cache()
        accept = bool(self.opts.get("accept_changed", False))
        for revision, (checksum, when) in sorted(recorded.items()):
            if revision not in applied or revision not in graph:
                continue
            path = graph.get(revision).path
            if path is None or not path.endswith(".py"):
                continue
            now = cache.checksum(path)
            if now == checksum:
                continue
            if not accept:
                stamp = f" on {when:%Y-%m-%d %H:%M}" if when else ""
                raise CheckFailed(
                    f"revision {revision} ({path}) changed since it was applied{stamp}",
                    hint="restore the file, or run `limbeck upgrade ... --accept-changed` "
                    "to record the new code as applied",
                )
            self.store.record(
                connection,
                revision=revision,
                direction="upgrade",
                outcome="accepted",
                checksum=now,
                heads_before=heads,
                heads_after=heads,
                message=f"checksum changed from {checksum}",
            )

    def _checksum_of(self, revision: str) -> str | None:
        graph = self._graph()
        if graph is None or revision not in graph:
            return None
        path = graph.get(revision).path
        if path is None or not path.endswith(".py"):
            return None
        return self._checksum_cache().checksum(path)

    def _checksum_cache(self) -> ChecksumCache:
        if self._checksums is None:
            directory = self.script.dir if self.script is not None else None
            self._checksums = ChecksumCache(
                os.path.join(directory, "__pycache__") if directory else None
            )
        return self._checksums

    def _execute_steps(self, steps: Sequence[RunStep], kw: dict[str, Any], per_step: bool) -> None:
        progress = _Progress(len(steps))
        step_log = logging.getLogger(self.opts.get("log_name") or log.name)

        def report(number: int, run_step: RunStep, started: float, finished: float) -> None:
            if step_log.isEnabledFor(logging.INFO):
                elapsed = (finished - started) * 1000
                step_log.info("%s (%s)", _describe(run_step, self._graph()), _duration(elapsed))
            progress.update(number, run_step.revision)

        pipeline = self._open_pipeline(per_step, len(steps))
        try:
            if pipeline is not None:
                self._execute_steps_pipelined(pipeline, steps, kw, report)
                return
            for number, run_step in enumerate(steps, 1):
                started = time.perf_counter()
                if per_step and not self._external_transaction:
                    self._run_step_own_transaction(run_step, kw)
                else:
                    self._run_step_in_run_transaction(run_step, kw)
                report(number, run_step, started, time.perf_counter())
        finally:
            if pipeline is not None:
                self.impl.pipeline = None
                pipeline.close()
            progress.close()

    def _open_pipeline(self, per_step: bool, count: int) -> DdlPipeline | None:
        """A DDL pipeline for this run, where it is safe and worth it: online,
        one transaction for the run (nothing commits between steps), a
        driver that lets a second thread wait for the server, more than one
        step, and not turned off with ``context.configure(pipeline_ddl=False)``."""
        connection = self.connection
        if (
            per_step
            or count < 2
            or connection is None
            or not self.opts.get("pipeline_ddl", True)
            or not self._transactional()
            # A caller's transaction may be committed after a failure: every
            # statement of the steps before it must have been sent.
            or self._external_transaction
        ):
            return None
        if not pipeline_supported(connection):
            return None
        pipeline = DdlPipeline(connection, time.perf_counter)
        self.impl.pipeline = pipeline
        return pipeline

    def _execute_steps_pipelined(
        self,
        pipeline: DdlPipeline,
        steps: Sequence[RunStep],
        kw: dict[str, Any],
        report: Callable[[int, RunStep, float, float], None],
    ) -> None:
        """The steps of a one-transaction run whose DDL goes through
        ``pipeline``: a step is reported (log line, progress, ledger
        duration) once its statements have run, and a statement's failure
        is charged to the step that issued it."""
        timeline = _Timeline()
        for number, run_step in enumerate(steps, 1):
            step_run = _StepRun(run_step, _utcnow(), time.perf_counter())
            pipeline.release()
            pipeline.tag = step_run
            self._run_step_in_run_transaction(run_step, kw)
            row = self._pending_bookkeeping[-1][1] if self._pending_bookkeeping else None
            pipeline.mark(_StepFinished(report, number, step_run, row, timeline))
            pipeline.collect()
        try:
            pipeline.drain()
        except StatementFailed as failed:
            raise self._step_failed(failed.tag, failed) from failed.error
        pipeline.collect()

    def _run_step_in_run_transaction(self, run_step: RunStep, kw: dict[str, Any]) -> None:
        connection = self._require_connection()
        started_at = _utcnow()
        started = time.perf_counter()
        # With transactional DDL and one transaction for the run, every step
        # commits or rolls back together: the version rows and ledger rows
        # can be written once, at the end (or before an autocommit block),
        # instead of two round trips per step.
        # In a caller's transaction, which the caller may commit after a
        # failure, each step writes its own rows.
        buffered = self._transactional() and not self._external_transaction
        try:
            if run_step.kind != "stamp":
                self._call_revision(run_step, kw)
            if not buffered:
                self._apply_version_change(connection, run_step.step)
        except BaseException as exc:
            failed = self.impl.pipeline.failure if self.impl.pipeline is not None else None
            if failed is not None:
                # An earlier step's DDL failed on the server; whatever this
                # step raised followed from that.
                raise self._step_failed(failed.tag, failed) from failed.error
            raise self._step_failed(_StepRun(run_step, started_at, started), exc) from exc
        record = self._success_record(run_step, started_at, started)
        if buffered:
            self._pending_bookkeeping.append((run_step.step, self.store.entry_row(**record)))
        else:
            self.store.record(connection, **record)
        self._notify(run_step)

    def _step_failed(self, step_run: _StepRun, exc: BaseException) -> BaseException:
        """Note the failure of a step of a one-transaction run (written to the
        ledger after the rollback) and return the error to raise."""
        if isinstance(exc, StatementFailed):
            exc = exc.error
        run_step = step_run.run_step
        self._pending_bookkeeping.clear()
        failure = self._failure_record(run_step, exc, step_run.started_at, step_run.started, ())
        if self._external_transaction:
            self._record_in_callers_transaction(failure)
            return self._as_failure(run_step, exc, rolled_back=False, callers=True)
        self._pending_failure = failure
        return self._as_failure(run_step, exc, rolled_back=True, whole_run=True)

    def _record_in_callers_transaction(self, failure: dict[str, Any]) -> None:
        """Note a failed step in the caller's transaction (kept if the caller
        commits). A database that refuses statements after the error (as
        PostgreSQL does until a rollback) keeps no record."""
        connection = self.connection
        if connection is None or self.store.history is None:
            return
        try:
            with connection.begin_nested():
                self.store.record(connection, **failure)
        except Exception as exc:  # never hide the migration's own error
            log.debug("could not record the failure in the caller's transaction: %s", exc)

    def flush_bookkeeping(self) -> None:
        """Write the version rows and ledger rows held back for this run."""
        pending, self._pending_bookkeeping = self._pending_bookkeeping, []
        if not pending or self.connection is None:
            return
        before = pending[0][0].heads_before
        after = pending[-1][0].heads_after
        self.store.replace_heads(
            self.connection,
            [head for head in before if head not in after],
            [head for head in after if head not in before],
        )
        self.store.record_many(self.connection, [row for _, row in pending])

    def _run_step_own_transaction(self, run_step: RunStep, kw: dict[str, Any]) -> None:
        connection = self._require_connection()
        started_at = _utcnow()
        started = time.perf_counter()
        transactional = self._transactional()
        entry_id: int | None = None
        if not transactional and run_step.kind != "stamp":
            with self._real_transaction():
                self._check_heads_unchanged(connection, run_step)
                entry_id = self.store.record(
                    connection,
                    revision=run_step.revision,
                    direction=run_step.kind,
                    outcome="running",
                    checksum=self._checksum_of(run_step.revision),
                    started_at=started_at,
                    heads_before=run_step.step.heads_before,
                )
        statements = _StatementLog(connection)
        try:
            with self._real_transaction():
                if transactional:
                    self._check_heads_unchanged(connection, run_step)
                with statements:
                    if run_step.kind != "stamp":
                        self._call_revision(run_step, kw)
                self._apply_version_change(connection, run_step.step)
                record = self._success_record(run_step, started_at, started)
                if entry_id is not None:
                    self.store.finish(
                        connection,
                        entry_id,
                        outcome=record["outcome"],
                        duration_ms=record["duration_ms"],
                        heads_after=run_step.step.heads_after,
                    )
                else:
                    self.store.record(connection, **record)
                self._notify(run_step)
        except BaseException as exc:
            if isinstance(exc, _StepRaced):
                raise
            ran = tuple(statements.statements) if not transactional else ()
            self._record_failure_now(run_step, exc, started_at, started, ran, entry_id)
            raise self._as_failure(run_step, exc, rolled_back=transactional or not ran) from exc

    def _check_heads_unchanged(self, connection: Connection, run_step: RunStep) -> None:
        """Per-step transactions on SQLite release the lock between steps:
        make sure no other process moved the heads meanwhile."""
        if not isinstance(self._lock_object(), SQLiteLock):
            return
        heads = set(self.store.read_heads(connection))
        if heads != set(run_step.step.heads_before):
            raise _StepRaced(run_step.revision)

    def _call_revision(self, run_step: RunStep, kw: dict[str, Any]) -> None:
        from limbeck.operations import Operations

        script = self.script
        if script is None:
            raise LimbeckError("running migrations needs a script directory")
        module = script.script(run_step.revision).module
        name = "upgrade" if run_step.step.is_upgrade else "downgrade"
        function = getattr(module, name, None)
        if function is None:
            raise LimbeckError(
                f"revision file {script.script(run_step.revision).path} has no {name}() function",
                hint=f"add def {name}() -> None to it",
            )
        token = _current.operations.set(Operations(self))
        try:
            function(**kw)
        finally:
            _current.operations.reset(token)
        self.impl.flush()

    def _apply_version_change(self, connection: Connection, step: Step) -> None:
        self.store.replace_heads(connection, step.removed_heads, step.added_heads)

    def _success_record(
        self, run_step: RunStep, started_at: _dt.datetime, started: float
    ) -> dict[str, Any]:
        outcome = {"upgrade": "applied", "downgrade": "reverted", "stamp": "stamped"}[run_step.kind]
        return {
            "revision": run_step.revision or " ".join(run_step.step.heads_after) or "base",
            "direction": run_step.kind,
            "outcome": outcome,
            "checksum": self._checksum_of(run_step.revision)
            if run_step.kind == "upgrade"
            else None,
            "started_at": started_at,
            "duration_ms": (time.perf_counter() - started) * 1000,
            "heads_before": run_step.step.heads_before,
            "heads_after": run_step.step.heads_after,
        }

    def _failure_record(
        self,
        run_step: RunStep,
        exc: BaseException,
        started_at: _dt.datetime,
        started: float,
        statements: tuple[str, ...],
    ) -> dict[str, Any]:
        failing = getattr(exc, "statement", None)
        message = f"{type(exc).__name__}: {_first_line(exc)}"
        if failing:
            message += f"\nfailing statement: {failing}"
        return {
            "revision": run_step.revision or "base",
            "direction": run_step.kind,
            "outcome": "partial" if statements else "failed",
            "checksum": None,
            "started_at": started_at,
            "duration_ms": (time.perf_counter() - started) * 1000,
            "heads_before": run_step.step.heads_before,
            "heads_after": run_step.step.heads_before,
            "message": message,
            "statements": statements,
        }

    def _write_pending_failure(self) -> None:
        """After a rollback: note the failed step in the ledger (its own
        short transaction, so the record survives)."""
        failure, self._pending_failure = self._pending_failure, None
        if failure is None or self.connection is None or self.store.history is None:
            return
        try:
            connection = self.connection
            if connection.in_transaction():
                connection.rollback()
            with connection.begin():
                self.store.create_tables(connection)
                self.store.record(connection, **failure)
        except Exception as exc:  # never hide the migration's own error
            log.warning("could not record the failure in the ledger: %s", exc)

    def _record_failure_now(
        self,
        run_step: RunStep,
        exc: BaseException,
        started_at: _dt.datetime,
        started: float,
        statements: tuple[str, ...],
        entry_id: int | None,
    ) -> None:
        record = self._failure_record(run_step, exc, started_at, started, statements)
        connection = self._require_connection()
        try:
            if connection.in_transaction():
                connection.rollback()
            with connection.begin():
                if entry_id is not None:
                    self.store.finish(
                        connection,
                        entry_id,
                        outcome=record["outcome"],
                        duration_ms=record["duration_ms"],
                        heads_after=run_step.step.heads_before,
                        message=record["message"],
                        statements=statements,
                    )
                else:
                    self.store.record(connection, **record)
        except Exception as inner:
            log.warning("could not record the failure in the ledger: %s", inner)

    def _as_failure(
        self,
        run_step: RunStep,
        exc: BaseException,
        rolled_back: bool,
        whole_run: bool = False,
        callers: bool = False,
    ) -> BaseException:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, _StepRaced)):
            return exc
        if isinstance(exc, MigrationFailed):
            return exc
        path = self._revision_path(run_step.revision)
        where = f" ({path})" if path else ""
        if callers:
            state = (
                "the transaction is the caller's: the migrations before it are in it, "
                "to be committed or rolled back by the caller"
            )
        elif whole_run and self._committed_midway:
            state = (
                "the run's transaction was rolled back to the last autocommit_block(): "
                "the migrations committed before it stay applied"
            )
        elif whole_run:
            state = (
                "the run's transaction was rolled back: the database is as it was before the run"
            )
        elif rolled_back:
            state = "it was rolled back: the database is as it was before this migration"
        else:
            state = "some of its statements stayed applied: the database is marked dirty"
        cause = (
            exc.message
            if isinstance(exc, LimbeckError)
            else f"{type(exc).__name__}: {_first_line(exc)}"
        )
        own_hint = exc.hint if isinstance(exc, LimbeckError) else None
        if own_hint:
            hint = own_hint
        elif callers:
            hint = (
                "roll the transaction back, fix the migration and run again (committing "
                "keeps the migrations before it, and what the failed one did before failing)"
            )
        elif rolled_back:
            hint = "fix the migration and run again"
        else:
            hint = "`limbeck history --applied` lists what ran; repair, then `limbeck stamp`"
        return MigrationFailed(
            f"{run_step.kind} {run_step.revision}{where} failed: {cause}; {state}", hint=hint
        )

    def _notify(self, run_step: RunStep) -> None:
        if not self.on_version_apply_callbacks:
            return
        info = MigrationInfo(run_step, self._graph())
        heads = set(run_step.step.heads_after)
        for callback in self.on_version_apply_callbacks:
            callback(ctx=self, step=info, heads=heads, run_args={})

    # -- stamping directly -------------------------------------------------------------------------

    def stamp(self, script_directory: ScriptDirectory, revision: str | Sequence[str]) -> None:
        """Set the version rows to ``revision`` without running anything."""
        from limbeck.graph import stamp_heads

        connection = self._require_connection()
        targets = [revision] if isinstance(revision, str) else list(revision)
        wanted = script_directory.resolver().stamp_target(targets)
        self.store.create_tables(connection)
        heads = self.store.read_heads(connection)
        after = stamp_heads(script_directory.graph, heads, wanted.revisions, cleared=wanted.cleared)
        self.store.replace_heads(
            connection,
            [h for h in heads if h not in after],
            [h for h in after if h not in heads],
        )


class _StepRun:
    """A step of a run and when it started (the pipeline's tag)."""

    __slots__ = ("run_step", "started", "started_at")

    def __init__(self, run_step: RunStep, started_at: _dt.datetime, started: float) -> None:
        self.run_step = run_step
        self.started_at = started_at
        self.started = started


class _Timeline:
    """Times of a pipelined run's steps, read from one clock: a step runs from
    when it started or when the step before it finished, whichever is later
    (its client work overlaps the server's work on the steps before it), so
    the steps' intervals do not overlap and add up to the run's."""

    __slots__ = ("anchor", "anchor_at", "last_finished")

    def __init__(self) -> None:
        self.anchor = time.perf_counter()
        self.anchor_at = _utcnow()
        self.last_finished = 0.0

    def at(self, moment: float) -> _dt.datetime:
        return self.anchor_at + _dt.timedelta(seconds=moment - self.anchor)


class _StepFinished:
    """Called once a pipelined step's statements have run: reports the step
    and puts its times (see :class:`_Timeline`) into its ledger row, which
    is written at the end of the run."""

    __slots__ = ("number", "report", "row", "step_run", "timeline")

    def __init__(
        self,
        report: Callable[[int, RunStep, float, float], None],
        number: int,
        step_run: _StepRun,
        row: dict[str, Any] | None,
        timeline: _Timeline,
    ) -> None:
        self.report = report
        self.number = number
        self.step_run = step_run
        self.row = row
        self.timeline = timeline

    def __call__(self, finished: float) -> None:
        timeline = self.timeline
        begin = max(self.step_run.started, timeline.last_finished)
        timeline.last_finished = finished
        row = self.row
        if row is not None:
            row["started_at"] = timeline.at(begin)
            row["finished_at"] = timeline.at(finished)
            row["duration_ms"] = (finished - begin) * 1000
        self.report(self.number, self.step_run.run_step, begin, finished)


class _VersionSqlTemplates:
    """The offline version-table statements, compiled once per run.

    Compiling an UPDATE per migration costs as much as the migration's own
    DDL; the statements differ only in their revision ids, so each is
    compiled once with placeholder ids, split around the placeholders'
    literals, and the ids' literals are joined in their place. Should a
    placeholder not come out as one plain literal (a dialect rendering it
    some other way), that statement is compiled every time.
    """

    _OLD = "limbeckplaceholderold"
    _NEW = "limbeckplaceholdernew"

    def __init__(self, compile_sql: Callable[[Any], str], table: Any, dialect: Dialect) -> None:
        from sqlalchemy import delete, insert, update

        self._compile = compile_sql
        column = table.c.version_num
        self._literal: Callable[[str], str] | None = column.type.literal_processor(dialect)
        self._statements: dict[str, Callable[[str, str], Any]] = {
            "update": lambda old, new: update(table).where(column == old).values(version_num=new),
            "delete": lambda old, _new: delete(table).where(column == old),
            "insert": lambda _old, new: insert(table).values(version_num=new),
        }
        self._templates: dict[str, list[str] | None] = {
            kind: self._template(build(self._OLD, self._NEW))
            for kind, build in self._statements.items()
        }

    def _template(self, statement: Any) -> list[str] | None:
        """The statement's text split so that odd items are placeholders."""
        import re

        if self._literal is None:
            return None
        text = self._compile(statement)
        literals = {self._literal(self._OLD): self._OLD, self._literal(self._NEW): self._NEW}
        pattern = "|".join(re.escape(literal) for literal in literals)
        parts = re.split(f"({pattern})", text)
        rest = "".join(parts[0::2])
        if self._OLD in rest or self._NEW in rest:
            return None
        parts[1::2] = [literals[literal] for literal in parts[1::2]]
        return parts

    def _render(self, kind: str, old: str, new: str) -> str:
        template = self._templates[kind]
        if template is None or self._literal is None:
            return self._compile(self._statements[kind](old, new))
        values = {self._OLD: self._literal(old), self._NEW: self._literal(new)}
        return "".join(values[part] if i % 2 else part for i, part in enumerate(template))

    def update(self, old: str, new: str) -> str:
        """UPDATE the row of ``old`` to ``new``."""
        return self._render("update", old, new)

    def delete(self, old: str) -> str:
        """DELETE the row of ``old``."""
        return self._render("delete", old, "")

    def insert(self, new: str) -> str:
        """INSERT a row for ``new``."""
        return self._render("insert", "", new)


class _StepRaced(LimbeckError):
    """Another process moved the heads between two per-step transactions."""

    def __init__(self, revision: str) -> None:
        super().__init__(
            f"another run changed the database's revisions before {revision} could run",
            hint="run the command again",
        )


class _Progress:
    """A one-line progress bar on an interactive terminal, for long runs."""

    def __init__(self, total: int) -> None:
        import os

        self.total = total
        self.enabled = total >= 50 and sys.stderr.isatty() and not os.environ.get("CI")

    def update(self, done: int, revision: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / self.total)
        sys.stderr.write(
            f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{self.total} {revision[:12]:12}"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def _describe(run_step: RunStep, graph: RevisionGraph | None) -> str:
    step = run_step.step
    message = ""
    if graph is not None and step.revision in graph:
        message = graph.get(step.revision).doc
    if run_step.kind == "upgrade":
        parents = graph.parents(step.revision) if graph and step.revision in graph else ()
        text_ = f"upgrade {', '.join(parents) or '<base>'} -> {step.revision}"
    elif run_step.kind == "downgrade":
        parents = graph.parents(step.revision) if graph and step.revision in graph else ()
        text_ = f"downgrade {step.revision} -> {', '.join(parents) or '<base>'}"
    else:
        before = ", ".join(step.heads_before) or "<base>"
        after = ", ".join(step.heads_after) or "<base>"
        text_ = f"stamp {before} -> {after}"
    return f"{text_}, {message}" if message else text_


def _duration(milliseconds: float) -> str:
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    return f"{milliseconds / 1000:.2f} s"


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__
