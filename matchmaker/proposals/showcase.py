"""The platform at work, for the home page: partnerships whose parties all agreed to show them
(names and themes only, never contacts), and figures overall and by country.

Both are plain data, built once a data generation as shared fragments (core/caching.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from matchmaker.extensions import db
from matchmaker.listings.models import Listing
from matchmaker.listings.search import open_and_current
from matchmaker.organisations.models import Organisation, OrganisationStatus
from matchmaker.proposals.models import (
    Proposal,
    ProposalParty,
    ProposalResponse,
    ProposalStatus,
    ResponseDecision,
)
from matchmaker.territories.services import TerritorySummary, all_territories, organisations_in

SHOWN = 6  # partnerships on the home page


@dataclass(frozen=True)
class ShownOrganisation:
    """What the home page shows of a party: enough for its name, link and mark."""

    id: int
    name: str
    logo_digest: str | None
    initials: str
    initials_colour: int


@dataclass(frozen=True)
class ShownPartnership:
    organisations: tuple[ShownOrganisation, ...]
    themes: tuple[tuple[str, str], ...]  # (slug, name), shared ones first
    agreed_on: date | None


def _every_party_agreed_to_show() -> sa.ColumnElement[bool]:
    """No party of the proposal lacks an acceptance that says it may be shown, and every party
    is a verified organisation (a closed or suspended one is shown nowhere)."""
    consent = sa.exists().where(
        ProposalResponse.proposal_id == ProposalParty.proposal_id,
        ProposalResponse.organisation_id == ProposalParty.organisation_id,
        ProposalResponse.decision == ResponseDecision.ACCEPTED,
        ProposalResponse.is_shown_publicly.is_(True),
    )
    shown = (
        sa.select(ProposalParty.id)
        .join(Organisation, Organisation.id == ProposalParty.organisation_id)
        .where(
            ProposalParty.proposal_id == Proposal.id,
            sa.or_(~consent, Organisation.status != OrganisationStatus.VERIFIED),
        )
        .exists()
    )
    return ~shown


def shown_partnerships() -> list[ShownPartnership]:
    """The latest agreed partnerships that every party agreed to show, newest first."""
    proposals = db.session.scalars(
        sa.select(Proposal)
        .where(Proposal.status == ProposalStatus.AGREED, _every_party_agreed_to_show())
        .order_by(Proposal.closed_at.desc(), Proposal.id.desc())
        .limit(SHOWN)
        .options(
            selectinload(Proposal.parties)
            .selectinload(ProposalParty.listing)
            .selectinload(Listing.themes)
        )
    ).all()
    shown = []
    for proposal in proposals:
        parties = sorted(proposal.parties, key=lambda party: party.position)
        counts: dict[tuple[str, str], int] = {}
        for party in parties:
            for theme in party.listing.themes:
                key = (theme.slug, theme.label)
                counts[key] = counts.get(key, 0) + 1
        seen: set[int] = set()
        organisations = []
        for party in parties:
            organisation = party.organisation
            if organisation.id not in seen:
                seen.add(organisation.id)
                organisations.append(
                    ShownOrganisation(
                        id=organisation.id,
                        name=organisation.name,
                        logo_digest=organisation.logo_digest,
                        initials=organisation.initials,
                        initials_colour=organisation.initials_colour,
                    )
                )
        shown.append(
            ShownPartnership(
                organisations=tuple(organisations),
                themes=tuple(sorted(counts, key=lambda key: (-counts[key], key[1]))[:4]),
                agreed_on=proposal.closed_at.date() if proposal.closed_at else None,
            )
        )
    return shown


@dataclass(frozen=True)
class Figures:
    organisations: int
    open_listings: int
    partnerships: int


def figures_by_country() -> tuple[Figures, list[tuple[str, Figures]]]:
    """Verified organisations, their open listings and agreed partnerships: overall, and for
    each country (a partnership counts in each country one of its parties is in)."""
    verified = Organisation.status == OrganisationStatus.VERIFIED
    organisations = dict(
        db.session.execute(
            sa.select(Organisation.country, sa.func.count())
            .where(verified)
            .group_by(Organisation.country)
        ).all()
    )
    listings = dict(
        db.session.execute(
            sa.select(Organisation.country, sa.func.count(Listing.id))
            .join(Listing, Listing.organisation_id == Organisation.id)
            .where(verified, open_and_current())
            .group_by(Organisation.country)
        ).all()
    )
    agreed = Proposal.status == ProposalStatus.AGREED
    partnerships = dict(
        db.session.execute(
            sa.select(Organisation.country, sa.func.count(sa.distinct(Proposal.id)))
            .join(ProposalParty, ProposalParty.organisation_id == Organisation.id)
            .join(Proposal, Proposal.id == ProposalParty.proposal_id)
            .where(agreed)
            .group_by(Organisation.country)
        ).all()
    )
    total_partnerships = db.session.scalar(sa.select(sa.func.count(Proposal.id)).where(agreed)) or 0
    overall = Figures(
        organisations=sum(organisations.values()),
        open_listings=sum(listings.values()),
        partnerships=total_partnerships,
    )
    countries = sorted(
        organisations,
        key=lambda code: (-organisations[code], -listings.get(code, 0), code),
    )
    return overall, [
        (
            code,
            Figures(
                organisations=organisations[code],
                open_listings=listings.get(code, 0),
                partnerships=partnerships.get(code, 0),
            ),
        )
        for code in countries
    ]


def figures_by_territory() -> list[tuple[TerritorySummary, Figures]]:
    """The same figures for each territory (matchmaker/territories): its verified
    organisations, their open listings, and the agreed partnerships with a party inside.

    Three queries however many territories there are: each counts, in one pass, what lies in
    every territory at once (a column per territory; territories may overlap)."""
    territories = all_territories()
    if not territories:
        return []
    verified = Organisation.status == OrganisationStatus.VERIFIED

    def per_territory(
        counted: sa.ColumnExpressionArgument[Any], *, distinct: bool = False
    ) -> list[Any]:
        columns = [sa.case((organisations_in(territory), counted)) for territory in territories]
        if distinct:
            return [sa.func.count(sa.distinct(column)) for column in columns]
        return [sa.func.count(column) for column in columns]

    organisations = db.session.execute(
        sa.select(*per_territory(Organisation.id)).where(verified)
    ).one()
    listings = db.session.execute(
        sa.select(*per_territory(Listing.id))
        .join(Organisation, Organisation.id == Listing.organisation_id)
        .where(verified, open_and_current())
    ).one()
    partnerships = db.session.execute(
        sa.select(*per_territory(Proposal.id, distinct=True))
        .select_from(Proposal)
        .join(ProposalParty, ProposalParty.proposal_id == Proposal.id)
        .join(Organisation, Organisation.id == ProposalParty.organisation_id)
        .where(Proposal.status == ProposalStatus.AGREED)
    ).one()
    return [
        (
            territory,
            Figures(
                organisations=organisations[number] or 0,
                open_listings=listings[number] or 0,
                partnerships=partnerships[number] or 0,
            ),
        )
        for number, territory in enumerate(territories)
    ]
