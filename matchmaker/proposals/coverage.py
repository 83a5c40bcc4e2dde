"""No overlapping introductions: the queue holds each real opportunity once.

When a coordinator approves a proposal, the pending proposals it overlaps leave the queue as
"covered by proposal #N": those built around the same need or challenge (the same anchor), and
those whose listings are a subset or a superset of its listings. They come back if a party
declines proposal #N (unless another introduced proposal still covers them, or they hold two
of its listings: a declined combination is never proposed again), or if #N is withdrawn
because a party's organisation closed (services.end_introductions). A rejected
proposal was never approved, so rejecting covers nothing and brings nothing back. The matcher
uses the same test not to propose, as new, what an introduced proposal already covers.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

import sqlalchemy as sa

from matchmaker.core.audit import record_event
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.proposals.models import (
    COVERING_STATUSES,
    Proposal,
    ProposalCover,
    ProposalParty,
    ProposalStatus,
)

logger = logging.getLogger(__name__)
DECLINED_INSIDE = "A party declined proposal #%(id)d, which brings together some of its parties."


class Footprint(NamedTuple):
    """What of a proposal decides whether it overlaps another."""

    anchor: int | None  # the listing id of the need or challenge it is built around
    listing_ids: frozenset[int]

    def overlaps(self, other: Footprint) -> bool:
        same_anchor = self.anchor is not None and self.anchor == other.anchor
        return (
            same_anchor
            or self.listing_ids <= other.listing_ids
            or other.listing_ids <= self.listing_ids
        )


def footprint(proposal: Proposal) -> Footprint:
    return Footprint(proposal.anchor_listing_id, frozenset(proposal.listing_ids))


class CoverIndex:
    """The footprints of the introduced proposals, found through their listings: which one, if
    any, covers a combination the matcher is about to propose."""

    def __init__(self, covering: Iterable[tuple[int, Footprint]] = ()) -> None:
        self._by_listing: dict[int, list[tuple[int, Footprint]]] = defaultdict(list)
        for proposal_id, print_ in covering:
            for listing_id in print_.listing_ids:
                self._by_listing[listing_id].append((proposal_id, print_))

    def __bool__(self) -> bool:
        return bool(self._by_listing)

    def covering(self, print_: Footprint) -> int | None:
        """The id of an introduced proposal that overlaps ``print_``. Overlapping proposals
        always share a listing (an anchor is one of the listings), so only those are tried."""
        for listing_id in sorted(print_.listing_ids):
            for proposal_id, other in self._by_listing.get(listing_id, ()):
                if other.overlaps(print_):
                    return proposal_id
        return None


def _sharing_a_listing(proposal: Proposal, statuses: Iterable[ProposalStatus]) -> list[Proposal]:
    return list(
        db.session.scalars(
            sa.select(Proposal)
            .where(
                Proposal.id != proposal.id,
                Proposal.status.in_(list(statuses)),
                Proposal.id.in_(
                    sa.select(ProposalParty.proposal_id).where(
                        ProposalParty.listing_id.in_(proposal.listing_ids)
                    )
                ),
            )
            .order_by(Proposal.id)
        )
    )


def lock_overlapping(proposal: Proposal) -> None:
    """Hold ``proposal`` and the pending proposals that share a listing with it (those that
    approving it covers) until the transaction ends, and read them again as they are now.

    Two coordinators approving two overlapping proposals at once would each write its own and
    then the other's: a deadlock, one of them answered with a server error. Taken in the order
    of their ids, in one statement, the locks make the second wait for the first, then read
    what the first decided (PostgreSQL; SQLite lets one writer at a time anyway)."""
    sharing = sa.select(ProposalParty.proposal_id).where(
        ProposalParty.listing_id.in_(proposal.listing_ids)
    )
    db.session.scalars(
        sa.select(Proposal)
        .where(
            sa.or_(
                Proposal.id == proposal.id,
                sa.and_(Proposal.status == ProposalStatus.PENDING_REVIEW, Proposal.id.in_(sharing)),
            )
        )
        .order_by(Proposal.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()


def introduced_overlapping(proposal: Proposal) -> Proposal | None:
    """An introduced proposal that overlaps ``proposal``, if any: one the matcher wrote while a
    coordinator approved the other (it read the introduced ones before) is not approved too."""
    mine = footprint(proposal)
    return next(
        (
            other
            for other in _sharing_a_listing(proposal, COVERING_STATUSES)
            if mine.overlaps(footprint(other))
        ),
        None,
    )


def cover_overlapping(*, proposal: Proposal, actor: Any) -> list[Proposal]:
    """Take the pending proposals that ``proposal`` (just approved) overlaps out of the queue."""
    mine = footprint(proposal)
    covered = [
        other
        for other in _sharing_a_listing(proposal, [ProposalStatus.PENDING_REVIEW])
        if mine.overlaps(footprint(other))
    ]
    for other in covered:
        other.status = ProposalStatus.COVERED
        other.cover = ProposalCover(covered_by=proposal)
        record_event("proposal:cover", actor=actor, subject=other, details={"by": proposal.id})
    if covered:
        logger.info("Proposal %s covers %s", proposal.id, [p.id for p in covered])
    return covered


def restore_covered(*, proposal: Proposal, actor: Any, declined: bool = True) -> list[Proposal]:
    """``proposal`` was declined: what it covered returns to the queue, unless another
    introduced proposal still covers it (then that one covers it from now on). Not
    ``declined`` but withdrawn (a party's organisation closed), nobody turned the others down:
    what holds two of its listings returns too."""
    covered = list(
        db.session.scalars(
            sa.select(Proposal)
            .join(ProposalCover, ProposalCover.proposal_id == Proposal.id)
            .where(ProposalCover.covered_by_id == proposal.id)
            .order_by(Proposal.id)
        )
    )
    restored = []
    ended = set(proposal.listing_ids)
    for other in covered:
        print_ = footprint(other)
        assert other.cover is not None
        if declined and len(ended & print_.listing_ids) >= 2:
            # It holds listings a party just declined to bring together: never again.
            other.status, other.cover = ProposalStatus.WITHDRAWN, None
            other.withdrawn_at = utcnow()
            other.withdrawn_reason = DECLINED_INSIDE % {"id": proposal.id}
            record_event(
                "proposal:withdraw", actor=actor, subject=other, details={"declined": proposal.id}
            )
            continue
        still = next(
            (
                p
                for p in _sharing_a_listing(other, COVERING_STATUSES)
                if p.id != proposal.id and footprint(p).overlaps(print_)
            ),
            None,
        )
        if still is not None:
            other.cover.covered_by = still
            record_event("proposal:cover", actor=actor, subject=other, details={"by": still.id})
            continue
        other.status = ProposalStatus.PENDING_REVIEW
        other.cover = None
        record_event(
            "proposal:uncover",
            actor=actor,
            subject=other,
            details={"declined" if declined else "withdrawn": proposal.id},
        )
        restored.append(other)
    return restored
