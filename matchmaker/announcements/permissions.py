"""Who may post, see, change and withdraw announcements. Templates use the same functions."""

from __future__ import annotations

from typing import Any

from matchmaker.announcements.models import Announcement, AnnouncementStatus
from matchmaker.announcements.services import postable_organisations
from matchmaker.organisations.permissions import can_verify_organisations
from matchmaker.territories.services import coverage_of


def is_author(user: Any, announcement: Announcement) -> bool:
    return bool(getattr(user, "is_authenticated", False) and announcement.author_id == user.id)


def can_post_announcements(user: Any) -> bool:
    """Members of a verified public agency, and coordinators."""
    return can_verify_organisations(user) or bool(postable_organisations(user))


def coordinates(user: Any, announcement: Announcement) -> bool:
    """A coordinator of the announcement's territory, or of the organisation that posted it; a
    coordinator with no territory coordinates them all."""
    if not can_verify_organisations(user):
        return False
    coverage = coverage_of(user)
    if coverage.is_everything:
        return True
    if announcement.territory_id in {territory.id for territory in coverage.territories}:
        return True
    return announcement.organisation is not None and coverage.covers(announcement.organisation)


def can_view_announcement(user: Any, announcement: Announcement) -> bool:
    """Current ones are public; withdrawn or expired ones stay for their author and coordinators."""
    return (
        announcement.is_current()
        or is_author(user, announcement)
        or coordinates(user, announcement)
    )


def speaks_for(user: Any, announcement: Announcement) -> bool:
    """Its author, who may still post what it is: for its organisation (a member of it still,
    and it still verified), or, posted for none, the coordination team (a coordinator still).
    An author who left stops there: an edit is mailed under the organisation's name."""
    if not is_author(user, announcement):
        return False
    if announcement.organisation is None:
        return can_verify_organisations(user)
    return announcement.organisation in postable_organisations(user)


def can_edit_announcement(user: Any, announcement: Announcement) -> bool:
    return announcement.status == AnnouncementStatus.PUBLISHED and speaks_for(user, announcement)


def can_withdraw_announcement(user: Any, announcement: Announcement) -> bool:
    return announcement.status == AnnouncementStatus.PUBLISHED and (
        speaks_for(user, announcement) or coordinates(user, announcement)
    )
