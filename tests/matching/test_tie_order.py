"""In a crowded city, a listing posted late is proposed as often as one posted early: rankings
that tie are cut by an order of their own (snapshot.tie_order, engine.candidate_tie_order),
not by the lowest id (bench/by_age.py measures it at 50,000 listings)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind
from matchmaker.matching.engine import run_full
from matchmaker.organisations.models import Organisation
from matchmaker.proposals.models import Proposal, ProposalParty


def test_listings_posted_late_in_crowded_cities_are_proposed_as_often_as_early_ones(
    app: Flask,
) -> None:
    """3,000 listings in 12 cities whose themes, words, places and scopes are drawn at random,
    whatever their ids. By the lowest id, the oldest third of the offers was in 4.8 proposals
    each and the newest third in 3.0; now about as many."""
    from bench.synthetic import generate

    for model in (ProposalParty, Proposal, Listing, Organisation):
        db.session.execute(sa.delete(model))
    generate(3000, seed=11, dense=True)
    run_full()
    db.session.commit()
    proposals_of = dict(
        db.session.execute(
            sa.select(ProposalParty.listing_id, sa.func.count()).group_by(ProposalParty.listing_id)
        ).all()
    )
    for offers in (True, False):
        side = (
            (Listing.kind == ListingKind.OFFER) if offers else (Listing.kind != ListingKind.OFFER)
        )
        ids = db.session.scalars(sa.select(Listing.id).where(side).order_by(Listing.id)).all()
        third = len(ids) // 3
        oldest, newest = ids[:third], ids[-third:]
        each = [sum(proposals_of.get(i, 0) for i in part) / len(part) for part in (oldest, newest)]
        assert each[1] >= 0.9 * each[0], (offers, each)
