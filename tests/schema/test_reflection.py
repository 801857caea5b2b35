"""A database created from models reads back equal to the models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from limbeck.schema import Schema, diff, from_database, from_metadata

from .models import rich_metadata


def backend_of(url: str) -> str:
    name = sa.make_url(url).get_backend_name()
    return "mariadb" if name in ("mysql", "mariadb") else name


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(db_url, poolclass=NullPool)
    yield eng
    eng.dispose()


def both(engine: sa.Engine, md: sa.MetaData) -> tuple[Schema, Schema]:
    with engine.connect() as conn:
        model = from_metadata(md, conn.dialect, default_schema=conn.dialect.default_schema_name)
        db = from_database(conn)
    return model, db


def explain(model: Schema, db: Schema) -> str:
    lines = []
    for key, table in model.tables_by_key.items():
        other = db.tables_by_key.get(key)
        if other is None or other == table:
            continue
        for col in table.columns:
            if other.column(col.name) != col:
                lines.append(
                    f"{key} model {col}\n{' ' * len(str(key))}    db {other.column(col.name)}"
                )
        for attr in (
            "primary_key",
            "indexes",
            "unique_constraints",
            "check_constraints",
            "foreign_keys",
            "comment",
        ):
            if getattr(table, attr) != getattr(other, attr):
                lines.append(
                    f"{key} {attr}:\n  model {getattr(table, attr)}\n     db {getattr(other, attr)}"
                )
    return "\n".join(lines)


def test_create_all_reads_back_without_differences(engine: sa.Engine) -> None:
    md = rich_metadata(backend_of(str(engine.url)))
    md.create_all(engine)
    model, db = both(engine, md)
    changes = diff(db, model)
    assert changes == [], explain(model, db)
    assert diff(model, db) == []
    assert {t.key for t in db.tables} == {t.key for t in model.tables}


def test_create_all_without_naming_convention(engine: sa.Engine) -> None:
    md = rich_metadata(backend_of(str(engine.url)), naming=False)
    md.create_all(engine)
    model, db = both(engine, md)
    assert diff(db, model) == [], explain(model, db)
