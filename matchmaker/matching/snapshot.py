"""What the matcher looks at: live listings, with everything the rules need, in plain objects.

A full run loads every live listing in a few queries; an incremental run loads only the
neighbourhood of one listing (same region, or a shared theme within reach), through the
database's indexes.
"""

from __future__ import annotations

import functools
import heapq
import math
import sys
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa

from matchmaker.core.words import listing_words, organisation_words, stems, whole_words
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import (
    Listing,
    ListingKind,
    Scope,
    SoughtKind,
    Theme,
    listing_themes,
)
from matchmaker.listings.search import open_and_current
from matchmaker.matching.models import ThemeCount, WordCount
from matchmaker.organisations.models import Organisation, OrganisationStatus
from matchmaker.places.gazetteer import regional_subdivision
from matchmaker.places.names import place_key
from matchmaker.proposals.models import Proposal, ProposalParty, ProposalStatus

# Scope as a distance: how far a partner may be.
SCOPE_LEVEL = {Scope.LOCAL: 0, Scope.REGIONAL: 1, Scope.NATIONAL: 2, Scope.INTERNATIONAL: 3}
CITY, REGION, COUNTRY, WORLD = range(4)
NO_KINDS: frozenset[str] = frozenset()


def city_key(country: str, region: str, city: str, geonames_id: int | None) -> tuple[str, str, str]:
    """One key per city: the gazetteer's place when the city was found there (Αθήνα and Athens
    are one), else the city as written, within its region."""
    if geonames_id is not None:
        return (country, "", f"geonames:{geonames_id}")
    return (country, place_key(region), place_key(city))


def region_key(country: str, region: str, subdivision: str | None) -> tuple[str, str]:
    """One key per region: the ISO 3166-2 subdivision of the organisation's city where the
    gazetteer found it and it is a region (Αττική and Attica are one; England is no region),
    else the region as written."""
    code = regional_subdivision(subdivision)
    if code is not None:
        return (country, f"iso:{code}")
    return (country, place_key(region))


# Small integers for themes and places, so that the rules, which compare hundreds of thousands
# of pairs in a full run, test and combine them cheaply (bits of an int; one int comparison).
_THEME_BITS: dict[str, int] = {}
_PLACE_IDS: dict[tuple[str, ...], int] = {}


def theme_bits(themes: Iterable[str]) -> int:
    """The themes as bits of one int (each slug gets its own bit, for the life of the process)."""
    bits = 0
    for theme in themes:
        bit = _THEME_BITS.get(theme)
        if bit is None:
            bit = _THEME_BITS.setdefault(theme, 1 << len(_THEME_BITS))
        bits |= bit
    return bits


def themes_of(bits: int) -> list[str]:
    """The slugs of ``bits``, in alphabetical order."""
    return sorted(theme for theme, bit in _THEME_BITS.items() if bits & bit)


def _place_id(key: tuple[str, ...]) -> int:
    return _PLACE_IDS.setdefault(key, len(_PLACE_IDS))


def pair_key(first: int, second: int) -> int:
    """One int for the ordered pair of ids ``(first, second)``, each below 2**32: the same
    dictionary key as the tuple, in a third of its memory, for the hundreds of thousands of
    pairs (of listings, of organisations) a full run remembers."""
    return first << 32 | second


def either_way_key(first: int, second: int) -> int:
    """:func:`pair_key` of the two ids in either order (a pair whose value is symmetric)."""
    return first << 32 | second if first < second else second << 32 | first


def region_id(country: str, region: str, subdivision: str | None) -> int:
    """The ``region_id`` of the listings of an organisation of this region (ListingView)."""
    return _place_id(region_key(country, region, subdivision))


@dataclass(slots=True, eq=False)
class ListingView:
    id: int
    kind: str  # need | offer | challenge
    title: str
    org_id: int
    org_name: str
    org_kind: str
    country: str
    region: str
    city: str
    region_key: tuple[str, str]
    city_key: tuple[str, str, str]
    scope: int
    themes: frozenset[str]
    words: frozenset[str]  # stems (matching/text.py)
    sought: frozenset[str] = frozenset()
    stored_words: str = ""  # listings.match_words: the stems and the whole words
    # The stems of the organisation's name and description, each with the word it came from
    # (one dictionary shared by the organisation's listings' views).
    org_words: dict[str, str] = field(default_factory=dict)
    # The organisation's city as a real place (None when the gazetteer could not find it).
    latitude: float | None = None
    longitude: float | None = None
    subdivision: str | None = None  # ISO 3166-2
    asks: bool = field(init=False)  # a need or a challenge (not an offer)
    theme_bits: int = field(init=False)
    region_id: int = field(init=False)
    city_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.asks = self.kind != "offer"
        self.theme_bits = theme_bits(self.themes)
        self.region_id = _place_id(self.region_key)
        self.city_id = _place_id(self.city_key)


def distance(a: ListingView, b: ListingView) -> int:
    if a.city_id == b.city_id:
        return CITY
    if a.region_id == b.region_id:
        return REGION
    if a.country == b.country:
        return COUNTRY
    return WORLD


def within_reach(a: ListingView, b: ListingView) -> bool:
    """Each listing's scope admits the other's place (hard rule)."""
    return distance(a, b) <= min(a.scope, b.scope)


@dataclass
class Snapshot:
    listings: dict[int, ListingView]
    theme_counts: dict[str, int]
    total_live: int
    # For the mutual rule: the themes each organisation needs (needs and challenges) and offers.
    org_asks: dict[int, set[str]] = field(default_factory=dict)
    org_offers: dict[int, set[str]] = field(default_factory=dict)
    # How many listings (of every listing ever posted) use each word (matching/text.py): what
    # makes a word rare. None: count the snapshot's own listings (tests build such snapshots).
    word_counts: dict[str, int] | None = None
    # The words of every live listing of each organisation of which the snapshot holds only
    # some (an incremental run's neighbourhood); None: the views hold all.
    org_listing_words: dict[int, dict[str, str]] | None = None
    _rarity: dict[str, float] | None = None
    _theme_stats: dict[int, tuple[float, float]] = field(default_factory=dict)
    # What the rules derive from the snapshot and use again (for example a list of themes,
    # rarest first), keyed by the rule's own tuples.
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    # What the templates keep while they propose (each listing's shortlist, each pair of
    # organisations' affinity): freed by the engine before it ranks and writes the candidates.
    scratch: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    @property
    def rarities(self) -> dict[str, float]:
        """Inverse document frequency of each theme among live listings, scaled to 0..1."""
        if self._rarity is None:
            total = max(self.total_live, 1)
            idf = {
                slug: math.log((total + 1) / (count + 1)) + 1.0
                for slug, count in self.theme_counts.items()
            }
            top = max(idf.values(), default=1.0)
            self._rarity = defaultdict(lambda: 1.0, {s: v / top for s, v in idf.items()})
        return self._rarity

    def rarity(self, theme: str) -> float:
        return self.rarities[theme]

    def theme_stats(self, bits: int) -> tuple[float, float]:
        """The summed and the highest rarity of the themes in ``bits`` (see :func:`theme_bits`):
        what covering them is worth. Summed in alphabetical order, so that the same themes
        always give the same float."""
        stats = self._theme_stats.get(bits)
        if stats is None:
            rarity = self.rarities
            values = [rarity[theme] for theme in themes_of(bits)]
            stats = self._theme_stats[bits] = (sum(values), max(values, default=0.0))
        return stats

    def near(self, view: ListingView, themes: Iterable[str], *, asks: bool) -> list[ListingView]:
        """Listings of other organisations that ask (needs, challenges) or offer, share one of
        ``themes`` and are within reach of ``view``: found through the index, not a scan. In
        order of id."""
        groups = self._groups_of(asks)
        themes = frozenset(themes)  # read once for each level
        found: dict[int, ListingView] = {}
        for level, place in _places(view):
            # Each group holds only listings whose scope reaches this far, so every one found
            # is within reach both ways.
            for members in _groups_sharing(groups, themes, level, place).values():
                found.update((o.id, o) for o in members if o.org_id != view.org_id)
        return [found[key] for key in sorted(found)]

    def nearest(
        self, view: ListingView, themes: Iterable[str], *, asks: bool, limit: int
    ) -> list[ListingView]:
        """Like :meth:`near`, but only the ``limit`` likeliest partners: the most shared themes
        first, then the nearest (city, region, country, world), then in the order of
        :func:`tie_order` for the question asked (these themes from these places). A cheap
        first sort, so only these get the full set of rules."""
        return _shared_ranking(self, view, frozenset(themes), asks, limit)

    def _groups_of(self, asks: bool) -> Groups:
        """The index of the listings that ask (or offer): kept with what the templates keep
        while they propose (``scratch``), so that it is freed before the ranking and writing."""
        found: Groups | None = self.scratch.get(("groups", asks))
        if found is None:
            found = self.scratch[("groups", asks)] = _groups(self.listings.values(), asks)
        return found


def _places(view: ListingView) -> list[tuple[int, Any]]:
    """(distance level, place key) from the listing's city out to as far as its scope reaches."""
    return [
        (CITY, view.city_key),
        (REGION, view.region_key),
        (COUNTRY, view.country),
        (WORLD, None),
    ][: view.scope + 1]


# (theme, distance level, place) → the groups of listings of that place whose scope reaches
# that far and whose themes are the same and include that theme, each in id order, by their
# themes' bits. See _best_ranked().
Groups = dict[tuple[str, int, Any], dict[int, list[ListingView]]]


def _groups(listings: Iterable[ListingView], asks: bool) -> Groups:
    """The listings that ask (or offer) grouped by place and by their exact themes, each group
    under each of its themes."""
    by_place: dict[tuple[int, Any], dict[int, list[ListingView]]] = defaultdict(dict)
    for view in sorted(listings, key=_by_id):
        if view.asks != asks:
            continue
        for level, place in _places(view):
            by_place[(level, place)].setdefault(view.theme_bits, []).append(view)
    groups: Groups = defaultdict(dict)
    for (level, place), of_place in by_place.items():
        for bits, members in of_place.items():
            for theme in members[0].themes:
                groups[(theme, level, place)][bits] = members
    return groups


def _groups_sharing(
    groups: Groups, themes: Iterable[str], level: int, place: Any
) -> dict[int, list[ListingView]]:
    """The groups of ``place`` at ``level`` that share one of ``themes``, each once, by their
    themes' bits."""
    found: dict[int, list[ListingView]] = {}
    for theme in themes:
        found.update(groups.get((theme, level, place), {}))
    return found


def question_salt(themes: Iterable[str], view: ListingView) -> int:
    """A number for the question a ranking answers (these themes, from the places of ``view``
    as far as its scope reaches): the same in every process (no ``hash()`` of text, which
    Python varies from one process to the next)."""
    return zlib.crc32(repr((sorted(themes), _places(view))).encode())


def tie_order(salt: int, listing_id: int) -> int:
    """Where a listing stands among partners that rank the same (as many shared themes, as
    near) for the question ``salt`` stands for: a mix of the two that does not follow the order
    in which listings were posted. By the lowest id, as before, a need in a city where hundreds
    of offers share its themes weighed the same oldest ten as every other need there, and an
    offer posted later was weighed by none (bench/by_age.py). Each question orders the tied
    partners its own way, the same in full and incremental runs."""
    return ((listing_id ^ salt) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF


def _best_ranked(
    groups: Groups, view: ListingView, themes: Iterable[str], limit: int, org_id: int | None
) -> list[ListingView]:
    """The ``limit`` partners of :meth:`Snapshot.near` of highest rank, then first in
    :func:`tie_order`: four
    points for each of ``themes`` a partner has, plus three for the same city, two for the
    same region, one for the same country. Found without reading every partner: in a city of
    a thousand listings, ten are kept of thousands. Listings of one place with the same themes
    share their rank, so each group of them is ranked once; the groups are then read best
    first, and only until ``limit`` partners are found; the places farther out are not read
    once ``limit`` partners rank above anything found there. Partners are of any organisation
    but ``org_id`` (``None``: of any organisation at all).

    A partner sharing every one of ``themes`` ranks above one sharing fewer, however near (a
    theme is worth four points, nearness three at most), so the partners that stop the reading
    all share every theme. Those groups are read first, place by place, from the groups of one
    theme (:func:`_groups_sharing_all`); the groups sharing only some of ``themes`` are read
    only when the others are too few at every place. On dense data most rankings stop in the
    city, where the groups sharing some of the themes are the most numerous."""
    themes = frozenset(themes)  # read for the bits, then once for each level
    wanted = theme_bits(themes)
    salt = question_salt(themes, view)
    most = 4 * wanted.bit_count() + 3  # the rank of a partner sharing every theme, in the city
    places = _places(view)
    ranked: list[tuple[int, list[ListingView]]] = []
    for level, place in places:
        ranked.extend(
            (most - level, members)
            for members in _groups_sharing_all(groups, themes, wanted, level, place)
        )
        # No partner farther away ranks above most - level - 1: enough above it, stop.
        if _partners_above(ranked, most - level - 1, org_id, limit) >= limit:
            return _read_best(ranked, limit, org_id, salt)
    for level, place in places:
        for bits, members in _groups_sharing(groups, themes, level, place).items():
            if bits & wanted != wanted:  # those sharing every theme are ranked already
                ranked.append((4 * (wanted & bits).bit_count() + 3 - level, members))
    return _read_best(ranked, limit, org_id, salt)


def _groups_sharing_all(
    groups: Groups, themes: frozenset[str], wanted: int, level: int, place: Any
) -> list[list[ListingView]]:
    """The groups of ``place`` at ``level`` that have every one of ``themes`` (``wanted``, as
    bits): from the fewest groups that one of them is listed under."""
    fewest = min((groups.get((theme, level, place), {}) for theme in themes), key=len, default={})
    return [members for bits, members in fewest.items() if bits & wanted == wanted]


def _read_best(
    ranked: list[tuple[int, list[ListingView]]], limit: int, org_id: int | None, salt: int
) -> list[ListingView]:
    """The first ``limit`` partners (not of ``org_id``) of the ``ranked`` groups: the highest
    rank first, then in :func:`tie_order` for the question ``salt`` stands for. Each rank is
    read whole: the one where ``limit`` falls is cut by that order (on dense data, about a
    hundred listings for ten places)."""
    ranked.sort(key=lambda item: -item[0])
    best: list[ListingView] = []
    taken: set[int] = set()  # a listing met again farther away ranks lower: kept once
    order = functools.partial(_tie_order_of, salt)
    for _, tier in groupby(ranked, key=itemgetter(0)):
        room = limit - len(best)
        if room <= 0:
            break
        # One level and one count of shared themes: the groups hold distinct listings.
        members = [
            other
            for _, group in tier
            for other in group
            if other.org_id != org_id and other.id not in taken
        ]
        chosen = heapq.nsmallest(room, members, key=order)
        taken.update(other.id for other in chosen)
        best.extend(chosen)
    return best


def _tie_order_of(salt: int, view: ListingView) -> int:
    return tie_order(salt, view.id)


def _shared_ranking(
    snapshot: Snapshot, view: ListingView, themes: frozenset[str], asks: bool, limit: int
) -> list[ListingView]:
    """:func:`_best_ranked`, worked out once for all the listings that look for the same themes
    from the same places as far as the same scope: on dense data a city's needs ask the same
    questions (at 50k listings in 12 cities, 8,800 rankings answer 32,600 questions).

    The ranking is made for no organisation, long enough that the asker's own listings on that
    side can be left out of it and ``limit`` remain (made longer when a later asker has more);
    each asker then leaves out its own. A ranking shorter than it was asked to be holds every
    partner."""
    known: dict[tuple[Any, ...], tuple[int, list[ListingView]]] = snapshot.scratch.setdefault(
        ("ranked", asks), {}
    )
    key = (theme_bits(themes), *_places(view))
    length = limit + _listings_by_organisation(snapshot, asks)[view.org_id]
    entry = known.get(key)
    if entry is None or (entry[0] < length and len(entry[1]) == entry[0]):
        entry = known[key] = (
            length,
            _best_ranked(snapshot._groups_of(asks), view, themes, length, None),
        )
    org_id = view.org_id
    return [other for other in entry[1] if other.org_id != org_id][:limit]


def _listings_by_organisation(snapshot: Snapshot, asks: bool) -> Counter[int]:
    """How many listings each organisation has among those that ask (or offer)."""
    counts: Counter[int] | None = snapshot.scratch.get(("listings by organisation", asks))
    if counts is None:
        counts = Counter(v.org_id for v in snapshot.listings.values() if v.asks == asks)
        snapshot.scratch[("listings by organisation", asks)] = counts
    return counts


def _partners_above(
    ranked: list[tuple[int, list[ListingView]]], rank: int, org_id: int | None, limit: int
) -> int:
    """How many partners (not of ``org_id``) the groups ranked above ``rank`` hold, counted up
    to ``limit``."""
    seen: set[int] = set()
    for group_rank, members in ranked:
        if group_rank > rank:
            for other in members:
                if other.org_id != org_id:
                    seen.add(other.id)
                    if len(seen) >= limit:
                        return len(seen)
    return len(seen)


def _by_id(view: ListingView) -> int:
    return view.id


def live_condition(today: date | None = None) -> sa.ColumnElement[bool]:
    """What matching considers: open, current (on ``today``, by default the current date), and
    its organisation verified."""
    return sa.and_(open_and_current(today), Organisation.status == OrganisationStatus.VERIFIED)


_COLUMNS = (
    Listing.id,
    # Kinds and scopes as their stored text (the enums' values), not converted row by row.
    sa.type_coerce(Listing.kind, sa.String).label("listing_kind"),
    Listing.title,
    # The text only where its words were never stored (saved outside the ORM).
    sa.case((Listing.match_words.is_(None), Listing.description)),
    Listing.match_words,
    Listing.language,
    sa.type_coerce(Listing.scope, sa.String).label("listing_scope"),
    Organisation.id,
    Organisation.name,
    sa.type_coerce(Organisation.kind, sa.String).label("organisation_kind"),
    Organisation.country,
    Organisation.region,
    Organisation.city,
    Organisation.description,
    Organisation.language,
    Organisation.geonames_id,
    Organisation.latitude,
    Organisation.longitude,
    Organisation.subdivision,
)


def _select_views(
    where: sa.ColumnElement[bool] | None = None, today: date | None = None, *, live: bool = True
) -> sa.Select[Any]:
    statement = sa.select(*_COLUMNS).join(Organisation, Organisation.id == Listing.organisation_id)
    if live:
        statement = statement.where(live_condition(today))
    if where is not None:
        statement = statement.where(where)
    return statement


def view_of(listing_id: int) -> ListingView | None:
    """The view of one listing as it is, live or not (None if it is gone)."""
    statement = _select_views(Listing.id == listing_id, live=False)
    views = _make_views(*_tagged_rows(_tagged(statement)))
    return views.get(listing_id)


def _views(where: sa.ColumnElement[bool] | None = None) -> dict[int, ListingView]:
    if where is not None:
        return _make_views(*_tagged_rows(_tagged(_select_views(where))))
    # Every live listing: selected by the same condition, not by tens of thousands of ids.
    live = sa.select(Listing.id).join(Organisation).where(live_condition())
    themes: dict[int, set[str]] = defaultdict(set)
    sought: dict[int, set[str]] = defaultdict(set)
    for listing_id, slug in db.session.execute(
        sa.select(listing_themes.c.listing_id, Theme.slug)
        .join(Theme, Theme.id == listing_themes.c.theme_id)
        .where(listing_themes.c.listing_id.in_(live))
    ):
        themes[listing_id].add(slug)
    for listing_id, kind in db.session.execute(
        sa.select(SoughtKind.listing_id, SoughtKind.kind).where(SoughtKind.listing_id.in_(live))
    ):
        sought[listing_id].add(kind.value)
    # Streamed, after the themes: tens of thousands of rows are never all held at once.
    rows = db.session.execute(_select_views().execution_options(yield_per=2000))
    return _make_views(rows, themes, sought)


def _make_views(
    rows: Iterable[Sequence[Any]], themes: dict[int, set[str]], sought: dict[int, set[str]]
) -> dict[int, ListingView]:
    """The views of ``rows`` (``_COLUMNS``), with each listing's themes and kinds sought."""
    views = {}
    theme_sets: dict[frozenset[str], frozenset[str]] = {}
    # What each organisation brings to its listings' views, made (and held) once per organisation.
    orgs: dict[int, tuple[str, str, str, str, str, tuple[str, str], tuple[str, str, str]]] = {}
    org_words: dict[int, dict[str, str]] = {}
    places: dict[int, dict[str, Any]] = {}
    for (
        lid,
        kind,
        title,
        description,
        stored,
        language,
        scope,
        oid,
        oname,
        okind,
        country,
        region,
        city,
        org_description,
        org_language,
        geonames_id,
        latitude,
        longitude,
        subdivision,
    ) in rows:
        org = orgs.get(oid)
        if org is None:
            org = orgs[oid] = (
                oname,
                sys.intern(okind),
                country,
                region,
                city,
                region_key(country, region, subdivision),
                city_key(country, region, city, geonames_id),
            )
            # In the organisation's own language, whichever of its listings is read first (an
            # incremental run reads only some of them) and whatever language those are in.
            org_words[oid] = {
                sys.intern(stem): word
                for stem, word in organisation_words(oname, org_description, org_language).items()
            }
            places[oid] = {
                "latitude": latitude,
                "longitude": longitude,
                "subdivision": subdivision,
            }
        if stored is None:  # saved outside the ORM and not reindexed yet
            stored = listing_words(title, description, language)
        # Interned: the same word of many listings is one string in memory. Built from a set,
        # whose size is known, the frozenset's table is half as large as one grown word by
        # word (about 50 MB less at 50k listings).
        words = frozenset(set(map(sys.intern, stems(stored))))
        # Listings share a few hundred combinations of themes: one frozenset for each.
        theme_set = frozenset(themes.pop(lid, ()))
        theme_set = theme_sets.setdefault(theme_set, theme_set)
        views[lid] = ListingView(
            lid,
            sys.intern(kind),
            title,
            oid,
            *org,
            scope=SCOPE_LEVEL[scope],
            themes=theme_set,
            words=words,
            sought=frozenset(sought.pop(lid)) if lid in sought else NO_KINDS,
            stored_words=stored,
            org_words=org_words[oid],
            **places[oid],
        )
    return views


# The views incremental runs of this process made, each with the values it was made from
# (views_kept_between_runs): at most this many, forgotten all at once past it, and when a full
# run or a preview reads every listing (full_snapshot). Postings come from every city, so the
# views worth keeping are all the live listings' (about 2 KB each: some 110 MB at 50,000); at
# 20,000, 50,000 dense listings' runs forgot them every third region and ran slower than
# without any (CPU of a posted need's own run: 280 ms against 250 ms, and 190 ms at 100,000).
MOST_VIEWS_KEPT = 100_000
_kept_views: dict[int, tuple[tuple[Any, ...], ListingView]] = {}


def views_kept_between_runs(
    rows: Sequence[Sequence[Any]], themes: dict[int, set[str]], sought: dict[int, set[str]]
) -> dict[int, ListingView]:
    """``_make_views(rows, themes, sought)``, reusing each view an earlier incremental run of
    this process made from the very same values (its row, themes and kinds sought): a view is
    made from those alone. A dense city's neighbourhood holds thousands of listings, nearly
    all unchanged from one posting to the next, and making their views (their words, places
    and organisation's words) was a third of each run's time."""
    made: dict[int, ListingView] = {}
    fresh: list[Sequence[Any]] = []
    values_of: dict[int, tuple[Any, ...]] = {}
    for row in rows:
        listing_id = row[0]
        values = (
            tuple(row),
            frozenset(themes.get(listing_id, ())),
            frozenset(sought.get(listing_id, ())),
        )
        kept = _kept_views.get(listing_id)
        if kept is not None and kept[0] == values:
            made[listing_id] = kept[1]
        else:
            fresh.append(row)
            values_of[listing_id] = values
    new = _make_views(fresh, themes, sought)
    if len(_kept_views) + len(new) > MOST_VIEWS_KEPT:
        _kept_views.clear()
    for listing_id, view in new.items():
        _kept_views[listing_id] = (values_of[listing_id], view)
    made.update(new)
    return {row[0]: made[row[0]] for row in rows}  # in the rows' order, as _make_views


# Each listing's themes and kinds sought, as one text column each (see _tagged_rows).
_THEME_SLUGS = (
    sa.select(sa.func.aggregate_strings(Theme.slug, ","))
    .join(listing_themes, listing_themes.c.theme_id == Theme.id)
    .where(listing_themes.c.listing_id == Listing.id)
    .scalar_subquery()
)
_SOUGHT_KINDS = (
    sa.select(sa.func.aggregate_strings(sa.cast(SoughtKind.kind, sa.String), ","))
    .where(SoughtKind.listing_id == Listing.id)
    .scalar_subquery()
)


def _tagged(statement: sa.Select[Any]) -> sa.Select[Any]:
    """``statement`` with two more columns: each listing's themes and its kinds sought, each as
    one text (see :func:`_tagged_rows`)."""
    return statement.add_columns(_THEME_SLUGS, _SOUGHT_KINDS)


def _tagged_rows(
    statement: sa.Select[Any], parameters: dict[str, Any] | None = None
) -> tuple[list[Sequence[Any]], dict[int, set[str]], dict[int, set[str]]]:
    """The rows of ``statement`` (made by :func:`_tagged`) without their last two columns, and
    each listing's themes and kinds sought, split from those: in one query. For the few hundred
    listings of an incremental run's neighbourhood, one round trip instead of three, and no
    list of their ids to bind twice more. (A full run reads the themes and kinds in two plain
    queries: see :func:`_views`.)"""
    rows: list[Sequence[Any]] = []
    themes: dict[int, set[str]] = {}
    sought: dict[int, set[str]] = {}
    # Plain rows from the connection: no ORM row processing for a few hundred rows of plain
    # values (the matcher never changes listings: nothing unflushed to see).
    for *row, slugs, kinds in db.session.connection().execute(statement, parameters).all():
        rows.append(row)
        if slugs:  # slugs and kinds hold no commas
            themes[row[0]] = set(slugs.split(","))
        if kinds:
            sought[row[0]] = set(kinds.split(","))
    return rows, themes, sought


T = TypeVar("T")


def _chunks(items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Statements of every run, made once (their values bound when they run).
_LISTINGS = sa.select(sa.func.count()).select_from(Listing).scalar_subquery()
_THEME_COUNTS = (
    sa.select(Theme.slug, ThemeCount.listings, _LISTINGS)
    .join(ThemeCount, ThemeCount.theme_id == Theme.id)
    .where(ThemeCount.listings > 0)
    .order_by(ThemeCount.theme_id)
)
_WORD_COUNTS = sa.select(WordCount.stem, WordCount.listings)
_WORD_COUNTS_OF = _WORD_COUNTS.where(WordCount.stem.in_(sa.bindparam("stems", expanding=True)))


def theme_counts() -> tuple[dict[str, int], int]:
    """How many listings carry each theme, and how many listings there are: what makes a theme
    rare. Counted over every listing ever posted (kept in ``theme_counts``, see
    matching/theme_counts.py), so full and incremental runs explain a proposal the same way.
    One query: each theme's slug and count, each row with the number of listings."""
    rows = db.session.execute(_THEME_COUNTS).all()
    if not rows:  # no theme counted (no listing, or none with a theme)
        return {}, db.session.scalar(sa.select(_LISTINGS)) or 0
    return {slug: count for slug, count, _ in rows}, rows[0][2]


def _profiles(views: Iterable[ListingView]) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    asks: dict[int, set[str]] = defaultdict(set)
    offers: dict[int, set[str]] = defaultdict(set)
    for view in views:
        (asks if view.asks else offers)[view.org_id].update(view.themes)
    return asks, offers


def word_counts(
    views: Iterable[ListingView] | None = None, also: Iterable[Iterable[str]] = ()
) -> dict[str, int]:
    """How many listings use each word: every word (``views`` None), or the words of
    ``views`` (their listings' and their organisations') and ``also``."""
    if views is None:
        return dict(db.session.execute(_WORD_COUNTS).all())
    wanted: set[str] = set()
    for view in views:
        wanted.update(view.words, view.org_words)
    for words in also:
        wanted.update(words)
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(wanted), 5000):
        found.update(db.session.execute(_WORD_COUNTS_OF, {"stems": chunk}).all())
    return found


def words_snapshot(words: Iterable[str]) -> Snapshot:
    """No listing, only what makes ``words`` rare (their counts, and how many listings there
    are): enough to tell which of them are distinctive (related.distinctive)."""
    counts, total = theme_counts()
    return Snapshot({}, counts, total, word_counts=word_counts((), also=[words]))


def full_snapshot() -> Snapshot:
    # Every view of the full run is made here: the ones incremental runs kept (some 40 MB at
    # 20,000 dense listings) would only add to its peak, the largest the process reaches.
    _kept_views.clear()
    views = _views()
    asks, offers = _profiles(views.values())
    counts, total = theme_counts()
    return Snapshot(views, counts, total, asks, offers, word_counts=word_counts())


@functools.lru_cache(maxsize=64)
def _neighbourhood_query(
    today: date, *, by_city: bool, by_subdivision: bool, level: int, offer: bool
) -> sa.Select[Any]:
    """The query of :func:`neighbourhood_snapshot` for one shape of focus, made once a day (the
    date decides what is current): its values (the focus, its place and themes) are bound when
    it runs. Its rows: the listings' ``_COLUMNS``, whether the listing's organisation is of the
    focus's region, and the listing's themes and kinds sought (:func:`_tagged`)."""
    # Its region as written, folded as region_key() folds it (not by the database's lower(),
    # which folds ASCII letters only on SQLite): through the index on both columns.
    as_written = sa.and_(
        Organisation.region_folded == sa.bindparam("region"),
        Organisation.country == sa.bindparam("country"),
    )
    same_region: sa.ColumnElement[bool] = as_written
    if by_city:
        # Its city however written (Αθήνα, Athens), whatever region its partners typed.
        same_region = sa.or_(same_region, Organisation.geonames_id == sa.bindparam("geonames_id"))
    if by_subdivision:
        # Its region as the gazetteer knows it (Attica, Αττική): see region_key().
        same_region = sa.or_(same_region, Organisation.subdivision == sa.bindparam("subdivision"))
    # Ids first, each through an index (an OR across the joins would scan every listing), in
    # the same query as the listings: one round trip, and no list of ids to send back.
    ids = [
        sa.select(Listing.id).where(
            Listing.organisation_id.in_(sa.select(Organisation.id).where(same_region))
        ),
        sa.select(Listing.id).where(Listing.id == sa.bindparam("focus")),
        # The parties of its pending proposals, wherever they are: the run rescores those
        # proposals, and withdraws them only if a party is no longer live.
        sa.select(ProposalParty.listing_id).where(
            ProposalParty.proposal_id.in_(
                # Its proposals through the index on listing and proposal, then each one's
                # status by its key (a join let SQLite read every pending proposal first).
                sa.select(ProposalParty.proposal_id).where(
                    ProposalParty.listing_id == sa.bindparam("focus"),
                    sa.exists().where(
                        Proposal.id == ProposalParty.proposal_id,
                        Proposal.status == ProposalStatus.PENDING_REVIEW,
                    ),
                )
            )
        ),
    ]
    if not by_subdivision:
        # Each city of its region as written, whole, as a real place: a need of the region
        # reaches the offers of its city whatever region their organisations wrote (Merseyside,
        # Liverpool City Region), and an offer's pairs are read from what the needs of its
        # region reach (pair.takers). A region of the gazetteer comes with its places' own.
        cities = sa.select(Organisation.geonames_id).where(
            as_written, Organisation.geonames_id.is_not(None)
        )
        ids.append(
            sa.select(Listing.id).where(
                Listing.organisation_id.in_(
                    sa.select(Organisation.id).where(
                        Organisation.geonames_id.in_(cities.scalar_subquery())
                    )
                )
            )
        )
    if level >= COUNTRY:
        other_side = (
            Listing.kind != ListingKind.OFFER if offer else Listing.kind == ListingKind.OFFER
        )
        reach = [
            sa.and_(
                Organisation.country == sa.bindparam("country"),
                Listing.scope.in_([Scope.NATIONAL, Scope.INTERNATIONAL]),
            )
        ]
        if level >= WORLD:
            reach.append(Listing.scope == Scope.INTERNATIONAL)
        # Driven from the theme index, then each listing and organisation by primary key.
        ids.append(
            sa.select(listing_themes.c.listing_id)
            .join(Listing, Listing.id == listing_themes.c.listing_id)
            .join(Organisation, Organisation.id == Listing.organisation_id)
            .where(
                listing_themes.c.theme_id.in_(sa.bindparam("themes", expanding=True)),
                other_side,
                sa.or_(*reach),
            )
        )
    # Not correlated: the ids' queries read listings and organisations of their own.
    in_neighbourhood = Listing.id.in_(sa.union(*(query.correlate(None) for query in ids)))
    return _tagged(
        _select_views(in_neighbourhood, today)
        .add_columns(same_region.label("in_region"))
        .order_by(Listing.id)
    )


class Place(NamedTuple):
    """Where an organisation is, as the matcher reads it (Organisation's columns)."""

    country: str
    region: str
    city: str
    geonames_id: int | None
    subdivision: str | None

    @classmethod
    def of(cls, organisation: Organisation) -> Place:
        return cls(
            organisation.country,
            organisation.region,
            organisation.city,
            organisation.geonames_id,
            organisation.subdivision,
        )


def neighbourhood_snapshot(focus: Listing, place: Place | None = None) -> Snapshot:
    """The live listings an incremental run of ``focus`` may combine it with.

    Its region as written, and its city as a real place (where the multi-party templates look),
    and, where its region is the one written, each city of it as a real place (a need there
    reaches the offers of its city whatever region they wrote), the parties of its pending
    proposals, and the listings of the other side (needs and challenges for an offer, offers
    for the others) that share a theme and whose own scope reaches back: same country for
    national scopes, anywhere only for international ones. Around ``place`` instead of its
    organisation's place if given (where the organisation was before it moved).
    """
    organisation = place or Place.of(focus.organisation)
    level = SCOPE_LEVEL[focus.scope]
    subdivision = regional_subdivision(organisation.subdivision)
    statement = _neighbourhood_query(
        utcnow().date(),
        by_city=organisation.geonames_id is not None,
        by_subdivision=subdivision is not None,
        level=level,
        offer=focus.kind == ListingKind.OFFER,
    )
    parameters: dict[str, Any] = {
        "focus": focus.id,
        "country": organisation.country,
        "region": place_key(organisation.region),
        "geonames_id": organisation.geonames_id,
        "subdivision": subdivision,
    }
    if level >= COUNTRY:
        parameters["themes"] = [theme.id for theme in focus.themes]
    rows, themes, sought = _tagged_rows(statement, parameters)
    # The last column: whether the listing's organisation is of the region.
    whole = {row[7] for row in rows if row[-1]}  # _COLUMNS[7]: the organisation's id
    views = views_kept_between_runs([row[:-1] for row in rows], themes, sought)
    # What each organisation needs and offers, and says, in all its live listings: read from
    # the views for those of the region, from the database for the others.
    asks, offers = _profiles(view for view in views.values() if view.org_id in whole)
    partial = {view.org_id for view in views.values()} - whole
    more_asks, more_offers = _org_profiles(partial)
    asks.update(more_asks)
    offers.update(more_offers)
    counts, total = theme_counts()
    everything_said = _org_listing_words(partial)
    return Snapshot(
        views,
        counts,
        total,
        asks,
        offers,
        word_counts=word_counts(views.values(), also=everything_said.values()),
        org_listing_words=everything_said,
    )


def _org_listing_words(org_ids: set[int]) -> dict[int, dict[str, str]]:
    """The words of every live listing of these organisations (the shared-vocabulary rule
    reads an organisation's whole profile, whatever part of it a neighbourhood holds), each
    stem with the whole word an explanation shows for it: the one of the organisation's first
    listing that has it, as a full run finds it (affinity.written_as)."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for chunk in _chunks(sorted(org_ids), 5000):
        rows = db.session.execute(
            sa.select(Listing.organisation_id, Listing.match_words)
            .join(Organisation, Organisation.id == Listing.organisation_id)
            .where(live_condition(), Listing.organisation_id.in_(chunk))
            .order_by(Listing.id)
        )
        for org_id, stored in rows:
            words = found[org_id]
            for stem, word in whole_words(stored or "").items():
                words.setdefault(stem, word)
    return found


def _org_profiles(org_ids: set[int]) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    asks: dict[int, set[str]] = defaultdict(set)
    offers: dict[int, set[str]] = defaultdict(set)
    if not org_ids:
        return asks, offers
    for org_id, _, kind, slug in live_themes(org_ids):
        (offers if kind == ListingKind.OFFER else asks)[org_id].add(slug)
    return asks, offers


def live_themes(org_ids: Iterable[int]) -> list[tuple[int, int, ListingKind, str]]:
    """(organisation, listing, kind, theme slug) of each theme of these organisations' live
    listings: what they need and offer, as matching reads it."""
    return [
        (org_id, listing_id, kind, slug)
        for org_id, listing_id, kind, slug in db.session.execute(
            sa.select(Listing.organisation_id, Listing.id, Listing.kind, Theme.slug)
            .join(Organisation, Organisation.id == Listing.organisation_id)
            .join(listing_themes, listing_themes.c.listing_id == Listing.id)
            .join(Theme, Theme.id == listing_themes.c.theme_id)
            .where(live_condition(), Listing.organisation_id.in_(list(org_ids)))
        )
    ]
