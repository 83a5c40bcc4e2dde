"""What every template shares: parties and candidates.

A template is a small declarative definition (its name, roles and themes) with two methods:
``propose`` suggests combinations of listings, ``build`` checks a combination against the
template's own requirements and scores it (with matching/scoring.py; a multi-party template
also says, in ``coverage_sentence``, why its parties fill its roles). The engine never needs to
know more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from matchmaker.matching.rules import Params
from matchmaker.matching.scoring import Fractions, Link, scorer_for
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot, within_reach

if TYPE_CHECKING:
    from matchmaker.matching.explanations import Reader


class Party(NamedTuple):
    listing: ListingView
    role: str


@dataclass(slots=True)
class Candidate:
    template: str
    parties: tuple[Party, ...]
    score: int
    # The needs and offers that score it; a pair's one link is its two parties (see links).
    _links: tuple[Link, ...] = ()
    # A multi-party candidate: the parameters of its template's coverage_sentence.
    coverage: Params | None = None
    # How much each rule fired on each link, as found for the score (the explanation reuses it).
    fractions: tuple[Fractions, ...] | None = None
    # Each rule's points, as found for the score: all a pair's explanation needs of its rules.
    points: tuple[int, ...] | None = None
    _explanation: list[dict[str, Any]] | None = None
    _fingerprint: str | None = None
    _listing_ids: tuple[int, ...] | None = None

    @property
    def links(self) -> tuple[Link, ...]:
        """The (need or challenge, offer) links its score averages over. A pair's is made from
        its parties when asked, not held: a full run holds hundreds of thousands of pairs."""
        if self._links or len(self.parties) != 2:
            return self._links
        return ((self.parties[0].listing, self.parties[1].listing),)

    def explanation(self, snapshot: Snapshot, settings: MatchSettings) -> list[dict[str, Any]]:
        """Each rule that fired, its points and why (written on demand: only for proposals
        that are kept), written once and kept (a run compares it with the stored one, then
        stores it)."""
        if self._explanation is None:
            self._explanation = self.write_explanation(snapshot, settings)
        return self._explanation

    def write_explanation(
        self, snapshot: Snapshot, settings: MatchSettings
    ) -> list[dict[str, Any]]:
        """:meth:`explanation`, written anew and not kept: a full run writes tens of thousands,
        each stored as soon as it is written (engine.apply)."""
        scorer = scorer_for(settings, multi=self.coverage is not None)
        return scorer.explain(
            snapshot, self.links, self.coverage, fractions=self.fractions, points=self.points
        )

    @property
    def written_explanation(self) -> list[dict[str, Any]]:
        """The explanation already written by :meth:`explanation`."""
        if self._explanation is None:
            raise RuntimeError("explanation() was not called for this candidate")
        return self._explanation

    @property
    def listing_ids(self) -> tuple[int, ...]:
        if self._listing_ids is None:
            self._listing_ids = tuple(sorted(party.listing.id for party in self.parties))
        return self._listing_ids

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.template, self.listing_ids)
        return self._fingerprint


# What the engine holds of a qualifying candidate until the candidates are ranked: its score,
# then what its template restores it from (Template.hold, Template.restore).
Held = tuple[int, Any]


def fingerprint(template: str, listing_ids: Iterable[int]) -> str:
    return f"{template}:{'-'.join(str(i) for i in sorted(listing_ids))}"


def links_in_reach(links: Sequence[Link]) -> bool:
    return all(within_reach(asker, giver) for asker, giver in links)


class Template:
    """Base for templates. Subclasses set the class attributes and implement two methods."""

    name: ClassVar[str]
    label: ClassVar[Any]  # lazily translated: str() in the reader's language
    description: ClassVar[Any]
    roles: ClassVar[dict[str, Any]]  # role → what the party brings, in the reader's language

    def coverage_sentence(self, params: Params, reader: Reader) -> str:
        """Why a multi-party candidate earns the role-coverage bonus, from the ``coverage``
        parameters it was built with (rendered when read, in the reader's language)."""
        raise NotImplementedError

    def propose(
        self, snapshot: Snapshot, settings: MatchSettings, focus: int | None
    ) -> Iterable[Candidate]:
        """Candidates worth scoring (with ``focus``, only those that include that listing)."""
        raise NotImplementedError

    def build(
        self, snapshot: Snapshot, settings: MatchSettings, parties: Sequence[Party]
    ) -> Candidate | None:
        """Score ``parties`` if they satisfy the template, else None."""
        raise NotImplementedError

    def hold(self, snapshot: Snapshot, candidate: Candidate) -> Held:
        """What the engine keeps of a qualifying candidate until every candidate is scored and
        ranked (a full run holds hundreds of thousands): its score, and by default the
        candidate itself. A template that proposes many keeps less (see the pair's)."""
        return candidate.score, candidate

    def restore(self, snapshot: Snapshot, listing_ids: tuple[int, ...], held: Held) -> Candidate:
        """The candidate of ``listing_ids`` (sorted) from what :meth:`hold` kept of it."""
        candidate: Candidate = held[1]
        return candidate

    def first_listing(self, snapshot: Snapshot, listing_ids: tuple[int, ...], held: Held) -> int:
        """The id of the first party's listing of the candidate of ``listing_ids`` (what it is
        built around), from what :meth:`hold` kept of it. A template that restores at a cost
        finds it more cheaply (see the triad's)."""
        return self.restore(snapshot, listing_ids, held).parties[0].listing.id
