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
from matchmaker.listings.models import Listing, ListingKind, ListingStatus, Theme
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


def test_an_incremental_run_reuses_only_the_views_made_from_the_same_values(app: Flask) -> None:
    """snapshot.views_kept_between_runs: a view made by an earlier run is used again only when
    its listing's row, themes and kinds sought are all as they were; every view is the one the
    plain reading makes (_views)."""
    agency = make_organisation(kind=OrganisationKind.PUBLIC_AGENCY, name="Δήμος Αθηναίων")
    need = make_listing(organisation=agency, themes=("funding", "local-wealth"))
    offer = make_listing(kind=ListingKind.OFFER, themes=("funding",), title="Microcredit")
    peer = make_listing(kind=ListingKind.OFFER, themes=("local-wealth",), title="Local buying")
    db.session.commit()

    def read() -> dict[int, ListingView]:
        focus = db.session.get(Listing, need.id)
        assert focus is not None
        return neighbourhood_snapshot(focus).listings

    def plain(ids: list[int]) -> dict[int, dict[str, object]]:
        return {lid: _fields(v) for lid, v in _views(Listing.id.in_(ids)).items()}

    first = read()
    again = read()
    assert set(first) == {need.id, offer.id, peer.id}
    assert all(again[lid] is first[lid] for lid in first)  # nothing changed: the same views

    offer.title, offer.description = "Microcredit for cooperatives", "Loans for new cooperatives."
    peer.themes.append(db.session.scalar(sa.select(Theme).where(Theme.slug == "funding")))
    agency.name = "Δήμος Αθηναίων – Οικονομία"  # every listing of the agency reads it
    db.session.commit()
    changed = read()

    assert changed[offer.id] is not first[offer.id] and changed[peer.id] is not first[peer.id]
    assert changed[need.id] is not first[need.id]
    assert changed[offer.id].title == "Microcredit for cooperatives"
    assert changed[peer.id].themes == {"local-wealth", "funding"}
    assert changed[need.id].org_name == "Δήμος Αθηναίων – Οικονομία"
    assert list(changed) == list(first)  # in the order the rows came
    assert {lid: _fields(v) for lid, v in changed.items()} == plain(list(changed))


def test_a_full_snapshot_forgets_the_views_incremental_runs_kept(app: Flask) -> None:
    """A full run (or a preview) makes every view itself, at the largest memory the process
    reaches: the views incremental runs kept (some 40 MB at 20,000 dense listings) are let go
    first rather than added to that peak (the README's 500 MB target at 50k listings)."""
    need = make_listing(themes=("funding",))
    make_listing(kind=ListingKind.OFFER, themes=("funding",), title="Microcredit")
    db.session.commit()
    focus = db.session.get(Listing, need.id)
    assert focus is not None
    kept = neighbourhood_snapshot(focus).listings
    assert set(kept) <= set(snapshot._kept_views) and kept

    whole = snapshot.full_snapshot()

    assert snapshot._kept_views == {}
    assert set(whole.listings) == set(kept)
