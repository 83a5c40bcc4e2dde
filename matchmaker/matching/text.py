"""The significant words of each listing, stored for the shared-words and shared-vocabulary
rules.

``listings.match_words`` holds them (core/words.py, ``listing_words``: the listing's language
decides the analysis), worked out once when a listing is saved, so that a full run over tens
of thousands of listings need not find them again. ``word_counts`` holds how many listings use
each word, kept in step in the same flush, so that every run, full or incremental, weighs a
word by the same rarity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import sqlalchemy as sa

from matchmaker.core.words import listing_words, search_words, stems
from matchmaker.extensions import db
from matchmaker.listings.models import Listing
from matchmaker.matching.counts import add_counts, replace_counts, scanned_words
from matchmaker.matching.models import WordCount


@sa.event.listens_for(Listing, "before_insert")
@sa.event.listens_for(Listing, "before_update")
def _remember_words(_mapper: object, connection: sa.Connection, listing: Listing) -> None:
    before = set(stems(listing.match_words or ""))
    listing.match_words = listing_words(listing.title, listing.description, listing.language)
    after = set(stems(listing.match_words))
    count_words(connection, added=after - before, removed=before - after)


@sa.event.listens_for(Listing, "before_delete")
def _forget_words(_mapper: object, connection: sa.Connection, listing: Listing) -> None:
    count_words(connection, added=(), removed=stems(listing.match_words or ""))


def count_words(connection: sa.Connection, *, added: Iterable[str], removed: Iterable[str]) -> None:
    """One more listing uses each of ``added``, one fewer each of ``removed`` (matching/counts.py:
    in stem order, so that two transactions never wait for each other's rows in opposite
    orders)."""
    delta: Counter[str] = Counter(set(added))
    delta.subtract(set(removed))
    add_counts(connection, WordCount.__table__, "stem", delta)


def rebuild_word_counts() -> int:
    """Count every listing's stored words again (after rows were written outside the ORM).
    Returns how many words there are. The caller commits."""
    counts = scanned_words()
    replace_counts(WordCount.__table__, "stem", counts)
    return len(counts)


def reindex_listing_words(
    *, batch: int = 2000, progress: Callable[[int], None] | None = None
) -> int:
    """Recompute the words stored with every listing whose stored words differ (rows written
    outside the ORM, or all of them after the analysis changed): ``listings.match_words``, the
    matcher's, and ``search_title`` / ``search_body``, the search index's (listings/search.py);
    then count the matcher's words again (``word_counts``). Returns how many listings changed;
    ``progress`` hears how many listings each batch walked. The caller commits."""
    changed = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(
                Listing.id,
                Listing.title,
                Listing.description,
                Listing.language,
                Listing.match_words,
                Listing.search_title,
                Listing.search_body,
            )
            .where(Listing.id > last_id)
            .order_by(Listing.id)
            .limit(batch)
        ).all()
        if not rows:
            rebuild_word_counts()
            return changed
        updates = []
        for lid, title, description, language, *stored in rows:
            words = (
                listing_words(title, description, language),
                search_words(title, language),
                search_words(description, language),
            )
            if words != tuple(stored):
                updates.append(
                    {
                        "listing_id": lid,
                        "words": words[0],
                        "indexed_title": words[1],
                        "indexed_body": words[2],
                    }
                )
        if updates:
            db.session.execute(
                sa.update(Listing.__table__)
                .where(Listing.__table__.c.id == sa.bindparam("listing_id"))
                .values(
                    match_words=sa.bindparam("words"),
                    search_title=sa.bindparam("indexed_title"),
                    search_body=sa.bindparam("indexed_body"),
                ),
                updates,
            )
        changed += len(updates)
        last_id = rows[-1][0]
        if progress is not None:
            progress(len(rows))
