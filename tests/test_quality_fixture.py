"""The quality benchmark's fixture (bench/fixtures/) keeps its promises, and its split holds."""

from __future__ import annotations

import re

from flask import Flask

from bench.fixture import (
    HALVES,
    SEED_PARTNERSHIPS,
    half_of,
    load_half,
    load_raw,
    problems,
)
from bench.quality import baseline, measure, why
from matchmaker.interchange.document import validate_document
from matchmaker.listings.services import all_themes

# The held-out half as the split rule made it when the fixture was first landed. A change of
# the rule or of an id that moves any of these fails here.
HELD_OUT = {
    "banco-palmas",
    "bogota-recicladores",
    "bologna-commons",
    "coopafrica",
    "euricse",
    "grands-voisins",
    "gr-bg-social-entrepreneurship",
    "lisbon-bipzip",
    "marica-mumbuca",
    "morocco-ess",
    "nantes-ecossolies",
    "nyc-wcbdi",
    "preston-cwb",
    "proninc",
    "pt-satellite",
    "pune-swach",
    "rosario-agricultura",
    "unrisd-gsef-guidelines",
    "untfsse",
    "uruguay-coop",
    "villeurbanne-tzcld",
}
KINDS = {
    "sse_organisation",
    "academic_institution",
    "public_agency",
    "private_sector",
    "civil_society",
}


def test_fixture_keeps_its_counts_and_every_partnership_cites_a_source() -> None:
    assert problems() == []
    partnerships, distractors = load_raw()
    assert len(partnerships) >= 40
    assert sum(1 for p in partnerships if len(p["organisations"]) >= 3) >= 30
    partners = sum(len(p["organisations"]) for p in partnerships)
    assert sum(len(g["organisations"]) for g in distractors) >= partners
    for p in partnerships:
        assert p["source"]["url"].startswith(("https://", "http://")), p["id"]
        assert len(p["source"]["title"]) > 10, p["id"]


def test_every_organisation_posts_listings_with_a_language() -> None:
    partnerships, distractors = load_raw()
    organisations = [o for p in partnerships for o in p["organisations"]]
    organisations += [o for g in distractors for o in g["organisations"]]
    for organisation in organisations:
        assert organisation["kind"] in KINDS, organisation["ref"]
        assert organisation["listings"], organisation["ref"]
        for listing in organisation["listings"]:
            assert re.fullmatch(r"[a-z]{2}", listing["language"]), listing["ref"]
            assert 1 <= len(listing["themes"]) <= 3, listing["ref"]
    languages = {listing["language"] for o in organisations for listing in o["listings"]}
    assert len(languages) >= 4


def test_the_split_is_fixed_and_keeps_the_seed_cases_out_of_the_held_out_half() -> None:
    partnerships, _ = load_raw()
    ids = {p["id"] for p in partnerships}
    assert ids >= HELD_OUT
    assert {i for i in ids if half_of(i) == "held-out"} == HELD_OUT
    assert [half_of(i) for i in sorted(ids)] == [half_of(i) for i in sorted(ids)]

    halves = {name: load_half(name) for name in HALVES}
    assert halves["held-out"].document == load_half("held-out").document
    held_out_refs = {o["ref"] for o in halves["held-out"].document["organisations"]}
    tuning_refs = {o["ref"] for o in halves["tuning"].document["organisations"]}
    assert not held_out_refs & tuning_refs
    seed_refs = {ref for _, _, refs in SEED_PARTNERSHIPS for ref in refs}
    assert seed_refs <= tuning_refs
    assert not seed_refs & held_out_refs
    # Roughly half and half, and each half has the distractors of its own partnerships.
    sizes = [len(halves[name].partnerships) for name in HALVES]
    assert min(sizes) >= 0.4 * sum(sizes)
    for half in halves.values():
        partners = sum(len(p.organisations) for p in half.partnerships if not p.is_seed)
        assert len(half.distractors) >= 0.9 * partners


def test_both_halves_pass_the_interchange_format(app: Flask) -> None:
    themes = {t.slug: t for t in all_themes()}
    for name in HALVES:
        _, found = validate_document(load_half(name).document, themes)
        assert not found, (name, found.items[:5])


def test_measures_count_pairs_partnerships_and_distractors() -> None:
    half = load_half("held-out")
    preston = next(p for p in half.partnerships if p.id == "preston-cwb")
    distractor = sorted(half.distractors)[0]
    proposals = [
        frozenset({"preston-cc", "cles", "uclan"}),  # three of four: multi-party, three pairs
        frozenset({"pcdn", distractor}),  # a distractor
    ]
    figures, rows = measure(proposals, [preston], half.distractors)
    assert (figures.pairs_found, figures.pairs) == (3, 6)
    assert (figures.precise, figures.with_distractor) == (1, 1)
    assert (figures.multi_found, figures.multi) == (1, 1)
    assert rows[0]["as_one_proposal"] is True


def test_baseline_takes_the_five_offers_sharing_most_themes_ties_by_id() -> None:
    need = (1, "need", "asker", frozenset({"funding", "market-access"}))
    offers = [
        (i, "offer", f"org{i}", frozenset({"funding"} if i < 8 else {"funding", "market-access"}))
        for i in range(2, 12)
    ]
    own = (12, "offer", "asker", frozenset({"funding", "market-access"}))
    stranger = (13, "offer", "far", frozenset({"basic-needs"}))
    proposals = baseline([need, *offers, own, stranger])
    assert proposals == [frozenset({"asker", f"org{i}"}) for i in (8, 9, 10, 11, 2)]


def test_why_names_the_best_way_the_matcher_could_join_two_partners() -> None:
    from tests.matching.helpers import snapshot, view

    need = view(1, "need", 1, themes=["research-evaluation"], scope="local")
    near_offer = view(2, "offer", 2, themes=["research-evaluation"], scope="local")
    far_offer = view(3, "offer", 3, place="athens", themes=["research-evaluation"])
    other_theme = view(4, "offer", 4, themes=["funding"], scope="local")
    far_other = view(5, "offer", 5, place="athens", themes=["funding"])
    views = [need, near_offer, far_offer, other_theme, far_other]
    of = {str(v.org_id): [v] for v in views}
    world = snapshot(*views)
    assert why(world, of, "1", "2") == "linked"
    assert why(world, of, "1", "3") == "theme only"  # another country, beyond the scopes
    assert why(world, of, "1", "4") == "reach only"
    assert why(world, of, "1", "5") == "neither"
    assert why(world, of, "2", "4") == "offers only"
