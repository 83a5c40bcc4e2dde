"""Why a listing has no proposal yet, in words its owner can act on.

Request-sized: only the live listings of the other side that share a theme with the listing are
loaded (one theme-index query, then their views), and each is judged by the same hard rule the
templates use (``within_reach``) and scored by the pair template with the current settings.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

import sqlalchemy as sa

from matchmaker.listings.models import Listing, ListingKind, listing_themes
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


def _pair_scores(
    focus: ListingView, others: list[ListingView], settings: MatchSettings
) -> list[int]:
    """The pair template's score of ``focus`` with each of ``others`` (the matcher's own rules)."""
    listings = {view.id: view for view in [focus, *others]}
    asks, offers = _org_profiles({view.org_id for view in listings.values()})
    counts, total = theme_counts()
    snapshot = Snapshot(listings, counts, total, asks, offers)
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
