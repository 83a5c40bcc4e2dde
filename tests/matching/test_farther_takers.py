"""An offer's incremental run and the needs beyond its region that may take it
(engine._farther_takers): each read on its own neighbourhood, then ranked with the needs of
the offer's region for the offer's room, as a full run ranks them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, Scope
from matchmaker.matching.engine import match_listing, plan, run_full
from matchmaker.matching.models import MatchingSetting
from matchmaker.matching.settings import load_settings
from matchmaker.matching.snapshot import full_snapshot
from matchmaker.organisations.models import Organisation, OrganisationKind
from matchmaker.proposals.models import Proposal
from tests.factories import make_listing, make_organisation

THEMES = ("research-evaluation",)
HOUSING = "Evaluation of cooperative housing research"


def _organisation(city: str, region: str, about: str, **fields: Any) -> Organisation:
    return make_organisation(
        city=city, region=region, name=f"{about} of {city}", description=f"{about}.", **fields
    )


def _listing(at: Organisation, kind: ListingKind, scope: Scope, text: str) -> Listing:
    return make_listing(
        organisation=at, kind=kind, themes=THEMES, scope=scope, title=text, description=text
    )


def _liverpool_offer() -> Listing:
    """A university's national offer in Liverpool, scoring 73 with the housing needs."""
    university = _organisation(
        "Liverpool",
        "Liverpool City Region",
        "Housing research",
        kind=OrganisationKind.ACADEMIC_INSTITUTION,
    )
    return _listing(university, ListingKind.OFFER, Scope.NATIONAL, HOUSING)


def _crowded_offer() -> tuple[Listing, Listing]:
    """A national offer in Liverpool with six regional needs of its region that take it (one
    more than the cap, each scoring 70 with it) and Leeds' national need, which scores 73."""
    for n in range(6):
        bakery = _organisation("Liverpool", "Liverpool City Region", f"Bakery {n}")
        _listing(bakery, ListingKind.NEED, Scope.REGIONAL, f"Loaves and pastries {n}")
    leeds = _listing(
        _organisation("Leeds", "West Yorkshire", "Housing"),
        ListingKind.NEED,
        Scope.NATIONAL,
        HOUSING,
    )
    offer = _liverpool_offer()
    db.session.commit()
    return offer, leeds


def _pairs(found: Any) -> list[tuple[list[int], str, int]]:
    return sorted((sorted(p.listing_ids), p.template, p.score) for p in found)


def test_a_need_beyond_the_region_competes_for_the_offers_room_as_in_a_full_run(
    app: Flask,
) -> None:
    """Found in review: when Leeds' need was matched by a run of its own after the offer's,
    the offer's run had filled its cap with the needs of its region (70 each) and Leeds' need
    (73), which a full run pairs with it first, found it full."""
    offer, leeds = _crowded_offer()
    expected = _pairs(plan(full_snapshot(), load_settings()).create)
    assert [leeds.id, offer.id] in [ids for ids, _, _ in expected]
    match_listing(offer)
    db.session.commit()
    assert _pairs(db.session.scalars(sa.select(Proposal))) == expected


def test_a_new_offer_goes_to_needs_beyond_its_region_only_where_a_full_run_would_put_it(
    app: Flask,
) -> None:
    """A need of national scope weighs every offer of the country that can reach it, which the
    run of an offer beyond its region does not hold. Manchester's need has ten offers nearer
    than Liverpool's new one, none scoring enough: a full run proposes it nothing. Leeds' need
    has none: a full run proposes it the new offer. The offer's run paired it with both, by
    its own ranking; each now answers on its own neighbourhood whether it counts the offer
    among its likeliest partners."""
    manchester = _organisation("Manchester", "Greater Manchester", "Housing")
    stuck = _listing(manchester, ListingKind.NEED, Scope.NATIONAL, HOUSING)
    for n in range(10):  # nearer to it than Liverpool, and twice as many as the cap
        bakery = _organisation("Manchester", "Greater Manchester", f"Bakery {n}")
        _listing(bakery, ListingKind.OFFER, Scope.REGIONAL, f"Loaves and pastries {n}")
    leeds = _organisation("Leeds", "West Yorkshire", "Housing")
    waiting = _listing(leeds, ListingKind.NEED, Scope.NATIONAL, HOUSING)
    # The bakeries score 59 with Manchester's need: below the minimum.
    db.session.add(MatchingSetting(key="min_score", value=65))
    run_full()
    db.session.commit()
    assert db.session.scalars(sa.select(Proposal)).all() == []

    offer = _liverpool_offer()
    db.session.commit()
    match_listing(offer)
    db.session.commit()

    proposed = [sorted(p.listing_ids) for p in db.session.scalars(sa.select(Proposal))]
    assert proposed == [sorted([waiting.id, offer.id])]  # and not [stuck.id, offer.id]
    assert stuck.id not in {lid for ids in proposed for lid in ids}
    assert plan(full_snapshot(), load_settings()).create == []
