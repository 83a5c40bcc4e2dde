"""I'm interested: a member asks to be introduced to another organisation's listing.

The request becomes a proposal of its own kind (template ``requested``) with two parties, the
listing asked about and a listing of the requesting organisation, and goes through the same
coordinator review and double opt-in as the matcher's. The rules' score and explanation of the
pair are attached when the rules can score it (a need or challenge with an offer); the matcher
never rescores or withdraws it for its score (matching/engine.py), only when a listing closes.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from matchmaker.accounts.models import User
from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, ListingStatus
from matchmaker.matching.diagnosis import score_pair
from matchmaker.proposals.models import IntroductionRequest, Proposal, ProposalParty

logger = logging.getLogger(__name__)

TEMPLATE = "requested"


def listings_to_bring(organisation_ids: list[int]) -> list[Listing]:
    """The open listings of the requesting organisations: one of them meets the listing."""
    if not organisation_ids:
        return []
    candidates = db.session.scalars(
        sa.select(Listing)
        .where(Listing.organisation_id.in_(organisation_ids), Listing.status == ListingStatus.OPEN)
        .order_by(Listing.created_at.desc(), Listing.id.desc())
    )
    return [listing for listing in candidates if listing.is_live()]


def already_requested(*, listing: Listing, organisation_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(IntroductionRequest.proposal_id).where(
                IntroductionRequest.listing_id == listing.id,
                IntroductionRequest.organisation_id == organisation_id,
            )
        )
        is not None
    )


def _duplicate(listing: Listing, requesting: Listing) -> DomainError:
    return DomainError(
        _(
            "%(name)s has already asked to be introduced to this listing; the coordinators "
            "have the request.",
            name=requesting.organisation.name,
        )
    )


def request_introduction(
    *, listing: Listing, requesting: Listing, actor: User, message: str
) -> Proposal:
    """Put a request for an introduction in the coordinators' queue. Raises DomainError when the
    requesting organisation already asked about this listing (also when another request won a
    race: the unique constraint decides)."""
    organisation = requesting.organisation
    if requesting.organisation_id == listing.organisation_id:
        raise DomainError(_("Choose a listing of another organisation."))
    if already_requested(listing=listing, organisation_id=organisation.id):
        raise _duplicate(listing, requesting)
    scored = score_pair(listing, requesting)
    # The need or challenge first, as in the matcher's pairs (what coverage anchors on).
    first, second = (
        (requesting, listing)
        if requesting.kind != ListingKind.OFFER and listing.kind == ListingKind.OFFER
        else (listing, requesting)
    )
    proposal = Proposal(
        template=TEMPLATE,
        score=scored.score if scored else 0,
        explanation=scored.explanation if scored else [],
        fingerprint=f"{TEMPLATE}:{listing.id}:by:{organisation.id}",
        parties=[
            ProposalParty(
                organisation_id=party.organisation_id,
                listing_id=party.id,
                role=party.kind.value,
                position=position,
            )
            for position, party in enumerate((first, second))
        ],
        request=IntroductionRequest(
            listing_id=listing.id,
            organisation_id=organisation.id,
            requested_by_id=actor.id,
            message=message.strip(),
        ),
    )
    try:
        with db.session.begin_nested():
            db.session.add(proposal)
            db.session.flush()
    except IntegrityError as error:
        # A concurrent request of the same organisation committed first.
        logger.info("duplicate introduction request for listing %s", listing.id)
        raise _duplicate(listing, requesting) from error
    record_event(
        "proposal:request",
        actor=actor,
        subject=proposal,
        details={"listing": listing.id, "organisation": organisation.name},
    )
    return proposal
