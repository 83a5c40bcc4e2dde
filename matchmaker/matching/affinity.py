"""How much two organisations speak of the same things: the cosine of their word profiles.

An organisation's profile is the set of significant words (core/words.py: Snowball stems in
each text's language) of its name, its description and its live listings, each word weighted
by how rare it is among all listings (inverse document frequency, from ``word_counts``), so
that a word every listing uses says little and a word two organisations alone use says much. Real
partners name the same programme, the same people concerned, the same activity; plausible
strangers in the same place share the themes but rarely the words.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from matchmaker.core.words import whole_words

if TYPE_CHECKING:
    from matchmaker.matching.snapshot import Snapshot

Profile = dict[str, float]  # stem → weight; the weights' squares add up to 1


def profiles(snapshot: Snapshot) -> dict[int, Profile]:
    """Each organisation's profile (found once per snapshot)."""
    found: dict[int, Profile] | None = snapshot.memo.get(("profiles",))
    if found is None:
        words: dict[int, set[str]] = defaultdict(set)
        for view in snapshot.listings.values():
            org_words = words[view.org_id]
            if not org_words:
                org_words.update(view.org_words)
            org_words.update(view.words)
        if snapshot.org_listing_words is not None:
            for org_id, said in snapshot.org_listing_words.items():
                words[org_id].update(said)
        idf = _rarity(snapshot)
        found = {}
        for org_id, org_words in words.items():
            weights = {stem: weight for stem in org_words if (weight := idf(stem)) > 0}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            found[org_id] = {stem: w / norm for stem, w in weights.items()}
        snapshot.memo[("profiles",)] = found
    return found


def _rarity(snapshot: Snapshot) -> Callable[[str], float]:
    """A word's weight: the inverse document frequency of the listings that use it, among
    every listing ever posted (``word_counts``, the same for full and incremental runs)."""
    counts = snapshot.word_counts
    total = snapshot.total_live
    if counts is None:  # a snapshot built in memory: its own listings are the platform
        counts = Counter(stem for view in snapshot.listings.values() for stem in view.words)
        total = len(snapshot.listings)
    known = counts
    return lambda stem: math.log((total + 1) / (known.get(stem, 0) + 1))


def affinity(snapshot: Snapshot, first: int, second: int) -> float:
    """The cosine (0..1) of two organisations' profiles."""
    known: dict[tuple[int, int], float] = snapshot.scratch.setdefault(("affinity",), {})
    key = (first, second) if first < second else (second, first)
    value = known.get(key)
    if value is None:
        everyone = profiles(snapshot)
        a, b = everyone.get(first, {}), everyone.get(second, {})
        # Only the shared words add to the cosine: intersect the keys first (in C).
        value = known[key] = sum(a[stem] * b[stem] for stem in a.keys() & b.keys())
    return value


def shared(snapshot: Snapshot, first: int, second: int, most: int = 6) -> list[str]:
    """The words that weigh most in both profiles, as whole words (the first organisation's
    way of writing them), the heaviest first."""
    everyone = profiles(snapshot)
    a, b = everyone.get(first, {}), everyone.get(second, {})
    common = heapq.nsmallest(most, a.keys() & b.keys(), key=lambda stem: (-a[stem] * b[stem], stem))
    written = _written(snapshot, first)
    return [written.get(stem, stem) for stem in common]


def _written(snapshot: Snapshot, org_id: int) -> dict[str, str]:
    """Stem → a whole word the organisation wrote it as (in its description, else in its
    listings); found for every organisation at once, the first time an explanation asks."""
    everyone: dict[int, dict[str, str]] | None = snapshot.memo.get(("written",))
    if everyone is None:
        everyone = {}
        for view in snapshot.listings.values():
            written = everyone.get(view.org_id)
            if written is None:
                written = everyone[view.org_id] = dict(view.org_words)
            for stem, word in whole_words(view.stored_words).items():
                written.setdefault(stem, word)
        snapshot.memo[("written",)] = everyone
    return everyone.get(org_id, {})
