"""An incremental run's neighbourhood reads its listings, themes and kinds sought in one query
(snapshot._tagged_rows); a full run reads them in plain separate queries. Both give the same
views. The neighbourhood's query is made once a day and reads the whole neighbourhood at once."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind, ListingStatus
from matchmaker.matching import snapshot
from matchmaker.matching.snapshot import ListingView, _views, neighbourhood_snapshot
from matchmaker.organisations.models import OrganisationKind
from tests.factories import make_listing, make_organisation


def _fields(view: ListingView) -> dict[str, object]:
    return {f.name: getattr(view, f.name) for f in fields(view)}


def test_the_one_query_reads_the_views_the_separate_queries_read(app: Flask) -> None:
    agency = make_organisation(kind=OrganisationKind.PUBLIC_AGENCY)
    make_listing(organisation=agency, themes=("funding", "policy-strategy", "local-wealth"))
    make_listing(
        organisation=agency,
        kind=ListingKind.CHALLENGE,
        themes=("social-inclusion",),
        sought_kinds=(OrganisationKind.SSE_ORGANISATION, OrganisationKind.ACADEMIC_INSTITUTION),
    )
    make_listing(kind=ListingKind.OFFER, themes=("training-advice", "work-integration"))
    make_listing(status=ListingStatus.CLOSED)  # not live: in neither
    everything = _views()  # the separate queries
    some = _views(Listing.id.in_(list(everything)))  # the one query
    assert len(everything) == 3
    assert {lid: _fields(v) for lid, v in some.items()} == {
        lid: _fields(v) for lid, v in everything.items()
    }
    challenge = next(v for v in some.values() if v.kind == "challenge")
    assert challenge.sought == {"sse_organisation", "academic_institution"}


def test_a_neighbourhood_is_read_in_three_statements(app: Flask) -> None:
    """Its listings with their themes and kinds sought and whether their organisation is of the
    region (one), the themes' counts with the number of listings (two), its words' counts
    (three): no list of ids read first and sent back, no query for each piece."""
    need = make_listing()
    offer = make_listing(kind=ListingKind.OFFER)
    elsewhere = make_listing(
        organisation=make_organisation(city="Manchester", region="Greater Manchester"),
        kind=ListingKind.OFFER,
    )
    db.session.commit()
    focus = db.session.get(Listing, need.id)
    assert focus is not None and focus.organisation is not None
    statements: list[str] = []

    def note(*arguments: Any) -> None:
        statements.append(arguments[2])

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        near = neighbourhood_snapshot(focus)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert set(near.listings) == {need.id, offer.id} and elsewhere.id not in near.listings
    assert len(statements) == 3, statements


def test_the_neighbourhood_query_follows_the_date(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The query is made once a day: a listing that expires today is in today's neighbourhood
    and not in tomorrow's."""
    today = utcnow().date()
    need = make_listing(expires_on=today + timedelta(days=30))
    expiring = make_listing(kind=ListingKind.OFFER, expires_on=today)
    db.session.commit()
    assert expiring.id in neighbourhood_snapshot(need).listings
    tomorrow = utcnow() + timedelta(days=1)
    monkeypatch.setattr(snapshot, "utcnow", lambda: tomorrow)
    assert expiring.id not in neighbourhood_snapshot(need).listings
