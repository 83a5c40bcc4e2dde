"""knowledge_exchange_triad — the Liverpool model.

An SSE organisation or network, an academic institution and a public agency of the same
city-region, joined by needs and offers on research, knowledge exchange, policy, social
innovation or local wealth: the Social Enterprise Network, the Mayor's office and the
Heseltine Institute shaping the city-region's social economy together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import product
from operator import attrgetter
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from matchmaker.core.i18n import gettext as _
from matchmaker.matching.rules import Params
from matchmaker.matching.scoring import Fractions, Link, scorer_for
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot, theme_bits, within_reach
from matchmaker.matching.templates.base import Candidate, Party, Template

if TYPE_CHECKING:
    from matchmaker.matching.explanations import Reader

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
ROLE_ORDER = {kind: order for order, kind in enumerate(ROLE_OF_KIND)}
_id = attrgetter("id")
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
    # An end that asks is linked to offers only, an end that offers to needs and challenges
    # only: each end is tried against the other side (in the order of ``views``).
    askers = [b for b in views if b.asks]
    offers = [b for b in views if not b.asks]
    links: list[Link] = []
    for a in ends:
        if a.asks:
            links += [(a, b) for b in offers if _linked(a, b)]
        else:
            links += [(b, a) for b in askers if _linked(b, a)]
    return links


class KnowledgeExchangeTriad(Template):
    name = "knowledge_exchange_triad"
    label = _l("Knowledge-exchange triad (Liverpool model)")
    description = _l(
        "An SSE organisation, an academic institution and a public agency of the same "
        "city-region, joined by needs and offers on research, knowledge exchange, policy, "
        "social innovation or local wealth."
    )
    roles = {
        "sse_partner": _l("brings practice (SSE organisation or network)"),
        "academic_partner": _l("brings research and knowledge exchange (academic institution)"),
        "public_partner": _l("brings policy and strategy (public agency)"),
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
        for views in regions.values():
            # A trio and its links lie in one region: what is found for one is freed after it.
            seen: set[tuple[int, ...]] = set()
            assemble = self._assembler(snapshot, settings)
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
                # The lowest ids: a neighbour has a few partners, so a sort beats a heap.
                firsts = sorted(groups.get(others[0], ()), key=_id)[:NEIGHBOURS_PER_KIND]
                seconds = sorted(groups.get(others[1], ()), key=_id)[:NEIGHBOURS_PER_KIND]
                for first, second in product(firsts, seconds):
                    key = tuple(sorted((centre.id, first.id, second.id)))
                    if key in seen or (focus is not None and focus not in key):
                        continue
                    seen.add(key)
                    # Valid by construction: three kinds, one region, the template's themes,
                    # and the centre linked to both others.
                    candidate = assemble((centre, first, second), key)
                    if candidate is not None:
                        yield candidate

    def coverage_sentence(self, params: Params, reader: Reader) -> str:
        return _(
            "Every role of the Liverpool model is filled in %(region)s: an SSE organisation, an "
            "academic institution and a public agency.",
            region=params["region"],
        )

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
        candidate = self._assembler(snapshot, settings)(views, tuple(sorted(v.id for v in views)))
        if candidate is None:
            return None
        linked = {v.id for link in candidate.links for v in link}
        if len(candidate.links) < 2 or linked != {v.id for v in views}:
            return None
        return candidate

    def _assembler(
        self, snapshot: Snapshot, settings: MatchSettings
    ) -> Callable[[Sequence[ListingView], tuple[int, ...]], Candidate | None]:
        """Scores valid trios. Many trios share a link (a centre with three neighbours of
        each kind makes nine): each link's reach and rule fractions are found once, and each
        listing's party and each region's coverage are made once, for all the trios made with
        it (those of one region)."""
        scorer = scorer_for(settings, multi=True)
        known: dict[int, tuple[Link, bool, Fractions]] = {}
        parties: dict[int, Party] = {}
        coverage_in: dict[tuple[str, str], Params] = {}

        def assemble(views: Sequence[ListingView], key: tuple[int, ...]) -> Candidate | None:
            links, fractions = [], []
            # In the order of _links(views), which the explanation keeps: needs and challenges
            # in the order of ``views``, each with the offers in that order.
            givers = [view for view in views if not view.asks]
            for asker in views:
                if not asker.asks:
                    continue
                for giver in givers:
                    if not _linked(asker, giver):
                        continue
                    link_key = asker.id << 32 | giver.id
                    link = known.get(link_key)
                    if link is None:
                        # The rules only for a link within reach: a trio with one out of
                        # reach is not proposed (at 50k listings, half the trios tried).
                        reach = within_reach(asker, giver)
                        link = known[link_key] = (
                            (asker, giver),
                            reach,
                            scorer.fractions(snapshot, asker, giver) if reach else (),
                        )
                    if not link[1]:
                        return None
                    links.append(link[0])
                    fractions.append(link[2])
            coverage = coverage_in.get(views[0].region_key)
            if coverage is None:
                coverage = coverage_in[views[0].region_key] = {"region": views[0].region}
            ordered = sorted(views, key=lambda v: ROLE_ORDER[v.org_kind])
            return Candidate(
                self.name,
                tuple(
                    parties.get(v.id)
                    or parties.setdefault(v.id, Party(v, ROLE_OF_KIND[v.org_kind]))
                    for v in ordered
                ),
                scorer.score(fractions),
                tuple(links),
                coverage,
                tuple(fractions),
                _listing_ids=key,
            )

        return assemble
