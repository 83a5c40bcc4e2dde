"""Seeded synthetic organisations and listings, written straight into a migrated database."""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from matchmaker.core.words import listing_words, search_words
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, SoughtKind, Theme, listing_themes
from matchmaker.matching.text import rebuild_word_counts
from matchmaker.matching.theme_counts import rebuild_theme_counts
from matchmaker.organisations.models import Organisation

KINDS = [
    ("sse_organisation", 45),
    ("academic_institution", 10),
    ("public_agency", 15),
    ("private_sector", 10),
    ("civil_society", 20),
]
SCOPES = [("local", 30), ("regional", 40), ("national", 20), ("international", 10)]
VOCABULARY = [
    "evaluation",
    "research",
    "cooperative",
    "kitchen",
    "housing",
    "training",
    "advice",
    "incubation",
    "market",
    "procurement",
    "funding",
    "strategy",
    "policy",
    "inclusion",
    "poverty",
    "employment",
    "integration",
    "platform",
    "network",
    "consultation",
    "participation",
    "information",
    "developers",
    "entrepreneurs",
    "impact",
    "youth",
    "women",
    "migrants",
    "refugees",
    "disability",
    "agriculture",
    "food",
    "energy",
    "recycling",
    "repair",
    "textiles",
    "crafts",
    "tourism",
    "culture",
    "care",
    "elderly",
    "childcare",
    "health",
    "mental",
    "transport",
    "mobility",
    "digital",
    "skills",
    "mentoring",
    "finance",
    "credit",
    "savings",
    "insurance",
    "land",
    "commons",
    "water",
    "forest",
    "fishing",
    "artisans",
    "cleaning",
    "catering",
    "construction",
    "logistics",
    "retail",
    "wholesale",
    "education",
    "schools",
    "university",
    "students",
    "volunteers",
    "donors",
    "investors",
    "municipality",
    "region",
    "ministry",
    "europe",
]


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


# Where the organisations are: (countries, regions per country, cities per region).
SPREAD = (40, 5, 4)
# Dense: a few countries, many organisations in each city (the indexes' and the per-region
# templates' worst case).
DENSE = (3, 2, 2)


def generate(listing_count: int, seed: int = 2026, *, dense: bool = False) -> None:
    """About one organisation for every five listings, spread over 40 countries, 5 regions
    each and 4 cities per region (``dense``: 3 countries, 2 regions each, 2 cities per region);
    themes follow a long tail, as real ones do."""
    countries, regions, cities = DENSE if dense else SPREAD
    rng = random.Random(seed)
    themes = list(db.session.execute(sa.select(Theme.id, Theme.slug).order_by(Theme.id)).all())
    theme_weights = [1 / (rank + 1) ** 0.7 for rank in range(len(themes))]
    now = utcnow()
    org_count = max(10, listing_count // 5)
    orgs = []
    for number in range(org_count):
        country = f"C{rng.randrange(countries):02d}"
        region = f"{country}-R{rng.randrange(regions)}"
        orgs.append(
            {
                "id": number + 1,
                "name": f"Organisation {number + 1}",
                "kind": _weighted(rng, KINDS),
                "description": "A synthetic organisation for the benchmark.",
                "city": f"{region}-City{rng.randrange(cities)}",
                "region": region,
                "country": _iso(country),
                "status": "verified",
                "created_at": now,
                "updated_at": now,
            }
        )
    db.session.execute(sa.insert(Organisation.__table__), orgs)
    listings, theme_rows, sought_rows = [], [], []
    deadline = date.today() + timedelta(days=365)
    for number in range(1, listing_count + 1):
        org = rng.choice(orgs)
        roll = rng.random()
        kind = "offer" if roll < 0.45 else "need"
        if org["kind"] == "public_agency" and roll > 0.8:
            kind = "challenge"
        words = " ".join(rng.choices(VOCABULARY, k=rng.randint(15, 30)))
        title = " ".join(rng.choices(VOCABULARY, k=4)).capitalize()
        listings.append(
            {
                "id": number,
                "organisation_id": org["id"],
                "kind": kind,
                "title": title,
                "description": words,
                # As the app stores them when a listing is saved (inserted here in bulk).
                "match_words": listing_words(title, words),
                "search_title": search_words(title),
                "search_body": search_words(words),
                "scope": _weighted(rng, SCOPES),
                "status": "open",
                "deadline": deadline if kind == "challenge" else None,
                "created_at": now,
                "updated_at": now,
            }
        )
        chosen = set()
        for _ in range(rng.choice([1, 2, 2, 3])):
            chosen.add(rng.choices(themes, weights=theme_weights)[0][0])
        theme_rows += [{"listing_id": number, "theme_id": t} for t in chosen]
        if kind == "challenge":
            for sought in rng.sample([k for k, _ in KINDS if k != "public_agency"], 2):
                sought_rows.append({"listing_id": number, "kind": sought})
    for start in range(0, len(listings), 5000):
        db.session.execute(sa.insert(Listing.__table__), listings[start : start + 5000])
    db.session.execute(sa.insert(listing_themes), theme_rows)
    if sought_rows:
        db.session.execute(sa.insert(SoughtKind.__table__), sought_rows)
    # Inserted in bulk, outside the ORM: count their words and themes as saving them would have.
    rebuild_word_counts()
    rebuild_theme_counts()
    db.session.commit()


ISO = [
    "AR",
    "AT",
    "BE",
    "BO",
    "BR",
    "CA",
    "CL",
    "CO",
    "CZ",
    "DE",
    "DK",
    "EC",
    "EG",
    "ES",
    "FI",
    "FR",
    "GB",
    "GH",
    "GR",
    "HU",
    "IE",
    "IN",
    "IT",
    "KE",
    "KR",
    "MA",
    "MX",
    "NL",
    "NO",
    "PE",
    "PH",
    "PL",
    "PT",
    "RO",
    "SE",
    "SN",
    "TN",
    "TR",
    "UY",
    "ZA",
]


def _iso(code: str) -> str:
    return ISO[int(code[1:]) % len(ISO)]
