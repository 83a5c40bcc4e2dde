"""What the matcher did for a listing, as its owners see it: how many proposals and where each
stands. Rejected and withdrawn proposals are left out (parties are never told of them, but of
an introduction withdrawn when a party's organisation closed: My proposals shows it), and no
other party is named here: identities are shown only on the proposal page, after approval."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from matchmaker.extensions import db
from matchmaker.listings.models import Listing
from matchmaker.proposals.models import (
    Proposal,
    ProposalCover,
    ProposalParty,
    ProposalStatus,
)

# In the order a listing's owner reads them.
SHOWN_STATUSES = (
    ProposalStatus.PENDING_REVIEW,
    ProposalStatus.APPROVED,
    ProposalStatus.AGREED,
    ProposalStatus.DECLINED,
    ProposalStatus.COVERED,
)


@dataclass
class ListingProposals:
    counts: Counter[ProposalStatus] = field(default_factory=Counter)
    # The proposals that cover this listing's covered ones (ids, for "covered by proposal #N").
    covered_by: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def waiting(self) -> int:
        return self.counts[ProposalStatus.PENDING_REVIEW]

    def shown(self) -> list[tuple[ProposalStatus, int]]:
        return [(status, self.counts[status]) for status in SHOWN_STATUSES if self.counts[status]]


def proposal_counts(listing_ids: Iterable[int]) -> dict[int, ListingProposals]:
    """Each listing's proposals by status, in one grouped query."""
    ids = list(listing_ids)
    result = {listing_id: ListingProposals() for listing_id in ids}
    if not ids:
        return result
    rows = db.session.execute(
        sa.select(ProposalParty.listing_id, Proposal.status, sa.func.count())
        .join(Proposal, Proposal.id == ProposalParty.proposal_id)
        .where(ProposalParty.listing_id.in_(ids), Proposal.status.in_(SHOWN_STATUSES))
        .group_by(ProposalParty.listing_id, Proposal.status)
    )
    for listing_id, status, count in rows:
        result[listing_id].counts[status] = count
    return result


def listing_proposals(listing: Listing) -> ListingProposals:
    """One listing's proposals by status, and the proposals covering its covered ones."""
    summary = proposal_counts([listing.id])[listing.id]
    if summary.counts[ProposalStatus.COVERED]:
        summary.covered_by = sorted(
            set(
                db.session.scalars(
                    sa.select(ProposalCover.covered_by_id).where(
                        ProposalCover.proposal_id.in_(
                            sa.select(ProposalParty.proposal_id).where(
                                ProposalParty.listing_id == listing.id
                            )
                        )
                    )
                )
            )
        )
    return summary


def organisation_listings(organisation_ids: Iterable[int]) -> list[Listing]:
    """Every listing of these organisations, newest first (for "My proposals")."""
    ids = list(organisation_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Listing)
            .options(selectinload(Listing.organisation))
            .where(Listing.organisation_id.in_(ids))
            .order_by(Listing.created_at.desc(), Listing.id.desc())
        )
    )
