"""The proximity rule measures real places: whichever script or spelling a city was typed in,
partners in it are local; nearby cities are near."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind, Scope
from matchmaker.matching.engine import match_listing, plan, run_full
from matchmaker.matching.explanations import render
from matchmaker.matching.rules import proximity, proximity_params, proximity_sentence
from matchmaker.matching.settings import load_settings
from matchmaker.matching.snapshot import full_snapshot, within_reach
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import Proposal
from tests.factories import make_listing, make_organisation
from tests.matching.helpers import located, snapshot, view

SPELLINGS = [
    ("Αθήνα", "Athens", "GR"),
    ("Athina", "Αθήνα", "GR"),
    ("Sao Paulo", "São Paulo", "BR"),
    ("طنجة", "Tangier", "MA"),
    ("Tanger", "طنجة", "MA"),
]


def _local_pair(need_city: str, offer_city: str, country: str) -> tuple[Any, Any]:
    network = make_organisation(name="Network", city=need_city, region=need_city, country=country)
    university = make_organisation(
        name="University",
        kind=OrganisationKind.ACADEMIC_INSTITUTION,
        city=offer_city,
        region=offer_city,  # regions written differently too: only the city can join them
        country=country,
    )
    themes = ("research-evaluation", "knowledge-exchange")
    need = make_listing(
        organisation=network,
        scope=Scope.LOCAL,
        themes=themes,
        title="Evaluation of our programmes",
        description="We need researchers to evaluate our cooperative programmes.",
    )
    offer = make_listing(
        organisation=university,
        kind=ListingKind.OFFER,
        scope=Scope.LOCAL,
        themes=themes,
        title="Research and evaluation",
        description="Researchers who evaluate cooperative programmes.",
    )
    return need, offer


@pytest.mark.parametrize("need_city, offer_city, country", SPELLINGS)
def test_the_matcher_proposes_local_partners_whatever_the_script(
    app: Flask, need_city: str, offer_city: str, country: str
) -> None:
    need, offer = _local_pair(need_city, offer_city, country)
    run_full()
    db.session.commit()
    [proposal] = db.session.scalars(sa.select(Proposal))
    assert {party.listing_id for party in proposal.parties} == {need.id, offer.id}
    lines = {line.rule: line.reason for line in render(proposal.template, proposal.explanation)}
    assert lines["proximity"] == f"Same city: {need_city}."


@pytest.mark.parametrize("need_city, offer_city, country", SPELLINGS[:1])
def test_an_incremental_run_finds_them_too(
    app: Flask, need_city: str, offer_city: str, country: str
) -> None:
    _need, offer = _local_pair(need_city, offer_city, country)
    match_listing(offer)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1


def test_an_incremental_run_finds_partners_anywhere_in_the_region_however_written(
    app: Flask,
) -> None:
    network = make_organisation(name="Network", city="Chania", region="Crete", country="GR")
    university = make_organisation(
        name="University",
        kind=OrganisationKind.ACADEMIC_INSTITUTION,
        city="Heraklion",
        region="Κρήτη",
        country="GR",
    )
    themes = ("research-evaluation",)
    make_listing(organisation=network, scope=Scope.REGIONAL, themes=themes)
    offer = make_listing(
        organisation=university, kind=ListingKind.OFFER, scope=Scope.REGIONAL, themes=themes
    )
    match_listing(offer)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1


# Regions the gazetteer cannot vouch for (the cities are not in it), written with capitals
# outside ASCII, which SQLite's lower() and PostgreSQL's under the C locale leave as they are.
REGIONS_AS_WRITTEN = [
    ("Αττική", "Αττική", "GR"),
    ("Île-de-France", "ÎLE-DE-FRANCE ", "FR"),
    ("Östergötland", "östergötland", "SE"),
    ("Ñuble", "ñuble", "CL"),
    ("Centre  Val de Loire", "centre val de loire ", "FR"),  # nor do extra spaces
]


@pytest.mark.parametrize("need_region, offer_region, country", REGIONS_AS_WRITTEN)
def test_an_incremental_run_finds_the_region_as_written_as_a_full_run_does(
    app: Flask, need_region: str, offer_region: str, country: str
) -> None:
    network = make_organisation(
        name="Network", city="Atlantis", region=need_region, country=country
    )
    university = make_organisation(
        name="University",
        kind=OrganisationKind.ACADEMIC_INSTITUTION,
        city="Lemuria",
        region=offer_region,
        country=country,
    )
    assert network.geonames_id is None and university.geonames_id is None
    themes = ("research-evaluation", "knowledge-exchange")
    need = make_listing(organisation=network, scope=Scope.REGIONAL, themes=themes)
    offer = make_listing(
        organisation=university, kind=ListingKind.OFFER, scope=Scope.REGIONAL, themes=themes
    )
    full = plan(full_snapshot(), load_settings())
    assert [sorted(c.listing_ids) for c in full.create] == [sorted([need.id, offer.id])]
    match_listing(offer)
    db.session.commit()
    result = plan(full_snapshot(), load_settings())
    assert (result.create, result.withdraw, result.revive) == ([], [], [])


def test_unfound_cities_are_compared_as_written(app: Flask) -> None:
    _local_pair("Αθήνα", "Atlantis", "GR")
    run_full()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


@pytest.mark.parametrize(
    "asker, giver, level, points",
    [
        ("athina", "athens", "city", 1.0),
        ("liverpool", "birkenhead", "near", 0.8),
        ("athens", "piraeus", "near", 0.8),
        # Crete: one region (an ISO subdivision), 110 km apart, written in two languages.
        ("chania", "heraklion", "region", 2 / 3),
        ("athens", "thessaloniki", "country", 1 / 3),
        ("tangier", "athens", None, 0.0),
    ],
)
def test_proximity_is_measured_on_the_map(
    asker: str, giver: str, level: str | None, points: float
) -> None:
    a = located(view(1, "need", 1, place=asker))
    b = located(view(2, "offer", 2, place=giver))
    snap = snapshot(a, b)
    assert proximity(snap, a, b) == pytest.approx(points)
    if level:
        assert proximity_params(snap, a, b)["level"] == level


def test_a_region_written_in_two_languages_is_one_region_for_the_scopes() -> None:
    """A regional listing reaches partners anywhere in its region, whatever language the
    region was written in (Crete and Κρήτη); England is a nation, not a region."""
    chania = located(view(1, "need", 1, place="chania", scope="regional"))
    heraklion = located(view(2, "offer", 2, place="heraklion", scope="regional"))
    assert within_reach(chania, heraklion)
    liverpool = located(view(3, "need", 3, place="liverpool", scope="regional"))
    manchester = located(view(4, "offer", 4, place="manchester", scope="regional"))
    assert not within_reach(liverpool, manchester)
    # Where the gazetteer did not find the city, the region is compared as written.
    assert not within_reach(
        view(5, "need", 5, place="chania", scope="regional"),
        view(6, "offer", 6, place="heraklion", scope="regional"),
    )


def test_the_near_and_subdivision_sentences(app: Flask) -> None:
    with app.test_request_context():
        a = located(view(1, "need", 1, place="liverpool"))
        b = located(view(2, "offer", 2, place="birkenhead"))
        params = proximity_params(snapshot(a, b), a, b)
        assert proximity_sentence(params, None) == (  # type: ignore[arg-type]
            f"Near each other: Liverpool and Birkenhead are {params['km']} km apart."
        )
        assert proximity_sentence({"level": "subdivision", "place": "GR-M"}, None) == (  # type: ignore[arg-type]
            "Same region: Kríti."
        )
