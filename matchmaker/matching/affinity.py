"""How much two organisations speak of the same things: the cosine of their word profiles.

An organisation's profile is the set of significant words (core/words.py: Snowball stems in
each text's language) of its name, its description and its live listings, each word weighted
by how rare it is among all listings (inverse document frequency, from ``word_counts``), so
that a word every listing uses says little and a word two organisations alone use says much. Real
partners name the same programme, the same people concerned, the same activity; plausible
strangers in the same place share the themes but rarely the words.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from itertools import islice
from operator import attrgetter
from typing import TYPE_CHECKING

from matchmaker.core.words import whole_words
from matchmaker.matching.snapshot import either_way_key, pair_key

if TYPE_CHECKING:
    from matchmaker.matching.snapshot import ListingView, Snapshot

Profile = dict[str, float]  # stem → weight; the weights' squares add up to 1


def profile(snapshot: Snapshot, org_id: int) -> Profile:
    """An organisation's profile, made the first time a rule asks for it (an incremental run
    needs those of a few of its neighbourhood's organisations, not all)."""
    found: dict[int, Profile] = snapshot.memo.setdefault(("profiles",), {})
    weights = found.get(org_id)
    if weights is None:
        idf = rarity(snapshot)
        weights = {stem: weight for stem in _words(snapshot, org_id) if (weight := idf(stem)) > 0}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        weights = found[org_id] = {stem: w / norm for stem, w in weights.items()}
    return weights


def _words(snapshot: Snapshot, org_id: int) -> set[str]:
    """The words of an organisation: its name and description, then its listings' (those of
    the snapshot in its order, then, where the snapshot holds only some, all the others')."""
    words: set[str] = set()
    for view in _views_by_organisation(snapshot).get(org_id, ()):
        if not words:
            words.update(view.org_words)
        words.update(view.words)
    if snapshot.org_listing_words is not None:
        words.update(snapshot.org_listing_words.get(org_id, ()))
    return words


def rarity(snapshot: Snapshot) -> Callable[[str], float]:
    """A word's weight: the inverse document frequency of the listings that use it, among
    every listing ever posted (``word_counts``, the same for full and incremental runs)."""
    idf: Callable[[str], float] | None = snapshot.memo.get(("rarity",))
    if idf is None:
        idf = snapshot.memo[("rarity",)] = _rarity(snapshot)
    return idf


class _Rarities(dict[str, float]):
    """Each word's weight, worked out the first time it is asked for: the organisations'
    profiles share most of their words."""

    def __init__(self, counts: Mapping[str, int], total: int) -> None:
        super().__init__()
        self.counts, self.total = counts, total

    def __missing__(self, stem: str) -> float:
        weight = self[stem] = math.log((self.total + 1) / (self.counts.get(stem, 0) + 1))
        return weight


def _rarity(snapshot: Snapshot) -> Callable[[str], float]:
    counts = snapshot.word_counts
    total = snapshot.total_live
    if counts is None:  # a snapshot built in memory: its own listings are the platform
        counts = Counter(stem for view in snapshot.listings.values() for stem in view.words)
        total = len(snapshot.listings)
    # A dictionary's own lookup: also a key that sorts words in C (heaviest_shared_stems).
    return _Rarities(counts, total).__getitem__


def affinity(snapshot: Snapshot, first: int, second: int) -> float:
    """The cosine (0..1) of two organisations' profiles."""
    known: dict[int, float] = snapshot.scratch.setdefault(("affinity",), {})
    key = either_way_key(first, second)
    value = known.get(key)
    if value is None:
        a, b = profile(snapshot, first), profile(snapshot, second)
        # Only the shared words add to the cosine: intersect the keys first. A list, not a
        # generator: summed several times faster, in the same order (the same float).
        value = known[key] = sum([a[stem] * b[stem] for stem in a.keys() & b.keys()])
    return value


def shared(snapshot: Snapshot, first: int, second: int, most: int = 6) -> list[str]:
    """The words that weigh most in both profiles, as whole words (the first organisation's
    way of writing them), the heaviest first. Found once per run for each two organisations:
    their listings meet in several proposals."""
    known: dict[int, tuple[str, ...]] = snapshot.memo.setdefault(("shared", most), {})
    key = pair_key(first, second)  # the first's way of writing the words
    words = known.get(key)
    if words is None:
        heaviest = heaviest_shared_stems(snapshot, first, second, most)
        words = known[key] = written_forms(snapshot, first, heaviest)
    return list(words)


def heaviest_shared_stems(snapshot: Snapshot, first: int, second: int, most: int) -> list[str]:
    """The ``most`` stems of both organisations' profiles whose weights multiply to the most,
    then in alphabetical order: what sorting the shared stems by (minus the product, stem)
    gives.

    A profile weighs each stem by its rarity over one norm, the profile's own, so among the
    stems two profiles share the products rank as the rarities do, and equal rarities make
    equal products: the order is the rarest first, then alphabetical, whichever two profiles
    share the stems. So the first organisation's stems are put in that order once per run
    (:func:`stems_by_rarity`), and each of the tens of thousands of pairs a full run explains
    takes them in turn, in C, keeping those the second profile has, until it has ``most``:
    no intersection nor sort of the few dozen shared stems for each pair."""
    other = profile(snapshot, second)
    return list(islice(filter(other.__contains__, stems_by_rarity(snapshot, first)), most))


def stems_by_rarity(snapshot: Snapshot, org_id: int) -> list[str]:
    """The stems of an organisation's profile, the rarest first, then alphabetically (sorted
    by the rarity, a dictionary lookup in C, after an alphabetical sort that the stable sort
    keeps among equals), once per run for each organisation an explanation names first."""
    known: dict[int, list[str]] = snapshot.memo.setdefault(("stems by rarity",), {})
    ordered = known.get(org_id)
    if ordered is None:
        by_rarity = rarity(snapshot)
        ordered = known[org_id] = sorted(
            sorted(profile(snapshot, org_id)), key=by_rarity, reverse=True
        )
    return ordered


def _views_by_organisation(snapshot: Snapshot) -> dict[int, list[ListingView]]:
    """Each organisation's listings, by id: not in the snapshot's order, which is the order the
    database read a full run's listings in (on PostgreSQL, an organisation's listings by their
    submission keys), where an incremental run reads them by id (snapshot._org_listing_words):
    its first listing is the same in both, and so the way it writes a word (written_as)."""
    views: dict[int, list[ListingView]] | None = snapshot.memo.get(("views by organisation",))
    if views is None:
        views = defaultdict(list)
        for view in sorted(snapshot.listings.values(), key=attrgetter("id")):
            views[view.org_id].append(view)
        snapshot.memo[("views by organisation",)] = views
    return views


def written_as(snapshot: Snapshot, org_id: int, stem: str) -> str:
    """A whole word the organisation wrote ``stem`` as: in its description, else in the first
    of its listings (by id) that uses it; else the stem. Looked up for the few
    words an explanation shows, not kept for every word of every organisation (some 30 MB at
    50k listings); each one looked up once per run (an organisation's heaviest words come back
    in most of its explanations: at 50k listings, 78k words asked 378k times)."""
    return written_forms(snapshot, org_id, [stem])[0]


def written_forms(snapshot: Snapshot, org_id: int, stems: list[str]) -> tuple[str, ...]:
    """:func:`written_as` of each of ``stems``, with the organisation's memo found once."""
    known: dict[int, dict[str, str]] = snapshot.memo.setdefault(("written as",), {})
    words = known.get(org_id)
    if words is None:
        words = known[org_id] = {}
    found = []
    for stem in stems:
        word = words.get(stem)
        if word is None:
            word = words[stem] = _written_as(snapshot, org_id, stem)
        found.append(word)
    return tuple(found)


def _written_as(snapshot: Snapshot, org_id: int, stem: str) -> str:
    views = _views_by_organisation(snapshot).get(org_id, ())
    if views:
        word = views[0].org_words.get(stem)
        if word is not None:
            return word
    if snapshot.org_listing_words is not None and org_id in snapshot.org_listing_words:
        # A neighbourhood holding some of the organisation's listings: all of them, in order.
        return snapshot.org_listing_words[org_id].get(stem, stem)
    for view in views:
        if stem in view.words:
            word = whole_words(view.stored_words).get(stem)
            if word is not None:
                return word
    return stem
