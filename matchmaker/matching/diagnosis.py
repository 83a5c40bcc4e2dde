"""Why a listing has no proposal yet, in words its owner can act on.

Request-sized: only the live listings of the other side that share a theme with the listing are
loaded (one theme-index query, then their views), and each is judged by the same hard rule the
templates use (``within_reach``) and scored by the pair template with the current settings.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from matchmaker.listings.models import Listing, ListingKind, listing_themes
from matchmaker.matching.scoring import scorer_for
from matchmaker.matching.settings import MatchSettings, load_settings
from matchmaker.matching.snapshot import (
    ListingView,
    Snapshot,
    _org_profiles,
    _views,
    distance,
    theme_counts,
    within_reach,
)
from matchmaker.matching.templates.base import Party
from matchmaker.matching.templates.pair import PairTemplate

logger = logging.getLogger(__name__)

SUGGESTIONS = 3


class NoMatchReason(enum.StrEnum):
    NOT_LIVE = "not_live"  # the listing itself is closed, paused, expired or unverified
    NO_CANDIDATES = "no_candidates"  # nobody on the other side shares a theme
    OUT_OF_SCOPE = "out_of_scope"  # some share a theme, none within both scopes
    BELOW_MIN_SCORE = "below_min_score"  # some within reach, all scored below the minimum
    TAKEN = "taken"  # qualifying partners exist, already proposed, rejected or declined


@dataclass
class Diagnosis:
    reason: NoMatchReason
    in_scope: int = 0  # live listings of the other side sharing a theme, within reach
    beyond_scope: int = 0  # the same, outside either listing's scope
    qualifying: int = 0  # within reach and scoring at least the minimum
    min_score: int = 0
    best_score: int | None = None
    # The nearest listings beyond the scope (ids, nearest and most shared themes first).
    suggestions: list[int] = field(default_factory=list)


def diagnose(listing: Listing) -> Diagnosis:
    """Why ``listing`` has no proposal: the first hard rule or threshold that stops every
    candidate."""
    settings = load_settings()
    focus = _views(Listing.id == listing.id).get(listing.id)
    if focus is None:
        return Diagnosis(NoMatchReason.NOT_LIVE, min_score=settings.min_score)
    other_side = (
        Listing.kind != ListingKind.OFFER
        if listing.kind == ListingKind.OFFER
        else Listing.kind == ListingKind.OFFER
    )
    sharing = (
        sa.select(listing_themes.c.listing_id)
        .join(Listing, Listing.id == listing_themes.c.listing_id)
        .where(
            listing_themes.c.theme_id.in_([theme.id for theme in listing.themes]),
            other_side,
            Listing.organisation_id != listing.organisation_id,
        )
    )
    views = _views(Listing.id.in_(sharing))
    inside = [v for v in views.values() if within_reach(focus, v)]
    outside = [v for v in views.values() if not within_reach(focus, v)]
    suggestions = [
        v.id
        for v in sorted(
            outside, key=lambda v: (distance(focus, v), -len(focus.themes & v.themes), v.id)
        )[:SUGGESTIONS]
    ]
    diagnosis = Diagnosis(
        NoMatchReason.NO_CANDIDATES,
        in_scope=len(inside),
        beyond_scope=len(outside),
        min_score=settings.min_score,
        suggestions=suggestions,
    )
    if not views:
        return diagnosis
    if not inside:
        diagnosis.reason = NoMatchReason.OUT_OF_SCOPE
        return diagnosis
    scores = _pair_scores(focus, inside, settings)
    diagnosis.best_score = max(scores, default=None)
    diagnosis.qualifying = sum(score >= settings.min_score for score in scores)
    diagnosis.reason = (
        NoMatchReason.TAKEN if diagnosis.qualifying else NoMatchReason.BELOW_MIN_SCORE
    )
    return diagnosis


def _small_snapshot(views: list[ListingView]) -> Snapshot:
    """A snapshot of just these listings, with the rarity of themes counted over all."""
    listings = {view.id: view for view in views}
    asks, offers = _org_profiles({view.org_id for view in listings.values()})
    counts, total = theme_counts()
    return Snapshot(listings, counts, total, asks, offers)


def _pair_scores(
    focus: ListingView, others: list[ListingView], settings: MatchSettings
) -> list[int]:
    """The pair template's score of ``focus`` with each of ``others`` (the matcher's own rules)."""
    snapshot = _small_snapshot([focus, *others])
    pair = PairTemplate()
    scores = []
    for other in others:
        candidate = pair.build(
            snapshot,
            settings,
            [Party(focus, focus.kind), Party(other, other.kind)],
        )
        if candidate is not None:
            scores.append(candidate.score)
    return scores


@dataclass
class PairScore:
    score: int
    explanation: list[dict[str, Any]]  # stored form (see matching/explanations.py)


def score_pair(first: Listing, second: Listing) -> PairScore | None:
    """The rules' score and explanation of two live listings as a pair, hard rules aside (for
    an introduction a member asked for): None when it is no pair the rules can score (both
    ask or both offer, or one is not live)."""
    views = _views(Listing.id.in_([first.id, second.id]))
    if first.id not in views or second.id not in views:
        return None
    a, b = views[first.id], views[second.id]
    if a.asks == b.asks:
        return None
    asker, giver = (a, b) if a.asks else (b, a)
    snapshot = _small_snapshot([asker, giver])
    scorer = scorer_for(load_settings())
    return PairScore(
        scorer.score([scorer.fractions(snapshot, asker, giver)]),
        scorer.explain(snapshot, [(asker, giver)]),
    )
