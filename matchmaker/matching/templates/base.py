"""What every template shares: parties, candidates, and scoring a set of links with the rules.

A template is a small declarative definition (its name, roles and themes) with two methods:
``propose`` suggests combinations of listings, ``build`` checks a combination against the
template's own requirements and scores it. The engine never needs to know more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

from matchmaker.matching.rules import PAIR_RULES, PairReason, PairRule
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot, within_reach


class Party(NamedTuple):
    listing: ListingView
    role: str


Link = tuple[ListingView, ListingView]  # (need or challenge, offer)


@dataclass(slots=True)
class Candidate:
    template: str
    parties: tuple[Party, ...]
    score: int
    links: tuple[Link, ...] = ()
    coverage_reason: str | None = None
    _explanation: list[dict[str, Any]] | None = None
    _fingerprint: str | None = None
    _listing_ids: tuple[int, ...] | None = None

    def explanation(self, snapshot: Snapshot, settings: MatchSettings) -> list[dict[str, Any]]:
        """Each rule that fired, its points and why (written on demand: only for proposals
        that are kept)."""
        if self._explanation is None:
            score, self._explanation = score_links(
                snapshot, settings, self.links, coverage_reason=self.coverage_reason, explain=True
            )
            assert score == self.score
        return self._explanation

    def forget_explanation(self) -> None:
        """Free the written explanation once it is stored."""
        self._explanation = None

    @property
    def written_explanation(self) -> list[dict[str, Any]]:
        """The explanation already written by :meth:`explanation`."""
        if self._explanation is None:
            raise RuntimeError("explanation() was not called for this candidate")
        return self._explanation

    @property
    def listing_ids(self) -> tuple[int, ...]:
        if self._listing_ids is None:
            self._listing_ids = tuple(sorted(party.listing.id for party in self.parties))
        return self._listing_ids

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.template, self.listing_ids)
        return self._fingerprint


def fingerprint(template: str, listing_ids: Iterable[int]) -> str:
    return f"{template}:{'-'.join(str(i) for i in sorted(listing_ids))}"


def short(view: ListingView) -> str:
    return view.org_name


Rules = tuple[tuple[str, PairRule, PairReason, float], ...]  # name, rule, reason, weight


@lru_cache(maxsize=16)
def weighted_rules(settings: MatchSettings, room: int = 100) -> Rules:
    """The pair rules that count, each with its weight scaled so that all of them together
    give at most ``room`` points."""
    scale = min(1.0, room / settings.pair_total) if settings.pair_total else 0.0
    return tuple(
        (name, *PAIR_RULES[name], weight * scale) for name, weight in settings.pair_weights
    )


def score_links(
    snapshot: Snapshot,
    settings: MatchSettings,
    links: Sequence[Link],
    *,
    coverage_reason: str | None = None,
    explain: bool = False,
) -> tuple[int, list[dict[str, Any]]]:
    """The score of a combination and (with ``explain``) its explanation, rule by rule.

    A pair has one link. A multi-party combination averages each rule over its links and
    scales the pair rules down to leave room for the role-coverage bonus, so the score stays
    within 0..100 and the explanation's points add up to it exactly.
    """
    multi = coverage_reason is not None
    rules = weighted_rules(settings, 100 - settings.role_coverage if multi else 100)
    explanation: list[dict[str, Any]] = []
    score = 0
    if len(links) == 1:
        asker, giver = links[0]
        for name, rule, reason, weight in rules:
            fraction = rule(snapshot, asker, giver)
            points = round(weight * fraction) if fraction else 0
            if points <= 0:
                continue
            score += points
            if explain:
                text = reason(snapshot, asker, giver)
                if multi:
                    text = f"{short(asker)} ↔ {short(giver)}: {text}"
                explanation.append({"rule": name, "points": points, "reason": text})
    else:
        for name, rule, reason, weight in rules:
            fractions = [rule(snapshot, asker, giver) for asker, giver in links]
            points = round(weight * sum(fractions) / len(links))
            if points <= 0:
                continue
            score += points
            if explain:
                text = " ".join(
                    f"{short(a)} ↔ {short(g)}: {reason(snapshot, a, g)}"
                    for (a, g), fraction in zip(links, fractions, strict=True)
                    if fraction
                )
                explanation.append({"rule": name, "points": points, "reason": text})
    if multi and settings.role_coverage:
        score += settings.role_coverage
        if explain:
            explanation.append(
                {
                    "rule": "role_coverage",
                    "points": settings.role_coverage,
                    "reason": coverage_reason,
                }
            )
    return score, explanation


def score_pair(
    snapshot: Snapshot,
    rules: Rules,
    asker: ListingView,
    giver: ListingView,
) -> int:
    """The score :func:`score_links` gives one link under ``rules`` (``weighted_rules(settings)``,
    looked up once by the caller), without writing any explanation: the matcher's inner loop.
    Candidate.explanation() checks that both agree."""
    score = 0
    for _name, rule, _reason, weight in rules:
        fraction = rule(snapshot, asker, giver)
        if fraction:
            score += round(weight * fraction)
    return score


def link_fractions(
    snapshot: Snapshot, rules: Rules, asker: ListingView, giver: ListingView
) -> tuple[float, ...]:
    """How much of its weight each of ``rules`` gives one link (a multi-party template
    computes this once for a link that many of its combinations share)."""
    return tuple(rule(snapshot, asker, giver) for _name, rule, _reason, _weight in rules)


def combined_score(rules: Rules, fractions: Sequence[tuple[float, ...]], bonus: int) -> int:
    """The score :func:`score_links` gives a multi-party combination of several links, from
    each link's :func:`link_fractions`, without writing any explanation (the same arithmetic,
    in the same order). Candidate.explanation() checks that both agree."""
    count = len(fractions)
    score = 0
    for index, (_name, _rule, _reason, weight) in enumerate(rules):
        points = round(weight * sum(f[index] for f in fractions) / count)
        if points > 0:
            score += points
    return score + bonus


def links_in_reach(links: Sequence[Link]) -> bool:
    return all(within_reach(asker, giver) for asker, giver in links)


class Template:
    """Base for templates. Subclasses set the class attributes and implement two methods."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    roles: ClassVar[dict[str, str]]  # role → a sentence a coordinator can read

    def propose(
        self, snapshot: Snapshot, settings: MatchSettings, focus: int | None
    ) -> Iterable[Candidate]:
        """Candidates worth scoring (with ``focus``, only those that include that listing)."""
        raise NotImplementedError

    def build(
        self, snapshot: Snapshot, settings: MatchSettings, parties: Sequence[Party]
    ) -> Candidate | None:
        """Score ``parties`` if they satisfy the template, else None."""
        raise NotImplementedError
