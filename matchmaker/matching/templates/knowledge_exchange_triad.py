"""knowledge_exchange_triad — the Liverpool model.

An SSE organisation or network, an academic institution and a public agency of the same
city-region, joined by needs and offers on research, knowledge exchange, policy, social
innovation or local wealth: the Social Enterprise Network, the Mayor's office and the
Heseltine Institute shaping the city-region's social economy together.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice, product
from operator import attrgetter
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from matchmaker.core.i18n import gettext as _
from matchmaker.matching.rules import Params
from matchmaker.matching.scoring import Fractions, Link, scorer_for
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import (
    ListingView,
    Snapshot,
    pair_key,
    theme_bits,
    within_reach,
)
from matchmaker.matching.templates.base import Candidate, Held, Party, Template

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


def _role_order(view: ListingView) -> int:
    return ROLE_ORDER[view.org_kind]


def _linked(a: ListingView, b: ListingView) -> bool:
    return (
        a.asks
        and not b.asks
        and a.org_id != b.org_id
        and bool(a.theme_bits & b.theme_bits & THEME_BITS)
    )


def _partner_index(views: Iterable[ListingView]) -> dict[tuple[bool, str, str], list[ListingView]]:
    """(asks, organisation kind, theme of the template) → the listings of ``views`` of that side
    and kind that carry that theme, in id order: each listing's partners are read from it, not
    found by trying every need against every offer of a region (thousands in a dense city)."""
    index: dict[tuple[bool, str, str], list[ListingView]] = defaultdict(list)
    for view in sorted(views, key=_id):
        for theme in view.themes & THEMES:
            index[(view.asks, view.org_kind, theme)].append(view)
    return index


def _partners(
    index: dict[tuple[bool, str, str], list[ListingView]], view: ListingView, kind: str
) -> Iterator[ListingView]:
    """The listings of organisations of ``kind`` linked to ``view`` (of the other side, sharing
    a theme of the template, of another organisation), lowest id first, each once: read as far
    as the caller needs."""
    lists = [index.get((not view.asks, kind, theme), []) for theme in view.themes & THEMES]
    previous: ListingView | None = None
    # A listing under two of the themes comes twice, one after the other (ids are unique).
    for other in heapq.merge(*lists, key=_id):
        if other is not previous and other.org_id != view.org_id:
            yield other
        previous = other


def _all_partners(
    index: dict[tuple[bool, str, str], list[ListingView]], view: ListingView, kind: str
) -> list[ListingView]:
    """Every listing of an organisation of ``kind`` linked to ``view``, in id order."""
    return list(_partners(index, view, kind))


def _lowest_partners(
    index: dict[tuple[bool, str, str], list[ListingView]], view: ListingView, kind: str
) -> list[ListingView]:
    """The ``NEIGHBOURS_PER_KIND`` partners of ``kind`` of ``view`` with the lowest ids: those a
    trio around ``view`` is made with."""
    return list(islice(_partners(index, view, kind), NEIGHBOURS_PER_KIND))


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
            index = _partner_index(views)
            centres: Iterable[ListingView] = views
            if focus_view is not None:
                # Triads with the focus listing: it is the centre, or one of the lowest
                # partners of a centre it is linked to.
                centres = [
                    focus_view,
                    *(
                        centre
                        for kind in ROLE_OF_KIND
                        if kind != focus_view.org_kind
                        for centre in _all_partners(index, focus_view, kind)
                        if focus_view in _lowest_partners(index, centre, focus_view.org_kind)
                    ),
                ]
            for centre in centres:
                others = [kind for kind in ROLE_OF_KIND if kind != centre.org_kind]
                firsts = _lowest_partners(index, centre, others[0])
                seconds = _lowest_partners(index, centre, others[1]) if firsts else []
                for first, second in product(firsts, seconds):
                    key = tuple(sorted((centre.id, first.id, second.id)))
                    if key in seen or (focus is not None and focus not in key):
                        continue
                    seen.add(key)
                    # Valid by construction: three kinds, one region, the template's themes,
                    # and the centre linked to both others. Assembled in the order of the
                    # roles, whichever listing was the centre: the same trio always reads
                    # the same (and as build() makes it).
                    trio = sorted((centre, first, second), key=_role_order)
                    candidate = assemble(trio, key)
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

    def hold(self, snapshot: Snapshot, candidate: Candidate) -> Held:
        """Its score and its links' rule fractions: its parties, links and coverage follow from
        its three listings (see :meth:`restore`). A full run at 50k dense listings holds over a
        hundred thousand trios until they are ranked."""
        return candidate.score, candidate.fractions

    def restore(self, snapshot: Snapshot, listing_ids: tuple[int, ...], held: Held) -> Candidate:
        """The trio as the assembler made it: its listings in the order of the roles, its links
        in that order (each need or challenge with the offers linked to it)."""
        views = sorted(
            (snapshot.listings[listing_id] for listing_id in listing_ids), key=_role_order
        )
        givers = [view for view in views if not view.asks]
        links = [
            (asker, giver)
            for asker in views
            if asker.asks
            for giver in givers
            if _linked(asker, giver)
        ]
        score, fractions = held
        return Candidate(
            self.name,
            tuple(Party(view, ROLE_OF_KIND[view.org_kind]) for view in views),
            score,
            tuple(links),
            {"region": views[0].region},
            fractions,
            _listing_ids=listing_ids,
        )

    def first_listing(self, snapshot: Snapshot, listing_ids: tuple[int, ...], held: Held) -> int:
        """The listing of the first role's party (the SSE organisation's), without restoring
        the trio: the engine asks it of every trio held."""
        return min(
            (snapshot.listings[listing_id] for listing_id in listing_ids), key=_role_order
        ).id

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
            # The explanation keeps the links in this order: needs and challenges in the order
            # of ``views`` (the roles'), each with the offers in that order.
            givers = [view for view in views if not view.asks]
            for asker in views:
                if not asker.asks:
                    continue
                for giver in givers:
                    if not _linked(asker, giver):
                        continue
                    link_key = pair_key(asker.id, giver.id)
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
            if not links:
                # A trio proposed earlier whose listings were edited since may have none left
                # (build() refuses it below two); no score is made of no links.
                return None
            coverage = coverage_in.get(views[0].region_key)
            if coverage is None:
                coverage = coverage_in[views[0].region_key] = {"region": views[0].region}
            ordered = sorted(views, key=_role_order)
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
