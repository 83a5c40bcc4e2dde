"""A Liverpool triad waiting for review whose listings no longer link at all (an edit took the
offer's shared themes away) is withdrawn by the matcher, incremental or full, as no longer
meeting the rules. It crashed both: the trio's score was asked of no links at all."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.listings.services import update_listing
from matchmaker.matching.engine import BELOW_RULES, plan, run_full
from matchmaker.matching.models import MatcherRun, RunStatus
from matchmaker.matching.settings import load_settings
from matchmaker.matching.snapshot import full_snapshot
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.factories import make_listing, make_organisation

THEMES = ("research-evaluation", "knowledge-exchange")
TEXT = "Evaluate social enterprise programmes with research and knowledge exchange."


def test_a_triad_whose_listings_no_longer_link_is_withdrawn(app: Flask) -> None:
    network = make_organisation(name="Network")
    city = make_organisation(name="City", kind=OrganisationKind.PUBLIC_AGENCY)
    university = make_organisation(name="University", kind=OrganisationKind.ACADEMIC_INSTITUTION)
    make_listing(organisation=network, themes=THEMES, description=TEXT)
    make_listing(organisation=city, themes=THEMES, description=TEXT)
    offer = make_listing(
        organisation=university, kind=ListingKind.OFFER, themes=THEMES, description=TEXT
    )
    run_full()
    db.session.commit()
    [triad] = db.session.scalars(
        sa.select(Proposal).where(Proposal.template == "knowledge_exchange_triad")
    ).all()
    # A theme of the triad's, but one neither need has: no link is left.
    with app.test_request_context():
        update_listing(
            listing=offer,
            actor=None,
            title=offer.title,
            description=offer.description,
            themes=["policy-strategy"],
            scope=offer.scope,
        )
    db.session.commit()  # no broker: its jobs run in this process now
    assert RunStatus.FAILED not in db.session.scalars(sa.select(MatcherRun.status)).all()
    db.session.expire_all()
    assert triad.status == ProposalStatus.WITHDRAWN
    assert triad.withdrawn_reason == BELOW_RULES
    result = plan(full_snapshot(), load_settings())  # as the nightly run plans
    assert (result.create, result.withdraw, result.revive) == ([], [], [])
