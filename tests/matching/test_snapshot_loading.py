"""An incremental run's neighbourhood reads its listings, themes and kinds sought in one query
(snapshot._tagged_rows); a full run reads them in plain separate queries. Both give the same
views."""

from __future__ import annotations

from dataclasses import fields

from flask import Flask

from matchmaker.listings.models import Listing, ListingKind, ListingStatus
from matchmaker.matching.snapshot import ListingView, _views
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
