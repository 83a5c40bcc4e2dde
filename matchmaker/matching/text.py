"""Significant words of a text, for the shared-words rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import sqlalchemy as sa

from matchmaker.extensions import db
from matchmaker.listings.models import Listing
from matchmaker.listings.search import STOPWORDS

# Words too common in this domain to say anything about two listings.
DOMAIN_STOPWORDS = frozenset(
    [
        "social",
        "economy",
        "solidarity",
        "sse",
        "local",
        "partners",
        "partner",
        "organisation",
        "organisations",
        "people",
        "city",
        "region",
        "support",
        "work",
        "working",
        "network",
        "project",
        "projects",
        "also",
        "more",
        "new",
        "offer",
        "offers",
        "need",
        "needs",
        "help",
        "other",
        "which",
        "into",
        "through",
        "would",
        "could",
        "should",
        "them",
        "their",
        "there",
        "these",
        "those",
        "such",
        "where",
        "when",
        "then",
        "than",
        "over",
        "under",
        "between",
        "within",
        "across",
    ]
)
IGNORED = STOPWORDS | DOMAIN_STOPWORDS
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ers", "ed", "es", "s")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately light stemmer: 'evaluating' and 'evaluate' meet at 'evaluat',
    'evaluation' and 'evaluations' at 'evalu' (the two stems do not meet)."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word.rstrip("e") if len(word) > 5 else word


_WORD = re.compile(r"[^\W\d_]{4,}")


def significant_words(text: str) -> frozenset[str]:
    return frozenset(map(stem, set(_WORD.findall(text.lower())) - IGNORED))


def listing_words(title: str, description: str) -> str:
    """What ``listings.match_words`` holds: the significant words of a listing, space-separated,
    so that a full run over tens of thousands of listings need not find them again. Changing
    the rules above means recomputing that column (``flask --app wsgi match reindex``)."""
    return " ".join(sorted(significant_words(f"{title} {description}")))


@sa.event.listens_for(Listing, "before_insert")
@sa.event.listens_for(Listing, "before_update")
def _remember_words(_mapper: object, _connection: object, listing: Listing) -> None:
    listing.match_words = listing_words(listing.title, listing.description)


def reindex_listing_words(
    *, batch: int = 2000, progress: Callable[[int], None] | None = None
) -> int:
    """Recompute ``listings.match_words`` for every listing whose stored words differ (rows
    written outside the ORM, or all of them after the rules above changed). Returns how many
    changed; ``progress`` hears how many listings each batch walked. The caller commits."""
    changed = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(Listing.id, Listing.title, Listing.description, Listing.match_words)
            .where(Listing.id > last_id)
            .order_by(Listing.id)
            .limit(batch)
        ).all()
        if not rows:
            return changed
        updates = [
            {"listing_id": lid, "words": words}
            for lid, title, description, stored in rows
            if (words := listing_words(title, description)) != stored
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
