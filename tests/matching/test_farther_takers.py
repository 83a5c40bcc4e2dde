"""An offer's incremental run and the needs beyond its region that may take it
(engine._farther_takers): each read on its own neighbourhood, then ranked with the needs of
the offer's region for the offer's room, as a full run ranks them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, Scope
from matchmaker.matching.engine import match_listing, plan
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
    university = _organisation(
        "Liverpool",
        "Liverpool City Region",
        "Housing research",
        kind=OrganisationKind.ACADEMIC_INSTITUTION,
    )
    offer = _listing(university, ListingKind.OFFER, Scope.NATIONAL, HOUSING)
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
