"""Fast inserts of many rows, for the first full run that may write tens of thousands.

Writing is split in two steps so that a caller can overlap them: :func:`prepare` turns the rows
into what the driver takes (pure Python, no database), and :meth:`Prepared.execute` sends them.

On SQLite, values go through each column type's own bind processor (so they are stored exactly
as the ORM would store them) and then to the driver as multi-row ``INSERT … VALUES`` statements
of up to a thousand rows: each is one call into SQLite, which does its B-tree and foreign-key
work with Python's GIL released, and which is faster than SQLAlchemy's generic path.
PostgreSQL's driver is fast through SQLAlchemy's own batched inserts, which it keeps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import chain, repeat
from typing import Any

import sqlalchemy as sa

ROWS_PER_STATEMENT = 1000
SQLITE_MAX_VARIABLES = 32766  # SQLite's default limit since 3.32


@dataclass
class Prepared:
    """Rows of one table, ready for the driver."""

    table: sa.Table
    columns: tuple[str, ...]  # the varying columns, then the constant ones
    by_column: list[list[Any]]  # SQLite: processed values of the varying columns
    constants: list[Any]  # SQLite: processed values of the constant columns
    dicts: list[dict[str, Any]] | None = None  # other databases: one dict per row

    def __len__(self) -> int:
        if self.dicts is not None:
            return len(self.dicts)
        return len(self.by_column[0]) if self.by_column else 0

    def execute(self, connection: sa.Connection) -> None:
        """Insert the rows."""
        if not len(self):
            return
        if self.dicts is not None:
            connection.execute(self.table.insert(), self.dicts)
            return
        count = len(self)
        per = max(1, min(ROWS_PER_STATEMENT, SQLITE_MAX_VARIABLES // len(self.columns)))
        cursor = _sqlite3(connection).cursor()
        try:
            for start in range(0, count, per):
                stop = min(count, start + per)
                rows = zip(
                    *(values[start:stop] for values in self.by_column),
                    *map(repeat, self.constants),
                    strict=False,  # the constants repeat without end
                )
                cursor.execute(
                    _sqlite_insert(self.table.name, self.columns, stop - start),
                    list(chain.from_iterable(rows)),
                )
        finally:
            cursor.close()


def _sqlite3(connection: sa.Connection) -> sqlite3.Connection:
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def reserve_ids(connection: sa.Connection, table: sa.Table, count: int) -> list[int]:
    """``count`` ids for new rows of ``table`` that nobody else will take.

    PostgreSQL: drawn from the column's sequence. SQLite: the ids after the highest, which
    are free as long as this transaction holds the database's write lock, so the caller must
    have written in it already (the matcher writes its run's row first).
    """
    if not count:
        return []
    if connection.dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        return list(
            connection.scalars(
                sa.select(sa.func.nextval(sequence)).select_from(sa.func.generate_series(1, count))
            )
        )
    if connection.dialect.name != "sqlite":
        raise NotImplementedError(connection.dialect.name)
    assert _sqlite3(connection).in_transaction, "write first, then reserve"
    highest = connection.scalar(sa.select(sa.func.max(table.c.id))) or 0
    return list(range(highest + 1, highest + 1 + count))


def prepare(
    dialect: sa.Dialect,
    table: sa.Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> Prepared:
    """``rows`` (values of ``columns``, in that order), each with the same ``constants``
    (column → value: the run's id, its timestamp), made ready for :meth:`Prepared.execute`.

    On SQLite each row is processed as it is read, before the next one is asked for: a caller
    may make a large value (a proposal's explanation) only when its row is read, and it is
    encoded while it is still in the CPU's caches and let go of at once."""
    constants = dict(constants or {})
    names = (*columns, *constants)
    if dialect.name != "sqlite":
        dicts = [dict(zip(columns, row, strict=True)) | constants for row in rows]
        return Prepared(table, names, [], [], dicts)
    processors = [
        (index, processor)
        for index, name in enumerate(columns)
        if (processor := table.c[name].type.bind_processor(dialect)) is not None
    ]
    if processors:
        rows = (_processed_row(row, processors) for row in rows)
    by_column: list[list[Any]] = [list(values) for values in zip(*rows, strict=True)]
    fixed = [_adapt(_processed(table, dialect, name, value)) for name, value in constants.items()]
    return Prepared(table, names, by_column, fixed)


def _processed_row(
    row: Sequence[Any], processors: Sequence[tuple[int, Callable[[Any], Any]]]
) -> list[Any]:
    """The values of ``row``, those of the columns that have a bind processor processed."""
    values = list(row)
    for index, processor in processors:
        values[index] = processor(values[index])
    return values


@lru_cache(maxsize=32)
def _sqlite_insert(table: str, names: tuple[str, ...], rows: int) -> str:
    one = f"({', '.join('?' * len(names))})"
    return (
        f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608 (names from the model)
        f"VALUES {', '.join([one] * rows)}"
    )


def _processed(table: sa.Table, dialect: sa.Dialect, name: str, value: Any) -> Any:
    # A TypeDecorator's processor includes its process_bind_param.
    processor = table.c[name].type.bind_processor(dialect)
    return processor(value) if processor else value


def _adapt(value: Any) -> Any:
    # Adapted once here: sqlite3 would turn a timestamp into text row by row.
    return sqlite3.adapt(value, sqlite3.PrepareProtocol) if isinstance(value, datetime) else value
