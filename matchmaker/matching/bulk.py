"""Fast inserts of many rows, for the first full run that may write tens of thousands.

On SQLite, rows go through each column type's own bind processor (so they are stored exactly
as the ORM would store them) and then straight to the driver's executemany, which is several
times faster than SQLAlchemy's generic path. PostgreSQL's driver is fast through SQLAlchemy's
own batched inserts, which it keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    processors = []
    for name in columns:
        column_type = table.c[name].type
        processor = column_type.bind_processor(dialect)
        if isinstance(column_type, sa.TypeDecorator):
            inner = processor

            def processor(value: Any, t: Any = column_type, i: Any = inner) -> Any:
                value = t.process_bind_param(value, dialect)
                return i(value) if i else value

        processors.append(processor)
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 (names from the model)
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    first = rows[0]
    constant = {  # e.g. the run's timestamp: processed once, not once a row
        c: (p(first[c]) if p else first[c])
        for c, p in zip(columns, processors, strict=True)
        if all(row[c] is first[c] for row in rows)
    }
    varying = [(c, p) for c, p in zip(columns, processors, strict=True) if c not in constant]
    values = []
    for row in rows:
        processed = dict(constant)
        for c, p in varying:
            processed[c] = p(row[c]) if p else row[c]
        values.append(tuple(processed[c] for c in columns))
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(statement, values)
    finally:
        cursor.close()
