"""Test data with traits: ``make_user(role=Role.COORDINATOR)``,
``make_organisation(owner=user, status=OrganisationStatus.PENDING)``."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from matchmaker.accounts.models import Role, User
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, ListingStatus, Scope, SoughtKind
from matchmaker.listings.services import themes_by_slug
from matchmaker.organisations.models import (
    ContactPerson,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)
from matchmaker.places import gazetteer

PASSWORD = "correct-horse-battery"
_sequence = itertools.count(1)


def make_user(
    *,
    email: str | None = None,
    role: Role = Role.MEMBER,
    confirmed: bool = True,
    password: str = PASSWORD,
    display_name: str | None = None,
    language: str | None = None,
) -> User:
    number = next(_sequence)
    user = User(
        email=email or f"user{number}@example.org",
        display_name=display_name or f"User {number}",
        role=role,
        language=language,
    )
    user.set_password(password)
    if confirmed:
        user.confirm_email()
    db.session.add(user)
    db.session.commit()
    return user


def make_organisation(
    *,
    owner: User | None = None,
    members: list[User] | None = None,
    status: OrganisationStatus = OrganisationStatus.VERIFIED,
    kind: OrganisationKind = OrganisationKind.SSE_ORGANISATION,
    contacts: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Organisation:
    number = next(_sequence)
    values: dict[str, Any] = {
        "name": f"Organisation {number}",
        "description": "A cooperative that works on social inclusion in its city.",
        "city": "Liverpool",
        "region": "Liverpool City Region",
        "country": "GB",
    }
    values.update(fields)
    # As the forms and the import store it: a real place when the gazetteer knows the city,
    # left unresolved (as the migration leaves an unknown one) when it does not.
    place = gazetteer.resolve(values["city"], values["country"])
    if place is not None and "geonames_id" not in fields:
        values.update(
            geonames_id=place.geonames_id,
            latitude=place.latitude,
            longitude=place.longitude,
            subdivision=place.subdivision,
        )
    organisation = Organisation(kind=kind, status=status, **values)
    if status == OrganisationStatus.VERIFIED:
        organisation.verified_at = utcnow()
    owner = owner or make_user()
    organisation.memberships.append(Membership(user=owner, role=MembershipRole.OWNER))
    for member in members or []:
        organisation.memberships.append(Membership(user=member, role=MembershipRole.MEMBER))
    for contact in contacts or []:
        organisation.contacts.append(ContactPerson(**contact))
    db.session.add(organisation)
    db.session.commit()
    return organisation


def make_listing(
    *,
    organisation: Organisation | None = None,
    kind: ListingKind = ListingKind.NEED,
    themes: tuple[str, ...] = ("social-inclusion",),
    scope: Scope = Scope.REGIONAL,
    status: ListingStatus = ListingStatus.OPEN,
    sought_kinds: tuple[OrganisationKind, ...] = (),
    **fields: Any,
) -> Listing:
    """A listing; challenges default to a public agency, sought kinds and a deadline."""
    number = next(_sequence)
    if organisation is None:
        organisation = make_organisation(
            kind=OrganisationKind.PUBLIC_AGENCY
            if kind == ListingKind.CHALLENGE
            else OrganisationKind.SSE_ORGANISATION
        )
    values: dict[str, Any] = {
        "title": f"Listing number {number}",
        "description": "A description that is long enough to pass validation.",
    }
    if kind == ListingKind.CHALLENGE:
        values["deadline"] = date.today() + timedelta(days=60)
        sought_kinds = sought_kinds or (OrganisationKind.SSE_ORGANISATION,)
    values.update(fields)
    listing = Listing(
        organisation=organisation,
        kind=kind,
        scope=scope,
        status=status,
        themes=list(themes_by_slug(themes).values()),
        sought=[SoughtKind(kind=k) for k in sought_kinds],
        **values,
    )
    db.session.add(listing)
    db.session.commit()
    return listing
