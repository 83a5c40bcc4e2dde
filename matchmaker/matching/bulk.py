"""Fast inserts of many rows, for the first full run that may write tens of thousands.

On SQLite, values go through each column type's own bind processor (so they are stored exactly
as the ORM would store them) and then straight to the driver's executemany, which is several
times faster than SQLAlchemy's generic path. PostgreSQL's driver is fast through SQLAlchemy's
own batched inserts, which it keeps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import repeat
from typing import Any

import sqlalchemy as sa


def insert_many(
    connection: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (values of ``columns``, in that order), each with the same ``constants``
    (column → value: the run's id, its timestamp)."""
    if not rows:
        return
    constants = dict(constants or {})
    dialect = connection.dialect
    if dialect.name != "sqlite":
        connection.execute(
            table.insert(), [dict(zip(columns, row, strict=True)) | constants for row in rows]
        )
        return
    names = [*columns, *constants]
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608 (names from the model)
        f"VALUES ({', '.join('?' * len(names))})"
    )
    # Constants are processed once; the other values column by column.
    fixed = [_adapt(_processed(table, dialect, name, value)) for name, value in constants.items()]
    by_column: list[Iterable[Any]] = list(zip(*rows, strict=True))
    for index, name in enumerate(columns):
        processor = table.c[name].type.bind_processor(dialect)
        if processor is not None:
            by_column[index] = map(processor, by_column[index])
    values = list(zip(*by_column, *map(repeat, fixed), strict=False))  # repeat() never ends
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(statement, values)
    finally:
        cursor.close()


def _processed(table: sa.Table, dialect: sa.Dialect, name: str, value: Any) -> Any:
    # A TypeDecorator's processor includes its process_bind_param.
    processor = table.c[name].type.bind_processor(dialect)
    return processor(value) if processor else value


def _adapt(value: Any) -> Any:
    # Adapted once here: sqlite3 would turn a timestamp into text row by row.
    return sqlite3.adapt(value) if isinstance(value, datetime) else value
