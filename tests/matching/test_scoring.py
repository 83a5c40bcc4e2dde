"""The one place a score is computed: relative weights shared out as whole points."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matchmaker.matching import rules as rules_module
from matchmaker.matching.explanations import Reader, render
from matchmaker.matching.rules import RULES, Rule
from matchmaker.matching.scoring import apportion, scorer_for
from matchmaker.matching.settings import DEFAULTS, MatchSettings
from matchmaker.matching.templates import TEMPLATES
from tests.matching.helpers import snapshot, view


@given(st.integers(0, 100), st.lists(st.integers(0, 100), min_size=1, max_size=12))
def test_shares_add_up_to_the_room_in_proportion(room: int, weights: list[int]) -> None:
    shares = apportion(room, weights)
    assert sum(shares) == (room if any(weights) else 0)
    total = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - room * weight / (total or 1)) < 1


def test_default_shares_are_the_declared_weights() -> None:
    assert scorer_for(DEFAULTS).most == tuple(rule.weight for rule in RULES.values())


def test_weights_are_relative() -> None:
    need = view(1, "need", 1, themes=("funding", "training-advice"), text="cooperative kitchens")
    offer = view(
        2, "offer", 2, "public_agency", themes=("funding",), text="kitchens for cooperatives"
    )
    snap = snapshot(need, offer)
    doubled = MatchSettings.of(**{name: 2 * rule.weight for name, rule in RULES.items()})
    [a] = TEMPLATES["pair"].propose(snap, DEFAULTS, None)
    [b] = TEMPLATES["pair"].propose(snap, doubled, None)
    assert a.score == b.score
    assert a.explanation(snap, DEFAULTS) == b.explanation(snap, doubled)


def test_a_new_rule_is_one_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    # A rule nobody rebalanced for: the score stays out of 100 and the explanation adds up.
    same_kind = Rule(
        "same_kind",
        50,
        "Peers",  # type: ignore[arg-type]
        lambda snap, a, g: 1.0 if a.org_kind == g.org_kind else 0.0,
        lambda snap, a, g: {"kind": a.org_kind},
        lambda p, reader: f"Both are of kind {reader.kind(p['kind'])}.",
    )
    monkeypatch.setitem(rules_module.RULES, "same_kind", same_kind)
    chosen = replace(DEFAULTS, weights=(*DEFAULTS.weights, ("same_kind", 50)))
    need = view(1, "need", 1, themes=("funding",))
    offer = view(2, "offer", 2, themes=("funding",))
    snap = snapshot(need, offer)
    [candidate] = TEMPLATES["pair"].propose(snap, chosen, None)
    explanation = candidate.explanation(snap, chosen)
    assert 0 < candidate.score <= 100
    assert sum(item["points"] for item in explanation) == candidate.score
    assert scorer_for(chosen).most[-1] == 33  # a third: 50 of the 150 weights
    [line] = [line for line in render("pair", explanation, Reader({})) if line.rule == "same_kind"]
    assert line.reason == "Both are of kind SSE organisation."


@given(
    st.lists(st.floats(0, 1), min_size=len(RULES), max_size=len(RULES)),
    st.sampled_from([DEFAULTS, MatchSettings.of(shared_themes=3, mutual=0, proximity=40)]),
)
def test_a_links_score_is_the_plain_score_of_that_one_link(
    fractions: list[float], settings: MatchSettings
) -> None:
    # Scorer.link_points skips the averaging over links that a single link does not need.
    scorer = scorer_for(settings)
    mine = tuple(fractions[: len(scorer.rules)])
    assert scorer.link_points(mine) == scorer.points([mine])
    assert scorer.score_of(scorer.link_points(mine)) == scorer.score([mine])
