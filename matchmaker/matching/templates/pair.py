"""pair: an open need or challenge, and an open offer of another organisation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask_babel import lazy_gettext as _l

from matchmaker.matching.related import linked, related_listings
from matchmaker.matching.scoring import Fractions, Scorer, scorer_for
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import REGION, ListingView, Snapshot
from matchmaker.matching.templates.base import Candidate, Held, Party, Template

# How many partners of each listing get the full set of rules (a multiple of the cap).
SHORTLIST_FACTOR = 2


# A pair's score and each rule's points in it (see scored()).
Scored = tuple[int, tuple[int, ...]]


def shortlist(
    snapshot: Snapshot, settings: MatchSettings, asker: ListingView, *, last: bool = False
) -> list[tuple[ListingView, Fractions, Scored]]:
    """The likeliest offers for a need or challenge (the most shared themes, then the nearest:
    from the index, so of another organisation, sharing a theme, within reach; then the most
    related of those that share no theme, matching/related.py), each with how much each rule
    fires on the link, and its pair score with each rule's points. Found once per run and kept
    in the snapshot: the consortium grows from the same offers. ``last``: no later template
    asks for it, so it is not kept (a full run's shortlists are the largest thing it holds
    while proposing)."""
    known = snapshot.scratch.setdefault(("shortlist", settings), {})
    found: list[tuple[ListingView, Fractions, Scored]] | None = (
        known.pop(asker.id, None) if last else known.get(asker.id)
    )
    if found is None:
        scorer = scorer_for(settings)
        found = [
            (giver, fractions, scored(snapshot, scorer, fractions))
            for giver in partners(snapshot, settings, asker)
            for fractions in [scorer.fractions(snapshot, asker, giver)]
        ]
        if not last:
            known[asker.id] = found
    return found


def _scored_ways(snapshot: Snapshot) -> dict[tuple[int, ...], Scored]:
    """This run's (score, points) tuples by their points: see :func:`scored`."""
    ways: dict[tuple[int, ...], Scored] = snapshot.scratch.setdefault(("pair points",), {})
    return ways


def scored(snapshot: Snapshot, scorer: Scorer, fractions: Fractions) -> Scored:
    """The pair score of a link and each rule's points in it. The rules' points fall in a few
    thousand ways over the hundreds of thousands of pairs of a full run, each held until the
    pairs are ranked: one tuple for each way, shared by the pairs that score it."""
    points = scorer.link_points(fractions)
    known = _scored_ways(snapshot)
    found = known.get(points)
    if found is None:
        found = known[points] = (scorer.score_of(points), points)
    return found


def partners(snapshot: Snapshot, settings: MatchSettings, view: ListingView) -> list[ListingView]:
    """The likeliest listings of the other side for ``view``: those sharing the most themes,
    nearest first, then those related to it without a shared theme, most related first."""
    limit = settings.max_proposals_per_listing * SHORTLIST_FACTOR
    return snapshot.nearest(view, view.themes, asks=not view.asks, limit=limit) + (
        related_listings(snapshot, view, limit)
    )


def likeliest(snapshot: Snapshot, settings: MatchSettings, view: ListingView) -> list[ListingView]:
    """:func:`partners`, kept for the rest of the run: an incremental run asks it of the same
    needs for the pair and the consortium (a full run asks it once per need, through
    :func:`shortlist`, and does not keep it)."""
    known = snapshot.scratch.setdefault(("partners", settings), {})
    found: list[ListingView] | None = known.get(view.id)
    if found is None:
        found = known[view.id] = partners(snapshot, settings, view)
    return found


# Snapshot.memo key: the needs and challenges beyond what an offer's neighbourhood holds whole
# that its run found count it among their likeliest partners (engine._farther_takers).
FARTHER_TAKERS = ("farther takers",)


def takers(snapshot: Snapshot, settings: MatchSettings, offer: ListingView) -> list[ListingView]:
    """The needs and challenges an offer is paired with when it is matched on its own: those a
    full run pairs it with, which have it among their likeliest partners (a full run pairs each
    need or challenge with its shortlist). An incremental run's neighbourhood holds everything
    a need or challenge of the offer's region can reach if it looks no farther than the region:
    those, read from their likeliest partners. One that looks farther, or lies beyond the
    region, weighs offers the neighbourhood does not hold: the run reads its own neighbourhood
    first and leaves its answer in the snapshot's memo (FARTHER_TAKERS). In order of id."""
    askers = {
        asker.id: asker
        for asker in [
            *snapshot.near(offer, offer.themes, asks=True),
            *related_listings(snapshot, offer),
        ]
        if sees_all_it_can_reach(asker, offer)
        and any(view.id == offer.id for view in likeliest(snapshot, settings, asker))
    }
    farther: list[int] = snapshot.memo.get(FARTHER_TAKERS, [])
    askers.update((asker_id, snapshot.listings[asker_id]) for asker_id in farther)
    return [askers[key] for key in sorted(askers)]


def farther_takers(snapshot: Snapshot, settings: MatchSettings, offer: ListingView) -> list[int]:
    """The needs and challenges that may take an offer but weigh offers its neighbourhood does
    not hold (they look farther than its region, or lie beyond it): those of its own likeliest
    ones with whom it scores at least the minimum, to be asked on their own neighbourhood
    (engine._farther_takers)."""
    scorer = scorer_for(settings)
    return sorted(
        asker.id
        for asker in likeliest(snapshot, settings, offer)
        if not sees_all_it_can_reach(asker, offer)
        and scored(snapshot, scorer, scorer.fractions(snapshot, asker, offer))[0]
        >= settings.min_score
    )


def sees_all_it_can_reach(asker: ListingView, offer: ListingView) -> bool:
    """Whether an offer's neighbourhood holds every offer ``asker`` can reach: it is of the
    offer's region (which the neighbourhood holds whole) and looks no farther."""
    return asker.region_key == offer.region_key and asker.scope <= REGION


class PairTemplate(Template):
    name = "pair"
    label = _l("Pair")
    description = _l("One need or challenge, and an offer of another organisation.")
    # The asking party's role is its listing's kind (see propose()).
    roles = {
        "need": _l("posted the need"),
        "challenge": _l("posted the challenge"),
        "offer": _l("posted the offer"),
    }

    def propose(
        self, snapshot: Snapshot, settings: MatchSettings, focus: int | None
    ) -> Iterable[Candidate]:
        if focus is None:
            sources = [v for v in snapshot.listings.values() if v.asks]
        else:
            sources = [snapshot.listings[focus]]
        scorer = scorer_for(settings)
        parties: dict[int, Party] = {}  # one per listing, shared by its candidates
        for source in sources:
            if source.asks:
                for giver, fractions, points in shortlist(snapshot, settings, source):
                    yield self._candidate(
                        snapshot, scorer, source, giver, parties, (fractions, points)
                    )
                continue
            for asker in takers(snapshot, settings, source):
                yield self._candidate(snapshot, scorer, asker, source, parties)

    def _candidate(
        self,
        snapshot: Snapshot,
        scorer: Scorer,
        asker: ListingView,
        giver: ListingView,
        parties: dict[int, Party] | None = None,
        found: tuple[Fractions, Scored] | None = None,
    ) -> Candidate:
        parties = {} if parties is None else parties
        asking = parties.get(asker.id) or parties.setdefault(asker.id, Party(asker, asker.kind))
        offering = parties.get(giver.id) or parties.setdefault(giver.id, Party(giver, "offer"))
        if found is None:
            fractions = scorer.fractions(snapshot, asker, giver)
            found = fractions, scored(snapshot, scorer, fractions)
        fractions, (score, points) = found
        return Candidate(
            self.name,
            (asking, offering),
            score,
            fractions=(fractions,),
            points=points,
            _listing_ids=(asker.id, giver.id) if asker.id < giver.id else (giver.id, asker.id),
        )

    def hold(self, snapshot: Snapshot, candidate: Candidate) -> Held:
        """Its score and each rule's points (the tuple scored() shares): the two listings are
        in the engine's key, and their parties and explanation follow from these."""
        if candidate.points is None:
            raise ValueError("a pair candidate carries its rules' points")
        return _scored_ways(snapshot).get(candidate.points) or (candidate.score, candidate.points)

    def restore(self, snapshot: Snapshot, listing_ids: tuple[int, ...], held: Held) -> Candidate:
        first, second = (snapshot.listings[listing_id] for listing_id in listing_ids)
        asker, giver = (first, second) if first.asks else (second, first)
        score, points = held
        return Candidate(
            self.name,
            (Party(asker, asker.kind), Party(giver, "offer")),
            score,
            points=points,
            _listing_ids=listing_ids,
        )

    def _score(
        self, snapshot: Snapshot, settings: MatchSettings, asker: ListingView, giver: ListingView
    ) -> Candidate | None:
        if not linked(snapshot, asker, giver):
            return None
        return self._candidate(snapshot, scorer_for(settings), asker, giver)

    def build(
        self, snapshot: Snapshot, settings: MatchSettings, parties: Sequence[Party]
    ) -> Candidate | None:
        if len(parties) != 2:
            return None
        first, second = (party.listing for party in parties)
        asker, giver = (first, second) if first.asks else (second, first)
        return self._score(snapshot, settings, asker, giver)
