"""Public reads: verified organisations, open listings (the pages' filters and search) and
themes. Anyone may call them, from any site (CORS)."""

from __future__ import annotations

from typing import Any

from flask import abort

from matchmaker.api import api_blueprint
from matchmaker.api.access import Access
from matchmaker.api.paging import keyset_page, position_page
from matchmaker.api.schemas import (
    ListingFilterArgs,
    ListingPageSchema,
    ListingSchema,
    OrganisationFilterArgs,
    OrganisationPageSchema,
    OrganisationSchema,
    ThemeListSchema,
)
from matchmaker.extensions import db
from matchmaker.listings import search, services
from matchmaker.listings.models import Listing, ListingKind
from matchmaker.organisations.models import Organisation
from matchmaker.organisations.services import (
    DIRECTORY_ORDER,
    DirectoryFilters,
    directory_statement,
)

bp = api_blueprint("public", __name__, "Open data: no token needed.", personal=False)


@bp.route("/themes", methods=["GET"], access=Access.PUBLIC)
@bp.response(200, ThemeListSchema)
def list_themes() -> dict[str, Any]:
    """Themes a listing can carry (retired ones left out)."""
    return {"items": services.all_themes(include_retired=False)}


@bp.route("/organisations", methods=["GET"], access=Access.PUBLIC)
@bp.arguments(OrganisationFilterArgs, location="query", as_kwargs=True)
@bp.response(200, OrganisationPageSchema)
def list_organisations(*, cursor: str | None = None, limit: int, **filters: Any) -> dict[str, Any]:
    """Verified organisations, by name, filtered as the directory filters them."""
    statement = directory_statement(DirectoryFilters(**filters)).order_by(None)
    return keyset_page(
        statement,
        keys=DIRECTORY_ORDER,
        row_key=lambda o: (o.name, o.id),
        cursor=cursor,
        limit=limit,
    )


@bp.route("/organisations/<int:organisation_id>", methods=["GET"], access=Access.PUBLIC)
@bp.response(200, OrganisationSchema)
def get_organisation(organisation_id: int) -> Organisation:
    """One verified organisation (never its contact people)."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not organisation.is_verified:
        abort(404)
    return organisation


@bp.route("/listings", methods=["GET"], access=Access.PUBLIC)
@bp.arguments(ListingFilterArgs, location="query", as_kwargs=True)
@bp.response(200, ListingPageSchema)
def list_listings(
    *, cursor: str | None = None, limit: int, kind: str | None = None, **filters: Any
) -> dict[str, Any]:
    """Open needs, offers and challenges of verified organisations, with the filters and the
    full-text search of the listing pages."""
    listing_filters = search.ListingFilters(
        kind=ListingKind(kind) if kind else None, status="open", **filters
    )
    statement = search.browse_statement(listing_filters)
    keys = search.sort_keys(listing_filters)
    if keys is None:  # search relevance: a row's own values cannot place it
        return position_page(statement, cursor=cursor, limit=limit)
    return keyset_page(
        statement.order_by(None),
        keys=keys,
        row_key=lambda listing: [key.value_of(listing) for key in keys],
        cursor=cursor,
        limit=limit,
    )


@bp.route("/listings/<int:listing_id>", methods=["GET"], access=Access.PUBLIC)
@bp.response(200, ListingSchema)
def get_listing(listing_id: int) -> Listing:
    """One listing of a verified organisation, open or not."""
    listing = db.session.get(Listing, listing_id)
    if listing is None or not listing.organisation.is_verified:
        abort(404)
    return listing
