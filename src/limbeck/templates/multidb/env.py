"""Migration environment for several databases: every revision runs once per
database, with upgrade(engine_name) choosing the right functions. Each
database keeps its own version table. Edit freely."""

import logging
import re
from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool

from limbeck import context

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("limbeck.env")

db_names = [name for name in re.split(r",\s*", config.get_main_option("databases", "")) if name]

# MetaData per database, for autogenerate:
#     target_metadata = {"engine1": models1.metadata, "engine2": models2.metadata}
target_metadata: dict[str, object] = {}


def run_migrations_offline() -> None:
    """--sql mode: one <name>.sql file per database."""
    for name in db_names:
        logger.info("Migrating database %s", name)
        file_name = f"{name}.sql"
        with open(file_name, "w") as buffer:
            context.configure(
                url=context.config.get_section_option(name, "sqlalchemy.url"),
                output_buffer=buffer,
                target_metadata=target_metadata.get(name),
                literal_binds=True,
                dialect_opts={"paramstyle": "named"},
            )
            with context.begin_transaction():
                context.run_migrations(engine_name=name)


def run_migrations_online() -> None:
    """Migrate each database in turn, each in its own transaction."""
    for name in db_names:
        engine = engine_from_config(
            context.config.get_section(name, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        logger.info("Migrating database %s", name)
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                upgrade_token=f"{name}_upgrades",
                downgrade_token=f"{name}_downgrades",
                target_metadata=target_metadata.get(name),
            )
            with context.begin_transaction():
                context.run_migrations(engine_name=name)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
