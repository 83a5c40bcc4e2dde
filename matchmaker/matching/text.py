"""The significant words of each listing, stored for the shared-words rule.

``listings.match_words`` holds them (core/words.py, ``listing_words``: the listing's language
decides the analysis), worked out once when a listing is saved, so that a full run over tens
of thousands of listings need not find them again.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from matchmaker.core.words import listing_words
from matchmaker.extensions import db
from matchmaker.listings.models import Listing


@sa.event.listens_for(Listing, "before_insert")
@sa.event.listens_for(Listing, "before_update")
def _remember_words(_mapper: object, _connection: object, listing: Listing) -> None:
    listing.match_words = listing_words(listing.title, listing.description, listing.language)


def reindex_listing_words(
    *, batch: int = 2000, progress: Callable[[int], None] | None = None
) -> int:
    """Recompute ``listings.match_words`` for every listing whose stored words differ (rows
    written outside the ORM, or all of them after the analysis changed). Returns how many
    changed; ``progress`` hears how many listings each batch walked. The caller commits."""
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
            )
            .where(Listing.id > last_id)
            .order_by(Listing.id)
            .limit(batch)
        ).all()
        if not rows:
            return changed
        updates = [
            {"listing_id": lid, "words": words}
            for lid, title, description, language, stored in rows
            if (words := listing_words(title, description, language)) != stored
        ]
        if updates:
            db.session.execute(
                sa.update(Listing.__table__)
                .where(Listing.__table__.c.id == sa.bindparam("listing_id"))
                .values(match_words=sa.bindparam("words")),
                updates,
            )
        changed += len(updates)
        last_id = rows[-1][0]
        if progress is not None:
            progress(len(rows))
