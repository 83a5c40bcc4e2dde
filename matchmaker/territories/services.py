"""Territories: which organisations lie in one, what a coordinator's pages cover, and the admin
operations that create territories and appoint their coordinators.

:class:`Coverage` is the one filter every coordinator's page applies (verification and review
queues, dashboard, exports, audit trail): a territorial coordinator's covers their territories'
organisations, and the proposals and listings of those; an untethered coordinator's, and an
admin's, covers everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, g

from matchmaker.accounts.models import Role, User
from matchmaker.core.audit import record_event
from matchmaker.core.auth import acting_user
from matchmaker.core.caching import shared_fragment
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.core.lent_user import reading_user
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.listings.models import Listing
from matchmaker.organisations.models import Organisation
from matchmaker.places import gazetteer
from matchmaker.proposals.models import Proposal, ProposalParty
from matchmaker.territories.models import Territory, TerritoryCoordinator

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SUBDIVISION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")


def in_places(subdivisions: Iterable[str], geonames_ids: Iterable[int]) -> Any:
    """SQL: the organisation's city lies in one of ``subdivisions`` or is one of the cities."""
    conditions = []
    if subdivisions:
        conditions.append(Organisation.subdivision.in_(sorted(subdivisions)))
    if geonames_ids:
        conditions.append(Organisation.geonames_id.in_(sorted(geonames_ids)))
    return sa.or_(*conditions) if conditions else sa.false()


def organisations_in(territory: Territory | TerritorySummary) -> Any:
    """SQL condition on ``Organisation``: it lies in ``territory``."""
    return in_places(territory.subdivisions, territory.geonames_ids)


@dataclass(frozen=True)
class TerritorySummary:
    """A territory as plain data, for the shared cache and the language choice."""

    id: int
    slug: str
    name: str
    language: str
    subdivisions: tuple[str, ...]
    geonames_ids: tuple[int, ...]

    def contains(self, organisation: Organisation) -> bool:
        return (
            organisation.subdivision is not None and organisation.subdivision in self.subdivisions
        ) or (
            organisation.geonames_id is not None and organisation.geonames_id in self.geonames_ids
        )


def _summaries() -> list[TerritorySummary]:
    return [_summary(t) for t in db.session.scalars(sa.select(Territory).order_by(Territory.name))]


def all_territories() -> list[TerritorySummary]:
    """Every territory by name, from the shared cache (the home page lists them, and the
    language choice reads them)."""
    return shared_fragment("territories", _summaries, per_language=False)


def territory_of(organisation: Organisation) -> list[TerritorySummary]:
    """The territories ``organisation`` lies in (territories may overlap)."""
    return [t for t in all_territories() if t.contains(organisation)]


def language_for_request() -> str | None:
    """The default language of the territory this request is about: the ``/t/<slug>`` page
    shown, else the signed-in user's (the one they coordinate, else their first organisation's).
    """
    from flask import request

    if request.endpoint == "territories.show":
        slug = (request.view_args or {}).get("slug")
        return next((t.language for t in all_territories() if t.slug == slug), None)
    user = reading_user()
    if not user.is_authenticated:
        return None
    # Asked on each of their pages: kept with the shared fragments (territories, appointments,
    # organisations and memberships are shared tables, so a change renews it).
    return shared_fragment(
        "territory-language",
        lambda: territory_language_of(acting_user()),
        user.id,
        user.role,
        per_language=False,
    )


def territory_language_of(user: Any) -> str | None:
    """The default language of ``user``'s territory: the one they coordinate, else their first
    organisation's (None when they have neither). Mail is written in it to someone who chose
    no language of their own (core/i18n.language_of)."""
    coverage = coverage_of(user)
    if not coverage.is_everything:
        return coverage.territories[0].language
    for membership in user.memberships:
        for territory in territory_of(membership.organisation):
            return territory.language
    return None


# What a coordinator's pages cover ---------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """The organisations a coordinator's pages show: those of ``territories``, or all when
    there are none."""

    territories: tuple[TerritorySummary, ...] = ()

    @property
    def is_everything(self) -> bool:
        return not self.territories

    @property
    def key(self) -> str:
        """Names the coverage in a shared fragment's cache key."""
        return "all" if self.is_everything else "t" + "-".join(str(t.id) for t in self.territories)

    def organisations(self) -> Any:
        """SQL condition on ``Organisation``."""
        if self.is_everything:
            return sa.true()
        return in_places(
            {s for t in self.territories for s in t.subdivisions},
            {i for t in self.territories for i in t.geonames_ids},
        )

    def organisation_ids(self) -> sa.Select[Any]:
        return sa.select(Organisation.id).where(self.organisations())

    def listings(self) -> Any:
        """SQL condition on ``Listing``."""
        if self.is_everything:
            return sa.true()
        return Listing.organisation_id.in_(self.organisation_ids())

    def proposal_ids(self) -> sa.Select[Any]:
        """Proposals with at least one party in the coverage."""
        return (
            sa.select(ProposalParty.proposal_id)
            .join(Organisation, Organisation.id == ProposalParty.organisation_id)
            .where(self.organisations())
        )

    def proposals(self) -> Any:
        """SQL condition on ``Proposal``: any of its parties is covered (a proposal across
        territories is in each of their coordinators' queues; one approval decides it)."""
        if self.is_everything:
            return sa.true()
        return Proposal.id.in_(self.proposal_ids())

    def audit_events(self) -> Any:
        """SQL condition on ``AuditEvent``: what happened to a covered organisation, one of its
        listings, or a covered proposal. Events about anything else (accounts, themes,
        settings, imports) belong to no territory and only untethered coordinators see them."""
        if self.is_everything:
            return sa.true()
        about = {
            "organisation": self.organisation_ids(),
            "listing": sa.select(Listing.id).where(self.listings()),
            "proposal": self.proposal_ids(),
        }
        return sa.or_(
            *(
                sa.and_(AuditEvent.subject_type == kind, AuditEvent.subject_id.in_(ids))
                for kind, ids in about.items()
            )
        )

    def covers(self, organisation: Organisation) -> bool:
        return self.is_everything or any(t.contains(organisation) for t in self.territories)

    def covers_proposal(self, proposal: Proposal) -> bool:
        return self.is_everything or any(
            self.covers(party.organisation) for party in proposal.parties
        )


EVERYTHING = Coverage()


def coverage_of(user: Any) -> Coverage:
    """What ``user``'s coordinator pages cover: their territories' organisations; everything for
    an admin and for a coordinator appointed to no territory. Looked up once a request."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.COORDINATOR:
        return EVERYTHING  # members are not coordinators; admins see every territory
    cached = g.setdefault("territory_coverage", {})
    if user.id not in cached:
        ids = set(
            shared_fragment(
                "coordinated-territories",
                lambda: tuple(
                    db.session.scalars(
                        sa.select(TerritoryCoordinator.territory_id).where(
                            TerritoryCoordinator.user_id == user.id
                        )
                    )
                ),
                user.id,
                per_language=False,
            )
        )
        territories = tuple(t for t in all_territories() if t.id in ids)
        if len(territories) < len(ids):
            # The shared list is older than an appointment (a request begun before the
            # territory was made, or a new generation lost with Redis): read them afresh, as
            # an empty tuple would cover everything.
            territories = tuple(t for t in _summaries() if t.id in ids)
        cached[user.id] = Coverage(territories)
    coverage: Coverage = cached[user.id]
    return coverage


def coordinators_audience(user: Any) -> str:
    """Who sees ``user``'s coordinator pages alike: the same role (an admin's menu has more)
    and the same territories (:func:`matchmaker.core.caching.for_audience`)."""
    return f"{user.role.value}:{coverage_of(user).key}"


# Administration ---------------------------------------------------------------------------------


def parse_subdivisions(text: str) -> list[str]:
    """ISO 3166-2 codes separated by commas or spaces (``GR-I, MA-01``)."""
    codes = [code.upper() for code in re.split(r"[\s,;]+", text) if code]
    unknown = [
        c for c in codes if not SUBDIVISION.fullmatch(c) or gazetteer.subdivision_name(c) == c
    ]
    if unknown:
        raise DomainError(
            _("Unknown subdivision codes: %(codes)s.", codes=", ".join(unknown)), "subdivisions"
        )
    return sorted(set(codes))


def parse_cities(text: str) -> list[int]:
    """GeoNames ids separated by commas or spaces; each must be a place the gazetteer knows."""
    parts = [part for part in re.split(r"[\s,;]+", text) if part]
    unknown = [
        p for p in parts if not (p.isascii() and p.isdigit()) or gazetteer.get(int(p)) is None
    ]
    if unknown:
        raise DomainError(
            _("Unknown GeoNames ids: %(ids)s.", ids=", ".join(unknown)), "geonames_ids"
        )
    return sorted({int(p) for p in parts})


def _check(*, slug: str, language: str, subdivisions: list[str], geonames_ids: list[int]) -> None:
    if not SLUG.fullmatch(slug):
        raise DomainError(_("Use lower-case letters, digits and hyphens for the address."), "slug")
    if language not in current_app.config["LANGUAGES"]:
        raise DomainError(_("Choose one of the listed languages."), "language")
    if not subdivisions and not geonames_ids:
        raise DomainError(_("Give at least one subdivision or city."), "subdivisions")


def create_territory(
    *,
    actor: User,
    slug: str,
    name: str,
    language: str,
    subdivisions: list[str],
    geonames_ids: list[int],
) -> Territory:
    _check(slug=slug, language=language, subdivisions=subdivisions, geonames_ids=geonames_ids)
    if db.session.scalar(sa.select(Territory.id).where(Territory.slug == slug)) is not None:
        raise DomainError(_("Another territory has this address."), "slug")
    territory = Territory(
        slug=slug,
        name=name.strip(),
        language=language,
        subdivisions=subdivisions,
        geonames_ids=geonames_ids,
    )
    db.session.add(territory)
    db.session.flush()
    record_event("territory:create", actor=actor, subject=territory, details={"slug": slug})
    return territory


def update_territory(
    *,
    territory: Territory,
    actor: User,
    name: str,
    language: str,
    subdivisions: list[str],
    geonames_ids: list[int],
) -> None:
    _check(
        slug=territory.slug,
        language=language,
        subdivisions=subdivisions,
        geonames_ids=geonames_ids,
    )
    before = (territory.name, territory.language, territory.subdivisions, territory.geonames_ids)
    after = (name.strip(), language, subdivisions, geonames_ids)
    if after == before:
        return  # saved unchanged: nothing to record
    territory.name, territory.language, territory.subdivisions, territory.geonames_ids = after
    record_event("territory:update", actor=actor, subject=territory)


def appoint_coordinator(*, territory: Territory, actor: User, user: User) -> TerritoryCoordinator:
    """``user`` coordinates ``territory`` (a member becomes a coordinator)."""
    from matchmaker.accounts.services import set_role

    if any(a.user_id == user.id for a in territory.appointments):
        raise DomainError(_("%(email)s already coordinates this territory.", email=user.email))
    if user.role == Role.MEMBER:
        set_role(actor=actor, user=user, role=Role.COORDINATOR)
    appointment = TerritoryCoordinator(user=user)
    territory.appointments.append(appointment)
    record_event("territory:appoint", actor=actor, subject=territory, details={"user": user.email})
    return appointment


def end_appointment(*, territory: Territory, actor: User, user: User) -> None:
    """``user`` no longer coordinates ``territory``. A coordinator left with no territory is a
    member again: untethered, they would see every territory at once."""
    from matchmaker.accounts.services import set_role

    territory.appointments = [a for a in territory.appointments if a.user_id != user.id]
    db.session.flush()
    record_event("territory:dismiss", actor=actor, subject=territory, details={"user": user.email})
    others = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(TerritoryCoordinator)
        .where(TerritoryCoordinator.user_id == user.id)
    )
    if not others and user.role == Role.COORDINATOR:
        set_role(actor=actor, user=user, role=Role.MEMBER)


def territory_by_slug(slug: str) -> Territory | None:
    if not SLUG.fullmatch(slug):
        return None
    return db.session.scalar(sa.select(Territory).where(Territory.slug == slug))


# The public page --------------------------------------------------------------------------------

# How many of each kind of listing, and of organisations, the page shows.
PAGE_LISTINGS = 5
PAGE_ORGANISATIONS = 60


@dataclass
class TerritoryPage:
    challenges: list[Listing]
    needs: list[Listing]
    offers: list[Listing]
    organisations: list[Organisation]
    figures: dict[str, int]
    coordinators: list[User]


def territory_page(territory: Territory) -> TerritoryPage:
    """What ``/t/<slug>`` shows: the territory's open challenges, newest needs and offers, its
    verified organisations, a few figures and its coordinators."""
    from matchmaker.listings.models import ListingKind
    from matchmaker.listings.search import ListingFilters, browse_statement, listings_by_ids
    from matchmaker.organisations.models import OrganisationStatus
    from matchmaker.proposals.models import ProposalStatus

    inside = organisations_in(territory)

    def newest(kind: ListingKind) -> list[Listing]:
        statement = browse_statement(ListingFilters(kind=kind)).where(inside)
        ids = db.session.scalars(statement.with_only_columns(Listing.id).limit(PAGE_LISTINGS))
        return listings_by_ids(list(ids))

    verified = sa.and_(inside, Organisation.status == OrganisationStatus.VERIFIED)
    organisations = list(
        db.session.scalars(
            sa.select(Organisation)
            .where(verified)
            .order_by(Organisation.name)
            .limit(PAGE_ORGANISATIONS)
        )
    )
    open_counts = dict(
        db.session.execute(
            browse_statement(ListingFilters())
            .where(inside)
            .with_only_columns(Listing.kind, sa.func.count())
            .order_by(None)
            .group_by(Listing.kind)
        ).all()
    )
    agreed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Proposal)
        .where(
            Proposal.status == ProposalStatus.AGREED, Coverage((_summary(territory),)).proposals()
        )
    )
    organisation_count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Organisation).where(verified)
    )
    return TerritoryPage(
        challenges=newest(ListingKind.CHALLENGE),
        needs=newest(ListingKind.NEED),
        offers=newest(ListingKind.OFFER),
        organisations=organisations,
        figures={
            "organisations": organisation_count or 0,
            "needs": open_counts.get(ListingKind.NEED, 0),
            "offers": open_counts.get(ListingKind.OFFER, 0),
            "challenges": open_counts.get(ListingKind.CHALLENGE, 0),
            "agreed": agreed or 0,
        },
        coordinators=coordinators_of(territory),
    )


def _summary(territory: Territory) -> TerritorySummary:
    return TerritorySummary(
        territory.id,
        territory.slug,
        territory.name,
        territory.language,
        tuple(territory.subdivisions),
        tuple(territory.geonames_ids),
    )


def coordinators_of(territory: Territory) -> list[User]:
    """The active coordinators appointed to ``territory``, by name."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(TerritoryCoordinator, TerritoryCoordinator.user_id == User.id)
            .where(
                TerritoryCoordinator.territory_id == territory.id,
                User.is_active_account.is_(True),
                User.erased_at.is_(None),
            )
            .order_by(User.display_name)
        )
    )
