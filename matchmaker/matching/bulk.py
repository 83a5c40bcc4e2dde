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
) -> list[int]:
    """Insert ``rows`` (values of ``columns``, in that order), each with the same ``constants``
    (column → value: the run's id, its timestamp). Returns the new rows' ids, in order."""
    if not rows:
        return []
    constants = dict(constants or {})
    dialect = connection.dialect
    if dialect.name != "sqlite":
        statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        return list(
            connection.scalars(
                statement, [dict(zip(columns, row, strict=True)) | constants for row in rows]
            )
        )
    names = ["id", *columns, *constants]
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
    cursor = connection.connection.driver_connection.cursor()
    try:
        # The first row takes its id from SQLite (and the write lock, if this transaction did
        # not hold it yet); with the lock held, the next ids are free, one after the other.
        values = iter(zip(*by_column, *map(repeat, fixed), strict=False))  # repeat() never ends
        cursor.execute(statement, (None, *next(values)))
        first = cursor.lastrowid
        assert first is not None
        ids = list(range(first, first + len(rows)))
        cursor.executemany(statement, [(i, *row) for i, row in zip(ids[1:], values, strict=True)])
    finally:
        cursor.close()
    return ids


def _processed(table: sa.Table, dialect: sa.Dialect, name: str, value: Any) -> Any:
    # A TypeDecorator's processor includes its process_bind_param.
    processor = table.c[name].type.bind_processor(dialect)
    return processor(value) if processor else value


def _adapt(value: Any) -> Any:
    # Adapted once here: sqlite3 would turn a timestamp into text row by row.
    return sqlite3.adapt(value) if isinstance(value, datetime) else value
