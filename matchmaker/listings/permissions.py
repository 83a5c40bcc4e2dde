"""Who may post, see and change listings. Templates use the same functions to hide buttons."""

from __future__ import annotations

from typing import Any

from matchmaker.listings.models import Listing
from matchmaker.organisations.models import Organisation, OrganisationKind
from matchmaker.organisations.permissions import can_coordinate, is_member


def can_post_listings(user: Any, organisation: Organisation) -> bool:
    return organisation.is_verified and is_member(user, organisation)


def can_post_challenges(user: Any, organisation: Organisation) -> bool:
    return (
        can_post_listings(user, organisation)
        and organisation.kind == OrganisationKind.PUBLIC_AGENCY
    )


def can_view_listing(user: Any, listing: Listing) -> bool:
    return (
        listing.organisation.is_verified
        or is_member(user, listing.organisation)
        or can_coordinate(user, listing.organisation)
    )


def can_edit_listing(user: Any, listing: Listing) -> bool:
    """Its organisation's members, until the organisation is closed (its listings closed with
    it, and stay closed: as its page and details, they are no longer anyone's to change)."""
    return is_member(user, listing.organisation) and not listing.organisation.is_closed


def can_write_listings(user: Any) -> bool:
    """A member of some verified organisation: who sees a listing form, and its suggestions of
    similar listings (a search through every open listing, not for anyone signed in)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return any(can_post_listings(user, m.organisation) for m in user.memberships)
