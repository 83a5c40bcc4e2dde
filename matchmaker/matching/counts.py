"""How many listings carry each theme and use each word: two tables of one shape (a key, and how
many listings), ``theme_counts`` (kept by matching/theme_counts.py) and ``word_counts`` (kept
by matching/text.py). One way to add to them, one to count them again from scratch, and one to
check them against a plain count without changing anything (``flask --app wsgi match reindex
--check``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from matchmaker.core.words import stems
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, Theme, listing_themes
from matchmaker.matching.models import ThemeCount, WordCount


def add_counts(
    connection: sa.Connection, table: sa.Table, key: str, deltas: Mapping[Any, int]
) -> None:
    """Add ``deltas`` (value of the column ``key`` → listings more, or fewer) to the counts of
    ``table``: one statement, run for each key that changes, in key order (two transactions
    never wait for each other's rows in opposite orders). No count falls below zero."""
    rows = [
        {"counted": counted, "start": max(step, 0), "step": step}
        for counted, step in sorted(deltas.items())
        if step
    ]
    if rows:
        connection.execute(_upsert(connection.dialect.name, table, key), rows)


_UPSERTS: dict[tuple[str, str], sa.Executable] = {}


def _upsert(dialect_name: str, table: sa.Table, key: str) -> sa.Executable:
    """``table``'s upsert of one key's count, made once for each database kind."""
    statement = _UPSERTS.get((dialect_name, table.name))
    if statement is None:
        dialect = postgresql if dialect_name == "postgresql" else sqlite
        insert = dialect.insert(table).values(
            {key: sa.bindparam("counted"), "listings": sa.bindparam("start")}
        )
        statement = _UPSERTS[(dialect_name, table.name)] = insert.on_conflict_do_update(
            index_elements=[table.c[key]],
            # Never below zero, as a new row starts (a count of -1 would be a division by zero
            # in the words' weights).
            set_={
                "listings": sa.case(
                    (table.c.listings + sa.bindparam("step") < 0, 0),
                    else_=table.c.listings + sa.bindparam("step"),
                )
            },
        )
    return statement


def replace_counts(table: sa.Table, key: str, counts: Mapping[Any, int]) -> None:
    """Put ``counts`` (value of the column ``key`` → listings) in place of every count of
    ``table``. The caller commits."""
    db.session.execute(sa.delete(table))
    if counts:
        db.session.execute(
            sa.insert(table),
            [{key: counted, "listings": n} for counted, n in sorted(counts.items())],
        )


def scanned_themes() -> dict[int, int]:
    """Theme id → how many listings carry it, counted from every listing's themes (the plain
    count of what ``theme_counts`` keeps)."""
    return dict(
        db.session.execute(
            sa.select(listing_themes.c.theme_id, sa.func.count())
            .group_by(listing_themes.c.theme_id)
            .order_by(listing_themes.c.theme_id)
        ).all()
    )


def scanned_words(*, batch: int = 5000) -> Counter[str]:
    """Word (stem) → how many listings use it, counted from every listing's stored words (the
    plain count of what ``word_counts`` keeps)."""
    counts: Counter[str] = Counter()
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(Listing.id, Listing.match_words)
            .where(Listing.id > last_id)
            .order_by(Listing.id)
            .limit(batch)
        ).all()
        if not rows:
            return counts
        for _, stored in rows:
            counts.update(set(stems(stored or "")))
        last_id = rows[-1][0]


@dataclass(frozen=True)
class StaleCount:
    """A kept count that differs from the plain count."""

    table: str
    key: str  # the theme's slug, or the word
    stored: int
    counted: int


def stale_counts() -> list[StaleCount]:
    """Every kept theme and word count that differs from a plain count of the listings (a
    missing row counts as zero), themes first, each in key order. Changes nothing."""
    slugs = dict(db.session.execute(sa.select(Theme.id, Theme.slug)).all())
    themes = _differences(
        dict(db.session.execute(sa.select(ThemeCount.theme_id, ThemeCount.listings)).all()),
        scanned_themes(),
    )
    words = _differences(
        dict(db.session.execute(sa.select(WordCount.stem, WordCount.listings)).all()),
        scanned_words(),
    )
    return [
        *(StaleCount("theme_counts", slugs.get(tid, str(tid)), *found) for tid, found in themes),
        *(StaleCount("word_counts", stem, *found) for stem, found in words),
    ]


def _differences(
    stored: Mapping[Any, int], counted: Mapping[Any, int]
) -> list[tuple[Any, tuple[int, int]]]:
    """(key, (stored, counted)) for every key whose two counts differ, in key order."""
    return [
        (key, (stored.get(key, 0), counted.get(key, 0)))
        for key in sorted(stored.keys() | counted.keys())
        if stored.get(key, 0) != counted.get(key, 0)
    ]
