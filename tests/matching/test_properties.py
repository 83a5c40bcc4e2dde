"""Properties of the matcher on random listings: scores stay in 0..100, the explanation adds up
to the score, matching is deterministic, and no hard rule is ever broken."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matchmaker.matching.engine import CandidateKeys, _best_first, candidate_tie_order
from matchmaker.matching.explanations import Reader, render
from matchmaker.matching.related import related
from matchmaker.matching.rules import RULES
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import (
    ListingView,
    distance,
    question_salt,
    tie_order,
    within_reach,
)
from matchmaker.matching.templates import TEMPLATES
from tests.matching.helpers import PLACES, SCOPES, snapshot, view

THEMES = [
    "research-evaluation",
    "knowledge-exchange",
    "policy-strategy",
    "social-inclusion",
    "social-innovation",
    "work-integration",
    "funding",
    "local-wealth",
]
KINDS = [
    "sse_organisation",
    "academic_institution",
    "public_agency",
    "private_sector",
    "civil_society",
]
ALL_PLACES = sorted(PLACES)
READER = Reader({})
WORDS = ["evaluation", "cooperative", "kitchen", "research", "strategy", "housing", "training"]


@st.composite
def listings(draw, kinds=KINDS, places=ALL_PLACES, themes=THEMES):  # type: ignore[no-untyped-def]
    count = draw(st.integers(min_value=2, max_value=14))
    views = []
    org_kinds = {}
    for index in range(1, count + 1):
        org = draw(st.integers(min_value=1, max_value=6))
        org_kind = org_kinds.setdefault(org, draw(st.sampled_from(kinds)))
        kind = draw(
            st.sampled_from(
                ["need", "offer", "challenge"] if org_kind == "public_agency" else ["need", "offer"]
            )
        )
        views.append(
            view(
                index,
                kind,
                org,
                org_kind,
                place=draw(st.sampled_from(places)),
                scope=draw(st.sampled_from(sorted(SCOPES))),
                themes=draw(st.sets(st.sampled_from(themes), min_size=1, max_size=3)),
                text=" ".join(draw(st.lists(st.sampled_from(WORDS), max_size=5))),
                sought=draw(st.sets(st.sampled_from(KINDS), min_size=1, max_size=2))
                if kind == "challenge"
                else (),
            )
        )
    return views


# Dense in multi-party combinations: one city-region, the three kinds of the Liverpool model
# (several needs and offers each), the themes of both multi-party templates.
CROWDED_REGION = listings(
    kinds=["sse_organisation", "academic_institution", "public_agency"],
    places=["liverpool", "birkenhead"],
    themes=["research-evaluation", "knowledge-exchange", "social-inclusion", "policy-strategy"],
)


# Dense in the São Paulo and Tanger shapes and in consortia: one city, the kinds of their slots,
# the themes of incubation, public purchasing and territorial platforms.
SHAPED_CITY = listings(
    kinds=["public_agency", "sse_organisation", "civil_society"],
    places=["saopaulo"],
    themes=["incubation-entrepreneurship", "market-access", "territorial-platforms", "information"],
)
ANY_LISTINGS = st.one_of(listings(), CROWDED_REGION, SHAPED_CITY)


@st.composite
def match_settings(draw):  # type: ignore[no-untyped-def]
    weights = {name: draw(st.integers(min_value=0, max_value=100)) for name in RULES}
    if sum(weights.values()) == 0:
        weights["shared_themes"] = 1
    return MatchSettings.of(
        **weights, role_coverage=draw(st.integers(min_value=0, max_value=100)), min_score=0
    )


def _all(views, chosen):  # type: ignore[no-untyped-def]
    snap = snapshot(*views)
    candidates = [c for t in TEMPLATES.values() for c in t.propose(snap, chosen, None)]
    for candidate in candidates:
        candidate.explanation(snap, chosen)
    return candidates


@settings(max_examples=150, deadline=None)
@given(ANY_LISTINGS, match_settings())
def test_scores_are_percentages_that_their_explanations_add_up_to(views, chosen) -> None:  # type: ignore[no-untyped-def]
    for candidate in _all(views, chosen):
        assert 0 <= candidate.score <= 100
        assert sum(item["points"] for item in candidate.written_explanation) == candidate.score
        assert all(item["points"] > 0 for item in candidate.written_explanation)
        lines = render(candidate.template, candidate.written_explanation, READER)
        assert all(line.reason for line in lines)


@settings(max_examples=100, deadline=None)
@given(listings(), match_settings())
def test_matching_is_deterministic(views, chosen) -> None:  # type: ignore[no-untyped-def]
    first = [(c.fingerprint, c.score, c.written_explanation) for c in _all(views, chosen)]
    again = [
        (c.fingerprint, c.score, c.written_explanation) for c in _all(list(reversed(views)), chosen)
    ]
    assert sorted(first, key=lambda x: x[0]) == sorted(again, key=lambda x: x[0])


@settings(max_examples=150, deadline=None)
@given(ANY_LISTINGS, match_settings())
def test_no_hard_rule_is_broken(views, chosen) -> None:  # type: ignore[no-untyped-def]
    snap = snapshot(*views)
    for candidate in _all(views, chosen):
        parties = [party.listing for party in candidate.parties]
        orgs = [v.org_id for v in parties]
        assert len(set(orgs)) == len(orgs), "the same organisation twice"
        askers = [v for v in parties if v.asks]
        givers = [v for v in parties if not v.asks]
        assert askers and givers, "no need or challenge meets an offer"
        if candidate.template == "pair":
            assert within_reach(askers[0], givers[0])
            assert askers[0].themes & givers[0].themes or related(snap, askers[0], givers[0])
        if candidate.template == "local_inclusion_partnership":
            challenge = parties[0]
            assert challenge.kind == "challenge"
            assert challenge.sought <= {v.org_kind for v in parties[1:]}
            assert all(within_reach(challenge, other) for other in parties[1:])
        assert len(parties) <= 6
        if candidate.template != "knowledge_exchange_triad":  # the others have an anchor first
            assert all(within_reach(parties[0], other) for other in parties[1:])
        if candidate.template == "consortium":
            anchor, partners = parties[0], parties[1:]
            assert anchor.asks and not any(p.asks for p in partners)
            assert all(anchor.themes & p.themes or related(snap, anchor, p) for p in partners)
        if candidate.template == "knowledge_exchange_triad":
            assert len({v.region_key for v in parties}) == 1
            assert {v.org_kind for v in parties} == {
                "sse_organisation",
                "academic_institution",
                "public_agency",
            }


@settings(max_examples=150, deadline=None)
@given(ANY_LISTINGS, match_settings())
def test_what_a_template_proposes_is_what_it_builds_from_the_same_parties(views, chosen) -> None:  # type: ignore[no-untyped-def]
    # Templates may take shortcuts while proposing (the triad shares each link's work between
    # trios); a proposal rebuilt later from its parties must come out the same. So must a
    # candidate restored from what the engine holds of it until the ranking (Template.hold;
    # the triad keeps only its score and its links' fractions), and its first listing.
    snap = snapshot(*views)
    for template in TEMPLATES.values():
        for candidate in template.propose(snap, chosen, None):
            held = template.hold(snap, candidate)
            assert held[0] == candidate.score
            first = template.first_listing(snap, candidate.listing_ids, held)
            assert first == candidate.parties[0].listing.id
            for rebuilt in (
                template.build(snap, chosen, list(candidate.parties)),
                template.restore(snap, candidate.listing_ids, held),
            ):
                assert rebuilt is not None
                assert (
                    rebuilt.parties,
                    rebuilt.score,
                    rebuilt.links,
                    rebuilt.listing_ids,
                    rebuilt.coverage,
                ) == (
                    candidate.parties,
                    candidate.score,
                    candidate.links,
                    candidate.listing_ids,
                    candidate.coverage,
                )
                assert rebuilt.explanation(snap, chosen) == candidate.explanation(snap, chosen)


def _all_pairs(views):  # type: ignore[no-untyped-def]
    """Every need or challenge with every offer: the plain search the index must equal."""
    return {
        (asker.id, giver.id)
        for asker in views
        for giver in views
        if asker.asks
        and not giver.asks
        and asker.org_id != giver.org_id
        and asker.themes & giver.themes
        and within_reach(asker, giver)
    }


@settings(max_examples=150, deadline=None)
@given(st.one_of(listings(), CROWDED_REGION))
def test_the_indexed_search_finds_exactly_what_an_all_pairs_search_finds(views) -> None:  # type: ignore[no-untyped-def]
    snap = snapshot(*views)
    found = {
        (view.id, other.id) if view.asks else (other.id, view.id)
        for view in views
        for other in snap.near(view, view.themes, asks=not view.asks)
    }
    assert found == _all_pairs(views)
    # With room for every partner, the pair template scores exactly those pairs.
    roomy = MatchSettings.of(max_proposals_per_listing=50, min_score=0)
    proposed = {
        (c.parties[0].listing.id, c.parties[1].listing.id)
        for c in TEMPLATES["pair"].propose(snap, roomy, None)
    }
    assert proposed == _all_pairs(views)


def _plain_nearest(
    views: list[ListingView], source: ListingView, themes: frozenset[str], limit: int
) -> list[int]:
    """The ids of the ``limit`` partners of ``source`` ranked first, every listing read: the
    most shared themes, then the nearest (city, region, country, world), then in the tie order
    of the question (these themes from the places of ``source``)."""
    salt = question_salt(themes, source)
    ranked = []
    for other in views:
        shared = len(themes & other.themes)
        if (
            other.asks != source.asks
            and other.org_id != source.org_id
            and shared
            and within_reach(source, other)
        ):
            rank = 4 * shared + 3 - distance(source, other)
            ranked.append((-rank, tie_order(salt, other.id), other.id))
    return [oid for _, _, oid in sorted(ranked)[:limit]]


@settings(max_examples=100, deadline=None)
@given(st.one_of(listings(), CROWDED_REGION, SHAPED_CITY), st.integers(min_value=1, max_value=6))
def test_the_nearest_partners_are_the_plain_ranking_cut_short(views, limit) -> None:  # type: ignore[no-untyped-def]
    # Snapshot.nearest ranks groups of listings with the same themes and place, best first, and
    # stops reading once it has enough (snapshot._best_ranked).
    snap = snapshot(*views)
    for source in views:
        nearest = snap.nearest(source, source.themes, asks=not source.asks, limit=limit)
        assert [other.id for other in nearest] == _plain_nearest(
            views, source, source.themes, limit
        )


@settings(max_examples=100, deadline=None)
@given(listings())
def test_the_packed_ranking_of_candidates_is_the_plain_one(views) -> None:  # type: ignore[no-untyped-def]
    # engine.CandidateKeys packs a candidate's template and listing ids into one integer, and
    # its score ahead of it to rank; the plain order is the highest score first, then the
    # candidate's tie order, then the template's name, then the listing ids.
    snap = snapshot(*views)
    roomy = MatchSettings.of(max_proposals_per_listing=50, min_score=0)
    keys = CandidateKeys(max(v.id for v in views).bit_length())
    qualifying, plain = {}, {}
    for template in TEMPLATES.values():
        for candidate in template.propose(snap, roomy, None):
            key = keys.pack(candidate.template, candidate.listing_ids)
            qualifying[key] = template.hold(snap, candidate)
            plain[(candidate.template, candidate.listing_ids)] = candidate.score
    ranked = [(keys.template(key), keys.ids(key)) for key in _best_first(qualifying, keys)]
    assert ranked == sorted(
        plain,
        key=lambda key: (-plain[key], candidate_tie_order(*key), key[0], key[1]),
    )
    # A run holding higher ids packs them in more bits: the order is the same.
    wider = CandidateKeys(keys.id_bits + 5)
    repacked = {
        wider.pack(keys.template(key), keys.ids(key)): held for key, held in qualifying.items()
    }
    assert [(wider.template(k), wider.ids(k)) for k in _best_first(repacked, wider)] == ranked


@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(TEMPLATES)),
            st.lists(st.integers(0, 2**17 - 1), min_size=1, max_size=6, unique=True).map(
                lambda ids: tuple(sorted(ids))
            ),
        ),
        min_size=1,
    )
)
def test_candidate_keys_sort_like_the_plain_tuples_and_give_them_back(plain) -> None:  # type: ignore[no-untyped-def]
    keys = CandidateKeys(17)
    packed = [keys.pack(template, ids) for template, ids in plain]
    assert [(keys.template(key), keys.ids(key)) for key in packed] == plain
    assert [(keys.template(key), keys.ids(key)) for key in sorted(packed)] == sorted(plain)


def test_the_nearest_partners_in_crowded_cities_are_the_plain_ranking_cut_short() -> None:
    # Hundreds of listings in a few cities of two countries, of every scope, themes drawn from
    # a few: many listings share each group, and the best are often found nearby.
    import random

    rng = random.Random(3)
    themes = list(THEMES)
    views = [
        view(
            number,
            rng.choice(["need", "offer", "challenge"]),
            rng.randrange(1, 120),
            place=rng.choice(["liverpool", "birkenhead", "manchester", "athens", "piraeus"]),
            scope=rng.choice(sorted(SCOPES)),
            themes=rng.sample(themes, rng.randrange(1, 4)),
        )
        for number in range(1, 600)
    ]
    snap = snapshot(*views)
    for source in views:
        for wanted in (source.themes, frozenset(rng.sample(themes, 3))):
            for limit in (1, 8, 10, 40):
                best = snap.nearest(source, wanted, asks=not source.asks, limit=limit)
                assert [other.id for other in best] == _plain_nearest(views, source, wanted, limit)


def test_the_themes_asked_for_may_be_any_iterable() -> None:
    # near and nearest read the themes once for each level: a generator is read once.
    views = [
        view(1, "need", 1, place="liverpool", scope="international", themes=["funding"]),
        view(2, "offer", 2, place="athens", scope="international", themes=["funding"]),
        view(3, "offer", 3, place="liverpool", scope="international", themes=["funding"]),
    ]
    snap = snapshot(*views)
    asker = views[0]
    assert [v.id for v in snap.near(asker, iter(["funding"]), asks=False)] == [2, 3]
    assert [v.id for v in snap.nearest(asker, iter(["funding"]), asks=False, limit=5)] == [3, 2]


def test_an_organisation_crowding_the_top_of_a_shared_ranking_leaves_room_for_the_others() -> None:
    # Snapshot.nearest works out one ranking for every listing that looks for the same themes
    # from the same places (snapshot._shared_ranking), and each asker leaves out its own
    # organisation's listings: here a university's eight offers in Liverpool rank above every
    # other, so the ranking made for a cooperative holds none the university's own need can use
    # unless it was made long enough.
    university = [
        view(number, "offer", 1, place="liverpool", scope="regional", themes=["funding"])
        for number in range(1, 9)
    ]
    farther = [
        view(20 + number, "offer", 10 + number, place="birkenhead", themes=["funding"])
        for number in range(1, 4)
    ]
    cooperative_need = view(40, "need", 2, place="liverpool", scope="regional", themes=["funding"])
    university_need = view(41, "need", 1, place="liverpool", scope="regional", themes=["funding"])
    views = [*university, *farther, cooperative_need, university_need]
    snap = snapshot(*views)
    for source in (cooperative_need, university_need):
        best = snap.nearest(source, source.themes, asks=False, limit=2)
        assert [other.id for other in best] == _plain_nearest(views, source, source.themes, 2)
    # Two of the three farther offers, in the question's own order among equals.
    best = [other.id for other in snap.nearest(university_need, ["funding"], asks=False, limit=2)]
    assert len(best) == 2 and set(best) <= {21, 22, 23}


@given(st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=2, max_size=12))
def test_pair_keys_tell_pairs_apart_as_tuples_do(ids: list[int]) -> None:
    """A pair of ids packed into one int (snapshot.pair_key, either_way_key) is the same
    dictionary key as the tuple: equal exactly when the pairs are equal (in either order, for
    either_way_key)."""
    from matchmaker.matching.snapshot import either_way_key, pair_key

    pairs = [(a, b) for a in ids for b in ids]
    assert len({pair_key(a, b) for a, b in pairs}) == len(set(pairs))
    assert len({either_way_key(a, b) for a, b in pairs}) == len({frozenset(p) for p in pairs})
    for a, b in pairs:
        assert either_way_key(a, b) == either_way_key(b, a) == pair_key(min(a, b), max(a, b))
