"""The gazetteer: real places, looked up offline.

Its table (gazetteer.tsv.gz beside this file, derived from GeoNames data by
scripts/derive_gazetteer.py) holds every populated place of 5,000 people or more, with the keys
of its names in the Latin, Greek and Arabic scripts: "Αθήνα", "Athina" and "Athens" find the
same place. It is read once per process, on first use (a quarter of a second of CPU), and kept
in memory.
"""

from __future__ import annotations

import bisect
import gzip
import logging
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from matchmaker.places.names import name_key

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Place:
    geonames_id: int
    name: str  # as GeoNames writes it in its own language
    latitude: float
    longitude: float
    country: str  # ISO 3166-1 alpha-2
    subdivision: str | None  # ISO 3166-2, e.g. GR-I (Attica)
    population: int


class _Table:
    """The table as three lists split from the file in one call each (a dict of its 300,000
    names would take seconds of CPU to build and 100 MB more): places are parsed when asked
    for, names found by bisection in the sorted list of keys."""

    def __init__(self, text: str) -> None:
        places, keys, ids = text.rstrip("\n").split("\n\n")
        self._rows = {int(row[: row.index("\t")]): row for row in places.split("\n")}
        self.keys = keys.split("\n")
        self._ids = ids.split("\n")

    def place(self, geonames_id: int) -> Place | None:
        row = self._rows.get(geonames_id)
        if row is None:
            return None
        gid, name, lat, lon, country, _division, subdivision, people, _main = row.split("\t")
        return Place(
            int(gid), name, float(lat), float(lon), country, subdivision or None, int(people)
        )

    def main_key(self, geonames_id: int) -> str:
        return self._rows[geonames_id].rsplit("\t", 1)[1]

    def ids(self, index: int) -> list[int]:
        """The places of the ``index``-th key, most populous first."""
        return [int(gid) for gid in self._ids[index].split(",")]

    def named(self, key: str) -> list[int]:
        index = bisect.bisect_left(self.keys, key)
        if index < len(self.keys) and self.keys[index] == key:
            return self.ids(index)
        return []


@cache
def _table() -> _Table:
    data = resources.files("matchmaker.places").joinpath("gazetteer.tsv.gz").read_bytes()
    table = _Table(gzip.decompress(data).decode())
    log.info("gazetteer: %d places, %d names", len(table._rows), len(table.keys))
    return table


def get(geonames_id: int) -> Place | None:
    return _table().place(geonames_id)


# "Athens (Attica)" or "Athens (GR-I)": a name with the subdivision that tells it apart, as the
# suggestions write it.
_QUALIFIED = re.compile(r"^(?P<name>.+?)\s*\((?P<qualifier>[^()]+)\)\s*$")


def candidates(text: str, country: str | None = None) -> list[Place]:
    """The places called ``text`` (in any of their names), in ``country`` when given: the
    ones whose main name it is first, then the most populous."""
    table = _table()
    text = text.strip()
    name, qualifier = text, None
    found = table.named(name_key(text))
    match = _QUALIFIED.match(text)
    if not found and match:
        name, qualifier = match["name"], match["qualifier"]
        found = table.named(name_key(name))
    places = [place for place in map(table.place, found) if place is not None]
    if country:
        places = [place for place in places if place.country == country]
    if qualifier:
        wanted = name_key(qualifier)
        places = [p for p in places if wanted in _subdivision_keys(p.subdivision)] or places
    key = name_key(name)
    # Stable: the most populous first among those whose main name it is, then the others.
    places.sort(key=lambda p: table.main_key(p.geonames_id) != key)
    return places


def written_name(text: str) -> str:
    """The name without the subdivision a suggestion adds: "Athens (Attikí)" → "Athens"."""
    match = _QUALIFIED.match(text.strip())
    return match["name"] if match else text.strip()


def suggestion(place: Place) -> str:
    """How the suggestions write a place: its name and the subdivision that tells it apart."""
    subdivision = subdivision_name(place.subdivision)
    return f"{place.name} ({subdivision})" if subdivision else place.name


def resolve(text: str, country: str | None = None) -> Place | None:
    """The place ``text`` most likely means (see :func:`candidates`), or None."""
    found = candidates(text, country)
    return found[0] if found else None


def complete(prefix: str, country: str | None = None, *, limit: int = 10) -> list[Place]:
    """Places with a name starting with ``prefix``, the most populous first."""
    table = _table()
    key = name_key(prefix)
    if len(key) < 2:
        return []
    seen: dict[int, Place] = {}
    start = bisect.bisect_left(table.keys, key)
    for index in range(start, min(start + 5000, len(table.keys))):
        if not table.keys[index].startswith(key):
            break
        for gid in table.ids(index):
            place = None if gid in seen else table.place(gid)
            if place is not None and (country is None or place.country == country):
                seen[gid] = place
    return sorted(seen.values(), key=lambda p: -p.population)[:limit]


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@cache
def _subdivision_keys(code: str | None) -> frozenset[str]:
    if not code:
        return frozenset()
    import pycountry

    keys = {name_key(code)}
    subdivision = pycountry.subdivisions.get(code=code)
    if subdivision is not None:
        keys.add(name_key(subdivision.name))
    return frozenset(keys)


def subdivision_name(code: str | None) -> str:
    """The name of an ISO 3166-2 subdivision as ISO writes it (Attikí, São Paulo). The ISO
    codes' translations that pycountry ships are too sparse (and in places wrong) to use."""
    if not code:
        return ""
    import pycountry

    subdivision = pycountry.subdivisions.get(code=code)
    return str(subdivision.name) if subdivision is not None else code


# ISO 3166-2 calls England, Scotland and Wales "countries": a nation within a state is too
# large to be anyone's region.
NATION_TYPES = frozenset({"Country"})


@cache
def regional_subdivision(code: str | None) -> str | None:
    """``code`` if that ISO 3166-2 subdivision is a region in the matcher's sense (Attikí,
    Tanger-Tétouan-Al Hoceïma, São Paulo state, Catalunya), else None (unknown, or a nation
    such as England)."""
    if not code:
        return None
    import pycountry

    subdivision = pycountry.subdivisions.get(code=code)
    if subdivision is None or subdivision.type in NATION_TYPES:
        return None
    return code
