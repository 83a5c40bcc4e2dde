"""The profiles, built from the same rules as the pages: a verified organisation, a listing that
is open, current and of a verified organisation. Nothing here names a person: a listing's
contact is its page on this site, never the organisation's contact people.

Field names and values follow the Murmurations Library's ``organizations_schema-v1.0.0`` and
``offers_wants_schema-v0.1.0`` (tests/murmurations/ validates every demo profile against them).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import sqlalchemy as sa
from flask import url_for

from matchmaker.core.mail import external_url
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, Theme, listing_themes
from matchmaker.listings.search import open_and_current
from matchmaker.organisations.models import Organisation, OrganisationStatus

ORGANISATION_SCHEMA = "organizations_schema-v1.0.0"
LISTING_SCHEMA = "offers_wants_schema-v0.1.0"
SECONDS_A_DAY = 86_400

# Needs and challenges ask for something; offers give it.
EXCHANGE_TYPES = {
    ListingKind.NEED: "want",
    ListingKind.CHALLENGE: "want",
    ListingKind.OFFER: "offer",
}


def organisation_page(organisation_id: int) -> str:
    return external_url(url_for("organisations.show", organisation_id=organisation_id))


def listing_page(listing_id: int) -> str:
    return external_url(url_for("listings.show", listing_id=listing_id))


def organisation_profile_url(organisation_id: int) -> str:
    return external_url(
        url_for("murmurations.organisation_profile", organisation_id=organisation_id)
    )


def listing_profile_url(listing_id: int) -> str:
    return external_url(url_for("murmurations.listing_profile", listing_id=listing_id))


def _published_organisations() -> sa.ColumnElement[bool]:
    return Organisation.status == OrganisationStatus.VERIFIED


def _published_listings() -> sa.ColumnElement[bool]:
    return sa.and_(open_and_current(), Organisation.status == OrganisationStatus.VERIFIED)


def published_organisation(organisation_id: int) -> Organisation | None:
    return db.session.scalar(
        sa.select(Organisation).where(
            Organisation.id == organisation_id, _published_organisations()
        )
    )


def published_listing(listing_id: int) -> Listing | None:
    return db.session.scalar(
        sa.select(Listing)
        .join(Listing.organisation)
        .where(Listing.id == listing_id, _published_listings())
    )


def _organisation_tags(organisation: Organisation) -> list[str]:
    """Its kind, then the themes of its live listings: what an aggregator would search for."""
    themes = db.session.scalars(
        sa.select(Theme.name)
        .distinct()
        .join(listing_themes, listing_themes.c.theme_id == Theme.id)
        .join(Listing, Listing.id == listing_themes.c.listing_id)
        .join(Listing.organisation)
        .where(Listing.organisation_id == organisation.id, _published_listings())
        .order_by(Theme.name)
    )
    return list(dict.fromkeys([organisation.kind.value, *themes]))


def organisation_profile(organisation: Organisation) -> dict[str, Any]:
    page = organisation_page(organisation.id)
    profile: dict[str, Any] = {
        "linked_schemas": [ORGANISATION_SCHEMA],
        "name": organisation.name,
        # The organisation's own site identifies it; without one, its page here does.
        "primary_url": organisation.website or page,
        "tags": _organisation_tags(organisation),
        "urls": [{"name": "SSE Matchmaker", "url": page}],
        "country_iso_3166": organisation.country,
        "contact_details": {"contact_form": page},
    }
    if organisation.description:
        profile["description"] = organisation.description
    return profile


def _end_of(day: Any) -> int:
    """The Unix time at which a listing that counts through ``day`` (UTC) stops counting.

    A day's seconds are added to its start, not a day to the date: the forms and the API take
    any date to come, and the day after 9999-12-31 is no date (an OverflowError, a 500)."""
    return int(datetime.combine(day, time.min, tzinfo=UTC).timestamp()) + SECONDS_A_DAY


def listing_profile(listing: Listing) -> dict[str, Any]:
    page = listing_page(listing.id)
    profile: dict[str, Any] = {
        "linked_schemas": [LISTING_SCHEMA],
        "exchange_type": EXCHANGE_TYPES[listing.kind],
        # Partnerships: advice, research, training and the like are performed, not delivered.
        "item_type": "service",
        # None of borrow, rent, buy or donate describes a partnership; the field is required.
        "transaction_type": [],
        "tags": [theme.name for theme in listing.themes],
        "title": listing.title,
        "description": listing.description,
        "details_url": page,
        "geographic_scope": listing.scope.value,
        "contact_details": {"contact_form": page},
    }
    if listing.ends_on is not None:
        profile["expires_at"] = _end_of(listing.ends_on)
    return profile


def profile_index() -> list[dict[str, Any]]:
    """Every published profile's URL and schema, organisations first, by id."""
    organisation_ids = db.session.scalars(
        sa.select(Organisation.id).where(_published_organisations()).order_by(Organisation.id)
    )
    entries = [
        {"profile_url": organisation_profile_url(oid), "linked_schemas": [ORGANISATION_SCHEMA]}
        for oid in organisation_ids
    ]
    listing_ids = db.session.scalars(
        sa.select(Listing.id)
        .join(Listing.organisation)
        .where(_published_listings())
        .order_by(Listing.id)
    )
    entries += [
        {"profile_url": listing_profile_url(lid), "linked_schemas": [LISTING_SCHEMA]}
        for lid in listing_ids
    ]
    return entries
