"""Fast inserts of many rows, for the first full run that may write tens of thousands.

On SQLite, rows go through each column type's own bind processor (so they are stored exactly
as the ORM would store them) and then straight to the driver's executemany, which is several
times faster than SQLAlchemy's generic path. PostgreSQL's driver is fast through SQLAlchemy's
own batched inserts, which it keeps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa


def insert_many(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name != "sqlite":
        connection.execute(table.insert(), list(rows))
        return
    columns = list(rows[0])
    # A TypeDecorator's processor includes its process_bind_param.
    processors = [table.c[name].type.bind_processor(dialect) for name in columns]
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 (names from the model)
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    first = rows[0]
    # Columns whose value is the same object in every row (the run's timestamp, its id) are
    # processed once; the others row by row.
    template: list[Any] = []
    varying = []
    for index, (c, p) in enumerate(zip(columns, processors, strict=True)):
        if all(row[c] is first[c] for row in rows):
            value = p(first[c]) if p else first[c]
            # Adapted once here: sqlite3 would turn the timestamp into text row by row.
            template.append(sqlite3.adapt(value) if isinstance(value, datetime) else value)
        else:
            template.append(None)
            varying.append((index, c, p))
    values = []
    for row in rows:
        out = template.copy()
        for index, c, p in varying:
            value = row[c]
            out[index] = p(value) if p else value
        values.append(out)
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(statement, values)
    finally:
        cursor.close()
