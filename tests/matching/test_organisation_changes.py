"""An organisation verified or edited has its listings matched again after the commit, as a
listing that changed does, instead of waiting for the next full run."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from matchmaker.accounts.models import Role
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind
from matchmaker.matching.models import MatcherRun
from matchmaker.organisations.models import OrganisationKind, OrganisationStatus
from matchmaker.proposals.models import Proposal, ProposalParty, ProposalStatus
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in

CO_OP = {
    "name": "Liverpool Kitchen Cooperative",
    "kind": "sse_organisation",
    "description": "A cooperative kitchen training young people in Liverpool.",
    "language": "en",
    "website": "https://kitchen.example.org",
    "city": "Liverpool",
    "region": "England",
    "country": "GB",
}


def _pending_proposals_of(listing: Listing) -> int:
    db.session.expire_all()
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ProposalParty)
            .join(Proposal)
            .where(
                ProposalParty.listing_id == listing.id,
                Proposal.status == ProposalStatus.PENDING_REVIEW,
            )
        )
        or 0
    )


def _runs_for(listing: Listing) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MatcherRun)
            .where(MatcherRun.focus_listing_id == listing.id)
        )
        or 0
    )


def _need_and_offer(status: OrganisationStatus) -> tuple[Any, Listing]:
    owner = make_user()
    fields = {key: value for key, value in CO_OP.items() if key != "kind"}
    co_op = make_organisation(
        owner=owner, kind=OrganisationKind.SSE_ORGANISATION, status=status, **fields
    )
    university = make_organisation(
        name="Liverpool University", kind=OrganisationKind.ACADEMIC_INSTITUTION, city="Liverpool"
    )
    themes = ("research-evaluation",)
    make_listing(organisation=university, kind=ListingKind.OFFER, themes=themes)
    need = make_listing(organisation=co_op, kind=ListingKind.NEED, themes=themes)
    db.session.commit()
    return co_op, need


def test_a_newly_verified_organisations_needs_are_matched_at_once(app: Flask) -> None:
    co_op, need = _need_and_offer(OrganisationStatus.PENDING)
    assert _pending_proposals_of(need) == 0  # an unverified organisation is not matched
    coordinator = signed_in(app, make_user(role=Role.COORDINATOR))
    answer = coordinator.post(f"/coordination/organisations/{co_op.id}/verify")
    assert answer.status_code == 302
    assert _pending_proposals_of(need) == 1  # not at the next full run: now


def test_an_edit_the_matcher_reads_matches_the_listings_again_and_a_website_does_not(
    app: Flask,
) -> None:
    co_op, need = _need_and_offer(OrganisationStatus.VERIFIED)
    owner = signed_in(app, co_op.memberships[0].user)
    edit = f"/organisations/{co_op.id}/edit"
    assert owner.post(edit, data={**CO_OP, "website": "https://new.example.org"}).status_code == 302
    assert _runs_for(need) == 0
    described = {**CO_OP, "description": "Research on the impact of our kitchen training."}
    assert owner.post(edit, data=described).status_code == 302
    assert _runs_for(need) == 1
    assert _pending_proposals_of(need) == 1
