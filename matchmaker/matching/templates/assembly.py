"""What the partnership shapes (named_shapes.py) and the consortium (consortium.py) share: the
links among a set of parties, the hard rules every multi-party proposal keeps, and its score.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from matchmaker.matching.related import linked
from matchmaker.matching.rules import Params
from matchmaker.matching.scoring import Fractions, Link, scorer_for
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot, within_reach
from matchmaker.matching.templates.base import Candidate, Party

MOST_PARTIES = 6


def grow_around(
    snapshot: Snapshot,
    focus: int | None,
    is_anchor: Callable[[ListingView], bool],
    anchor_themes: Callable[[ListingView], Iterable[str]],
    grow: Callable[[ListingView], Candidate | None],
    also: Callable[[ListingView], Iterable[ListingView]] = lambda _focus: (),
) -> Iterator[Candidate]:
    """The partnership ``grow`` makes around each anchor; with ``focus`` (an incremental run),
    only those that include it, grown from the focus itself, from the anchors near it that
    share one of ``anchor_themes(focus)``, and from those of ``also(focus)``."""
    if focus is None:
        anchors: Iterable[ListingView] = (v for v in snapshot.listings.values() if is_anchor(v))
    else:
        focus_view = snapshot.listings[focus]
        near = snapshot.near(focus_view, anchor_themes(focus_view), asks=True)
        more = [v for v in also(focus_view) if v not in near]
        anchors = [v for v in [focus_view, *near, *more] if is_anchor(v)]
    for anchor in anchors:
        candidate = grow(anchor)
        if candidate is not None and (focus is None or focus in candidate.listing_ids):
            yield candidate


def links_among(snapshot: Snapshot, views: Sequence[ListingView]) -> list[Link]:
    """Every need or challenge and offer among ``views`` that share a theme, of two
    organisations within reach of each other, or that are related without one
    (matching/related.py): in the order of ``views``."""
    return [
        (asker, giver)
        for asker in views
        if asker.asks
        for giver in views
        if linked(snapshot, asker, giver)
    ]


def connected(views: Sequence[ListingView], links: Sequence[Link]) -> bool:
    """Every party is joined to the first through the links."""
    reached = {views[0].id}
    grew = True
    while grew:
        grew = False
        for asker, giver in links:
            if (asker.id in reached) != (giver.id in reached):
                reached.update((asker.id, giver.id))
                grew = True
    return len(reached) == len(views)


def assemble(
    template: str,
    snapshot: Snapshot,
    settings: MatchSettings,
    parties: Sequence[Party],
    coverage: Params,
    known: Mapping[int, Fractions] | None = None,
) -> Candidate | None:
    """The candidate of ``parties`` (the anchor first), if they keep the hard rules of a
    multi-party proposal: at most six organisations, each once, each within reach of the anchor,
    all joined by needs and offers. ``known``: how the rules fire on the anchor's link to an
    offer, by the offer's id, where already found."""
    views = [party.listing for party in parties]
    if not 3 <= len(views) <= MOST_PARTIES or len({v.org_id for v in views}) != len(views):
        return None
    anchor = views[0]
    if not all(within_reach(anchor, other) for other in views[1:]):
        return None
    links = links_among(snapshot, views)
    if not links or not connected(views, links):
        return None
    scorer = scorer_for(settings, multi=True)
    known = known or {}
    fractions = [
        known[giver.id]
        if asker is anchor and giver.id in known
        else scorer.fractions(snapshot, asker, giver)
        for asker, giver in links
    ]
    return Candidate(
        template, tuple(parties), scorer.score(fractions), tuple(links), coverage, tuple(fractions)
    )
