"""Issue 10, after people's decisions on proposals: a proposal rejected, covered by another's
approval, declined, brought back by a decline or withdrawn by its organisation's closing frees
a place under its listings' cap or comes back to the queue. Its listings are matched again
after the commit (proposals/events.py), so a full run then has nothing to add or withdraw.
Each test failed before: the places stayed empty, and a proposal brought back with a listing
closed meanwhile stayed in the queue, until the next full run."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.accounts.models import Role, User
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind
from matchmaker.listings.services import change_status
from matchmaker.matching.engine import plan, run_full
from matchmaker.matching.settings import load_settings
from matchmaker.matching.snapshot import full_snapshot
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import (
    Proposal,
    ProposalStatus,
    RejectionReason,
    ResponseDecision,
)
from matchmaker.proposals.services import approve_proposal, reject_proposal, respond
from tests.factories import PASSWORD, make_listing, make_organisation, make_user

THEMES = ("research-evaluation", "knowledge-exchange")
TEXT = "Evaluate social enterprise programmes with research and knowledge exchange."


@pytest.fixture
def coordinator(app: Flask) -> User:
    return make_user(role=Role.COORDINATOR)


def _needs_and_offers(needs: int, offers: int) -> tuple[list[Listing], list[Listing]]:
    """Needs of networks and offers of universities that all fit one another alike, matched
    by a full run: with more than the cap (5) on one side, some pairs wait for a place."""
    made = [
        make_listing(organisation=make_organisation(), themes=THEMES, description=TEXT)
        for _ in range(needs)
    ]
    offered = [
        make_listing(
            organisation=make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION),
            kind=ListingKind.OFFER,
            themes=THEMES,
            description=TEXT,
        )
        for _ in range(offers)
    ]
    run_full()
    db.session.commit()
    assert _what_a_full_run_would_do() == ([], [])
    return made, offered


def _pending(listing: Listing) -> list[Proposal]:
    return [
        p
        for p in db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.status == ProposalStatus.PENDING_REVIEW)
            .order_by(Proposal.id)
        )
        if listing.id in p.listing_ids
    ]


def _what_a_full_run_would_do() -> tuple[list[Any], list[int]]:
    db.session.expire_all()
    result = plan(full_snapshot(), load_settings())
    made = [c.listing_ids for c in result.create] + [c.listing_ids for _, c in result.revive]
    return made, [pid for pid, _ in result.withdraw]


def test_a_rejected_proposal_frees_a_place_for_its_need(app: Flask, coordinator: User) -> None:
    [need], _ = _needs_and_offers(1, 7)
    with app.test_request_context():
        reject_proposal(
            proposal=_pending(need)[0],
            actor=coordinator,
            reason=RejectionReason.NOT_RELEVANT,
            expected_version=None,
        )
    db.session.commit()  # no broker: its jobs run in this process now
    assert len(_pending(need)) == load_settings().max_proposals_per_listing
    assert _what_a_full_run_would_do() == ([], [])


def test_an_approval_frees_a_place_for_the_offers_of_what_it_covers(
    app: Flask, coordinator: User
) -> None:
    """Approving the first offer's pair with a need covers the second offer's pair with it
    (the same need): the second offer has room for a need it had no place for."""
    _, (first, second) = _needs_and_offers(7, 2)
    cap = load_settings().max_proposals_per_listing
    assert len(_pending(second)) == cap
    shared = next(
        p
        for p in _pending(first)
        if any(set(p.listing_ids) - {first.id} <= set(q.listing_ids) for q in _pending(second))
    )
    with app.test_request_context():
        covered = approve_proposal(proposal=shared, actor=coordinator, expected_version=None)
    db.session.commit()
    assert any(second.id in p.listing_ids for p in covered)
    assert len(_pending(second)) == cap
    assert _what_a_full_run_would_do() == ([], [])


def test_a_decline_brings_back_only_what_still_meets_the_rules(
    app: Flask, coordinator: User
) -> None:
    """The need's pair with the second offer, covered by its approved pair with the first,
    comes back when a party declines that one; the second offer closed meanwhile (its closing
    withdrew what it had waiting, not what was covered), so it is withdrawn at once."""
    [need], (first, second) = _needs_and_offers(1, 2)
    [introduced] = [p for p in _pending(need) if p.listing_ids == sorted([need.id, first.id])]
    with app.test_request_context():
        approve_proposal(proposal=introduced, actor=coordinator, expected_version=None)
    db.session.commit()
    with app.test_request_context():
        change_status(listing=second, actor=None, action="close")
    db.session.commit()
    assert _what_a_full_run_would_do() == ([], [])
    university = first.organisation
    with app.test_request_context():
        respond(
            proposal=introduced,
            organisation=university,
            actor=university.memberships[0].user,
            decision=ResponseDecision.DECLINED,
            message="We already work with someone else.",
        )
    db.session.commit()
    assert _pending(need) == []
    assert _what_a_full_run_would_do() == ([], [])


def test_an_organisation_closing_frees_places_for_its_partners(app: Flask) -> None:
    """Closing an organisation (as its owner does, or erasing its last member) withdraws its
    pending proposals before its listings close: the offer it was paired with has room for a
    need it had no place for."""
    from matchmaker.privacy.erasure import close_organisation

    _, [offer] = _needs_and_offers(7, 1)
    partner = next(
        party.organisation for party in _pending(offer)[0].parties if party.listing_id != offer.id
    )
    with app.test_request_context():
        close_organisation(
            organisation=partner, actor=partner.memberships[0].user, password=PASSWORD
        )
    db.session.commit()
    assert len(_pending(offer)) == load_settings().max_proposals_per_listing
    assert _what_a_full_run_would_do() == ([], [])
