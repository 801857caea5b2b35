"""Reflection is bulk: the number of queries does not grow with the tables."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from limbeck.schema import diff, from_database, from_metadata


def many_tables(count: int) -> sa.MetaData:
    md = sa.MetaData()
    for i in range(count):
        sa.Table(
            f"t{i:04d}",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(40), nullable=False, server_default="x"),
            sa.Column("parent_id", sa.ForeignKey(f"t{max(i - 1, 0):04d}.id")),
            sa.Column("state", sa.Enum("a", "b", name="state")),
            sa.CheckConstraint("id > 0", name=f"ck_t{i:04d}"),
            sa.UniqueConstraint("name", name=f"uq_t{i:04d}"),
            sa.Index(f"ix_t{i:04d}", "parent_id"),
            comment=f"table {i}",
        )
    return md


def count_queries(url: str, md: sa.MetaData) -> int:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        md.create_all(engine)
        statements: list[str] = []
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")  # first-connect queries are not ours

            def record(*args: object) -> None:
                statements.append(str(args[2]))

            sa.event.listen(conn, "before_cursor_execute", record)
            schema = from_database(conn)
            sa.event.remove(conn, "before_cursor_execute", record)
            assert diff(schema, from_metadata(md, conn.dialect)) == []
        return len(statements)
    finally:
        md.drop_all(engine)
        engine.dispose()


def test_postgresql_query_count_does_not_grow_with_tables(pg_url: str) -> None:
    one = count_queries(pg_url, many_tables(1))
    fifty = count_queries(pg_url, many_tables(50))
    assert fifty == one
    assert one < 20
