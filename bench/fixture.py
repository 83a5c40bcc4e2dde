"""The quality benchmark's fixture: documented SSE partnerships, distractors, and their split.

bench/fixtures/README.md describes the files and the split rule; bench/quality.py measures the
matcher against one half. Everything here is plain data handling (no database), so the tests
can check the fixture cheaply.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "bench" / "fixtures"
SEED_FILE = ROOT / "matchmaker" / "demo" / "seed.json"

HALVES = ("tuning", "held-out")
# The split key. Fixed once, before the matcher was run on this fixture; never change it (or a
# partnership's id): the held-out half is only held out while nobody can move entries into it.
SPLIT_KEY = "sse-matchmaker-fixture/"

# The four seed cases are the demo data the rules were written with: always in the tuning half.
SEED_PARTNERSHIPS = (
    ("seed-liverpool", "Liverpool City Region (seed)", ("sen", "uol", "lcm")),
    ("seed-athens", "Athens (seed)", ("athens", "tua", "athens-wisc", "athens-sin")),
    (
        "seed-sao-paulo",
        "São Paulo (seed)",
        ("sp", "sp-incubator", "sp-state", "sp-sewing", "sp-kitchen"),
    ),
    (
        "seed-tanger",
        "Tanger-Tetouan-Al Hoceima (seed)",
        ("ttah", "ttah-assoc", "ttah-centre", "ttah-coop", "ttah-council"),
    ),
)

# What the fixture promises (issue 10); bench/quality.py refuses to measure a fixture that
# breaks them, and tests/test_quality_fixture.py checks them.
MIN_PARTNERSHIPS = 40
MIN_MULTI_PARTY = 30
MIN_CONTINENTS = 4
MIN_LANGUAGES = 4


@dataclass(frozen=True)
class Partnership:
    id: str
    name: str
    organisations: tuple[str, ...]  # refs
    source: str  # "title <url>"
    is_seed: bool = False

    @property
    def is_multi_party(self) -> bool:
        return len(self.organisations) >= 3


def half_of(partnership_id: str) -> str:
    """The half a partnership belongs to: the first byte of SHA-256(SPLIT_KEY + id), even →
    tuning, odd → held-out. It depends on the id alone, so adding entries never moves others."""
    digest = hashlib.sha256((SPLIT_KEY + partnership_id).encode()).digest()
    return "tuning" if digest[0] % 2 == 0 else "held-out"


def load_raw() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The documented partnerships and the distractor groups, as written in the JSON files."""
    partnerships = json.loads((FIXTURES / "partnerships.json").read_text(encoding="utf-8"))
    distractors = json.loads((FIXTURES / "distractors.json").read_text(encoding="utf-8"))
    return partnerships["partnerships"], distractors["distractors"]


@dataclass
class Half:
    """One half of the fixture: its partnerships, the refs of its distractor organisations, and
    the interchange document (sse-matchmaker/1) that loads all of it."""

    name: str
    partnerships: list[Partnership]
    distractors: set[str]
    document: dict[str, Any]


def _stable_order(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    # Database ids follow the order of the document. Sorting by a hash of the ref keeps the
    # partners of one partnership apart, so no ranking that breaks ties by id is helped by
    # the order the fixture was written in.
    return sorted(records, key=lambda r: hashlib.sha256(r["ref"].encode()).hexdigest())


def _interchange(organisation: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An organisation of the fixture as interchange records: the fields the interchange
    format has (it refuses unknown fields), the organisation's `language` and its listings'
    among them."""
    from matchmaker.interchange.document import LISTING_FIELDS, ORGANISATION_FIELDS

    record = {k: v for k, v in organisation.items() if k in ORGANISATION_FIELDS}
    listings = [
        {"organisation": organisation["ref"]}
        | {k: v for k, v in listing.items() if k in LISTING_FIELDS}
        for listing in organisation["listings"]
    ]
    return record, listings


def load_half(name: str) -> Half:
    if name not in HALVES:
        raise ValueError(f"unknown half {name!r}; use one of {', '.join(HALVES)}")
    raw_partnerships, raw_distractors = load_raw()
    chosen = [p for p in raw_partnerships if half_of(p["id"]) == name]
    chosen_ids = {p["id"] for p in chosen}
    organisations: list[dict[str, Any]] = []
    listings: list[dict[str, Any]] = []
    partnerships = []
    for p in chosen:
        for organisation in p["organisations"]:
            record, own = _interchange(organisation)
            organisations.append(record)
            listings += own
        partnerships.append(
            Partnership(
                id=p["id"],
                name=p["name"],
                organisations=tuple(o["ref"] for o in p["organisations"]),
                source=f"{p['source']['title']} <{p['source']['url']}>",
            )
        )
    distractors: set[str] = set()
    for group in raw_distractors:
        # A distractor group follows the partnership it is placed beside, so each half holds
        # the distractors of its own cities.
        if group["beside"] not in chosen_ids:
            continue
        for organisation in group["organisations"]:
            record, own = _interchange(organisation)
            organisations.append(record)
            listings += own
            distractors.add(organisation["ref"])
    if name == "tuning":
        seeds = json.loads(SEED_FILE.read_text(encoding="utf-8"))
        organisations += seeds["organisations"]
        listings += seeds["listings"]
        partnerships += [
            Partnership(id=i, name=n, organisations=refs, source="seed case", is_seed=True)
            for i, n, refs in SEED_PARTNERSHIPS
        ]
    document = {
        "format": "sse-matchmaker/1",
        "organisations": _stable_order(organisations),
        "listings": _stable_order(listings),
    }
    return Half(name, partnerships, distractors, document)


def problems() -> list[str]:
    """Where the fixture breaks its own promises (empty when it keeps them)."""
    raw_partnerships, raw_distractors = load_raw()
    found = []
    partners = sum(len(p["organisations"]) for p in raw_partnerships)
    distractors = sum(len(g["organisations"]) for g in raw_distractors)
    multi = sum(1 for p in raw_partnerships if len(p["organisations"]) >= 3)
    continents = {c for p in raw_partnerships for c in p["continents"]}
    languages = {
        listing["language"]
        for p in raw_partnerships
        for o in p["organisations"]
        for listing in o["listings"]
    }
    if len(raw_partnerships) < MIN_PARTNERSHIPS:
        found.append(f"{len(raw_partnerships)} partnerships (at least {MIN_PARTNERSHIPS})")
    if multi < MIN_MULTI_PARTY:
        found.append(f"{multi} partnerships of 3 or more partners (at least {MIN_MULTI_PARTY})")
    if len(continents) < MIN_CONTINENTS:
        found.append(f"{len(continents)} continents (at least {MIN_CONTINENTS})")
    if len(languages) < MIN_LANGUAGES:
        found.append(f"{len(languages)} listing languages (at least {MIN_LANGUAGES})")
    if distractors < partners:
        found.append(f"{distractors} distractor organisations for {partners} partners")
    for p in raw_partnerships:
        source = p.get("source") or {}
        if not str(source.get("url", "")).startswith(("https://", "http://")) or not source.get(
            "title"
        ):
            found.append(f"partnership {p['id']}: no source (title and URL)")
        if half_of(p["id"]) == "held-out" and p["id"].startswith("seed"):
            found.append(f"partnership {p['id']}: seed cases stay out of the held-out half")
    everyone = [o for p in raw_partnerships for o in p["organisations"]]
    everyone += [o for g in raw_distractors for o in g["organisations"]]
    everyone += json.loads(SEED_FILE.read_text(encoding="utf-8"))["organisations"]
    if len({o["ref"] for o in everyone}) != len(everyone):
        found.append("an organisation ref is used twice (each belongs to one partnership)")
    # The import recognises an organisation by name and country: two entries must not merge.
    if len({(o["name"], o["country"]) for o in everyone}) != len(everyone):
        found.append("two organisations share a name and country")
    known = {p["id"] for p in raw_partnerships}
    found += [
        f"distractors beside unknown partnership {g['beside']}"
        for g in raw_distractors
        if g["beside"] not in known
    ]
    return found
