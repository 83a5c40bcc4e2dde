"""pair: an open need or challenge, and an open offer of another organisation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask_babel import lazy_gettext as _l

from matchmaker.matching.related import linked, related_listings
from matchmaker.matching.scoring import Fractions, Scorer, scorer_for
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot
from matchmaker.matching.templates.base import Candidate, Party, Template

# How many partners of each listing get the full set of rules (a multiple of the cap).
SHORTLIST_FACTOR = 2


def shortlist(
    snapshot: Snapshot, settings: MatchSettings, asker: ListingView
) -> list[tuple[ListingView, Fractions, int]]:
    """The likeliest offers for a need or challenge (the most shared themes, then the nearest:
    from the index, so of another organisation, sharing a theme, within reach; then the most
    related of those that share no theme, matching/related.py), each with how much each rule
    fires on the link and its pair score. Found once per run and kept in the snapshot: the
    consortium grows from the same offers."""
    known = snapshot.scratch.setdefault(("shortlist", settings), {})
    found: list[tuple[ListingView, Fractions, int]] | None = known.get(asker.id)
    if found is None:
        scorer = scorer_for(settings)
        found = known[asker.id] = [
            (giver, fractions, scorer.link_score(fractions))
            for giver in partners(snapshot, settings, asker)
            for fractions in [scorer.fractions(snapshot, asker, giver)]
        ]
    return found


def partners(snapshot: Snapshot, settings: MatchSettings, view: ListingView) -> list[ListingView]:
    """The likeliest listings of the other side for ``view``: those sharing the most themes,
    nearest first, then those related to it without a shared theme, most related first."""
    limit = settings.max_proposals_per_listing * SHORTLIST_FACTOR
    return snapshot.nearest(view, view.themes, asks=not view.asks, limit=limit) + (
        related_listings(snapshot, view, limit)
    )


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
                for giver, fractions, score in shortlist(snapshot, settings, source):
                    yield self._candidate(
                        snapshot, scorer, source, giver, parties, (fractions, score)
                    )
                continue
            for asker in partners(snapshot, settings, source):
                yield self._candidate(snapshot, scorer, asker, source, parties)

    def _candidate(
        self,
        snapshot: Snapshot,
        scorer: Scorer,
        asker: ListingView,
        giver: ListingView,
        parties: dict[int, Party] | None = None,
        scored: tuple[Fractions, int] | None = None,
    ) -> Candidate:
        parties = {} if parties is None else parties
        asking = parties.get(asker.id) or parties.setdefault(asker.id, Party(asker, asker.kind))
        offering = parties.get(giver.id) or parties.setdefault(giver.id, Party(giver, "offer"))
        if scored is None:
            fractions = scorer.fractions(snapshot, asker, giver)
            scored = fractions, scorer.link_score(fractions)
        return Candidate(
            self.name,
            (asking, offering),
            scored[1],
            fractions=(scored[0],),
            _listing_ids=(asker.id, giver.id) if asker.id < giver.id else (giver.id, asker.id),
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
