"""The Alembic-style projects of the acceptance tests, written for this suite
in the shape real projects have (none is a copy of Alembic's templates).

Each :class:`Spec` lists its files (``{url}`` / ``{url2}`` stand for the
databases), the arguments before every command, the commands to run in turn
and whether its migrations can run offline (``--sql``).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

INI = """
[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
sqlalchemy.url = {url}
{extra}

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = WARNING
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
"""

ENV_PY = '''
"""How this application's migrations reach the database."""
from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool

from alembic import context

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = None
OPTIONS = dict({options})


def offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={{"paramstyle": "named"}},
        **OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


def online():
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {{}}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    offline()
else:
    online()
'''


def env_py(options: str = "") -> str:
    return ENV_PY.format(options=options)


def ini(extra: str = "") -> str:
    return INI.replace("{extra}", extra)


def rev(
    rid: str,
    down: str | tuple[str, ...] | None,
    upgrade: str,
    downgrade: str = "pass",
    *,
    labels: tuple[str, ...] | None = None,
    depends_on: str | tuple[str, ...] | None = None,
    header: str = "",
    message: str = "",
) -> tuple[str, str]:
    """``(file name, text)`` of one revision file, Alembic style."""

    def body(code: str) -> str:
        return textwrap.indent(textwrap.dedent(code).strip("\n"), "    ")

    text = (
        f'"""{message or "revision " + rid}\n\nRevision ID: {rid}\nRevises: {down}\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n"
        + (textwrap.dedent(header).strip("\n") + "\n" if header else "")
        + f"\nrevision = {rid!r}\ndown_revision = {down!r}\n"
        f"branch_labels = {labels!r}\ndepends_on = {depends_on!r}\n\n\n"
        f"def upgrade():\n{body(upgrade)}\n\n\ndef downgrade():\n{body(downgrade)}\n"
    )
    return f"migrations/versions/{rid}_{(message or 'rev').replace(' ', '_')}.py", text


@dataclass
class Spec:
    name: str
    files: dict[str, str]
    steps: list[tuple[str, ...]]
    config_args: tuple[str, ...] = ()
    offline: bool = True
    two_databases: bool = False
    #: None: Alembic's CLI and limbeck's; else a driver script run by each
    #: tool's interpreter with MIGRATE_TOOL=alembic|limbeck.
    driver: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    async_drivers: bool = False


def _files(*revisions: tuple[str, str], **more: str) -> dict[str, str]:
    files = dict(revisions)
    files.update({k.replace("__", "/").replace("_DOT_", "."): v for k, v in more.items()})
    return files


# -- expand/contract branches with labels, depends_on, a merge, seed and data migrations -------

BRANCHES = Spec(
    name="branches",
    files={
        "alembic.ini": ini(),
        "migrations/env.py": env_py(),
        **dict(
            [
                rev(
                    "a1000000base",
                    None,
                    """
                    accounts = op.create_table(
                        "accounts",
                        sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name", sa.String(50), nullable=False),
                        sa.Column("email", sa.String(100)),
                    )
                    op.bulk_insert(accounts, [
                        {"id": 1, "name": "ada", "email": "ada@example.org"},
                        {"id": 2, "name": "bob", "email": None},
                    ])
                    """,
                    'op.drop_table("accounts")',
                    message="accounts",
                ),
                rev(
                    "e1000000expa",
                    "a1000000base",
                    """
                    op.add_column("accounts", sa.Column("display_name", sa.String(80)))
                    op.execute("UPDATE accounts SET display_name = name")
                    """,
                    'op.drop_column("accounts", "display_name")',
                    labels=("expand",),
                    message="display name",
                ),
                rev(
                    "e2000000sess",
                    "e1000000expa",
                    """
                    op.create_table(
                        "sessions",
                        sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("account_id", sa.Integer,
                                  sa.ForeignKey("accounts.id", name="fk_sessions_account"),
                                  nullable=False),
                        sa.Column("token", sa.String(64), nullable=False, unique=True),
                    )
                    op.execute(
                        "INSERT INTO sessions (id, account_id, token) VALUES (1, 1, 'abc')"
                    )
                    """,
                    'op.drop_table("sessions")',
                    message="sessions",
                ),
                rev(
                    "c1000000cont",
                    "a1000000base",
                    """
                    op.execute("UPDATE accounts SET email = 'unknown' WHERE email IS NULL")
                    op.create_index("ix_accounts_email", "accounts", ["email"])
                    """,
                    'op.drop_index("ix_accounts_email", table_name="accounts")',
                    labels=("contract",),
                    depends_on="e1000000expa",
                    message="email index",
                ),
                rev(
                    "m1000000merg",
                    ("e2000000sess", "c1000000cont"),
                    """
                    op.create_index("ix_sessions_token_id", "sessions", ["token", "id"])
                    """,
                    'op.drop_index("ix_sessions_token_id", table_name="sessions")',
                    message="merge",
                ),
            ]
        ),
    },
    steps=[
        ("upgrade", "expand@e1000000expa"),
        ("upgrade", "contract@head"),
        ("upgrade", "heads"),
        ("downgrade", "e2000000sess"),
        ("upgrade", "heads"),
        ("downgrade", "c1000000cont"),
        ("downgrade", "base"),
        ("upgrade", "heads"),
    ],
)

# -- a SQLite history that relies on batch mode ------------------------------------------------

BATCH = Spec(
    name="batch",
    files={
        "alembic.ini": ini(),
        "migrations/env.py": env_py("render_as_batch=True"),
        **dict(
            [
                rev(
                    "b1000000item",
                    None,
                    """
                    items = op.create_table(
                        "items",
                        sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("code", sa.String(10)),
                        sa.Column("price", sa.Numeric(10, 2), nullable=False),
                        sa.Column("note", sa.String(200)),
                    )
                    op.bulk_insert(items, [
                        {"id": 1, "code": "A1", "price": 3.5, "note": "first"},
                        {"id": 2, "code": "B2", "price": 10, "note": None},
                    ])
                    """,
                    'op.drop_table("items")',
                    message="items",
                ),
                rev(
                    "b2000000uniq",
                    "b1000000item",
                    """
                    with op.batch_alter_table("items") as batch:
                        batch.alter_column("code", existing_type=sa.String(10),
                                           type_=sa.String(20), nullable=False)
                        batch.create_unique_constraint("uq_items_code", ["code"])
                        batch.drop_column("note")
                    """,
                    """
                    with op.batch_alter_table("items") as batch:
                        batch.add_column(sa.Column("note", sa.String(200)))
                        batch.drop_constraint("uq_items_code", type_="unique")
                        batch.alter_column("code", existing_type=sa.String(20),
                                           type_=sa.String(10), nullable=True)
                    """,
                    message="unique code",
                ),
                rev(
                    "b3000000chck",
                    "b2000000uniq",
                    """
                    with op.batch_alter_table("items") as batch:
                        batch.add_column(
                            sa.Column("qty", sa.Integer, nullable=False, server_default="0")
                        )
                        batch.create_check_constraint("ck_items_price", "price >= 0")
                    op.execute("UPDATE items SET qty = 5 WHERE code = 'A1'")
                    """,
                    """
                    with op.batch_alter_table("items") as batch:
                        batch.drop_constraint("ck_items_price", type_="check")
                        batch.drop_column("qty")
                    """,
                    message="quantity",
                ),
            ]
        ),
    },
    steps=[
        ("upgrade", "b2000000uniq"),
        ("upgrade", "head"),
        ("downgrade", "-1"),
        ("downgrade", "base"),
        ("upgrade", "head"),
    ],
)

# -- migrations that reflect through op.get_bind() and import application helpers ---------------

REFLECT = Spec(
    name="reflect",
    files={
        "alembic.ini": ini(),
        "migrations/env.py": env_py(),
        "myapp/__init__.py": "",
        "myapp/text.py": '''
            """Helpers of the application that migrations import."""


            def slugify(value):
                return "-".join(value.lower().split())
            ''',
        **dict(
            [
                rev(
                    "r1000000tags",
                    None,
                    """
                    tags = op.create_table(
                        "tags",
                        sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name", sa.String(40), nullable=False),
                    )
                    op.bulk_insert(tags, [
                        {"id": 1, "name": "Big Data"},
                        {"id": 2, "name": "Schema Migrations"},
                    ])
                    """,
                    'op.drop_table("tags")',
                    message="tags",
                ),
                rev(
                    "r2000000slug",
                    "r1000000tags",
                    """
                    bind = op.get_bind()
                    columns = {c["name"] for c in sa.inspect(bind).get_columns("tags")}
                    if "slug" not in columns:
                        op.add_column("tags", sa.Column("slug", sa.String(60)))
                    tags = sa.Table("tags", sa.MetaData(), autoload_with=bind)
                    for row in bind.execute(sa.select(tags.c.id, tags.c.name)).all():
                        bind.execute(
                            tags.update().where(tags.c.id == row.id).values(slug=slugify(row.name))
                        )
                    op.bulk_insert(tags, [{"id": 3, "name": "Late", "slug": slugify("Late")}])
                    """,
                    """
                    op.execute("DELETE FROM tags WHERE id = 3")
                    op.drop_column("tags", "slug")
                    """,
                    header="from myapp.text import slugify",
                    message="slugs",
                ),
            ]
        ),
    },
    steps=[("upgrade", "head"), ("downgrade", "-1"), ("upgrade", "head")],
    offline=False,
)

# -- configured in pyproject.toml only ------------------------------------------------------

PYPROJECT_ENV = '''
"""Migrations of an application configured in pyproject.toml."""
import os

from sqlalchemy import create_engine, pool

from alembic import context

URL = os.environ["APP_DATABASE_URL"]


def offline():
    context.configure(url=URL, literal_binds=True, version_table="alembic_version")
    with context.begin_transaction():
        context.run_migrations()


def online():
    engine = create_engine(URL, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    offline()
else:
    online()
'''

PYPROJECT = Spec(
    name="pyproject",
    files={
        "pyproject.toml": """
            [project]
            name = "shop"
            version = "1.0"

            [tool.alembic]
            script_location = "%(here)s/db"
            prepend_sys_path = ["."]
            file_template = "%%(rev)s_%%(slug)s"
            """,
        "db/env.py": PYPROJECT_ENV,
        **{
            path.replace("migrations/", "db/"): text
            for path, text in [
                rev(
                    "p1000000ordr",
                    None,
                    """
                    op.create_table(
                        "orders",
                        sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("status", sa.Enum("new", "paid", "sent", name="order_status"),
                                  nullable=False, server_default="new"),
                        sa.Column("total", sa.Numeric(12, 2), nullable=False,
                                  server_default=sa.text("0")),
                        sa.Column("created", sa.DateTime, nullable=False,
                                  server_default=sa.func.now()),
                        sa.CheckConstraint("total >= 0", name="ck_orders_total"),
                    )
                    """,
                    """
                    op.drop_table("orders")
                    sa.Enum(name="order_status").drop(op.get_bind(), checkfirst=True)
                    """,
                    message="orders",
                ),
                rev(
                    "p2000000line",
                    "p1000000ordr",
                    """
                    op.create_table(
                        "order_lines",
                        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id",
                                  ondelete="CASCADE", name="fk_lines_order"), primary_key=True),
                        sa.Column("line", sa.SmallInteger, primary_key=True),
                        sa.Column("sku", sa.String(32), nullable=False),
                    )
                    op.execute(
                        "INSERT INTO orders (id, status, total, created)"
                        " VALUES (1, 'paid', 12.5, '2024-01-02 03:04:05')"
                    )
                    op.execute(
                        "INSERT INTO order_lines (order_id, line, sku) VALUES (1, 1, 'X-1')"
                    )
                    """,
                    """
                    op.drop_table("order_lines")
                    op.execute("DELETE FROM orders")
                    """,
                    message="lines",
                ),
            ]
        },
    },
    steps=[("upgrade", "head"), ("downgrade", "p1000000ordr"), ("upgrade", "head")],
    env={"APP_DATABASE_URL": "{url}"},
)

# -- Flask-Migrate's layout: migrations/alembic.ini, env.py reading the app ---------------------

FLASK_ENV = '''
"""Migrations of a Flask application (Flask-Migrate layout)."""
import logging
from logging.config import fileConfig

from alembic import context
from app_stub import current_app

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


config.set_main_option(
    "sqlalchemy.url", get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
)
target_db = current_app.extensions["migrate"].db


def get_metadata():
    return target_db.metadata


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=get_metadata(),
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    conf_args = current_app.extensions["migrate"].configure_args
    connectable = get_engine()
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

FLASK_APP_STUB = '''
"""A stand-in for flask.current_app and Flask-SQLAlchemy's db: just what the
migrations' env.py reads."""
import os
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

metadata = sa.MetaData()
db = SimpleNamespace(engine=sa.create_engine(os.environ["FLASK_DATABASE_URL"], poolclass=NullPool),
                     metadata=metadata)
current_app = SimpleNamespace(
    extensions={"migrate": SimpleNamespace(db=db, configure_args={"compare_type": True})},
    config={"SQLALCHEMY_DATABASE_URI": os.environ["FLASK_DATABASE_URL"]},
)
'''

FLASK_MANAGE = '''
"""What "flask db upgrade|downgrade" does: build the Config from
migrations/alembic.ini, set script_location, call the command."""
import os
import sys

if os.environ["MIGRATE_TOOL"] == "limbeck":
    from limbeck import command
    from limbeck.config import Config
else:
    from alembic import command
    from alembic.config import Config

name, *args = sys.argv[1:]
sql = "--sql" in args
args = [a for a in args if a != "--sql"]
config = Config(os.path.join("migrations", "alembic.ini"))
config.set_main_option("script_location", "migrations")
getattr(command, name)(config, *args, sql=sql)
'''

FLASK_INI = """
# A generic, single database configuration.

[alembic]

[loggers]
keys = root,sqlalchemy,alembic,flask_migrate

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[logger_sqlalchemy]
level = WARN
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = WARN
handlers =
qualname = alembic

[logger_flask_migrate]
level = WARN
handlers =
qualname = flask_migrate

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

FLASK = Spec(
    name="flask",
    files={
        "migrations/alembic.ini": FLASK_INI,
        "migrations/env.py": FLASK_ENV,
        "migrations/README": "Single-database configuration for Flask.\n",
        "app_stub.py": FLASK_APP_STUB,
        "manage.py": FLASK_MANAGE,
        **dict(
            [
                rev(
                    "f1a2b3c4d5e6",
                    None,
                    """
                    op.create_table(
                        "role",
                        sa.Column("id", sa.Integer(), nullable=False),
                        sa.Column("name", sa.String(length=80), nullable=True),
                        sa.PrimaryKeyConstraint("id"),
                        sa.UniqueConstraint("name"),
                    )
                    op.create_table(
                        "user",
                        sa.Column("id", sa.Integer(), nullable=False),
                        sa.Column("email", sa.String(length=255), nullable=False),
                        sa.Column("active", sa.Boolean(), nullable=True),
                        sa.PrimaryKeyConstraint("id"),
                    )
                    with op.batch_alter_table("user", schema=None) as batch_op:
                        batch_op.create_index(batch_op.f("ix_user_email"), ["email"], unique=True)
                    """,
                    """
                    with op.batch_alter_table("user", schema=None) as batch_op:
                        batch_op.drop_index(batch_op.f("ix_user_email"))
                    op.drop_table("user")
                    op.drop_table("role")
                    """,
                    message="initial",
                ),
                rev(
                    "0a9b8c7d6e5f",
                    "f1a2b3c4d5e6",
                    """
                    roles_users = op.create_table(
                        "roles_users",
                        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id")),
                        sa.Column("role_id", sa.Integer(), sa.ForeignKey("role.id")),
                    )
                    role = sa.table("role", sa.column("id", sa.Integer),
                                    sa.column("name", sa.String))
                    op.bulk_insert(role, [{"id": 1, "name": "admin"}, {"id": 2, "name": "editor"}])
                    user = sa.table("user", sa.column("id", sa.Integer),
                                    sa.column("email", sa.String), sa.column("active", sa.Boolean))
                    op.bulk_insert(user, [{"id": 1, "email": "root@example.org", "active": True}])
                    op.bulk_insert(roles_users, [{"user_id": 1, "role_id": 1}])
                    """,
                    """
                    op.drop_table("roles_users")
                    op.execute(sa.table("user").delete())
                    op.execute(sa.table("role").delete())
                    """,
                    message="roles users",
                ),
            ]
        ),
    },
    steps=[("upgrade", "head"), ("downgrade", "-1"), ("upgrade", "head")],
    driver="manage.py",
    env={"FLASK_DATABASE_URL": "{url}"},
)

# -- multidb: one version table per database, upgrade_<name>() functions ----------------------

MULTIDB_ENV = '''
"""Two databases, each with its own version table."""
import logging
import re
from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool

from alembic import context

USE_TWOPHASE = False
config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")

db_names = config.get_main_option("databases", "")
target_metadata = {"engine1": None, "engine2": None}


def run_migrations_offline():
    engines = {}
    for name in re.split(r",\\s*", db_names):
        engines[name] = {"url": context.config.get_section_option(name, "sqlalchemy.url")}
    for name, rec in engines.items():
        file_ = f"{name}.sql"
        with open(file_, "w") as buffer:
            context.configure(
                url=rec["url"], output_buffer=buffer,
                target_metadata=target_metadata.get(name), literal_binds=True,
            )
            with context.begin_transaction():
                context.run_migrations(engine_name=name)


def run_migrations_online():
    engines = {}
    for name in re.split(r",\\s*", db_names):
        engines[name] = rec = {}
        rec["engine"] = engine_from_config(
            context.config.get_section(name), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    for name, rec in engines.items():
        engine = rec["engine"]
        rec["connection"] = conn = engine.connect()
        rec["transaction"] = conn.begin()
    try:
        for name, rec in engines.items():
            context.configure(
                connection=rec["connection"],
                upgrade_token=f"{name}_upgrades",
                downgrade_token=f"{name}_downgrades",
                target_metadata=target_metadata.get(name),
            )
            context.run_migrations(engine_name=name)
        for rec in engines.values():
            rec["transaction"].commit()
    except BaseException:
        for rec in engines.values():
            rec["transaction"].rollback()
        raise
    finally:
        for rec in engines.values():
            rec["connection"].close()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''


def _multidb_rev(
    rid: str, down: str | None, one: str, two: str, undo1: str, undo2: str
) -> tuple[str, str]:
    body = (
        f'"""multidb revision {rid}\n\nRevision ID: {rid}\nRevises: {down}\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = {rid!r}\ndown_revision = {down!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        'def upgrade(engine_name):\n    globals()[f"upgrade_{engine_name}"]()\n\n\n'
        'def downgrade(engine_name):\n    globals()[f"downgrade_{engine_name}"]()\n\n\n'
        f"def upgrade_engine1():\n    {one}\n\n\ndef downgrade_engine1():\n    {undo1}\n\n\n"
        f"def upgrade_engine2():\n    {two}\n\n\ndef downgrade_engine2():\n    {undo2}\n"
    )
    return f"migrations/versions/{rid}_multi.py", body


MULTIDB = Spec(
    name="multidb",
    files={
        "alembic.ini": ini("databases = engine1, engine2").replace("sqlalchemy.url = {url}\n", "")
        + "\n[engine1]\nsqlalchemy.url = {url}\n\n[engine2]\nsqlalchemy.url = {url2}\n",
        "migrations/env.py": MULTIDB_ENV,
        **dict(
            [
                _multidb_rev(
                    "d1000000both",
                    None,
                    'op.create_table("customers", sa.Column("id", sa.Integer, primary_key=True))',
                    'op.create_table("audit", sa.Column("id", sa.Integer, primary_key=True),'
                    ' sa.Column("what", sa.String(100)))',
                    'op.drop_table("customers")',
                    'op.drop_table("audit")',
                ),
                _multidb_rev(
                    "d2000000more",
                    "d1000000both",
                    'op.add_column("customers", sa.Column("name", sa.String(30)))',
                    "op.execute(\"INSERT INTO audit (id, what) VALUES (1, 'created')\")",
                    'op.drop_column("customers", "name")',
                    'op.execute("DELETE FROM audit")',
                ),
            ]
        ),
    },
    steps=[("upgrade", "head"), ("downgrade", "-1"), ("upgrade", "head")],
    offline=False,
    two_databases=True,
)

# -- the async template's shape ------------------------------------------------------------------

ASYNC_ENV = '''
"""Migrations run on an async engine."""
import asyncio
from logging.config import fileConfig

from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from alembic import context

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
target_metadata = None


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


def run_migrations_online() -> None:
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

ASYNC = Spec(
    name="async",
    files={
        "alembic.ini": ini().replace("sqlalchemy.url = {url}", "sqlalchemy.url = {async_url}"),
        "migrations/env.py": ASYNC_ENV,
        **dict(
            [
                rev(
                    "a5000000note",
                    None,
                    """
                    notes = op.create_table(
                        "notes",
                        sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("body", sa.Text, nullable=False),
                        sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
                    )
                    op.bulk_insert(notes, [{"id": 1, "body": "hello", "pinned": True}])
                    """,
                    'op.drop_table("notes")',
                    message="notes",
                ),
                rev(
                    "a6000000idx",
                    "a5000000note",
                    'op.create_index("ix_notes_pinned", "notes", ["pinned"])',
                    'op.drop_index("ix_notes_pinned", table_name="notes")',
                    message="index",
                ),
            ]
        ),
    },
    steps=[("upgrade", "head"), ("downgrade", "-1"), ("upgrade", "head")],
    async_drivers=True,
)

ALL = [BRANCHES, BATCH, REFLECT, PYPROJECT, FLASK, MULTIDB, ASYNC]
