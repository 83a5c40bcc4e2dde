"""pair: an open need or challenge, and an open offer of another organisation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from matchmaker.matching.scoring import Scorer, scorer_for
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot
from matchmaker.matching.templates.base import Candidate, Party, Template, links_in_reach


class PairTemplate(Template):
    name = "pair"
    label = "Pair"
    description = "One need or challenge, and an offer of another organisation."
    roles = {"asker": "posted the need or challenge", "offer": "posted the offer"}
    # How many partners of each listing get the full set of rules (a multiple of the cap).
    shortlist_factor = 2

    def propose(
        self, snapshot: Snapshot, settings: MatchSettings, focus: int | None
    ) -> Iterable[Candidate]:
        shortlist = settings.max_proposals_per_listing * self.shortlist_factor
        if focus is None:
            sources = [v for v in snapshot.listings.values() if v.asks]
        else:
            sources = [snapshot.listings[focus]]
        scorer = scorer_for(settings)
        parties: dict[int, Party] = {}  # one per listing, shared by its candidates
        for source in sources:
            # The likeliest partners (shared themes, then nearness) get the full set of rules.
            others = snapshot.nearest(source, source.themes, asks=not source.asks, limit=shortlist)
            for other in others:
                # From the index: other side, another organisation, a shared theme, in reach.
                asker, giver = (source, other) if source.asks else (other, source)
                yield self._candidate(snapshot, scorer, asker, giver, parties)

    def _candidate(
        self,
        snapshot: Snapshot,
        scorer: Scorer,
        asker: ListingView,
        giver: ListingView,
        parties: dict[int, Party] | None = None,
    ) -> Candidate:
        parties = {} if parties is None else parties
        asking = parties.get(asker.id) or parties.setdefault(asker.id, Party(asker, asker.kind))
        offering = parties.get(giver.id) or parties.setdefault(giver.id, Party(giver, "offer"))
        return Candidate(
            self.name,
            (asking, offering),
            scorer.score([scorer.fractions(snapshot, asker, giver)]),
            ((asker, giver),),
            _listing_ids=(asker.id, giver.id) if asker.id < giver.id else (giver.id, asker.id),
        )

    def _score(
        self, snapshot: Snapshot, settings: MatchSettings, asker: ListingView, giver: ListingView
    ) -> Candidate | None:
        if not asker.asks or giver.asks or asker.org_id == giver.org_id:
            return None
        if not asker.themes & giver.themes or not links_in_reach([(asker, giver)]):
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
