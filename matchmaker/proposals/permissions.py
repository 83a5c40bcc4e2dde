"""Who may see and act on a proposal. Templates use the same functions to hide buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matchmaker.listings.models import Listing
from matchmaker.matching.tasks import FULL_RUN, PREVIEW
from matchmaker.organisations.models import Organisation
from matchmaker.proposals.models import Proposal, ProposalStatus
from matchmaker.territories.services import coverage_of

if TYPE_CHECKING:
    from matchmaker.core.models import Job


def can_review(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_coordinator)


def can_change_matching(user: Any) -> bool:
    """The matching settings and full runs apply to every territory: a coordinator appointed
    to some territories reads them; a coordinator of all of them, or an admin, changes them."""
    return can_review(user) and coverage_of(user).is_everything


def can_follow_job(user: Any, job: Job) -> bool:
    """A full run's page is every coordinator's (the matching page lists the runs); a preview
    of settings is its author's, and theirs who may change the settings."""
    if job.kind == FULL_RUN:
        return can_review(user)
    if job.kind == PREVIEW:
        return can_change_matching(user) or (
            can_review(user) and job.requested_by_id is not None and job.requested_by_id == user.id
        )
    return False


def can_review_proposal(user: Any, proposal: Proposal) -> bool:
    """A coordinator sees and decides a proposal when one of its parties lies in their
    territories (or they have none): a proposal across territories is each one's to decide."""
    return can_review(user) and coverage_of(user).covers_proposal(proposal)


def party_organisations(user: Any, proposal: Proposal) -> list[Organisation]:
    """The party organisations ``user`` is a member of."""
    if not getattr(user, "is_authenticated", False):
        return []
    mine = {m.organisation_id for m in user.memberships}
    return [party.organisation for party in proposal.parties if party.organisation_id in mine]


def can_view_proposal(user: Any, proposal: Proposal) -> bool:
    if can_review_proposal(user, proposal):
        return True
    # Parties learn of a proposal only once a coordinator approved it.
    return proposal.was_introduced and bool(party_organisations(user, proposal))


def organisations_to_respond(user: Any, proposal: Proposal) -> list[Organisation]:
    """The user's party organisations that have not answered an introduction yet (none once a
    party organisation is closed, or no longer verified: services.respond refuses)."""
    if proposal.status != ProposalStatus.APPROVED or any(
        not party.organisation.is_verified for party in proposal.parties
    ):
        return []
    answered = {response.organisation_id for response in proposal.responses}
    return [o for o in party_organisations(user, proposal) if o.id not in answered]


def can_see_contacts(user: Any, proposal: Proposal) -> bool:
    """Contact people are shared once every party accepted."""
    return proposal.status == ProposalStatus.AGREED and (
        bool(party_organisations(user, proposal)) or can_review_proposal(user, proposal)
    )


def can_record_outcome(user: Any, proposal: Proposal) -> bool:
    return proposal.status == ProposalStatus.AGREED and bool(party_organisations(user, proposal))


def requesting_organisations(user: Any, listing: Listing) -> list[Organisation]:
    """The user's verified organisations that may ask to be introduced to ``listing``'s."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        m.organisation
        for m in user.memberships
        if m.organisation.is_verified and m.organisation_id != listing.organisation_id
    ]


def can_request_introduction(user: Any, listing: Listing) -> bool:
    """A member of a verified organisation, on another organisation's live listing. Members of
    the listing's own organisation never ask (they see its matching status instead)."""
    if not getattr(user, "is_authenticated", False) or not listing.is_live():
        return False
    if any(m.organisation_id == listing.organisation_id for m in user.memberships):
        return False
    return bool(requesting_organisations(user, listing))
