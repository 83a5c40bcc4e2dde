"""Saved searches: keep a search under a name, rename, pause or delete it; and the alerts a new
listing sends to the owners of the searches it matches.

A search matches a listing exactly as the search page would list it (listings/search.py's
``browse_statement``, restricted to that listing): same words, same filters, open and current,
of a verified organisation. Alerts go to the owners of active searches saved before the
listing was posted or reopened, never to members of the listing's own organisation, and never
twice for one listing and search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from matchmaker.accounts.models import User
from matchmaker.alerts.models import SavedSearch, SavedSearchAlert
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import country_name
from matchmaker.core.i18n import gettext as _
from matchmaker.core.jobs import record_once
from matchmaker.core.mail import external_url
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, Scope, Theme, listing_themes
from matchmaker.listings.search import BROWSE_PATHS, ListingFilters, browse_statement
from matchmaker.listings.services import themes_by_slug
from matchmaker.notifications.services import notify
from matchmaker.organisations.models import Membership, OrganisationKind

# How many searches one account may keep: each one is checked against every new listing.
MAX_SAVED_SEARCHES = 20
NAME_LENGTH = 80
NOTIFICATION_KIND = "saved_search"
# The filters a saved search keeps (the search page's, without status and order: an alert is
# about a new, open listing).
FILTER_FIELDS = ("q", "theme", "organisation_kind", "country", "region", "scope")


def saved_searches_of(user: User) -> list[SavedSearch]:
    return list(
        db.session.scalars(
            sa.select(SavedSearch)
            .where(SavedSearch.user_id == user.id)
            .order_by(SavedSearch.created_at, SavedSearch.id)
        )
    )


def count_saved_searches(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SavedSearch)
            .where(SavedSearch.user_id == user.id)
        )
        or 0
    )


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise DomainError(_("Give the search a name."), "name")
    if len(name) > NAME_LENGTH:
        raise DomainError(_("Keep the name under %(max)d characters.", max=NAME_LENGTH), "name")
    return name


def save_search(*, user: User, name: str, filters: ListingFilters) -> SavedSearch:
    """Keep the search of ``filters`` (its kind, words and filters) under ``name``."""
    if filters.kind is None:
        raise DomainError(_("Choose needs, offers or challenges to search."))
    if count_saved_searches(user) >= MAX_SAVED_SEARCHES:
        raise DomainError(
            _(
                "You already keep %(n)d saved searches, the most an account may keep. Delete "
                "one on your account page to save this one.",
                n=MAX_SAVED_SEARCHES,
            )
        )
    search = SavedSearch(
        user_id=user.id,
        name=_clean_name(name),
        kind=filters.kind,
        **{field: str(getattr(filters, field) or "").strip() for field in FILTER_FIELDS},
    )
    db.session.add(search)
    db.session.flush()
    return search


def rename_search(*, search: SavedSearch, name: str) -> None:
    search.name = _clean_name(name)


def set_paused(*, search: SavedSearch, paused: bool) -> None:
    search.is_paused = paused


def delete_search(*, search: SavedSearch) -> None:
    db.session.delete(search)


def suggested_name(filters: ListingFilters) -> str:
    """A first name for a search: its words, else its first filter, else the kind's plural."""
    if filters.q.strip():
        return " ".join(filters.q.split())[:NAME_LENGTH]
    criteria = describe(filters)
    kind = filters.kind.plural if filters.kind else ""
    if criteria:
        return f"{kind}: {criteria[0].value}"[:NAME_LENGTH]
    return kind


# What a saved search is ------------------------------------------------------------------------


def filters_of(search: SavedSearch) -> ListingFilters:
    """The search page's filters for this saved search: open listings only."""
    return ListingFilters(
        kind=search.kind, status="open", **{f: getattr(search, f) for f in FILTER_FIELDS}
    )


def search_url(search: SavedSearch) -> str:
    """The search page showing what this saved search finds now."""
    args = {f: getattr(search, f) for f in FILTER_FIELDS if getattr(search, f)}
    return url_for("listings.browse", kind_path=BROWSE_PATHS[search.kind], **args)


@dataclass(frozen=True)
class Criterion:
    label: str
    value: str


_LABELS = {
    "q": _l("Words"),
    "theme": _l("Theme"),
    "organisation_kind": _l("Kind of organisation"),
    "country": _l("Country"),
    "region": _l("Region"),
    "scope": _l("Scope"),
}


def describe(search: SavedSearch | ListingFilters) -> list[Criterion]:
    """The search's filters in words, in the reader's language (empty: every open listing)."""
    words: list[Criterion] = []
    for field in FILTER_FIELDS:
        value = getattr(search, field) or ""
        if not value:
            continue
        if field == "theme":
            theme = themes_by_slug([value]).get(value)
            value = theme.label if theme else value
        elif field == "organisation_kind" and value in OrganisationKind._value2member_map_:
            value = OrganisationKind(value).label
        elif field == "country":
            value = country_name(value)
        elif field == "scope" and value in Scope._value2member_map_:
            value = Scope(value).label
        words.append(Criterion(str(_LABELS[field]), value))
    return words


@dataclass(frozen=True)
class Summary:
    search: SavedSearch
    criteria: list[Criterion]
    url: str


def summaries(user: Any) -> list[Summary]:
    """Each saved search of ``user`` with its filters in words and the link that runs it."""
    return [Summary(s, describe(s), search_url(s)) for s in saved_searches_of(user)]


# Alerts ----------------------------------------------------------------------------------------


def _any_or(column: Any) -> Any:
    """The search has no value for ``column``, or the listing's (bound as the column's name)."""
    return sa.or_(column == "", column == sa.bindparam(column.key))


# Made once (every listing posted asks it): the values are bound when it runs.
_LISTING_ID: sa.BindParameter[int] = sa.bindparam("listing_id")
_CANDIDATE_SEARCHES = (
    sa.select(SavedSearch)
    .where(
        SavedSearch.kind == sa.bindparam("kind"),
        SavedSearch.is_paused.is_(False),
        SavedSearch.created_at <= sa.bindparam("opened_at"),
        SavedSearch.user_id.not_in(
            sa.select(Membership.user_id).where(
                Membership.organisation_id == sa.bindparam("organisation_id")
            )
        ),
        SavedSearch.id.not_in(
            sa.select(SavedSearchAlert.saved_search_id).where(
                SavedSearchAlert.listing_id == _LISTING_ID
            )
        ),
        # The listing's themes, read here rather than loaded with it.
        sa.or_(
            SavedSearch.theme == "",
            SavedSearch.theme.in_(
                sa.select(Theme.slug)
                .join(listing_themes, listing_themes.c.theme_id == Theme.id)
                .where(listing_themes.c.listing_id == _LISTING_ID)
            ),
        ),
        _any_or(SavedSearch.organisation_kind),
        _any_or(SavedSearch.country),
        _any_or(SavedSearch.scope),
    )
    .order_by(SavedSearch.user_id, SavedSearch.id)
)


def candidate_searches(listing: Listing, opened_at: datetime) -> list[SavedSearch]:
    """Active searches of this listing's kind, saved before ``opened_at``, by people outside its
    organisation, whose simple filters the listing meets and that have not alerted of it yet.
    (Words, and the rest of the search page's conditions, are checked by :func:`matches`.)"""
    organisation = listing.organisation
    values = {
        "kind": listing.kind,
        "opened_at": opened_at,
        "organisation_id": listing.organisation_id,
        "listing_id": listing.id,
        "organisation_kind": organisation.kind.value,
        "country": organisation.country or "",
        "scope": listing.scope.value,
    }
    return list(db.session.scalars(_CANDIDATE_SEARCHES, values))


def matches(search: SavedSearch, listing: Listing) -> bool:
    """Whether the search page of ``search`` lists ``listing`` now."""
    statement = browse_statement(filters_of(search)).where(Listing.id == listing.id)
    return db.session.scalars(statement.limit(1)).first() is not None


def send_alerts(listing: Listing, opened_at: datetime) -> int:
    """Tell the owners of the saved searches that ``listing`` (posted or reopened at
    ``opened_at``) matches; how many people were told. Run as a job: the links are made in a
    request context of the site's base URL, entered only when someone is to be told."""
    if not listing.is_live():
        return 0
    by_user: dict[int, list[SavedSearch]] = {}
    for search in candidate_searches(listing, opened_at):
        if matches(search, listing):
            by_user.setdefault(search.user_id, []).append(search)
    if not by_user:
        return 0
    alerts = [
        SavedSearchAlert(saved_search_id=search.id, listing_id=listing.id)
        for searches in by_user.values()
        for search in searches
    ]
    if not record_once(alerts):  # another run of this job told them first
        return 0
    with current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]):
        _tell(listing, by_user)
    return len(by_user)


def _tell(listing: Listing, by_user: dict[int, list[SavedSearch]]) -> None:
    """A notification (and mail) for each owner, naming each of their searches that matched."""
    for searches in by_user.values():
        first = searches[0]
        message, subject = _alert_words(listing, first.name)
        notify(
            [first.user],
            kind=NOTIFICATION_KIND,
            message=message,
            url=url_for("listings.show", listing_id=listing.id),
            subject=subject,
            template="saved_search_match",
            context={
                "listing": listing,
                "searches": searches,
                "search_names": ", ".join(f"\u201c{s.name}\u201d" for s in searches),
                "account_link": external_url(url_for("accounts.account", _anchor="saved-searches")),
            },
        )


def _alert_words(listing: Listing, name: str) -> tuple[Any, Any]:
    """The notification and the mail subject, translated for each reader when shown."""
    title = listing.title
    if listing.kind == ListingKind.NEED:
        return (
            _l(
                "New need for your saved search \u201c%(name)s\u201d: %(title)s",
                name=name,
                title=title,
            ),
            _l("A new need matches \u201c%(name)s\u201d", name=name),
        )
    if listing.kind == ListingKind.OFFER:
        return (
            _l(
                "New offer for your saved search \u201c%(name)s\u201d: %(title)s",
                name=name,
                title=title,
            ),
            _l("A new offer matches \u201c%(name)s\u201d", name=name),
        )
    return (
        _l(
            "New challenge for your saved search \u201c%(name)s\u201d: %(title)s",
            name=name,
            title=title,
        ),
        _l("A new challenge matches \u201c%(name)s\u201d", name=name),
    )
