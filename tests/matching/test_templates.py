from __future__ import annotations

import pytest

from matchmaker.matching.scoring import score_links
from matchmaker.matching.settings import DEFAULTS, MatchSettings
from matchmaker.matching.snapshot import ListingView
from matchmaker.matching.templates import TEMPLATES
from matchmaker.matching.templates.base import Party
from matchmaker.matching.templates.pair import sees_all_it_can_reach
from tests.matching.helpers import snapshot, view

PAIR = TEMPLATES["pair"]
TRIAD = TEMPLATES["knowledge_exchange_triad"]
ATHENS = TEMPLATES["local_inclusion_partnership"]


def _pairs(*views):  # type: ignore[no-untyped-def]
    return list(PAIR.propose(snapshot(*views), DEFAULTS, None))


def test_pair_joins_a_need_and_an_offer_sharing_a_theme() -> None:
    need = view(1, "need", 1, themes=("research-evaluation",))
    offer = view(
        2,
        "offer",
        2,
        org_kind="academic_institution",
        themes=("research-evaluation", "knowledge-exchange"),
    )
    [candidate] = _pairs(need, offer)
    assert candidate.fingerprint == "pair:1-2"
    assert [p.role for p in candidate.parties] == ["need", "offer"]
    explanation = candidate.explanation(snapshot(need, offer), DEFAULTS)
    assert sum(i["points"] for i in explanation) == candidate.score


def test_pair_hard_rules() -> None:
    need = view(1, "need", 1, scope="local", themes=("funding",))
    same_org = view(2, "offer", 1, themes=("funding",))
    other_city = view(3, "offer", 3, place="birkenhead", scope="international", themes=("funding",))
    other_need = view(4, "need", 4, themes=("funding",))
    no_theme = view(5, "offer", 5, themes=("information",))
    candidates = _pairs(need, same_org, other_city, other_need, no_theme)
    assert [c for c in candidates if 1 in c.listing_ids] == []
    # Two needs never pair; the other need pairs with the offers it may reach.
    assert {c.fingerprint for c in candidates} == {"pair:2-4", "pair:3-4"}


def test_scope_must_admit_both_ways() -> None:
    need = view(1, "need", 1, scope="international", themes=("funding",))
    local_offer_elsewhere = view(2, "offer", 2, place="athens", scope="local", themes=("funding",))
    worldwide_offer = view(
        3, "offer", 3, place="athens", scope="international", themes=("funding",)
    )
    assert [c.fingerprint for c in _pairs(need, local_offer_elsewhere, worldwide_offer)] == [
        "pair:1-3"
    ]


def _liverpool():  # type: ignore[no-untyped-def]
    return [
        view(1, "offer", 1, "sse_organisation", themes=("knowledge-exchange", "policy-strategy")),
        view(2, "need", 2, "academic_institution", themes=("knowledge-exchange",)),
        view(3, "need", 3, "public_agency", themes=("policy-strategy", "local-wealth")),
    ]


def test_triad_of_the_three_kinds_in_one_city_region() -> None:
    snap = snapshot(*_liverpool())
    [candidate] = list(TRIAD.propose(snap, DEFAULTS, None))
    assert [p.role for p in candidate.parties] == [
        "sse_partner",
        "academic_partner",
        "public_partner",
    ]
    explanation = candidate.explanation(snap, DEFAULTS)
    assert "role_coverage" in [item["rule"] for item in explanation]
    assert sum(i["points"] for i in explanation) == candidate.score <= 100


def test_triad_needs_one_region_and_linked_parties() -> None:
    sse, academic, _public = _liverpool()
    far_public = view(
        4,
        "need",
        3,
        "public_agency",
        place="manchester",
        scope="national",
        themes=("policy-strategy",),
    )
    assert list(TRIAD.propose(snapshot(sse, academic, far_public), DEFAULTS, None)) == []
    unlinked = view(5, "need", 3, "public_agency", themes=("research-evaluation",))
    assert list(TRIAD.propose(snapshot(sse, academic, unlinked), DEFAULTS, None)) == []


def _athens(sought=("academic_institution", "sse_organisation")):  # type: ignore[no-untyped-def]
    return [
        view(
            1,
            "challenge",
            1,
            "public_agency",
            place="athens",
            scope="local",
            themes=("social-inclusion", "work-integration"),
            sought=sought,
        ),
        view(
            2,
            "offer",
            2,
            "academic_institution",
            place="athens",
            scope="national",
            themes=("social-inclusion",),
        ),
        view(
            3,
            "offer",
            3,
            "sse_organisation",
            place="athens",
            scope="local",
            themes=("work-integration",),
        ),
        view(
            4,
            "offer",
            4,
            "sse_organisation",
            place="athens",
            scope="regional",
            themes=("social-inclusion",),
        ),
        view(
            5,
            "offer",
            5,
            "sse_organisation",
            place="saopaulo",
            scope="international",
            themes=("social-inclusion",),
        ),
    ]


def test_athens_partnership_gathers_challenge_university_and_deliverers() -> None:
    [candidate] = list(ATHENS.propose(snapshot(*_athens()), DEFAULTS, None))
    assert candidate.listing_ids == (1, 2, 3, 4)  # not 5: outside the local challenge's reach
    assert [p.role for p in candidate.parties] == [
        "challenge_owner",
        "academic_partner",
        "delivery_partner",
        "delivery_partner",
    ]


def test_athens_partnership_must_cover_the_sought_kinds() -> None:
    views = _athens(sought=("academic_institution", "civil_society"))
    assert list(ATHENS.propose(snapshot(*views), DEFAULTS, None)) == []


def test_athens_build_refuses_a_wrong_shape() -> None:
    challenge, academic, deliverer, *_ = _athens()
    snap = snapshot(challenge, academic, deliverer)
    assert (
        ATHENS.build(
            snap,
            DEFAULTS,
            [Party(challenge, "challenge_owner"), Party(academic, "academic_partner")],
        )
        is None
    )
    assert (
        ATHENS.build(
            snap,
            DEFAULTS,
            [
                Party(challenge, "challenge_owner"),
                Party(deliverer, "academic_partner"),
                Party(academic, "delivery_partner"),
            ],
        )
        is None
    )


def test_focus_keeps_only_candidates_with_that_listing() -> None:
    views = _athens()
    snap = snapshot(*views)
    for candidate in PAIR.propose(snap, DEFAULTS, 3):
        assert 3 in candidate.listing_ids
    [candidate] = list(ATHENS.propose(snap, DEFAULTS, 4))
    assert 4 in candidate.listing_ids


def test_weights_change_the_score_and_zero_turns_a_rule_off() -> None:
    need = view(1, "need", 1, themes=("funding",))
    offer = view(2, "offer", 2, org_kind="public_agency", themes=("funding",))
    snap = snapshot(need, offer)
    [default] = PAIR.propose(snap, DEFAULTS, None)
    no_proximity = MatchSettings.of(proximity=0)
    [candidate] = PAIR.propose(snap, no_proximity, None)
    assert candidate.score != default.score
    assert candidate.score == score_links(snap, no_proximity, [(need, offer)])
    assert "proximity" in [item["rule"] for item in default.explanation(snap, DEFAULTS)]
    assert "proximity" not in [item["rule"] for item in candidate.explanation(snap, no_proximity)]


def test_a_focus_listing_outside_the_triad_gives_no_triad() -> None:
    views = _liverpool()
    company = view(9, "need", 9, "private_sector", themes=("research-evaluation",))
    assert list(TRIAD.propose(snapshot(*views, company), DEFAULTS, 9)) == []
    other_theme = view(8, "offer", 8, "sse_organisation", themes=("funding",))
    assert list(TRIAD.propose(snapshot(*views, other_theme), DEFAULTS, 8)) == []
    assert len(list(TRIAD.propose(snapshot(*views), DEFAULTS, views[0].id))) == 1


def test_consortium_partner_that_trades_with_no_partner_joins_on_shared_vocabulary() -> None:
    # A city's challenge on work integration and training; a training centre fills the
    # training theme, a university the knowledge role. The university trades with neither
    # partner, but it writes about the same programme: it joins. A look-alike university that
    # writes about something else does not.
    programme = "street vendors cooperative integration programme"
    challenge = view(
        1,
        "challenge",
        1,
        "public_agency",
        themes=("work-integration", "training-advice", "research-evaluation"),
        text=f"Bring {programme} to scale",
        sought=("academic_institution",),
    )
    centre = view(
        2, "offer", 2, "civil_society", themes=("training-advice",), text=f"Training {programme}"
    )
    university = view(
        3,
        "offer",
        3,
        "academic_institution",
        themes=("research-evaluation",),
        text=f"Evaluation of the {programme}",
    )
    elsewhere = view(
        4,
        "offer",
        4,
        "academic_institution",
        themes=("research-evaluation",),
        text="Evaluation of maritime logistics and shipping",
    )
    # Organisations far away, so that the programme's words are rare on the platform.
    far = [view(10 + n, "need", 10 + n, place="athens", text=f"Kitchen {n}") for n in range(4)]

    def consortia(*views: ListingView) -> list[list[int]]:
        found = TEMPLATES["consortium"].propose(snapshot(*views, *far), DEFAULTS, None)
        return [sorted(party.listing.org_id for party in c.parties) for c in found]

    assert consortia(challenge, centre, university) == [[1, 2, 3]]
    assert consortia(challenge, centre, elsewhere) == []


def _liverpool_crowd() -> list[ListingView]:
    """Many needs and offers of the triad's three kinds (and another) in one city-region, on
    some of its themes and others: seeded, the same every time."""
    import random

    rng = random.Random(10)
    kinds = ["sse_organisation", "academic_institution", "public_agency", "civil_society"]
    themes = ["research-evaluation", "knowledge-exchange", "policy-strategy", "funding"]
    return [
        view(
            number,
            rng.choice(["need", "offer", "challenge"]),
            rng.randrange(1, 25),
            rng.choice(kinds),
            place=rng.choice(["liverpool", "birkenhead"]),
            themes=rng.sample(themes, rng.randrange(1, 3)),
        )
        for number in range(1, 80)
    ]


def test_triad_partners_from_the_index_are_those_of_the_plain_double_loop() -> None:
    from matchmaker.matching.templates.knowledge_exchange_triad import (
        NEIGHBOURS_PER_KIND,
        _all_partners,
        _linked,
        _lowest_partners,
        _partner_index,
    )

    views = _liverpool_crowd()
    index = _partner_index(views)
    kinds = {v.org_kind for v in views}
    for one in views:
        for kind in kinds:
            plain = [
                other.id
                for other in sorted(views, key=lambda v: v.id)
                if other.org_kind == kind and (_linked(one, other) or _linked(other, one))
            ]
            assert [v.id for v in _all_partners(index, one, kind)] == plain
            assert [v.id for v in _lowest_partners(index, one, kind)] == plain[:NEIGHBOURS_PER_KIND]


def test_triads_of_one_listing_are_those_a_full_run_finds_with_it() -> None:
    """An incremental run (a focus listing) proposes exactly the trios holding that listing
    that a full run proposes, scored and explained the same (whichever listing a trio was
    found around)."""
    crowd = _liverpool_crowd()
    found = snapshot(*crowd)
    template = TEMPLATES["knowledge_exchange_triad"]

    def read(focus: int | None) -> dict[tuple[int, ...], tuple[int, list[tuple[int, int]]]]:
        return {
            c.listing_ids: (c.score, [(a.id, g.id) for a, g in c.links])
            for c in template.propose(found, DEFAULTS, focus)
        }

    full = read(None)
    assert len(full) > 20
    for one in crowd:
        assert read(one.id) == {key: value for key, value in full.items() if one.id in key}


def test_named_shapes_of_one_listing_are_those_grown_from_every_anchor_near_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An incremental run grows a shape only around the anchors whose slots can take its
    focus listing (ShapeTemplate._may_take): it proposes exactly what growing every anchor near
    the focus proposes."""
    import random

    from matchmaker.matching.templates.named_shapes import NAMED_SHAPES, ShapeTemplate

    rng = random.Random(7)
    kinds = sorted({kind for t in NAMED_SHAPES for s in t.shape.slots for kind in s.kinds})
    kinds += sorted(t.shape.anchor.kinds for t in NAMED_SHAPES)[0]
    themes = sorted({theme for t in NAMED_SHAPES for s in t.shape.slots for theme in s.themes})
    crowd = snapshot(
        *(
            view(
                number,
                rng.choice(["need", "offer", "offer", "challenge"]),
                rng.randrange(1, 40),
                rng.choice(kinds),
                place=rng.choice(["saopaulo", "tangier"]),
                themes=rng.sample(themes, rng.randrange(1, 4)),
            )
            for number in range(1, 160)
        )
    )

    def proposed(focus: int) -> dict[str, set[tuple[int, ...]]]:
        return {
            t.name: {c.listing_ids for c in t.propose(crowd, DEFAULTS, focus)} for t in NAMED_SHAPES
        }

    pruned = {focus: proposed(focus) for focus in crowd.listings}
    monkeypatch.setattr(ShapeTemplate, "_may_take", lambda *_: True)
    assert sum(len(keys) for found in pruned.values() for keys in found.values()) > 20
    for focus, found in pruned.items():
        assert found == proposed(focus), focus


def test_consortia_of_one_listing_are_those_grown_from_every_anchor_near_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An incremental run grows a consortium only around the anchors that are its focus or
    have it among their likeliest partners (consortium.may_take): it proposes exactly what
    growing every anchor near the focus that sees all it can reach from there proposes,
    scored the same."""
    import random

    from matchmaker.matching.templates import consortium
    from matchmaker.organisations.models import OrganisationKind

    rng = random.Random(11)
    kinds = [kind.value for kind in OrganisationKind]
    themes = ["social-inclusion", "research-evaluation", "funding", "training-advice"]
    words = ["kitchen", "housing", "cooperative", "evaluation", "youth", "energy"]
    crowd = snapshot(
        *(
            view(
                number,
                rng.choice(["need", "offer", "offer", "offer", "challenge"]),
                rng.randrange(1, 50),
                rng.choice(kinds),
                place=rng.choice(["liverpool", "birkenhead", "manchester"]),
                scope=rng.choice(["local", "regional", "national"]),
                themes=rng.sample(themes, rng.randrange(1, 4)),
                text=" ".join(rng.sample(words, 3)),
                sought=rng.sample(kinds, 2),
            )
            for number in range(1, 200)
        )
    )
    template = TEMPLATES["consortium"]

    def proposed(focus: int) -> dict[tuple[int, ...], int]:
        return {c.listing_ids: c.score for c in template.propose(crowd, DEFAULTS, focus)}

    pruned = {focus: proposed(focus) for focus in crowd.listings}
    # Every anchor near the focus whose shortlist the focus's neighbourhood holds whole (the
    # others are grown by runs of their own: consortium.may_take).
    monkeypatch.setattr(
        consortium,
        "may_take",
        lambda snap, _, anchor, focus: (
            anchor.id == focus or sees_all_it_can_reach(anchor, snap.listings[focus])
        ),
    )
    assert sum(map(len, pruned.values())) > 20
    for focus, found in pruned.items():
        assert found == proposed(focus), focus


def test_an_offer_is_paired_on_its_own_as_a_full_run_pairs_it() -> None:
    """A full run pairs each need or challenge with its likeliest offers; an offer matched on
    its own (an incremental run) is paired with the needs and challenges that have it among
    theirs (pair.takers), not with its own likeliest ones: here, in one region and no scope
    beyond it, exactly the pairs of a full run that hold it."""
    import random

    rng = random.Random(5)
    themes = ["social-inclusion", "research-evaluation", "funding", "training-advice"]
    crowd = snapshot(
        *(
            view(
                number,
                rng.choice(["need", "need", "offer", "challenge"]),
                rng.randrange(1, 60),
                place=rng.choice(["liverpool", "birkenhead"]),
                scope=rng.choice(["local", "regional"]),
                themes=rng.sample(themes, rng.randrange(1, 3)),
                sought=["sse_organisation"],
            )
            for number in range(1, 160)
        )
    )
    pair = TEMPLATES["pair"]
    full = {c.listing_ids for c in pair.propose(crowd, DEFAULTS, None)}
    offers = [v for v in crowd.listings.values() if not v.asks]
    alone = {o.id: {c.listing_ids for c in pair.propose(crowd, DEFAULTS, o.id)} for o in offers}
    assert sum(map(len, alone.values())) > 100
    for offer in offers:
        assert alone[offer.id] == {ids for ids in full if offer.id in ids}, offer.id
