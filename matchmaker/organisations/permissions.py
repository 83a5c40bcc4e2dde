"""Who may see or change an organisation. Templates use the same functions to hide buttons."""

from __future__ import annotations

from typing import Any

from matchmaker.organisations.models import MembershipRole, Organisation
from matchmaker.territories.services import coverage_of


def _membership_role(user: Any, organisation: Organisation) -> MembershipRole | None:
    if not getattr(user, "is_authenticated", False):
        return None
    for membership in organisation.memberships:
        if membership.user_id == user.id:
            return membership.role
    return None


def is_member(user: Any, organisation: Organisation) -> bool:
    return _membership_role(user, organisation) is not None


def is_owner(user: Any, organisation: Organisation) -> bool:
    return _membership_role(user, organisation) == MembershipRole.OWNER


def can_verify_organisations(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_coordinator)


def can_coordinate(user: Any, organisation: Organisation) -> bool:
    """A coordinator whose territories hold ``organisation`` (or who has none: all of them)."""
    return can_verify_organisations(user) and coverage_of(user).covers(organisation)


def can_view_organisation(user: Any, organisation: Organisation) -> bool:
    return (
        organisation.is_verified
        or is_member(user, organisation)
        or can_coordinate(user, organisation)
    )


def can_edit_organisation(user: Any, organisation: Organisation) -> bool:
    return is_owner(user, organisation) and not organisation.is_closed


def can_close_organisation(user: Any, organisation: Organisation) -> bool:
    """Its owners close it (privacy/erasure.py), confirming with their password."""
    return is_owner(user, organisation) and not organisation.is_closed


def can_manage_members(user: Any, organisation: Organisation) -> bool:
    return is_owner(user, organisation)


def can_invite_members(user: Any, organisation: Organisation) -> bool:
    """Invitations mail people who never asked: only verified organisations send them."""
    return organisation.is_verified and can_manage_members(user, organisation)


def can_see_contact_details(user: Any, organisation: Organisation) -> bool:
    """Contact people's emails and phones: the organisation's own members and coordinators."""
    return is_member(user, organisation) or can_coordinate(user, organisation)
