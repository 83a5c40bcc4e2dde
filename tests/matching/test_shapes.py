"""The consortium template (any shape, grown gap by gap) and the named shapes of São Paulo and
Tanger-Tetouan-Al Hoceima, on in-memory listings."""

from __future__ import annotations

from matchmaker.matching.explanations import Reader, render
from matchmaker.matching.roles import brought, called_for
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.templates import TEMPLATES
from matchmaker.matching.templates.base import Party
from tests.matching.helpers import snapshot, view

SETTINGS = MatchSettings(min_score=0)
READER = Reader(
    {
        "research-evaluation": "Research, evaluation and impact measurement",
        "funding": "Funding and investment (public, national, EU)",
        "social-inclusion": "Social and active inclusion",
    }
)
CONSORTIUM = TEMPLATES["consortium"]
SAO_PAULO = TEMPLATES["incubation_procurement"]
TANGER = TEMPLATES["territorial_platform"]


def _proposed(template, *views, focus=None):  # type: ignore[no-untyped-def]
    return list(template.propose(snapshot(*views), SETTINGS, focus))


def _ids(candidate):  # type: ignore[no-untyped-def]
    return [party.listing.id for party in candidate.parties]


def test_roles_come_from_kind_themes_and_offer_words() -> None:
    university = view(1, "offer", 1, "academic_institution", themes=["social-inclusion"])
    assert {"knowledge", "reach"} <= brought(university)
    fund = view(2, "offer", 2, "private_sector", themes=["social-inclusion"], text="Grants for")
    assert "finance" in brought(fund)
    assert "finance" not in brought(
        view(3, "offer", 3, "private_sector", themes=["social-inclusion"])
    )
    # A need calls for the roles of its themes and words, not those its own kind brings.
    city_need = view(4, "need", 4, "public_agency", themes=["policy-strategy", "funding"])
    assert called_for(city_need) == {"finance"}


def _consortium_world():  # type: ignore[no-untyped-def]
    """A need for evaluation, investors and reach to residents; a university, a funder and an
    NGO that each fill one of those and trade with each other (the university needs funding,
    the NGO evaluation); a second university that trades with nobody."""
    need = view(
        1,
        "need",
        1,
        "sse_organisation",
        themes=["research-evaluation", "funding", "social-inclusion"],
        text="We need an evaluation and investors for our programme with vulnerable residents",
    )
    university = view(2, "offer", 2, "academic_institution", themes=["research-evaluation"])
    funder = view(3, "offer", 3, "private_sector", themes=["funding"], text="Impact investment")
    ngo = view(4, "offer", 4, "civil_society", themes=["social-inclusion"])
    second_university = view(5, "offer", 5, "academic_institution", themes=["research-evaluation"])
    trades = [
        view(6, "need", 2, "academic_institution", themes=["funding"]),
        view(7, "need", 4, "civil_society", themes=["research-evaluation"]),
    ]
    return need, university, funder, ngo, second_university, trades


def test_consortium_adds_one_party_per_open_gap_and_says_which() -> None:
    need, university, funder, ngo, second, trades = _consortium_world()
    [candidate] = _proposed(CONSORTIUM, need, university, funder, ngo, second, *trades)
    # The anchor first, then, strongest first, each partner that filled something still open;
    # one university is enough (the second one would fill nothing new).
    assert _ids(candidate) == [1, 2, 4, 3]
    roles = [party.role for party in candidate.parties]
    assert roles == ["anchor", "knowledge", "reach", "finance"]
    reason = CONSORTIUM.coverage_sentence(candidate.coverage, READER)
    assert reason.startswith("Grown around the need of Org 1")
    assert "Org 2 fills the theme Research, evaluation and impact measurement" in reason
    assert "Org 3 fills the theme Funding and investment (public, national, EU)" in reason
    assert "Org 4 fills the theme Social and active inclusion" in reason
    snap = snapshot(need, university, funder, ngo, second, *trades)
    [bonus] = [
        line
        for line in render("consortium", candidate.explanation(snap, SETTINGS), READER)
        if line.rule == "role_coverage"
    ]
    assert bonus.reason == reason


def test_consortium_partners_trade_with_each_other_not_only_with_the_anchor() -> None:
    need, university, funder, ngo, second, trades = _consortium_world()
    # Without the university's need for funding, the funder joins nobody but the anchor.
    [candidate] = _proposed(CONSORTIUM, need, university, funder, ngo, second, trades[1])
    assert _ids(candidate) == [1, 2, 4]
    assert "Org 3" not in CONSORTIUM.coverage_sentence(candidate.coverage, READER)


def test_consortium_only_with_two_partners_or_more() -> None:
    need, university, _, _, _, trades = _consortium_world()
    alone = view(9, "offer", 9, "civil_society", themes=sorted(need.themes), text="research")
    assert _proposed(CONSORTIUM, need, alone, *trades) == []  # one partner fills it all: a pair
    assert _proposed(CONSORTIUM, need, university, *trades) == []


def test_consortium_keeps_the_hard_rules() -> None:
    need, university, funder, ngo, second, trades = _consortium_world()
    far_funder = view(3, "offer", 3, "private_sector", place="athens", themes=["funding"])
    proposed = _proposed(CONSORTIUM, need, university, far_funder, ngo, *trades)
    assert [_ids(c) for c in proposed] == [[1, 2, 4]]  # out of reach
    own_funder = view(3, "offer", 1, "private_sector", themes=["funding"])
    proposed = _proposed(CONSORTIUM, need, university, own_funder, ngo, *trades)
    assert [_ids(c) for c in proposed] == [[1, 2, 4]]  # the anchor's own organisation
    [candidate] = _proposed(CONSORTIUM, need, university, funder, ngo, *trades, focus=3)
    assert 3 in candidate.listing_ids
    assert _proposed(CONSORTIUM, need, university, funder, ngo, second, *trades, focus=5) == []


def test_consortium_build_refuses_a_partner_that_fills_nothing() -> None:
    need, university, funder, ngo, second, trades = _consortium_world()
    snap = snapshot(need, university, funder, ngo, second, *trades)
    parties = [Party(need, "anchor"), Party(university, "knowledge"), Party(funder, "finance")]
    assert CONSORTIUM.build(snap, SETTINGS, [*parties, Party(ngo, "reach")]) is not None
    assert CONSORTIUM.build(snap, SETTINGS, [*parties, Party(second, "knowledge")]) is None
    assert CONSORTIUM.build(snap, SETTINGS, [*parties[:2], Party(second, "knowledge")]) is None


def _sao_paulo():  # type: ignore[no-untyped-def]
    return [
        view(
            1,
            "challenge",
            1,
            "public_agency",
            place="saopaulo",
            scope="local",
            themes=["incubation-entrepreneurship", "market-access", "training-advice"],
            sought=["civil_society", "sse_organisation"],
        ),
        view(
            2,
            "offer",
            2,
            "civil_society",
            place="saopaulo",
            scope="local",
            themes=["incubation-entrepreneurship", "training-advice"],
        ),
        view(
            3,
            "need",
            3,
            "sse_organisation",
            place="saopaulo",
            scope="local",
            themes=["incubation-entrepreneurship", "market-access"],
        ),
        view(
            4,
            "need",
            4,
            "sse_organisation",
            place="saopaulo",
            scope="local",
            themes=["training-advice", "market-access"],
        ),
        view(5, "offer", 5, "public_agency", place="saopaulo", themes=["market-access"]),
    ]


def test_sao_paulo_shape_fills_its_slots() -> None:
    views = _sao_paulo()
    [candidate] = _proposed(SAO_PAULO, *views)
    roles = [(party.listing.id, party.role) for party in candidate.parties]
    # The two enterprises, in the order their ranking gives equals (snapshot.tie_order).
    assert roles[:2] == [(1, "municipality"), (2, "incubator")]
    assert sorted(roles[2:4]) == [(3, "sse_enterprise"), (4, "sse_enterprise")]
    assert roles[4] == (5, "public_buyer")
    sentence = SAO_PAULO.coverage_sentence(candidate.coverage, READER)
    assert sentence.startswith("Every role of the São Paulo model is filled around Org 1")
    assert "buys from SSE enterprises (public agency): Org 5" in sentence
    assert _proposed(SAO_PAULO, *views[:-1]) == []  # no public buyer, no São Paulo shape


def test_named_shape_build_checks_slots_and_order() -> None:
    views = _sao_paulo()
    snap = snapshot(*views)
    [candidate] = _proposed(SAO_PAULO, *views)
    parties = list(candidate.parties)
    assert SAO_PAULO.build(snap, SETTINGS, parties) is not None
    swapped = [parties[0], parties[4], *parties[1:4]]
    assert SAO_PAULO.build(snap, SETTINGS, swapped) is None
    wrong_kind = [*parties[:4], Party(views[1], "public_buyer")]
    assert SAO_PAULO.build(snap, SETTINGS, wrong_kind) is None


def test_tanger_shape_gathers_support_developers_and_policy() -> None:
    tanger = "saopaulo"  # any one region will do
    views = [
        view(
            1,
            "challenge",
            1,
            "public_agency",
            place=tanger,
            themes=["territorial-platforms", "information", "training-advice"],
            sought=["civil_society"],
        ),
        view(
            2, "offer", 2, "civil_society", place=tanger, themes=["training-advice", "information"]
        ),
        view(3, "need", 3, "sse_organisation", place=tanger, themes=["information", "funding"]),
        view(
            4, "offer", 4, "public_agency", place=tanger, themes=["policy-strategy", "information"]
        ),
    ]
    [candidate] = _proposed(TANGER, *views)
    assert [party.role for party in candidate.parties] == [
        "regional_authority",
        "support_organisation",
        "project_developer",
        "policy_body",
    ]
