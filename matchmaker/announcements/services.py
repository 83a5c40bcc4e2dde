"""Announcements: post, edit and withdraw them, list the current ones, and deliver each to the
members it concerns (:func:`recipients` is the one rule of who receives an announcement)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from matchmaker.accounts.models import User
from matchmaker.announcements.models import (
    KIND_LABELS,
    Announcement,
    AnnouncementDelivery,
    AnnouncementKind,
    AnnouncementStatus,
    Audience,
    current_announcements,
)
from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.core.jobs import create_job_once, record_once
from matchmaker.core.paging import Key, order_by
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingStatus, Theme, listing_themes
from matchmaker.listings.services import resolve_themes
from matchmaker.notifications.services import notify
from matchmaker.organisations.models import (
    Membership,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)
from matchmaker.places import gazetteer
from matchmaker.places.names import place_key
from matchmaker.territories.models import Territory
from matchmaker.territories.services import coverage_of, organisations_in

TITLE_LENGTH = (5, 120)
BODY_LENGTH = (20, 5000)
LINK_LENGTH = 500
# The job that delivers an announcement, a row (``jobs``) whose subject is the announcement.
DELIVER_ANNOUNCEMENT = "announcements.delivery"
NOTIFICATION_KIND = "announcement"
# How many announcements the home page shows.
HOME_COUNT = 3


def postable_organisations(user: Any) -> list[Organisation]:
    """The verified organisations ``user`` may post announcements for: public agencies they
    belong to, and any of their organisations for a coordinator."""
    if not getattr(user, "is_authenticated", False):
        return []
    statement = (
        sa.select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user.id, Organisation.status == OrganisationStatus.VERIFIED)
        .order_by(Organisation.name)
    )
    if not user.is_coordinator:
        statement = statement.where(Organisation.kind == OrganisationKind.PUBLIC_AGENCY)
    return list(db.session.scalars(statement))


def check_link(link: str) -> str | None:
    """An optional web address: http or https only (a ``javascript:`` link is never shown)."""
    link = link.strip()
    if not link:
        return None
    try:
        parts = urlsplit(link)
    except ValueError:  # "Invalid IPv6 URL": a bracket in the host ("https://[x")
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise DomainError(_("Give a web address that starts with http:// or https://."), "link")
    if len(link) > LINK_LENGTH:
        raise DomainError(
            _("Keep the web address under %(max)d characters.", max=LINK_LENGTH), "link"
        )
    return link


def _check(*, title: str, body: str, ends_on: date | None) -> None:
    if not TITLE_LENGTH[0] <= len(title.strip()) <= TITLE_LENGTH[1]:
        raise DomainError(_("The title needs 5 to 120 characters."), "title")
    if not BODY_LENGTH[0] <= len(body.strip()) <= BODY_LENGTH[1]:
        raise DomainError(_("The text needs 20 to 5,000 characters."), "body")
    if ends_on is None:
        raise DomainError(_("Give the announcement an end date."), "ends_on")
    if ends_on < utcnow().date():
        raise DomainError(_("The end date is in the past: choose today or a later day."), "ends_on")


def create_announcement(
    *,
    author: User,
    organisation: Organisation | None,
    kind: AnnouncementKind,
    audience: Audience,
    title: str,
    body: str,
    themes: Sequence[str],
    ends_on: date | None,
    link: str = "",
    country: str = "",
    region_only: bool = False,
    territory: Territory | None = None,
) -> Announcement:
    """Publish an announcement; it is delivered once the transaction commits.

    Kept to a ``territory``, it reaches that territory's organisations (a territorial
    coordinator's always is). Otherwise, posted for an organisation, it reaches that
    organisation's country (and its region with ``region_only``); a coordinator posting for no
    organisation names the ``country``.
    """
    _check(title=title, body=body, ends_on=ends_on)
    assert ends_on is not None
    allowed = territory_choices(author)
    if territory is None and not coverage_of(author).is_everything:
        territory = allowed[0]
    if territory is not None and territory not in allowed:
        raise DomainError(_("Choose one of the listed territories."), "territory")
    if territory is not None:
        country, region = (organisation.country if organisation else _country_of(territory)), ""
    elif organisation is not None:
        country = organisation.country
        region = organisation.region if region_only else ""
    elif author.is_coordinator and country:
        region = ""
    else:
        raise DomainError(_("Choose the country the announcement is for."), "country")
    announcement = Announcement(
        author_id=author.id,
        organisation=organisation,
        kind=kind,
        audience=audience,
        title=title.strip(),
        body=body.strip(),
        themes=resolve_themes(themes),
        ends_on=ends_on,
        link=check_link(link),
        country=country,
        region=region,
        territory=territory,
    )
    db.session.add(announcement)
    db.session.flush()
    record_event(
        "announcement:create",
        actor=author,
        subject=announcement,
        details={
            "kind": kind.value,
            "country": country,
            "region": region,
            "territory": territory.slug if territory else None,
        },
    )
    create_job_once(DELIVER_ANNOUNCEMENT, announcement.id)
    return announcement


def territory_choices(user: User) -> list[Territory]:
    """The territories ``user`` may keep an announcement to: their own for a territorial
    coordinator, any for the others."""
    coverage = coverage_of(user)
    statement = sa.select(Territory).order_by(Territory.name)
    if not coverage.is_everything:
        statement = statement.where(Territory.id.in_([t.id for t in coverage.territories]))
    return list(db.session.scalars(statement))


def _country_of(territory: Territory) -> str:
    """The country of a territory (of its first subdivision, else of its first city)."""
    if territory.subdivisions:
        return territory.subdivisions[0][:2]
    place = gazetteer.get(territory.geonames_ids[0]) if territory.geonames_ids else None
    return place.country if place is not None else ""


def update_announcement(
    *,
    announcement: Announcement,
    actor: User,
    kind: AnnouncementKind,
    audience: Audience,
    title: str,
    body: str,
    themes: Sequence[str],
    ends_on: date | None,
    link: str = "",
    region_only: bool = False,
) -> None:
    """Change an announcement; members it now concerns, and had not reached, receive it.
    Saved unchanged, it records nothing and reaches nobody new."""
    if announcement.status != AnnouncementStatus.PUBLISHED:
        raise DomainError(_("A withdrawn announcement cannot be changed."))
    _check(title=title, body=body, ends_on=ends_on)
    assert ends_on is not None
    held = [t.slug for t in announcement.themes]
    before = _as_saved(announcement)
    announcement.kind, announcement.audience = kind, audience
    announcement.title, announcement.body = title.strip(), body.strip()
    announcement.themes = resolve_themes(themes, allowed_retired=held)
    announcement.ends_on = ends_on
    announcement.link = check_link(link)
    if announcement.organisation is not None and announcement.territory is None:
        announcement.region = announcement.organisation.region if region_only else ""
    if _as_saved(announcement) == before:
        return
    record_event("announcement:update", actor=actor, subject=announcement)
    create_job_once(DELIVER_ANNOUNCEMENT, announcement.id)


def _as_saved(announcement: Announcement) -> tuple[Any, ...]:
    """What an edit may change of an announcement (its themes as a set)."""
    return (
        announcement.kind,
        announcement.audience,
        announcement.title,
        announcement.body,
        frozenset(t.slug for t in announcement.themes),
        announcement.ends_on,
        announcement.link,
        announcement.region,
    )


def withdraw_announcement(*, announcement: Announcement, actor: User) -> None:
    if announcement.status == AnnouncementStatus.WITHDRAWN:
        raise DomainError(_("This announcement is already withdrawn."))
    announcement.status = AnnouncementStatus.WITHDRAWN
    announcement.withdrawn_at = utcnow()
    record_event("announcement:withdraw", actor=actor, subject=announcement)


# Lists -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnouncementFilters:
    theme: str = ""
    kind: str = ""
    audience: str = ""


# Announcements' order, by which their pages follow one another.
NEWEST_FIRST = (
    Key(Announcement.created_at, descending=True),
    Key(Announcement.id, descending=True),
)


def browse_statement(filters: AnnouncementFilters) -> sa.Select[tuple[Announcement]]:
    """Current announcements, newest first. An audience filter also keeps those for everyone."""
    statement = sa.select(Announcement).where(current_announcements())
    if filters.theme:
        statement = statement.where(Announcement.themes.any(Theme.slug == filters.theme))
    if filters.kind:
        statement = statement.where(Announcement.kind == AnnouncementKind(filters.kind))
    if filters.audience:
        statement = statement.where(
            Announcement.audience.in_([Audience(filters.audience), Audience.EVERYONE])
        )
    return statement.order_by(*order_by(NEWEST_FIRST))


def latest_announcements(count: int = HOME_COUNT) -> list[Announcement]:
    return list(db.session.scalars(browse_statement(AnnouncementFilters()).limit(count)))


# Delivery --------------------------------------------------------------------------------------


def recipients(announcement: Announcement) -> list[User]:
    """Who receives ``announcement``: the active members of verified organisations

    - in its territory when it has one, else in its country (and its region, when it is kept
      to one),
    - of a kind its audience covers,
    - with an open listing on one of its themes (an organisation's themes are those of what it
      needs and offers),

    except the members of the organisation that posted it and those it has reached already.
    """
    theme_ids = [theme.id for theme in announcement.themes]
    shares_a_theme = (
        sa.select(Listing.id)
        .join(listing_themes, listing_themes.c.listing_id == Listing.id)
        .where(
            Listing.organisation_id == Organisation.id,
            Listing.status == ListingStatus.OPEN,
            listing_themes.c.theme_id.in_(theme_ids),
        )
        .exists()
    )
    reached = sa.select(AnnouncementDelivery.user_id).where(
        AnnouncementDelivery.announcement_id == announcement.id
    )
    statement = (
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(
            User.is_active_account.is_(True),
            Organisation.status == OrganisationStatus.VERIFIED,
            Organisation.kind.in_(announcement.audience.organisation_kinds),
            shares_a_theme,
            User.id.not_in(reached),
        )
    )
    if announcement.territory is not None:
        statement = statement.where(organisations_in(announcement.territory))
    else:
        statement = statement.where(Organisation.country == announcement.country)
    if announcement.region and announcement.territory is None:
        statement = statement.where(Organisation.region_folded == place_key(announcement.region))
    if announcement.organisation_id is not None:
        statement = statement.where(
            User.id.not_in(
                sa.select(Membership.user_id).where(
                    Membership.organisation_id == announcement.organisation_id
                )
            )
        )
    if announcement.author_id is not None:
        statement = statement.where(User.id != announcement.author_id)
    return list(db.session.scalars(statement.distinct().order_by(User.id)))


def deliver(announcement: Announcement) -> int:
    """Notify each member :func:`recipients` names, once, in their language, mailed at once or
    in the digest as they chose; how many were reached. Needs a request context (links)."""
    if not announcement.is_current():
        return 0
    users = recipients(announcement)
    if not users:
        return 0
    reached = [AnnouncementDelivery(announcement_id=announcement.id, user_id=u.id) for u in users]
    if not record_once(reached):  # another run of this job reached them first
        return 0
    notify(
        users,
        kind=NOTIFICATION_KIND,
        message=_l(
            "%(kind)s: %(title)s (until %(date)s)",
            kind=KIND_LABELS[announcement.kind],
            title=announcement.title,
            # Formatted for each reader, in their language, when the message is written.
            date=LazyString(format_date, announcement.ends_on),
        ),
        url=url_for("announcements.show", announcement_id=announcement.id),
        announcement_id=announcement.id,
        subject=_l(
            "New announcement: %(title)s",
            title=announcement.title,
        ),
        template="announcement",
        context={"announcement": announcement},
    )
    return len(users)
