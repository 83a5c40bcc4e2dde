"""From the rules' fractions to points: the one place a score is computed.

Weights are relative. The points a proposal can earn (100, or less for a multi-party proposal
that keeps room for the template's bonus) are shared among the rules in proportion to their
weights, in whole points that add up exactly (:func:`apportion`). A rule then gives its share
times how much it fired; in a multi-party proposal, times how much it fired on average over the
proposal's links. The score is the sum of the points, and the explanation lists the same points,
so they always agree.

Templates use it like this::

    scorer = scorer_for(settings, multi=True)        # once per run (cached)
    fractions = scorer.fractions(snapshot, asker, giver)  # once per link
    score = scorer.score([fractions, ...])           # a candidate's score
    explanation = scorer.explain(snapshot, links, coverage)  # only for what is kept

where ``coverage`` holds the parameters of the template's ``coverage_sentence``.

``score_links`` does the last two in one call, for templates that need no shortcut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import mul
from typing import Any

from matchmaker.matching.rules import RULES, Params, Rule
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot

Link = tuple[ListingView, ListingView]  # (need or challenge, offer)
Fractions = tuple[float, ...]  # how much each rule fired on one link, 0..1


def apportion(room: int, weights: Sequence[int]) -> tuple[int, ...]:
    """``room`` whole points shared in proportion to ``weights`` (largest remainder first, then
    the earlier rule): they add up to ``room`` exactly, so a score never passes it."""
    total = sum(weights)
    if not total or room <= 0:
        return tuple(0 for _ in weights)
    exact = [room * weight / total for weight in weights]
    shares = [int(value) for value in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for index in by_remainder[: room - sum(shares)]:
        shares[index] += 1
    return tuple(shares)


@dataclass(frozen=True)
class Scorer:
    """The rules that count under some settings, with the most points each can give."""

    rules: tuple[Rule, ...]
    most: tuple[int, ...]
    multi: bool  # a multi-party proposal: rules averaged over its links, plus the bonus
    bonus: int  # the template's points for filling every role

    def fractions(self, snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Fractions:
        return tuple([rule.score(snapshot, asker, giver) for rule in self.rules])

    def points(self, fractions: Sequence[Fractions]) -> tuple[int, ...]:
        """Each rule's points: its share times its mean fraction over the links."""
        count = len(fractions)
        return tuple(
            [
                round(most * sum(column) / count)
                for most, column in zip(self.most, zip(*fractions, strict=True), strict=True)
            ]
        )

    def score(self, fractions: Sequence[Fractions]) -> int:
        return self.score_of(self.points(fractions))

    def score_of(self, points: Sequence[int]) -> int:
        """The score that the rules' ``points`` make."""
        return sum(points) + self.bonus

    def link_points(self, fractions: Fractions) -> tuple[int, ...]:
        """``points([fractions])``, each rule's points on one link (a pair), without averaging
        over the links: a full run scores hundreds of thousands of them."""
        return tuple(map(round, map(mul, self.most, fractions)))

    def explain(
        self,
        snapshot: Snapshot,
        links: Sequence[Link],
        coverage: Params | None = None,
        *,
        fractions: Sequence[Fractions] | None = None,
        points: Sequence[int] | None = None,
    ) -> list[dict[str, Any]]:
        """Each rule that gave points, with the parameters its sentence needs (see
        matching/explanations.py for the stored form). ``fractions``: how the rules fired on
        each link, and ``points``: each rule's points, where the score already found them (a
        pair needs only its points)."""
        if fractions is None and (points is None or self.multi):
            fractions = [self.fractions(snapshot, asker, giver) for asker, giver in links]
        if points is None:
            assert fractions is not None
            points = self.points(fractions)
        explanation: list[dict[str, Any]] = []
        for index, (rule, given) in enumerate(zip(self.rules, points, strict=True)):
            if given <= 0:
                continue
            if not self.multi:
                params = rule.params(snapshot, *links[0])
                explanation.append({"rule": rule.name, "points": given, "params": params})
                continue
            explanation.append(
                {
                    "rule": rule.name,
                    "points": given,
                    "links": [
                        {
                            "asker": asker.org_name,
                            "giver": giver.org_name,
                            "params": rule.params(snapshot, asker, giver),
                        }
                        for (asker, giver), fraction in zip(links, fractions or (), strict=True)
                        if fraction[index]
                    ],
                }
            )
        if self.multi and self.bonus:
            explanation.append(
                {"rule": "role_coverage", "points": self.bonus, "params": coverage or {}}
            )
        return explanation


@lru_cache(maxsize=32)
def scorer_for(settings: MatchSettings, *, multi: bool = False) -> Scorer:
    """The scorer of a pair, or of a multi-party proposal (``multi``), which keeps
    ``settings.role_coverage`` points for the template's bonus."""
    bonus = settings.role_coverage if multi else 0
    weighted = [(RULES[name], weight) for name, weight in settings.weights if weight > 0]
    most = apportion(100 - bonus, [weight for _, weight in weighted])
    return Scorer(tuple(rule for rule, _ in weighted), most, multi, bonus)


def score_links(
    snapshot: Snapshot,
    settings: MatchSettings,
    links: Sequence[Link],
    *,
    coverage: Params | None = None,
) -> int:
    """The score of a pair (one link, no coverage) or of a multi-party proposal."""
    scorer = scorer_for(settings, multi=coverage is not None)
    return scorer.score([scorer.fractions(snapshot, asker, giver) for asker, giver in links])
