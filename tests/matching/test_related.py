"""Needs and offers related by their organisations' words when they share no theme
(matching/related.py): proposed and explained as such, only within one city-region and both
scopes, and found through the index exactly as a plain comparison of every pair finds them."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from matchmaker.matching.affinity import profile, rarity
from matchmaker.matching.explanations import Reader, render
from matchmaker.matching.related import (
    DISTINCTIVE,
    RELATED,
    SOUGHT_RELATED,
    distinctive_words,
    kinship,
    place_stems,
    related,
    related_listings,
)
from matchmaker.matching.settings import DEFAULTS, MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot, within_reach
from matchmaker.matching.templates import TEMPLATES
from matchmaker.matching.templates.assembly import links_among
from tests.matching.helpers import snapshot, view
from tests.matching.test_properties import _all_pairs, listings

PAIR = TEMPLATES["pair"]
WORK = "social enterprise week investment readiness peer mentoring"


def _platform(*views: ListingView) -> Snapshot:
    """The views on a platform of a thousand listings, on which none of their words is common."""
    snap = snapshot(*views)
    snap.word_counts, snap.total_live = {}, 1000
    return snap


def _council(text: str = f"Grow the city's social enterprises: {WORK}") -> ListingView:
    return view(
        1,
        "challenge",
        1,
        "public_agency",
        themes=("incubation-entrepreneurship", "funding"),
        text=text,
        sought=("sse_organisation",),
    )


def _network(place: str = "birkenhead", scope: str = "regional", text: str = "") -> ListingView:
    return view(
        2,
        "offer",
        2,
        "sse_organisation",
        place=place,
        scope=scope,
        themes=("territorial-platforms", "information"),
        text=text or f"A voice for the sector: {WORK}",
    )


def test_a_need_and_an_offer_with_no_shared_theme_are_paired_on_the_same_work() -> None:
    council, network = _council(), _network()
    snap = _platform(council, network)
    assert related(snap, council, network)
    [candidate] = PAIR.propose(snap, DEFAULTS, None)
    assert [party.listing for party in candidate.parties] == [council, network]
    assert candidate.score >= DEFAULTS.min_score
    explanation = candidate.explanation(snap, DEFAULTS)
    assert "shared_themes" not in [item["rule"] for item in explanation]
    lines = {line.rule: line.reason for line in render("pair", explanation, Reader({}))}
    assert lines["shared_vocabulary"].startswith("Org 1 and Org 2 share no theme but write about")
    # Rebuilt from its parties (a later run), it is the same proposal.
    rebuilt = PAIR.build(snap, DEFAULTS, list(candidate.parties))
    assert rebuilt is not None and rebuilt.score == candidate.score
    # An incremental run of the offer finds it too.
    [found] = PAIR.propose(snap, DEFAULTS, network.id)
    assert found.listing_ids == candidate.listing_ids


def test_a_related_pair_needs_one_city_region_both_scopes_and_more_than_the_place_name() -> None:
    council = _council()
    elsewhere = _network(place="manchester", scope="national")  # within reach, other region
    local = _network(scope="local")  # same city-region, but its scope is its own city
    for offer in (elsewhere, local):
        snap = _platform(council, offer)
        assert not related(snap, council, offer)
        assert list(PAIR.propose(snap, DEFAULTS, None)) == []
    # Both write their city-region's name, and nothing else in common.
    named = _council(text="Liverpool City Region wants more social enterprises")
    neighbour = _network(text="Liverpool City Region: kitchens and cafés")
    snap = _platform(named, neighbour)
    assert kinship(snap, named, neighbour) == 0
    assert list(PAIR.propose(snap, DEFAULTS, None)) == []
    # The same words, but written by half the organisations of the city-region: its common
    # language, not a sign of the same work.
    others = [
        view(10 + n, "need", 10 + n, themes=("basic-needs",), text=WORK, place="birkenhead")
        for n in range(3)
    ]
    snap = _platform(council, _network(), *others)
    assert not related(snap, council, _network())


def test_a_challenge_that_seeks_the_offering_kind_is_related_on_less_shared_work() -> None:
    """One distinctive word in common ("readiness") is too little for a need, enough for a
    challenge that asked for partners of the offering organisation's kind."""
    council = _council(
        text="Grow the city's social enterprises: investment readiness, tenders, procurement, "
        "contracts"
    )
    network = _network(
        text="Readiness clinics for cafés, kitchens, cleaning, catering, recycling, housing, "
        "repairs, laundries"
    )
    snap = _platform(council, network)
    assert SOUGHT_RELATED <= kinship(snap, council, network) < RELATED
    assert related(snap, council, network)
    assert [c.listing_ids for c in PAIR.propose(snap, DEFAULTS, network.id)] == [(1, 2)]
    for asker in (
        replace(council, sought=frozenset({"academic_institution"})),  # seeks another kind
        replace(council, kind="need", sought=frozenset()),  # a need names no kind
    ):
        snap = _platform(asker, network)
        assert not related(snap, asker, network)
        assert list(PAIR.propose(snap, DEFAULTS, None)) == []


def test_a_related_link_holds_a_multi_party_proposal_together() -> None:
    council, network = _council(), _network()
    snap = _platform(council, network)
    assert links_among(snap, [council, network]) == [(council, network)]
    assert links_among(snapshot(council, network), [council, network]) == []  # common words


def _plainly_related(snap: Snapshot, views: list[ListingView]) -> set[tuple[int, int]]:
    """Every related pair, by comparing every need or challenge with every offer."""
    words = {v.org_id: distinctive_words(snap, v) for v in views}
    region_orgs: dict[int, set[int]] = {}
    for v in views:
        region_orgs.setdefault(v.region_id, set()).add(v.org_id)

    def uncommon_shared(a: ListingView, b: ListingView) -> bool:
        place = region_orgs[a.region_id]
        most = min(30, max(2, len(place) // 2))
        return any(
            sum(1 for org in place if stem in words[org]) <= most
            for stem in words[a.org_id] & words[b.org_id]
        )

    return {
        (a.id, b.id)
        for a in views
        if a.asks
        for b in views
        if not b.asks
        and a.org_id != b.org_id
        and not a.themes & b.themes
        and a.region_id == b.region_id
        and within_reach(a, b)
        and uncommon_shared(a, b)
        and kinship(snap, a, b) >= (SOUGHT_RELATED if b.org_kind in a.sought else RELATED)
    }


@settings(max_examples=100, deadline=None)
@given(listings())
def test_the_index_finds_exactly_the_related_pairs_a_plain_comparison_finds(views) -> None:  # type: ignore[no-untyped-def]
    snap = _platform(*views)
    found = {
        (v.id, other.id) if v.asks else (other.id, v.id)
        for v in views
        for other in related_listings(snap, v)
    }
    assert found == _plainly_related(snap, views)
    assert {(a.id, b.id) for a in views for b in views if related(snap, a, b)} == found


@settings(max_examples=100, deadline=None)
@given(listings())
def test_the_pair_template_proposes_every_linked_pair_when_there_is_room(views) -> None:  # type: ignore[no-untyped-def]
    snap = _platform(*views)
    roomy = MatchSettings.of(max_proposals_per_listing=50, min_score=0)
    proposed = {
        (c.parties[0].listing.id, c.parties[1].listing.id) for c in PAIR.propose(snap, roomy, None)
    }
    assert proposed == _all_pairs(views) | _plainly_related(snap, views)


def _plainly_distinctive(snap: Snapshot, v: ListingView) -> frozenset[str]:
    """The words of the organisation's live listings, its place names left out, that are in
    its profile and rare enough (distinctive_words without its shortcut)."""
    words = {
        stem for other in snap.listings.values() if other.org_id == v.org_id for stem in other.words
    }
    idf, weighed = rarity(snap), profile(snap, v.org_id)
    return frozenset(
        stem
        for stem in words - place_stems(snap, v)
        if stem in weighed and idf(stem) >= math.log(DISTINCTIVE)
    )


@settings(max_examples=100, deadline=None)
@given(listings(), st.data())
def test_distinctive_words_are_those_of_the_profile_that_are_rare_enough(views, data) -> None:  # type: ignore[no-untyped-def]
    snap = snapshot(*views)
    # Some words on every listing (no weight), some rare, some in between.
    snap.total_live = 100
    snap.word_counts = {
        stem: data.draw(st.sampled_from([0, 1, 4, 5, 30, 99, 100, 150]))
        for stem in sorted({stem for v in views for stem in v.words})
    }
    for v in views:
        assert distinctive_words(snap, v) == _plainly_distinctive(snap, v)
