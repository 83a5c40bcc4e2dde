"""knowledge_exchange_triad — the Liverpool model.

An SSE organisation or network, an academic institution and a public agency of the same
city-region, joined by needs and offers on research, knowledge exchange, policy, social
innovation or local wealth: the Social Enterprise Network, the Mayor's office and the
Heseltine Institute shaping the city-region's social economy together.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import product

from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot, theme_bits
from matchmaker.matching.templates.base import (
    Candidate,
    Link,
    Party,
    Template,
    links_in_reach,
    score_links,
)

THEMES = frozenset(
    {
        "research-evaluation",
        "knowledge-exchange",
        "policy-strategy",
        "social-innovation",
        "local-wealth",
    }
)
THEME_BITS = theme_bits(THEMES)
ROLE_OF_KIND = {
    "sse_organisation": "sse_partner",
    "academic_institution": "academic_partner",
    "public_agency": "public_partner",
}
# Per listing, how many neighbours of each other kind are tried as its partners.
NEIGHBOURS_PER_KIND = 3


def _linked(a: ListingView, b: ListingView) -> bool:
    return (
        a.asks
        and not b.asks
        and a.org_id != b.org_id
        and bool(a.theme_bits & b.theme_bits & THEME_BITS)
    )


def _links(views: Sequence[ListingView], ends: Sequence[ListingView] | None = None) -> list[Link]:
    """Need/challenge ↔ offer pairs among ``views`` that share one of the template's themes
    (with ``ends``, only the links that touch one of them)."""
    if ends is None:
        offers = [b for b in views if not b.asks]
        return [
            (a, b)
            for a in views
            if a.asks
            for b in offers
            if a.theme_bits & b.theme_bits & THEME_BITS and a.org_id != b.org_id
        ]
    links = []
    for a in ends:
        for b in views:
            if _linked(a, b):
                links.append((a, b))
            elif _linked(b, a):
                links.append((b, a))
    return links


class KnowledgeExchangeTriad(Template):
    name = "knowledge_exchange_triad"
    label = "Knowledge-exchange triad (Liverpool model)"
    description = (
        "An SSE organisation, an academic institution and a public agency of the same "
        "city-region, joined by needs and offers on research, knowledge exchange, policy, "
        "social innovation or local wealth."
    )
    roles = {
        "sse_partner": "brings practice (SSE organisation or network)",
        "academic_partner": "brings research and knowledge exchange (academic institution)",
        "public_partner": "brings policy and strategy (public agency)",
    }

    def propose(
        self, snapshot: Snapshot, settings: MatchSettings, focus: int | None
    ) -> Iterable[Candidate]:
        regions: dict[tuple[str, str], list[ListingView]] = defaultdict(list)
        focus_view = snapshot.listings.get(focus) if focus is not None else None
        if focus is not None and (focus_view is None or not self._eligible(focus_view)):
            return
        for view in snapshot.listings.values():
            in_focus = focus_view is None or view.region_key == focus_view.region_key
            if in_focus and self._eligible(view):
                regions[view.region_key].append(view)
        seen: set[tuple[int, ...]] = set()
        for views in regions.values():
            neighbours: dict[int, dict[str, list[ListingView]]] = defaultdict(
                lambda: defaultdict(list)
            )
            ends = None
            if focus_view is not None:
                # Triads with the focus listing: it is the centre, or a neighbour's neighbour.
                ends = [
                    focus_view,
                    *(v for v in views if _linked(v, focus_view) or _linked(focus_view, v)),
                ]
            for asker, giver in _links(views, ends):
                neighbours[asker.id][giver.org_kind].append(giver)
                neighbours[giver.id][asker.org_kind].append(asker)
            by_id = {view.id: view for view in views}
            for centre_id, groups in neighbours.items():
                centre = by_id[centre_id]
                others = [kind for kind in ROLE_OF_KIND if kind != centre.org_kind]
                firsts = heapq.nsmallest(
                    NEIGHBOURS_PER_KIND, groups.get(others[0], []), key=lambda v: v.id
                )
                seconds = heapq.nsmallest(
                    NEIGHBOURS_PER_KIND, groups.get(others[1], []), key=lambda v: v.id
                )
                for first, second in product(firsts, seconds):
                    trio = (centre, first, second)
                    key = tuple(sorted(v.id for v in trio))
                    if key in seen or (focus is not None and focus not in key):
                        continue
                    seen.add(key)
                    candidate = self.build(
                        snapshot, settings, [Party(v, ROLE_OF_KIND[v.org_kind]) for v in trio]
                    )
                    if candidate is not None:
                        yield candidate

    @staticmethod
    def _eligible(view: ListingView) -> bool:
        return view.org_kind in ROLE_OF_KIND and bool(view.themes & THEMES)

    def build(
        self, snapshot: Snapshot, settings: MatchSettings, parties: Sequence[Party]
    ) -> Candidate | None:
        views = [party.listing for party in parties]
        if len(views) != 3 or {v.org_kind for v in views} != set(ROLE_OF_KIND):
            return None
        if len({v.region_key for v in views}) != 1 or not all(v.themes & THEMES for v in views):
            return None
        links = _links(views)
        linked = {v.id for link in links for v in link}
        if len(links) < 2 or linked != {v.id for v in views} or not links_in_reach(links):
            return None
        coverage = (
            f"Every role of the Liverpool model is filled in {views[0].region}: an SSE "
            "organisation, an academic institution and a public agency."
        )
        score, _ = score_links(snapshot, settings, links, coverage_reason=coverage)
        ordered = sorted(views, key=lambda v: list(ROLE_OF_KIND).index(v.org_kind))
        return Candidate(
            self.name,
            tuple(Party(v, ROLE_OF_KIND[v.org_kind]) for v in ordered),
            score,
            tuple(links),
            coverage,
        )
