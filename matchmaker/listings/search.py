"""Browsing and full-text search of listings, behind one function for both engines.

SQLite ranks with FTS5's bm25 over an external-content index; PostgreSQL with ts_rank_cd over a
generated, GIN-indexed tsvector column. Both index the same words (core/words.py,
``search_words``): each word of the title and the description, and its Snowball stem in the
listing's language, so "politiques" finds "politique", "κοινωνικής" finds "κοινωνική" and
"evaluate" finds "evaluation"; a searched word also matches the start of a longer word, so
"incubat" finds "incubation" while someone is still typing.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from matchmaker.core.caching import shared_fragment
from matchmaker.core.paging import Key, order_by
from matchmaker.core.words import (
    analyse,
    language_or_default,
    search_forms,
    search_words,
    stems,
)
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import (
    DEADLINE_OR_NONE,
    NO_DEADLINE,
    Listing,
    ListingKind,
    ListingStatus,
    Scope,
    Theme,
    labelled_themes,
    theme_label,
)
from matchmaker.listings.models import listing_themes as listing_themes_table
from matchmaker.organisations.models import Organisation, OrganisationKind, OrganisationStatus
from matchmaker.places.names import place_key

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "we",
        "were",
        "will",
        "with",
        "who",
        "what",
        "which",
        "while",
        "about",
        "your",
        "you",
        "they",
        "them",
        "can",
        "not",
        "no",
        "need",
        "needs",
        "offer",
        "offers",
    ]
)
MAX_TERMS = 12
# SQLite's FTS5 index, created by a migration (not a model: Alembic leaves it alone).
FTS_TABLE = sa.table("listings_fts", sa.column("rowid", sa.Integer))
STATUS_FILTERS = ("open", "paused", "closed", "expired", "all")
SORTS = ("newest", "deadline", "relevance")
# The search pages, one per kind: /needs, /offers, /challenges.
BROWSE_KINDS = {
    "needs": ListingKind.NEED,
    "offers": ListingKind.OFFER,
    "challenges": ListingKind.CHALLENGE,
}
BROWSE_PATHS = {kind: path for path, kind in BROWSE_KINDS.items()}


# Each order the pages offer but relevance, by which their pages follow one another.
SORT_KEYS = {
    "newest": (Key(Listing.created_at, descending=True), Key(Listing.id, descending=True)),
    "deadline": (
        Key(DEADLINE_OR_NONE, read=lambda listing: listing.deadline or NO_DEADLINE),
        Key(Listing.id),
    ),
}


def search_terms(text: str) -> list[str]:
    """The words worth searching for: lower-case, no stop words, at most ``MAX_TERMS``."""
    words = re.findall(r"[^\W_]+", text.lower())
    terms = [w for w in dict.fromkeys(words) if len(w) > 1 and w not in STOPWORDS]
    return terms[:MAX_TERMS]


@dataclass(frozen=True)
class ListingFilters:
    kind: ListingKind | None = None
    q: str = ""
    theme: str = ""
    organisation_kind: str = ""
    country: str = ""
    region: str = ""
    scope: str = ""
    status: str = "open"
    sort: str = ""
    organisation_id: int | None = None


def _alternatives(terms: list[str]) -> list[tuple[str, list[str]]]:
    """Each term as the index writes it (matched as a word or the start of one) and its stems
    in every language (matched whole): core/words.py, ``search_forms``."""
    return [search_forms(term) for term in terms]


def _match_terms(
    statement: sa.Select[Any], terms: list[str], match_all: bool
) -> tuple[sa.Select[Any], Any]:
    """``statement`` narrowed to listings matching ``terms``, and an ORDER BY expression
    (best first). The index holds each word and its stem in the listing's language
    (``listings.search_title`` and ``search_body``), the same on both engines; terms are
    letters and digits only, so nothing in them is the query language's syntax."""
    forms = _alternatives(terms)
    if db.engine.dialect.name == "postgresql":
        joiner = " & " if match_all else " | "
        text = joiner.join("(" + " | ".join([f"{word}:*", *stems]) + ")" for word, stems in forms)
        query = sa.func.to_tsquery(sa.literal_column("'simple'"), text)
        vector: sa.ColumnElement[Any] = sa.literal_column("listings.search_vector")
        return statement.where(vector.op("@@")(query)), sa.func.ts_rank_cd(vector, query).desc()
    joiner = " AND " if match_all else " OR "
    match = joiner.join(
        "(" + " OR ".join([f'"{word}"*', *(f'"{stem}"' for stem in stems)]) + ")"
        for word, stems in forms
    )
    # bm25 is computed in the same pass as MATCH (title weighted ten times the description), and
    # the matches joined: asked once a row, the index would be searched again for every match.
    matches = (
        sa.select(
            FTS_TABLE.c.rowid.label("listing_id"),
            sa.func.bm25(sa.literal_column("listings_fts"), 10.0, 1.0).label("rank"),
        )
        .select_from(FTS_TABLE)
        .where(sa.text("listings_fts MATCH :fts_match").bindparams(fts_match=match))
        .subquery("fts_matches")
    )
    statement = statement.join(matches, matches.c.listing_id == Listing.id)
    return statement, matches.c.rank.asc()


@sa.event.listens_for(Listing, "before_insert")
@sa.event.listens_for(Listing, "before_update")
def _index_words(_mapper: object, _connection: sa.Connection, listing: Listing) -> None:
    """What the search index holds for the listing, worked out whenever it is saved."""
    listing.search_title = search_words(listing.title or "", listing.language)
    listing.search_body = search_words(listing.description or "", listing.language)


def open_and_current(today: date | None = None) -> Any:
    """Open, and not past its expiry date or deadline (on ``today``, by default the current
    date)."""
    today = today or utcnow().date()
    return sa.and_(
        Listing.status == ListingStatus.OPEN,
        sa.or_(Listing.expires_on.is_(None), Listing.expires_on >= today),
        sa.or_(Listing.deadline.is_(None), Listing.deadline >= today),
    )


def _expired_condition() -> Any:
    today = utcnow().date()
    return sa.and_(
        Listing.status != ListingStatus.CLOSED,
        sa.or_(Listing.expires_on < today, Listing.deadline < today),
    )


def browse_statement(filters: ListingFilters) -> sa.Select[tuple[Listing]]:
    """Listings of verified organisations matching every filter, in the requested order."""
    statement = (
        sa.select(Listing)
        .join(Listing.organisation)
        .options(contains_eager(Listing.organisation))
        .where(Organisation.status == OrganisationStatus.VERIFIED)
    )
    if filters.kind is not None:
        statement = statement.where(Listing.kind == filters.kind)
    if filters.organisation_id is not None:
        statement = statement.where(Listing.organisation_id == filters.organisation_id)
    if filters.status == "open":
        statement = statement.where(open_and_current())
    elif filters.status == "expired":
        statement = statement.where(_expired_condition())
    elif filters.status in ("paused", "closed"):
        statement = statement.where(Listing.status == ListingStatus(filters.status))
    if filters.theme:
        statement = statement.where(
            Listing.id.in_(
                sa.select(listing_themes_table.c.listing_id)
                .join(Theme, Theme.id == listing_themes_table.c.theme_id)
                .where(Theme.slug == filters.theme)
            )
        )
    if filters.organisation_kind:
        statement = statement.where(
            Organisation.kind == OrganisationKind(filters.organisation_kind)
        )
    if filters.country:
        statement = statement.where(Organisation.country == filters.country)
    if filters.region:
        statement = statement.where(Organisation.region_folded == place_key(filters.region))
    if filters.scope:
        statement = statement.where(Listing.scope == Scope(filters.scope))

    terms = search_terms(filters.q)
    rank = None
    if filters.q.strip():
        if not terms:
            return statement.where(sa.false())
        statement, rank = _match_terms(statement, terms, match_all=True)

    keys = sort_keys(filters)
    if keys is None:
        return statement.order_by(rank, *order_by(SORT_KEYS["newest"]))
    return statement.order_by(*order_by(keys))


def sort_keys(filters: ListingFilters) -> tuple[Key, ...] | None:
    """The keys of the order ``filters`` ask for; None for relevance, which a row's own values
    cannot place (its pages go by position)."""
    searching = bool(search_terms(filters.q))
    sort = filters.sort or ("relevance" if searching else "newest")
    if sort == "relevance":
        return None if searching else SORT_KEYS["newest"]
    return SORT_KEYS.get(sort, SORT_KEYS["newest"])


def similar_listings(
    text: str,
    *,
    language: str | None = None,
    kind: ListingKind | None = None,
    exclude_id: int | None = None,
    limit: int = 5,
) -> list[Listing]:
    """Open listings in ``language`` that share significant words with ``text``, the most
    shared first: shown while someone writes. The words are the matcher's (core/words.py:
    stems in that language, stored with each listing), so what is suggested here is what the
    shared-words rule sees."""
    language = language_or_default(language)
    wanted = set(analyse(text, language))
    if not wanted:
        return []
    statement = (
        sa.select(Listing.id, Listing.match_words)
        .join(Listing.organisation)
        .where(
            Organisation.status == OrganisationStatus.VERIFIED,
            open_and_current(),
            Listing.language == language,
        )
    )
    if kind is not None:
        statement = statement.where(Listing.kind == kind)
    if exclude_id is not None:
        statement = statement.where(Listing.id != exclude_id)
    shared = {
        listing_id: len(wanted.intersection(stems(stored or "")))
        for listing_id, stored in db.session.execute(statement)
    }
    best = heapq.nsmallest(
        limit, (lid for lid, count in shared.items() if count), key=lambda i: (-shared[i], i)
    )
    if not best:
        return []
    found = {
        listing.id: listing
        for listing in db.session.scalars(sa.select(Listing).where(Listing.id.in_(best)))
    }
    return [found[listing_id] for listing_id in best]


def open_counts_by_theme(where: Any = None) -> list[dict[str, Any]]:
    """For each theme: how many live needs, offers and challenges carry it (of the
    organisations ``where`` holds, a condition on ``Organisation``, when given)."""
    rows = db.session.execute(
        sa.select(Theme.slug, Theme.name, Listing.kind, sa.func.count(Listing.id))
        .select_from(Theme)
        .join(listing_themes_table, listing_themes_table.c.theme_id == Theme.id)
        .join(Listing, Listing.id == listing_themes_table.c.listing_id)
        .join(Organisation, Organisation.id == Listing.organisation_id)
        .where(
            Organisation.status == OrganisationStatus.VERIFIED,
            open_and_current(),
            sa.true() if where is None else where,
        )
        .group_by(Theme.slug, Theme.name, Listing.kind)
    ).all()
    table: dict[str, dict[str, Any]] = {}
    for slug, name, kind, count in rows:
        entry = table.setdefault(
            slug,
            {"slug": slug, "name": theme_label(slug, name), "need": 0, "offer": 0, "challenge": 0},
        )
        entry[kind.value if hasattr(kind, "value") else kind] = count
    return sorted(
        table.values(), key=lambda e: (-(e["need"] + e["offer"] + e["challenge"]), e["name"])
    )


def countries_with_listings() -> list[str]:
    """The countries of verified organisations that have listings (the filters offer these)."""
    return list(
        db.session.scalars(
            sa.select(Organisation.country)
            .distinct()
            .where(
                Organisation.status == OrganisationStatus.VERIFIED,
                sa.exists().where(Listing.organisation_id == Organisation.id),
            )
        )
    )


def themes_in_use() -> dict[str, str]:
    """Slug and name of every theme some listing carries, in the reader's language and in the
    order of their names there."""
    in_use = sa.exists().where(listing_themes_table.c.theme_id == Theme.id)
    return labelled_themes(db.session.execute(sa.select(Theme.slug, Theme.name).where(in_use)))


# What a theme's slug can be; anything else in a query string is no theme (and is not sent to
# the database: PostgreSQL refuses a NUL byte with an error).
THEME_SLUG = re.compile(r"[a-z0-9_-]{1,64}")


def theme_filter_choices(selected: str | None) -> dict[str, str]:
    """The themes a filter offers: those in use, and the one asked for if it exists, so a link
    to a theme nobody holds yet still works."""
    choices = shared_fragment("themes-in-use", themes_in_use)
    if selected and selected not in choices and THEME_SLUG.fullmatch(selected):
        name = db.session.scalar(sa.select(Theme.name).where(Theme.slug == selected))
        if name is not None:
            choices = choices | {selected: theme_label(selected, name)}
    return choices


def newest_challenge_ids(limit: int = 5) -> list[int]:
    statement = browse_statement(ListingFilters(kind=ListingKind.CHALLENGE))
    return list(db.session.scalars(statement.with_only_columns(Listing.id).limit(limit)))


def listings_by_ids(ids: list[int]) -> list[Listing]:
    """These listings with their organisations, in the order of ``ids``."""
    if not ids:
        return []
    statement = sa.select(Listing).join(Listing.organisation).where(Listing.id.in_(ids))
    found = {
        listing.id: listing
        for listing in db.session.scalars(statement.options(contains_eager(Listing.organisation)))
    }
    return [found[i] for i in ids if i in found]
