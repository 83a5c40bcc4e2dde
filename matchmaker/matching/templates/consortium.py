"""consortium — a partnership of any shape, grown around one need or challenge (its anchor).

The anchor leaves gaps open: each of its themes, each kind of partner a challenge seeks, and
each role its themes and words call for (knowledge, finance, market, support, policy, delivery,
reach: the table in matching/roles.py). From the offers the pair template shortlists for the
anchor, partners join one at a time, the strongest first (their score with the anchor), each
only if it fills a gap still open and, after the first, trades with a partner already in (one
needs a theme the other offers): real partnerships are webs of exchange, not a star around one
need. Growth stops when every gap is filled, at six parties, or when nobody fills what is open.
A consortium needs two partners at least, and is not proposed where one offer alone fills every
gap (that is a pair). The explanation says, partner by partner, which gaps it filled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from matchmaker.core.i18n import format_list, ngettext, semicolon
from matchmaker.core.i18n import gettext as _
from matchmaker.matching.affinity import affinity
from matchmaker.matching.related import linked, related_listings
from matchmaker.matching.roles import ROLES, ROLES_BY_NAME, brought, called_for
from matchmaker.matching.rules import Params
from matchmaker.matching.scoring import Fractions, scorer_for
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot
from matchmaker.matching.templates.assembly import MOST_PARTIES, assemble, grow_around
from matchmaker.matching.templates.base import Candidate, Party, Template
from matchmaker.matching.templates.pair import likeliest, sees_all_it_can_reach, shortlist

if TYPE_CHECKING:
    from matchmaker.matching.explanations import Reader

# Each partner, with the anchor, scores at least the minimum score plus this.
PARTNER_MARGIN = -10
# A partner that trades with none of the others joins when it shares this much vocabulary
# with them on average (a cosine, matching/affinity.py).
COHESION = 0.12

Gap = tuple[str, str]  # ("theme", slug) | ("kind", organisation kind) | ("role", role name)
ROLE_ORDER = [role.name for role in ROLES]


def gaps(anchor: ListingView) -> list[Gap]:
    """What the anchor leaves open, in a fixed order."""
    roles = called_for(anchor)
    return (
        [("theme", theme) for theme in sorted(anchor.themes)]
        + [("kind", kind) for kind in sorted(anchor.sought)]
        + [("role", name) for name in ROLE_ORDER if name in roles]
    )


def fillable(snapshot: Snapshot, view: ListingView) -> frozenset[Gap]:
    """Every gap an offer could fill: its themes, its kind and the roles it brings (found once
    per listing and run)."""
    known: dict[int, frozenset[Gap]] = snapshot.scratch.setdefault(("fillable",), {})
    found = known.get(view.id)
    if found is None:
        found = frozenset(
            [("theme", theme) for theme in view.themes]
            + [("kind", view.org_kind)]
            + [("role", name) for name in brought(view)]
        )
        # Offers share a few thousand of these among tens of thousands: one set for each.
        same: dict[frozenset[Gap], frozenset[Gap]] = snapshot.scratch.setdefault(
            ("fillable sets",), {}
        )
        found = known[view.id] = same.setdefault(found, found)
    return found


def fills(snapshot: Snapshot, view: ListingView, open_gaps: Sequence[Gap]) -> list[Gap]:
    """The gaps of ``open_gaps`` that ``view`` fills, in their order."""
    mine = fillable(snapshot, view)
    return [gap for gap in open_gaps if gap in mine]


def _joins(snapshot: Snapshot, view: ListingView, parties: Sequence[Party]) -> bool:
    """A partner joins the partnership, not only the anchor: a new organisation, and (after the
    first partner) one that needs a theme a partner offers, or offers a theme a partner needs,
    in any of their listings, or that speaks of the same things as the parties so far (their
    mean shared vocabulary, matching/affinity.py). Real partnerships are webs of exchange and
    of shared purpose."""
    if any(view.org_id == party.listing.org_id for party in parties):
        return False
    if len(parties) < 2:
        return True
    asks, offers = snapshot.org_asks, snapshot.org_offers
    mine_asked, mine_offered = asks.get(view.org_id, set()), offers.get(view.org_id, set())
    if any(
        not mine_asked.isdisjoint(offers.get(party.listing.org_id, ()))
        or not mine_offered.isdisjoint(asks.get(party.listing.org_id, ()))
        for party in parties[1:]
    ):
        return True
    return cohesion(snapshot, view.org_id, [party.listing.org_id for party in parties]) >= COHESION


def cohesion(snapshot: Snapshot, org_id: int, others: Sequence[int]) -> float:
    """The mean shared vocabulary of an organisation with ``others``."""
    return sum(affinity(snapshot, org_id, other) for other in others) / len(others)


def role_of(filled: Sequence[Gap]) -> str:
    """A partner's role: the first role gap it fills, else what else it fills first."""
    for kind, value in filled:
        if kind == "role":
            return value
    return "sought_partner" if any(kind == "kind" for kind, _ in filled) else "theme_partner"


def may_take(snapshot: Snapshot, settings: MatchSettings, anchor: ListingView, focus: int) -> bool:
    """Whether the consortium around ``anchor`` can hold the listing ``focus``: it is the
    anchor, or among the offers the anchor's consortium is grown from (its shortlist's, without
    scoring them). An incremental run grows only those: in a dense city an offer is near
    hundreds of needs, and is among the likeliest partners of few.

    Only around an anchor whose shortlist the focus offer's neighbourhood holds whole (of its
    region, looking no farther: pair.sees_all_it_can_reach). One that looks farther, or lies
    beyond the region, is grown by a run of its own, on its own neighbourhood, when it counts
    the offer among its likeliest partners (engine._farther_takers): grown here, from offers
    the neighbourhood happens to hold, it made consortia a full run did not."""
    if anchor.id == focus:
        return True
    return sees_all_it_can_reach(anchor, snapshot.listings[focus]) and any(
        view.id == focus for view in likeliest(snapshot, settings, anchor)
    )


class Consortium(Template):
    name = "consortium"
    label = _l("Consortium (any shape)")
    description = _l(
        "A partnership grown around one need or challenge: each partner fills a theme, a kind "
        "of partner sought or a role that the others leave open, up to six parties."
    )
    roles = {"anchor": _l("the need or challenge the partnership grows around")} | {
        role.name: role.brings for role in ROLES
    }
    roles |= {
        "sought_partner": _l("is of a kind the challenge seeks"),
        "theme_partner": _l("covers a theme of the anchor"),
    }

    def propose(
        self, snapshot: Snapshot, settings: MatchSettings, focus: int | None
    ) -> Iterable[Candidate]:
        # Partners offer: a focus need is in no consortium but its own.
        return grow_around(
            snapshot,
            focus,
            lambda view: view.asks,
            lambda view: () if view.asks else view.themes,
            lambda anchor: (
                self._grow(snapshot, settings, anchor)
                if focus is None or may_take(snapshot, settings, anchor, focus)
                else None
            ),
            # An offer may also join the consortium of a need it is related to.
            lambda view: () if view.asks else related_listings(snapshot, view),
        )

    def _grow(
        self, snapshot: Snapshot, settings: MatchSettings, anchor: ListingView
    ) -> Candidate | None:
        open_gaps = gaps(anchor)
        if len(open_gaps) < 2:
            return None
        # The consortium runs after the pair template, the other user of the shortlist.
        near = shortlist(snapshot, settings, anchor, last=True)
        if any(fillable(snapshot, view).issuperset(open_gaps) for view, _, _ in near):
            return None  # one partner covers the anchor: a pair, not a consortium
        least = settings.min_score + PARTNER_MARGIN
        known = {
            view.id: (fractions, score) for view, fractions, (score, _) in near if score >= least
        }
        if len(known) < 2:
            return None
        # The strongest first; among equals, the likeliest (the order of nearest()).
        tried = sorted(known, key=lambda listing_id: -known[listing_id][1])
        parties = [Party(anchor, "anchor")]
        while open_gaps and len(parties) < MOST_PARTIES:
            for listing_id in tried:  # the strongest partner that fills something open
                view = snapshot.listings[listing_id]
                filled = fills(snapshot, view, open_gaps)
                if filled and _joins(snapshot, view, parties):
                    parties.append(Party(view, role_of(filled)))
                    open_gaps = [gap for gap in open_gaps if gap not in filled]
                    break
            else:
                break  # nobody near fills what is still open
        if len(parties) < 3:
            return None
        return self._checked(snapshot, settings, parties, known)

    def build(
        self, snapshot: Snapshot, settings: MatchSettings, parties: Sequence[Party]
    ) -> Candidate | None:
        if not parties or parties[0].role != "anchor" or not parties[0].listing.asks:
            return None
        anchor, scorer = parties[0].listing, scorer_for(settings)
        known = {}
        for party in parties[1:]:
            fractions = scorer.fractions(snapshot, anchor, party.listing)
            known[party.listing.id] = (fractions, scorer.score([fractions]))
        return self._checked(snapshot, settings, parties, known)

    def _checked(
        self,
        snapshot: Snapshot,
        settings: MatchSettings,
        parties: Sequence[Party],
        known: dict[int, tuple[Fractions, int]],
    ) -> Candidate | None:
        """The candidate of ``parties`` if each partner, in turn, fills a gap left open, joins
        the partners before it and scores enough with the anchor (``known``: how the rules
        fire on its link with the anchor, and its pair score)."""
        anchor = parties[0].listing
        open_gaps = gaps(anchor)
        least = settings.min_score + PARTNER_MARGIN
        partners: list[Params] = []
        for number, party in enumerate(parties[1:], start=1):
            view = party.listing
            if not linked(snapshot, anchor, view) or known[view.id][1] < least:
                return None
            if not _joins(snapshot, view, parties[:number]):
                return None
            filled = fills(snapshot, view, open_gaps)
            if not filled or party.role != role_of(filled):
                return None  # each partner fills a gap the ones before it left open
            open_gaps = [gap for gap in open_gaps if gap not in filled]
            partners.append(
                {
                    "name": view.org_name,
                    "themes": [value for kind, value in filled if kind == "theme"],
                    "kinds": [value for kind, value in filled if kind == "kind"],
                    "roles": [value for kind, value in filled if kind == "role"],
                }
            )
        coverage = {"anchor": anchor.org_name, "kind": anchor.kind, "partners": partners}
        fractions = {listing_id: fractions for listing_id, (fractions, _) in known.items()}
        return assemble(self.name, snapshot, settings, parties, coverage, fractions)

    def coverage_sentence(self, params: Params, reader: Reader) -> str:
        said = semicolon().join(
            _("%(name)s fills %(gaps)s", name=partner["name"], gaps=_filled(partner, reader))
            for partner in params["partners"]
        )
        if params["kind"] == "challenge":
            return _(
                "Grown around the challenge of %(anchor)s, each partner filling what the others "
                "left open: %(partners)s.",
                anchor=params["anchor"],
                partners=said,
            )
        return _(
            "Grown around the need of %(anchor)s, each partner filling what the others left "
            "open: %(partners)s.",
            anchor=params["anchor"],
            partners=said,
        )


def _filled(partner: Params, reader: Reader) -> str:
    parts = []
    if partner["themes"]:
        parts.append(
            ngettext(
                "the theme %(themes)s",
                "the themes %(themes)s",
                len(partner["themes"]),
                themes=reader.themes(partner["themes"]),
            )
        )
    if partner["kinds"]:
        kinds = format_list(reader.kind(kind) for kind in partner["kinds"])
        parts.append(_("the kind of partner sought (%(kinds)s)", kinds=kinds))
    for name in partner["roles"]:
        parts.append(str(ROLES_BY_NAME[name].brings))
    return format_list(parts)
