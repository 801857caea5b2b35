"""Models used by the reflection tests: a bit of everything each backend supports."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Status(enum.Enum):
    draft = "draft"
    published = "published"
    archived = "archived"


def rich_metadata(backend: str, *, naming: bool = True) -> sa.MetaData:
    """Tables with every common type, defaults, keys, indexes and constraints."""
    md = sa.MetaData(naming_convention=NAMING if naming else None)
    is_pg = backend == "postgresql"
    is_maria = backend == "mariadb"
    deferrable = {} if is_maria else {"deferrable": True, "initially": "DEFERRED"}

    sa.Table(
        "account",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(120), nullable=False),
        sa.Column("display_name", sa.Unicode(80), server_default="anonymous"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("is_admin", sa.Boolean, server_default=sa.false()),
        sa.Column("balance", sa.Numeric(12, 2), server_default="0"),
        sa.Column("ratio", sa.Float, server_default=sa.text("1.5")),
        sa.Column("score", sa.Double),
        sa.Column("visits", sa.BigInteger, server_default=sa.text("0")),
        sa.Column("small", sa.SmallInteger, server_default="-1"),
        sa.Column("created_at", sa.DateTime, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("birthday", sa.Date),
        sa.Column("wake_up", sa.Time),
        sa.Column("bio", sa.Text, comment="free text"),
        sa.Column("avatar", sa.LargeBinary),
        sa.Column("settings", sa.JSON),
        sa.Column("external_id", sa.Uuid),
        sa.Column("country", sa.CHAR(2), server_default="NL"),
        sa.Column("status", sa.Enum(Status, name="account_status"), server_default="draft"),
        sa.Column("kind", sa.Enum("person", "company", name="account_kind", native_enum=False)),
        sa.UniqueConstraint("email"),
        sa.CheckConstraint("balance >= 0", name="balance_positive"),
        sa.CheckConstraint(
            "small BETWEEN -10 AND 10 AND country IN ('NL', 'BE', 'DE')", name="small_range"
        ),
        sa.Index("ix_account_name_lower", sa.func.lower(sa.column("display_name")))
        if backend != "mariadb"
        else sa.Index("ix_account_name", "display_name"),
        sa.Index("ix_account_created", "created_at", "id"),
        comment="people and companies",
    )
    sa.Table(
        "project",
        md,
        sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id", ondelete="CASCADE")),
        sa.Column("slug", sa.String(40)),
        sa.Column("title", sa.String(200), nullable=False, comment="shown in lists"),
        sa.Column("parent_account", sa.Integer),
        sa.Column("parent_slug", sa.String(40)),
        sa.Column("priority", sa.Integer, nullable=False, server_default="3"),
        sa.Column("done", sa.Boolean, server_default=sa.text("false") if is_pg else "0"),
        sa.PrimaryKeyConstraint("account_id", "slug"),
        sa.ForeignKeyConstraint(
            ["parent_account", "parent_slug"],
            ["project.account_id", "project.slug"],
            onupdate="CASCADE",
            ondelete="SET NULL",
            **deferrable,  # type: ignore[arg-type]
        ),
        sa.UniqueConstraint("account_id", "title"),
        sa.CheckConstraint("priority > 0 AND priority <= 5", name="priority"),
        sa.Index("ix_project_priority_unique", "account_id", "priority", unique=True),
    )
    sa.Table(
        "tag",
        md,
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("label", sa.String(30), nullable=False, unique=True),
        sa.Column("color", sa.String(7), server_default="#ffffff"),
    )
    sa.Table(
        "project_tag",
        md,
        sa.Column("account_id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(40), primary_key=True),
        sa.Column(
            "tag_id",
            sa.BigInteger,
            sa.ForeignKey("tag.id", ondelete="RESTRICT", onupdate="NO ACTION"),
            primary_key=True,
        ),
        sa.Column("weight", sa.Numeric(5, 3), server_default=sa.text("1.000")),
        sa.ForeignKeyConstraint(["account_id", "slug"], ["project.account_id", "project.slug"]),
    )
    if is_pg:
        sa.Table(
            "pg_only",
            md,
            sa.Column("id", sa.Integer, sa.Identity(start=10, increment=5), primary_key=True),
            sa.Column("ids", pg.ARRAY(sa.Integer)),
            sa.Column("doc", pg.JSONB, server_default=sa.text("'{}'::jsonb")),
            sa.Column("addr", pg.INET),
            sa.Column("moods", pg.ARRAY(sa.Enum(Status, name="account_status"))),
            sa.Column("total", sa.Integer, sa.Computed("id * 2", persisted=True)),
            sa.Column("ts", pg.TIMESTAMP(precision=3, timezone=True)),
            sa.Column("real_value", sa.REAL),
            sa.Column("float_p", sa.Float(precision=10)),
            sa.Column("name", sa.String(30)),
            sa.Column("deleted", sa.Boolean),
            sa.Index("ix_pg_only_partial", "name", postgresql_where=sa.text("deleted IS NOT TRUE")),
            sa.Index("ix_pg_only_include", "name", postgresql_include=["addr"]),
            sa.Index("ix_pg_only_gin", "doc", postgresql_using="gin"),
            sa.Index("ix_pg_only_desc", sa.desc("ts")),
            sa.UniqueConstraint("name", "ts", postgresql_nulls_not_distinct=True),
        )
        sa.Sequence("invoice_numbers", start=1000, increment=10, metadata=md)
        sa.Sequence("plain_seq", metadata=md)
    if is_maria:
        sa.Sequence("invoice_numbers", start=1000, increment=10, metadata=md)
        sa.Table(
            "maria_only",
            md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("size", sa.Enum("s", "m", "l")),
            sa.Column("stamp", sa.TIMESTAMP, nullable=True),
            sa.Column("total", sa.Integer, sa.Computed("id * 2")),
            sa.Column("tiny", sa.dialects.mysql.TINYINT(4)),
            sa.Column("amount", sa.Numeric),
            sa.Column("flag", sa.Boolean(create_constraint=True, name="flag_bool")),
            sa.Column("mtext", sa.dialects.mysql.MEDIUMTEXT),
        )
    if backend == "sqlite":
        sa.Table(
            "lite_only",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("total", sa.Integer, sa.Computed("id * 2")),
            sa.Column("flag", sa.Boolean(create_constraint=True, name="flag_bool")),
            sa.Column("kind", sa.Enum("a", "b", name="kind", create_constraint=True)),
            sa.Column("name", sa.String(20)),
            sa.Column("created", sa.DateTime, server_default=sa.text("(datetime('now'))")),
            sa.Index("ix_lite_only_partial", "name", sqlite_where=sa.text("flag = 1")),
        )
    return md
