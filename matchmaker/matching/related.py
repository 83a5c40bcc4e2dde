"""Needs and offers related by what their organisations write, when they share no theme.

Two organisations of one city-region often work on the same thing under different themes: a
council's challenge to grow the city's social enterprises (incubation, funding, local wealth)
and the network that speaks for those enterprises (territorial platforms, information). A need
or challenge and an offer that share no theme are *related* when their organisations are in the
same city-region, each within the other's scope, and write about the same work: they share a
distinctive word, and their shared vocabulary (matching/affinity.py) reaches ``RELATED``
without the names of their places, which every neighbour writes. Half of that is enough
(``SOUGHT_RELATED``) when the need is a challenge that seeks the offering organisation's kind: a
city asking for SSE organisations and a cooperative incubator of the city that works on the
same things under other themes. A related pair is a link like one on a shared theme (pairs, and
the links that hold a multi-party proposal together); the shared-themes rule gives it nothing,
and the shared-vocabulary rule says why it was made (the sought-kind rule, that the challenge
asked for its kind).

Found through an index of each organisation's distinctive words by place, never by comparing
every pair of organisations of a region.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from matchmaker.core.words import SNOWBALL, analyse
from matchmaker.matching.affinity import profile, rarity
from matchmaker.matching.snapshot import either_way_key, within_reach

if TYPE_CHECKING:
    from matchmaker.matching.snapshot import ListingView, Snapshot

# Shared vocabulary, place names left out, from which two organisations write about the same
# work (a cosine; the shared-vocabulary rule gives all its points at 0.25).
RELATED = 0.15
# The same when the need is a challenge that seeks the offering organisation's kind: the
# challenge has said what kind of partner it wants, so less shared work says enough.
SOUGHT_RELATED = RELATED / 2
# A word is distinctive if at most one listing in this many uses it (over every listing posted).
DISTINCTIVE = 20
# A word that more than half the organisations of a city-region use (or more than this many) is
# the place's common language, not a sign that two of them do the same work.
MOST_PER_PLACE = 30


def place_stems(snapshot: Snapshot, view: ListingView) -> frozenset[str]:
    """The stems of the organisation's city and region names, in every language the matcher
    analyses (an organisation writes its place in its own)."""
    return _place_stems(snapshot, view.city, view.region)


def _place_stems(snapshot: Snapshot, city: str, region: str) -> frozenset[str]:
    key = ("place stems", city, region)
    found: frozenset[str] | None = snapshot.memo.get(key)
    if found is None:
        text = f"{city} {region}"
        found = snapshot.memo[key] = frozenset(
            stem for language in SNOWBALL for stem in analyse(text, language)
        )
    return found


def distinctive_words(snapshot: Snapshot, view: ListingView) -> frozenset[str]:
    """The distinctive words of the live listings of the organisation of ``view``, its place
    names left out. Only listings' words: how rare a word is is counted over listings, so words
    that only organisations' descriptions use (a platform's boilerplate, say) would all look
    rare."""
    known: dict[int, frozenset[str]] = snapshot.memo.setdefault(("distinctive words",), {})
    found = known.get(view.org_id)
    if found is None:
        words: set[str] = set()
        for listing in _by_organisation(snapshot).get(view.org_id, ()):
            words.update(listing.words)
        if snapshot.org_listing_words is not None:
            words.update(snapshot.org_listing_words.get(view.org_id, ()))
        # Each of these words is in the organisation's profile (affinity.py) too: the profile
        # holds every word of its listings that weighs more than nothing, and a distinctive
        # word weighs at least log(DISTINCTIVE). So no profile is made here: an incremental
        # run makes those of the few organisations it compares, not of all of its region's.
        found = known[view.org_id] = distinctive(snapshot, words, view.city, view.region)
    return found


def distinctive(snapshot: Snapshot, words: Iterable[str], city: str, region: str) -> frozenset[str]:
    """Those of ``words`` (stems of listings) that are distinctive (DISTINCTIVE) and not the
    names of ``city`` and ``region``, an organisation's place."""
    idf, least = rarity(snapshot), math.log(DISTINCTIVE)
    places = _place_stems(snapshot, city, region)
    return frozenset(stem for stem in words if stem not in places and idf(stem) >= least)


def _index(snapshot: Snapshot, region_id: int) -> dict[str, set[int]]:
    """Distinctive word → the organisations of the city-region that use it, for the words that
    are not its common language (MOST_PER_PLACE). Made for a city-region when first asked: an
    incremental run asks for one or two of the many its neighbourhood holds."""
    indexes: dict[int, dict[str, set[int]]] = snapshot.memo.setdefault(("related index",), {})
    index = indexes.get(region_id)
    if index is None:
        organisations = _organisations_by_region(snapshot).get(region_id, {})
        index = indexes[region_id] = _uncommon(
            {org_id: distinctive_words(snapshot, view) for org_id, view in organisations.items()}
        )
    return index


def _uncommon(words: dict[int, frozenset[str]]) -> dict[str, set[int]]:
    """Distinctive word → the organisations that use it, from each organisation's distinctive
    words (those of one city-region), for the words that are not its common language."""
    users: dict[str, set[int]] = defaultdict(set)
    for org_id, stems in words.items():
        for stem in stems:
            users[stem].add(org_id)
    most = min(MOST_PER_PLACE, max(2, len(words) // 2))
    return {stem: orgs for stem, orgs in users.items() if len(orgs) <= most}


def _kin_by_organisation(words: dict[int, frozenset[str]]) -> dict[int, set[int]]:
    """What :func:`_kin` finds for each organisation of ``words`` (as in :func:`_uncommon`)."""
    index = _uncommon(words)
    kin: dict[int, set[int]] = {}
    for org_id, stems in words.items():
        found = kin[org_id] = set()
        for stem in stems:
            found.update(index.get(stem, ()))
        found.discard(org_id)
    return kin


def kin_moved(
    snapshot: Snapshot, region_id: int, org_id: int, before: frozenset[str] | None
) -> set[int]:
    """The organisations of a city-region (``region_id``) whose kin (:func:`_kin`) are not what
    they were when the organisation ``org_id`` used the distinctive words ``before`` there
    (None: it had no live listing there), the snapshot holding the city-region as it is now.

    One organisation's words change more than its own kin: a word it starts using may become
    the place's common language (MOST_PER_PLACE) and so no longer relate two others that use
    it, one it stops using may relate them again, and one more (or one fewer) organisation in
    the place moves where the common language begins. Their related pairs (and the links of
    their multi-party proposals) may have come or gone: their listings are matched again."""
    organisations = _organisations_by_region(snapshot).get(region_id, {})
    now = {oid: distinctive_words(snapshot, view) for oid, view in organisations.items()}
    then = dict(now)
    if before is None:
        then.pop(org_id, None)
    else:
        then[org_id] = before
    if then == now:
        return set()
    kin_now, kin_then = _kin_by_organisation(now), _kin_by_organisation(then)
    # Another organisation that gained or lost only ``org_id`` as kin: its pairs with it are
    # found by matching the listings of ``org_id``, which are matched if its own kin changed.
    return {
        oid
        for oid in now.keys() | then.keys()
        if kin_now.get(oid, set()) - {org_id} != kin_then.get(oid, set()) - {org_id}
    } | ({org_id} if kin_now.get(org_id, set()) != kin_then.get(org_id, set()) else set())


def _organisations_by_region(snapshot: Snapshot) -> dict[int, dict[int, ListingView]]:
    """City-region → its organisations, each with the first of its listings there."""
    found: dict[int, dict[int, ListingView]] | None = snapshot.memo.get(
        ("organisations by region",)
    )
    if found is None:
        found = defaultdict(dict)
        for view in snapshot.listings.values():
            found[view.region_id].setdefault(view.org_id, view)
        snapshot.memo[("organisations by region",)] = found
    return found


def _by_organisation(snapshot: Snapshot) -> dict[int, list[ListingView]]:
    found: dict[int, list[ListingView]] | None = snapshot.memo.get(("listings by organisation",))
    if found is None:
        found = defaultdict(list)
        for view in sorted(snapshot.listings.values(), key=lambda v: v.id):
            found[view.org_id].append(view)
        snapshot.memo[("listings by organisation",)] = found
    return found


def _kin(snapshot: Snapshot, view: ListingView) -> set[int]:
    """The organisations that share a distinctive word with the organisation of ``view`` in
    its city-region (a word not of the place's common language)."""
    index = _index(snapshot, view.region_id)
    found: set[int] = set()
    for stem in distinctive_words(snapshot, view):
        found.update(index.get(stem, ()))
    found.discard(view.org_id)
    return found


def kinship(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """The shared vocabulary of the two organisations, their place names left out."""
    known: dict[int, float] = snapshot.scratch.setdefault(("kinship",), {})
    first, second = asker.org_id, giver.org_id
    key = either_way_key(first, second)
    value = known.get(key)
    if value is None:
        a, b = profile(snapshot, first), profile(snapshot, second)
        places = place_stems(snapshot, asker) | place_stems(snapshot, giver)
        value = known[key] = sum([a[stem] * b[stem] for stem in a.keys() & b.keys() - places])
    return value


def linked(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> bool:
    """A need or challenge and an offer of two organisations that the matcher may put in one
    proposal: they share a theme and lie within reach of each other, or they are related."""
    if not asker.asks or giver.asks or asker.org_id == giver.org_id:
        return False
    if asker.theme_bits & giver.theme_bits:
        return within_reach(asker, giver)
    return related(snapshot, asker, giver)


def related(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> bool:
    """A need or challenge and an offer that share no theme, related by their organisations'
    vocabulary (see the module's docstring)."""
    if not asker.asks or giver.asks or asker.org_id == giver.org_id:
        return False
    if asker.theme_bits & giver.theme_bits:
        return False
    if asker.region_id != giver.region_id or not within_reach(asker, giver):
        return False
    if giver.org_id not in _kin(snapshot, asker):
        return False
    least = SOUGHT_RELATED if giver.org_kind in asker.sought else RELATED
    return kinship(snapshot, asker, giver) >= least


def related_listings(
    snapshot: Snapshot, view: ListingView, limit: int | None = None
) -> list[ListingView]:
    """The listings of the other side (offers for a need or challenge, needs and challenges for
    an offer) related to ``view``, the most related first, then the lowest id; the first
    ``limit`` of them, or all."""
    others = _by_organisation(snapshot)
    found: list[tuple[float, int, ListingView]] = []
    for org_id in _kin(snapshot, view):
        for other in others.get(org_id, ()):
            if other.asks == view.asks:
                continue
            asker, giver = (view, other) if view.asks else (other, view)
            if related(snapshot, asker, giver):
                found.append((-kinship(snapshot, asker, giver), other.id, other))
    found.sort(key=lambda item: item[:2])
    return [other for _, _, other in found[:limit]]
