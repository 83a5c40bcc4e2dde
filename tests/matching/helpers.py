"""In-memory listings for rule and template tests (no database)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from matchmaker.core.words import listing_words, stems
from matchmaker.matching.snapshot import ListingView, Snapshot, city_key, region_key
from matchmaker.places import gazetteer
from matchmaker.places.names import place_key

SCOPES = {"local": 0, "regional": 1, "national": 2, "international": 3}
PLACES = {
    "liverpool": ("Liverpool", "Liverpool City Region", "GB"),
    "birkenhead": ("Birkenhead", "Liverpool City Region", "GB"),
    "manchester": ("Manchester", "Greater Manchester", "GB"),
    "athens": ("Athens", "Attica", "GR"),
    "piraeus": ("Piraeus", "Attica", "GR"),
    "saopaulo": ("São Paulo", "São Paulo", "BR"),
    # Written in other languages, and more places for the proximity rule (see located()).
    "athina": ("Αθήνα", "Αττική", "GR"),
    "chania": ("Chania", "Crete", "GR"),
    "heraklion": ("Heraklion", "Κρήτη", "GR"),
    "thessaloniki": ("Thessaloniki", "Central Macedonia", "GR"),
    "tangier": ("Tangier", "Tanger-Tetouan-Al Hoceima", "MA"),
}


def view(
    id: int,
    kind: str,
    org: int,
    org_kind: str = "sse_organisation",
    place: str = "liverpool",
    scope: str = "regional",
    themes: Iterable[str] = ("social-inclusion",),
    text: str = "",
    sought: Iterable[str] = (),
    language: str = "en",
) -> ListingView:
    city, region, country = PLACES[place]
    region_key = (country, place_key(region))
    return ListingView(
        id=id,
        kind=kind,
        title=f"Listing {id}",
        org_id=org,
        org_name=f"Org {org}",
        org_kind=org_kind,
        country=country,
        region=region,
        city=city,
        region_key=region_key,
        city_key=(*region_key, place_key(city)),
        scope=SCOPES[scope],
        themes=frozenset(themes),
        words=frozenset(stems(listing_words(text, "", language))),
        sought=frozenset(sought),
        stored_words=listing_words(text, "", language),
    )


def located(view: ListingView) -> ListingView:
    """``view`` with its city found in the gazetteer, as the snapshot loads an organisation
    whose city is a real place."""
    place = gazetteer.resolve(view.city, view.country)
    assert place is not None, view.city
    return replace(
        view,
        region_key=region_key(view.country, view.region, place.subdivision),
        city_key=city_key(view.country, view.region, view.city, place.geonames_id),
        latitude=place.latitude,
        longitude=place.longitude,
        subdivision=place.subdivision,
    )


def snapshot(*views: ListingView) -> Snapshot:
    counts: dict[str, int] = defaultdict(int)
    asks: dict[int, set[str]] = defaultdict(set)
    offers: dict[int, set[str]] = defaultdict(set)
    for v in views:
        for theme in v.themes:
            counts[theme] += 1
        (asks if v.asks else offers)[v.org_id].update(v.themes)
    return Snapshot({v.id: v for v in views}, dict(counts), len(views), asks, offers)
