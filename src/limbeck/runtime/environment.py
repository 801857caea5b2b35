"""The environment env.py sees as ``limbeck.context``.

A command builds an :class:`EnvironmentContext` with the work to do (``fn``,
which turns the database's heads into steps), makes it current (a context
variable, so runs in threads do not collide) and runs env.py. env.py calls
:meth:`configure` with a connection (or a URL offline) and
:meth:`run_migrations`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from limbeck import _current
from limbeck.errors import ConfigError, DatabaseError, LimbeckError
from limbeck.runtime.migration import (
    DEFAULT_HISTORY_TABLE,
    DEFAULT_VERSION_TABLE,
    MigrationContext,
    masked_url,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from limbeck.config import Config
    from limbeck.scripts.directory import ScriptDirectory


def is_alembic_project(config: Config) -> bool:
    """Whether the project is configured the Alembic way (see
    :attr:`limbeck.config.Config.is_alembic_config`): an ``alembic.ini``
    file whatever its section, an ``[alembic]`` section, ``[tool.alembic]``
    without an ini file, or ``alembic.config.Config`` with no file."""
    return config.is_alembic_config


def default_version_table(config: Config) -> str:
    """``alembic_version`` for an Alembic-configured project, else
    ``limbeck_version``; the ``version_table`` option overrides both."""
    configured = config.get_option("version_table")
    if configured:
        return str(configured)
    return "alembic_version" if is_alembic_project(config) else DEFAULT_VERSION_TABLE


def refuse_unclaimed_alembic_database(connection: Connection, schema: str | None) -> None:
    """Raise :class:`ConfigError` when the database has a non-empty
    ``alembic_version`` table and no ``limbeck_version`` table.

    Called only when ``limbeck_version`` was chosen by default (no
    ``version_table`` anywhere): reading it would show an Alembic-managed
    database as empty and run every migration again. Leaves the
    connection's transaction state as it found it.
    """
    import sqlalchemy as sa

    began = not connection.in_transaction()
    try:
        inspector = sa.inspect(connection)
        if inspector.has_table(DEFAULT_VERSION_TABLE, schema=schema):
            return
        if not inspector.has_table("alembic_version", schema=schema):
            return
        table = sa.table("alembic_version", sa.column("version_num"), schema=schema)
        rows = [row[0] for row in connection.execute(sa.select(table.c.version_num))]
    finally:
        if began and connection.in_transaction():
            connection.rollback()
    if rows:
        raise ConfigError(
            f"the database has Alembic's alembic_version table (at {', '.join(sorted(rows))}) "
            f"but no {DEFAULT_VERSION_TABLE}, the table this configuration uses: "
            "limbeck would take the database for an empty one",
            hint="set version_table = alembic_version in the configuration "
            "(or version_table = limbeck_version to start a separate history on purpose)",
        )


class EnvironmentContext:
    """What ``from limbeck import context`` resolves to during a run."""

    def __init__(self, config: Config, script: ScriptDirectory, **kw: Any) -> None:
        self.config = config
        self.script = script
        self.context_opts: dict[str, Any] = kw
        self._migration_context: MigrationContext | None = None
        self._token: Any = None
        self._guard_version_table = False

    def __enter__(self) -> EnvironmentContext:
        self._token = _current.environment.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.environment.reset(self._token)
        self._token = None

    # -- configure -----------------------------------------------------------------------

    def configure(
        self,
        connection: Connection | None = None,
        url: str | Any = None,
        dialect_name: str | None = None,
        dialect_opts: Mapping[str, Any] | None = None,
        transactional_ddl: bool | None = None,
        transaction_per_migration: bool = False,
        output_buffer: TextIO | None = None,
        starting_rev: str | None = None,
        tag: str | None = None,
        template_args: Mapping[str, Any] | None = None,
        render_as_batch: bool | None = None,
        target_metadata: Any = None,
        include_name: Callable[..., bool] | None = None,
        include_object: Callable[..., bool] | None = None,
        include_schemas: bool = False,
        process_revision_directives: Callable[..., Any] | None = None,
        compare_type: bool | Callable[..., Any] = True,
        compare_server_default: bool | Callable[..., Any] | None = None,
        render_item: Callable[..., Any] | None = None,
        literal_binds: bool = False,
        upgrade_token: str = "upgrades",
        downgrade_token: str = "downgrades",
        alembic_module_prefix: str = "op.",
        sqlalchemy_module_prefix: str = "sa.",
        user_module_prefix: str | None = None,
        on_version_apply: Callable[..., Any] | None = None,
        **kw: Any,
    ) -> None:
        """Set up the migration context (Alembic's ``configure`` options)."""
        opts = dict(self.context_opts)
        if transactional_ddl is not None:
            opts["transactional_ddl"] = transactional_ddl
        if output_buffer is not None:
            opts["output_buffer"] = output_buffer
        elif self.config.output_buffer is not None:
            opts["output_buffer"] = self.config.output_buffer
        if starting_rev:
            opts["starting_rev"] = starting_rev
        if tag:
            opts["tag"] = tag
        if template_args:
            opts.setdefault("template_args", {}).update(template_args)
        opts.update(
            transaction_per_migration=transaction_per_migration,
            render_as_batch=render_as_batch,
            target_metadata=target_metadata,
            include_name=include_name,
            include_object=include_object,
            include_schemas=include_schemas,
            process_revision_directives=process_revision_directives,
            compare_type=compare_type,
            compare_server_default=compare_server_default,
            render_item=render_item,
            literal_binds=literal_binds,
            upgrade_token=upgrade_token,
            downgrade_token=downgrade_token,
            alembic_module_prefix=alembic_module_prefix,
            sqlalchemy_module_prefix=sqlalchemy_module_prefix,
            user_module_prefix=user_module_prefix,
            on_version_apply=on_version_apply,
        )
        # Whether limbeck_version is only the default: then an Alembic
        # database must not be taken for an empty one (run_migrations).
        self._guard_version_table = (
            "version_table" not in opts
            and "version_table" not in kw
            and not self.config.get_option("version_table")
            and not is_alembic_project(self.config)
        )
        opts.setdefault("version_table", default_version_table(self.config))
        # Step lines go where the project's logging config looks: an
        # alembic.ini configures the "alembic" logger, not "limbeck".
        opts.setdefault(
            "log_name",
            "alembic.runtime.migration"
            if is_alembic_project(self.config)
            else "limbeck.runtime.migration",
        )
        if self.config.get_option("version_table_schema"):
            opts.setdefault("version_table_schema", self.config.get_option("version_table_schema"))
        opts.setdefault(
            "history_table", self.config.get_option("history_table") or DEFAULT_HISTORY_TABLE
        )
        if opts.get("lock_timeout") is None and self.config.get_option("lock_timeout"):
            try:
                opts["lock_timeout"] = float(self.config.get_option("lock_timeout"))
            except ValueError:
                raise ConfigError("lock_timeout must be a number of seconds") from None
        opts.update(kw)
        if opts.get("as_sql") and url is None and connection is None and dialect_name is None:
            url = self.config.get_main_option("sqlalchemy.url")
        self._migration_context = MigrationContext.configure(
            connection=connection,
            url=url,
            dialect_name=dialect_name,
            environment_context=self,
            dialect_opts=dialect_opts,
            opts=opts,
        )

    # -- running ---------------------------------------------------------------------------

    def get_context(self) -> MigrationContext:
        if self._migration_context is None:
            raise LimbeckError(
                "env.py used the migration context before calling context.configure()",
                hint="call context.configure(connection=...) first",
            )
        return self._migration_context

    def run_migrations(self, **kw: Any) -> None:
        """Run the command's steps; ``kw`` goes to every upgrade()/downgrade().

        When the version table is ``limbeck_version`` only by default and
        the database has a non-empty ``alembic_version`` but no
        ``limbeck_version``, raises :class:`ConfigError` before anything
        runs (see :func:`refuse_unclaimed_alembic_database`).
        """
        migration_context = self.get_context()
        connection = migration_context.connection
        if (
            self._guard_version_table
            and connection is not None
            and not migration_context.as_sql
            and migration_context.version_table == DEFAULT_VERSION_TABLE
        ):
            refuse_unclaimed_alembic_database(connection, migration_context.version_table_schema)
        migration_context.run_migrations(**kw)

    def begin_transaction(self) -> contextlib.AbstractContextManager[None]:
        if self._migration_context is None:
            return contextlib.nullcontext()
        return self._migration_context.begin_transaction()

    def is_offline_mode(self) -> bool:
        return bool(self.context_opts.get("as_sql", False))

    def is_transactional_ddl(self) -> bool:
        return bool(self.get_context().impl.transactional_ddl)

    def requires_connection(self) -> bool:
        return not self.is_offline_mode()

    def get_bind(self) -> Connection | None:
        return self.get_context().bind

    def get_impl(self) -> Any:
        return self.get_context().impl

    def execute(self, sql: Any, execution_options: Mapping[str, Any] | None = None) -> Any:
        return self.get_context().execute(sql, execution_options)

    def static_output(self, text: str) -> None:
        self.get_context().impl.static_output(text)

    # -- arguments ------------------------------------------------------------------------------

    def get_x_argument(self, as_dictionary: bool = False) -> Any:
        """``-x`` values: a list, or a dict (``-x key`` alone gives ``""``)."""
        raw = list(getattr(self.config.cmd_opts, "x", None) or [])
        if not as_dictionary:
            return raw
        values: dict[str, str] = {}
        for item in raw:
            key, _, value = item.partition("=")
            values[key.strip()] = value
        return values

    def get_tag_argument(self) -> str | None:
        return self.context_opts.get("tag")

    def get_revision_argument(self) -> str | tuple[str, ...] | None:
        """The command's target as given (``head``, an id, ``-1`` ...): a
        string for one target, a tuple for several (``stamp a b``), None
        when there is none."""
        destination = self.context_opts.get("destination_rev")
        if destination is None or isinstance(destination, str):
            return destination
        targets = tuple(str(target) for target in destination)
        if not targets:
            return None
        return targets[0] if len(targets) == 1 else targets

    def get_starting_revision_argument(self) -> Any:
        if self._migration_context is not None:
            return self._migration_context.opts.get("starting_rev")
        return self.context_opts.get("starting_rev")

    def get_head_revision(self) -> str | None:
        return self.script.get_current_head()

    def get_head_revisions(self) -> tuple[str, ...]:
        return tuple(self.script.get_heads())


def run_env(script: ScriptDirectory, config: Config) -> None:
    """Execute the environment's env.py (the current EnvironmentContext
    must be set)."""
    path = script.env_py_location
    if not os.path.isfile(path):
        compiled = path + "c"
        if script.sourceless and os.path.isfile(compiled):
            path = compiled
        else:
            raise ConfigError(
                f"no env.py in {script.dir}",
                hint="restore env.py (a new one comes with `limbeck init`)",
            )
    from limbeck.compat import alembic_imports

    with _sys_path(config.get_prepend_sys_paths_list(), config.here), alembic_imports():
        spec = importlib.util.spec_from_file_location("env_py", path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except (LimbeckError, BrokenPipeError):
            # A closed pipe (`limbeck upgrade head --sql | head`) is the
            # reader leaving, not env.py failing: the CLI stops quietly.
            raise
        except Exception as exc:
            raise _explain_env_failure(exc, path, config) from exc


@contextlib.contextmanager
def _sys_path(entries: list[str], here: str) -> Iterator[None]:
    added = []
    for entry in reversed(entries):
        absolute = entry if os.path.isabs(entry) else os.path.abspath(entry)
        if absolute not in sys.path:
            sys.path.insert(0, absolute)
            added.append(absolute)
    try:
        yield
    finally:
        for entry in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)


def _raised_in(exc: BaseException, *parts: str) -> bool:
    """Whether ``exc`` passed through SQLAlchemy's ``<parts>`` (a package
    folder or a file), e.g. its dialects while importing a driver."""
    needle = os.sep.join(("sqlalchemy", *parts))
    traceback = exc.__traceback__
    while traceback is not None:
        if needle in traceback.tb_frame.f_code.co_filename:
            return True
        traceback = traceback.tb_next
    return False


def _explain_env_failure(exc: Exception, path: str, config: Config) -> LimbeckError:
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    url = masked_url(config.get_main_option("sqlalchemy.url"))
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if (
        isinstance(exc, DBAPIError)
        and exc.connection_invalidated is False
        and "connect" in first.lower()
    ):
        return DatabaseError(
            f"cannot connect to {url}: {first}",
            hint="check sqlalchemy.url (or LIMBECK_DATABASE_URL) and that the server is running",
        )
    if isinstance(exc, DBAPIError):
        return DatabaseError(
            f"database error in {path} ({url}): {first}",
            hint="check the database is reachable; --traceback shows where",
        )
    if isinstance(exc, KeyError) and "url" in first:
        return ConfigError(
            f"{path} found no database URL (sqlalchemy.url)",
            hint="set sqlalchemy.url in the ini file, or LIMBECK_DATABASE_URL",
        )
    if isinstance(exc, (ArgumentError, NoSuchModuleError)) or _raised_in(exc, "engine", "url.py"):
        return ConfigError(
            f"cannot use database URL {url}: {first}",
            hint="check sqlalchemy.url (or LIMBECK_DATABASE_URL) and the driver is installed",
        )
    if isinstance(exc, ImportError) and (
        _raised_in(exc, "dialects") or _raised_in(exc, "connectors")
    ):
        return ConfigError(
            f"the database driver for {url} is not installed: {first}",
            hint="install it (pip install ...), or name an installed driver in the URL "
            "(e.g. postgresql+psycopg2://, mysql+pymysql://)",
        )
    return LimbeckError(
        f"{path} failed: {type(exc).__name__}: {first}",
        hint="--traceback shows where",
    )
