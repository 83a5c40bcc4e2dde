"""How many listings carry each theme, kept in step with the listings' themes.

A theme's rarity (snapshot.py) is counted over every listing ever posted. Counting the themes of
every listing costs a scan of the whole ``listing_themes`` index (about 6 ms at 50,000 listings
on SQLite, a tenth of an incremental run), so ``theme_counts`` holds the counts: each flush that
creates or deletes a listing or changes its themes through the ORM adds its changes there, in
theme order, so two transactions that flush once each never wait for each other's rows in
opposite orders. A transaction that flushes many listings (an interchange import) holds every
count it touched until it commits: on PostgreSQL, two such transactions can deadlock, and the
database then cancels one of them, as with ``word_counts``. Rows written outside the ORM
(bench/synthetic.py, bulk SQL loads) are counted again with :func:`rebuild_theme_counts`
(``flask --app wsgi match reindex``); nothing else writes ``listing_themes``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, attributes

from matchmaker.extensions import db
from matchmaker.listings.models import Listing, Theme
from matchmaker.matching.counts import add_counts, replace_counts, scanned_themes
from matchmaker.matching.models import ThemeCount

_CHANGES = "matchmaker.theme_count_changes"


def counted_themes() -> dict[int, int]:
    """Theme id → how many listings carry it (themes that no listing carries left out), read
    from ``theme_counts``."""
    return dict(
        db.session.execute(
            sa.select(ThemeCount.theme_id, ThemeCount.listings)
            .where(ThemeCount.listings > 0)
            .order_by(ThemeCount.theme_id)
        ).all()
    )


def rebuild_theme_counts() -> None:
    """Count every listing's themes again (after rows were written outside the ORM). The caller
    commits."""
    replace_counts(ThemeCount.__table__, "theme_id", scanned_themes())


@sa.event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    """The themes each listing of this flush gains or loses (as objects: a new theme has its id
    only once flushed). Before the flush: a deleted listing's themes can still be loaded."""
    changes: list[tuple[Theme, int]] = []
    for obj in session.new:
        if isinstance(obj, Listing):
            changes += [(theme, 1) for theme in obj.themes]
    for obj in session.dirty:
        if isinstance(obj, Listing):
            # A collection never loaded was not changed: not loaded for nothing.
            history = attributes.get_history(
                obj, "themes", passive=attributes.PASSIVE_NO_INITIALIZE
            )
            changes += [(theme, 1) for theme in history.added or ()]
            changes += [(theme, -1) for theme in history.deleted or ()]
    for obj in session.deleted:
        if isinstance(obj, Listing):
            history = attributes.get_history(obj, "themes")
            stored = [*(history.unchanged or ()), *(history.deleted or ())]
            changes += [(theme, -1) for theme in stored]
    # Replaced, not added to: what a flush that failed noted is never counted.
    session.info[_CHANGES] = changes


@sa.event.listens_for(Session, "after_flush")
def _count_changes(session: Session, _context: Any) -> None:
    changes: list[tuple[Theme, int]] = session.info.pop(_CHANGES, [])
    delta: Counter[int] = Counter()
    for theme, step in changes:
        delta[theme.id] += step
    if any(delta.values()):  # most flushes change no listing's themes
        add_counts(session.connection(), ThemeCount.__table__, "theme_id", delta)


@sa.event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGES, None)
