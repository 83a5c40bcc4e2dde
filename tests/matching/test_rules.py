from __future__ import annotations

from typing import NamedTuple

import pytest

from matchmaker.matching.explanations import Reader
from matchmaker.matching.rules import RULES
from matchmaker.matching.snapshot import ListingView, Snapshot
from tests.matching.helpers import snapshot, view

READER = Reader({"local-wealth": "Local wealth generation and fair distribution"})


class Firing(NamedTuple):
    fraction: float
    reason: str


class _Rules:
    """rules.<name>(snapshot, asker, giver): the rule's fraction and its sentence as a reader
    sees it, or None."""

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        rule = RULES[name]

        def fire(snap: Snapshot, asker: ListingView, giver: ListingView) -> Firing | None:
            fraction = rule.score(snap, asker, giver)
            if not fraction:
                return None
            return Firing(fraction, rule.sentence(rule.params(snap, asker, giver), READER))

        return fire


rules = _Rules()


def test_shared_themes_gives_more_for_more_overlap() -> None:
    need = view(1, "need", 1, themes=("research-evaluation", "knowledge-exchange"))
    both = view(2, "offer", 2, themes=("research-evaluation", "knowledge-exchange"))
    one = view(3, "offer", 3, themes=("research-evaluation", "funding"))
    snap = snapshot(need, both, one)
    full, partial = rules.shared_themes(snap, need, both), rules.shared_themes(snap, need, one)
    assert full is not None and partial is not None
    assert full.fraction > partial.fraction
    assert "Shares 2 of the need's 2 themes" in full.reason


def test_a_shared_rare_theme_says_more_than_a_common_one() -> None:
    need = view(1, "need", 1, themes=("local-wealth", "social-inclusion"))
    rare = view(2, "offer", 2, themes=("local-wealth",))
    common = view(3, "offer", 3, themes=("social-inclusion",))
    others = [view(10 + i, "offer", 10 + i, themes=("social-inclusion",)) for i in range(8)]
    snap = snapshot(need, rare, common, *others)
    assert (
        rules.shared_themes(snap, need, rare).fraction
        > rules.shared_themes(snap, need, common).fraction
    )
    assert "Local wealth generation and fair distribution (rare)" in (
        rules.shared_themes(snap, need, rare).reason
    )


def test_no_shared_theme_gives_nothing() -> None:
    need = view(1, "need", 1, themes=("funding",))
    offer = view(2, "offer", 2, themes=("training-advice",))
    assert rules.shared_themes(snapshot(need, offer), need, offer) is None


@pytest.mark.parametrize(
    "place, fraction, words",
    [
        ("liverpool", 1.0, "Same city"),
        ("birkenhead", 2 / 3, "Same city-region"),
        ("manchester", 1 / 3, "Same country"),
        ("athens", None, None),
    ],
)
def test_proximity(place: str, fraction: float | None, words: str | None) -> None:
    need = view(1, "need", 1, place="liverpool")
    offer = view(2, "offer", 2, place=place)
    firing = rules.proximity(snapshot(need, offer), need, offer)
    if fraction is None:
        assert firing is None
    else:
        assert firing.fraction == pytest.approx(fraction)
        assert words in firing.reason


@pytest.mark.parametrize(
    "asker_kind, giver_kind, themes, fraction, words",
    [
        (
            "sse_organisation",
            "academic_institution",
            ("research-evaluation",),
            1.0,
            "An academic offer meets a research need of a partner (SSE organisation).",
        ),
        (
            "public_agency",
            "sse_organisation",
            ("social-inclusion",),
            1.0,
            "a partner (SSE organisation) answers a public agency's need",
        ),
        ("public_agency", "academic_institution", ("policy-strategy",), 0.75, "university"),
        ("sse_organisation", "public_agency", ("funding",), 0.75, "its policy can give"),
        ("sse_organisation", "civil_society", ("training-advice",), 0.5, "civil society"),
        ("sse_organisation", "private_sector", ("funding",), 0.25, "different kinds"),
        # Peers partner too (a cooperative and its federation, two cities): as much as two
        # kinds that no seed pairing names, no more.
        ("sse_organisation", "sse_organisation", ("funding",), 0.25, "Peers of the same kind"),
        ("public_agency", "public_agency", ("policy-strategy",), 0.25, "Peers of the same kind"),
    ],
)
def test_complementary_kinds(
    asker_kind: str, giver_kind: str, themes: tuple, fraction: float | None, words: str | None
) -> None:
    need = view(1, "need", 1, org_kind=asker_kind, themes=themes)
    offer = view(2, "offer", 2, org_kind=giver_kind, themes=themes)
    firing = rules.complementary_kinds(snapshot(need, offer), need, offer)
    if fraction is None:
        assert firing is None
    else:
        assert firing.fraction == fraction and words in firing.reason


def test_sought_kind_fires_only_for_the_kinds_a_challenge_seeks() -> None:
    challenge = view(1, "challenge", 1, org_kind="public_agency", sought=("academic_institution",))
    academic = view(2, "offer", 2, org_kind="academic_institution")
    company = view(3, "offer", 3, org_kind="private_sector")
    need = view(4, "need", 4, org_kind="public_agency", sought=())
    snap = snapshot(challenge, academic, company, need)
    assert rules.sought_kind(snap, challenge, academic).fraction == 1.0
    assert rules.sought_kind(snap, challenge, company) is None
    assert rules.sought_kind(snap, need, academic) is None


def test_mutual_exchange() -> None:
    sse_need = view(1, "need", 1, themes=("research-evaluation",))
    sse_offer = view(2, "offer", 1, themes=("knowledge-exchange",))
    uni_offer = view(
        3, "offer", 2, org_kind="academic_institution", themes=("research-evaluation",)
    )
    uni_need = view(4, "need", 2, org_kind="academic_institution", themes=("knowledge-exchange",))
    lone_offer = view(5, "offer", 3, themes=("research-evaluation",))
    snap = snapshot(sse_need, sse_offer, uni_offer, uni_need, lone_offer)
    firing = rules.mutual(snap, sse_need, uni_offer)
    assert firing is not None and "Org 2 also needs knowledge-exchange" in firing.reason
    assert rules.mutual(snap, sse_need, lone_offer) is None


def test_shared_words_need_two_significant_words() -> None:
    need = view(1, "need", 1, text="Evaluation of cooperatives in the food sector")
    offer = view(2, "offer", 2, text="We evaluate food cooperatives")
    one = view(3, "offer", 3, text="Cooperatives welcome")
    snap = snapshot(need, offer, one)
    firing = rules.shared_words(snap, need, offer)
    # Whole words as the need writes them, not their stems.
    assert (
        firing is not None
        and firing.reason == "Both texts speak of cooperatives, evaluation, and food."
    )
    assert rules.shared_words(snap, need, one) is None


def test_shared_vocabulary_weighs_rare_words_and_names_them_whole() -> None:
    # Two organisations that write about the same programme (community wealth building with
    # anchor institutions), two that only share the words everybody uses.
    need = view(1, "need", 1, text="Anchor institutions procurement community wealth building")
    offer = view(2, "offer", 2, text="Community wealth building advice for anchor institutions")
    stranger = view(3, "offer", 3, text="Training courses for adults returning to work")
    others = [
        view(10 + n, "offer", 10 + n, text=f"Training courses number {n} community")
        for n in range(6)
    ]
    snap = snapshot(need, offer, stranger, *others)
    firing = rules.shared_vocabulary(snap, need, offer)
    assert firing is not None and firing.fraction == 1.0
    assert "anchor" in firing.reason and "institutions" in firing.reason
    assert "instituti" not in firing.reason.replace("institutions", "")  # whole words, no stems
    assert rules.shared_vocabulary(snap, need, stranger) is None
    # "community" is written by most organisations here: on its own it says little.
    common = view(30, "offer", 30, text="Community")
    snap = snapshot(need, common, *others)
    weak = rules.shared_vocabulary(snap, need, common)
    assert weak is None or weak.fraction < 0.5


def test_shared_vocabulary_names_the_six_heaviest_shared_words_ties_alphabetically() -> None:
    # Eight words both write, two of them rarer; the explanation names the six whose weights
    # multiply to the most, the rarer first, then alphabetically among equals: what a plain
    # sort of every shared word gives.
    from matchmaker.matching.affinity import profile, shared, written_as

    words = "alpha bravo charlie delta echo foxtrot golf hotel"
    need = view(1, "need", 1, text=words)
    offer = view(2, "offer", 2, text=words)
    others = [
        view(10 + n, "offer", 10 + n, text="alpha bravo charlie delta echo foxtrot")
        for n in range(2)
    ] + [view(20 + n, "offer", 20 + n, text="zulu") for n in range(4)]
    snap = snapshot(need, offer, *others)
    a, b = profile(snap, 1), profile(snap, 2)
    plain = sorted(a.keys() & b.keys(), key=lambda stem: (-a[stem] * b[stem], stem))[:6]
    named = shared(snap, 1, 2)
    assert named == ["golf", "hotel", "alpha", "bravo", "charlie", "delta"]
    assert named == [written_as(snap, 1, stem) for stem in plain]


def test_heaviest_shared_stems_are_those_of_a_plain_sort_of_the_products() -> None:
    # affinity.heaviest_shared_stems walks the first organisation's stems, rarest first;
    # the plain way sorts them by (minus the product of their weights, stem). Random texts
    # over a small vocabulary, so that many words are equally rare: the same stems, in the
    # same order, for every two organisations.
    import random

    from matchmaker.matching.affinity import heaviest_shared_stems, profile

    chance = random.Random(10)
    vocabulary = [f"{a}{b}word" for a in "bcdfghklmn" for b in "aeiou"]
    listings = [
        view(n, "need" if n % 2 else "offer", n % 15, text=" ".join(chance.sample(vocabulary, 12)))
        for n in range(60)
    ]
    snap = snapshot(*listings)
    for first in range(15):
        for second in range(15):
            if first == second:
                continue
            a, b = profile(snap, first), profile(snap, second)
            plain = sorted(a.keys() & b.keys(), key=lambda stem: (-a[stem] * b[stem], stem))
            for most in (0, 1, 6, 100):
                assert heaviest_shared_stems(snap, first, second, most) == plain[:most]
    # An organisation without words, or unknown to the snapshot: nothing shared.
    assert heaviest_shared_stems(snap, 1, 99, 6) == heaviest_shared_stems(snap, 99, 1, 6) == []


def test_a_word_is_shown_as_its_organisation_first_wrote_it() -> None:
    # affinity.written_as looks up the few stems an explanation shows; the plain way keeps,
    # for each stem, the organisation's own word, else the first of its listings' whole words.
    from dataclasses import replace

    from matchmaker.core.words import analyse, stems, whole_words
    from matchmaker.matching.affinity import written_as, written_forms

    own = analyse("Housing cooperatives of the city", "en")
    listings = [
        replace(view(1, "need", 1, text="Cooperative kitchens, trained cooks"), org_words=own),
        replace(view(2, "offer", 1, text="Kitchen training for cooperatives"), org_words=own),
        replace(view(3, "offer", 2, text="Cooperation in kitchens and housing"), org_words={}),
    ]
    snap = snapshot(*listings)
    for org_id in (1, 2):
        plain: dict[str, str] = {}
        mine = [v for v in listings if v.org_id == org_id]
        plain.update(mine[0].org_words)
        for v in mine:
            for stem, word in whole_words(v.stored_words).items():
                plain.setdefault(stem, word)
        every = {stem for v in listings for stem in stems(v.stored_words)} | set(own) | {"zzz"}
        # Asked twice, the second time in the other order: the run's memo answers the same.
        for asked in (sorted(every), sorted(every, reverse=True)):
            assert {stem: written_as(snap, org_id, stem) for stem in asked} == {
                stem: plain.get(stem, stem) for stem in asked
            }
        # Several at once (what the shared words of two organisations ask): the same words.
        asked = sorted(every)
        assert written_forms(snap, org_id, asked) == tuple(plain.get(s, s) for s in asked)
    fresh = snapshot(*listings)  # nothing asked yet: every word found through written_forms
    assert written_forms(fresh, 1, ["cooper", "zzz", "kitchen"]) == tuple(
        written_as(snapshot(*listings), 1, stem) for stem in ["cooper", "zzz", "kitchen"]
    )


def test_affinity_is_the_plain_cosine_and_shared_words_are_found_once() -> None:
    # Each word's rarity is worked out once per run, each two organisations' cosine once: the
    # same float as a plain loop over the shared words (in the same order) gives.
    import math

    from matchmaker.matching.affinity import affinity, profile, shared

    need = view(1, "need", 1, text="Anchor institutions procurement community wealth building")
    offer = view(2, "offer", 2, text="Community wealth building advice for anchor institutions")
    others = [view(10 + n, "offer", 10 + n, text=f"Community training {n}") for n in range(4)]
    snap = snapshot(need, offer, *others)
    a, b = profile(snap, 1), profile(snap, 2)
    plain = 0.0
    for stem in a.keys() & b.keys():
        plain += a[stem] * b[stem]
    assert affinity(snap, 1, 2) == plain == affinity(snap, 2, 1)
    total = len(snap.listings)
    counts = {stem: sum(stem in v.words for v in snap.listings.values()) for stem in a}
    weights = {stem: math.log((total + 1) / (counts[stem] + 1)) for stem in a}
    norm = math.sqrt(sum(w * w for w in weights.values() if w > 0))
    assert a == {stem: w / norm for stem, w in weights.items() if w > 0}
    # The words two organisations share are sorted once per run, and each caller gets its own
    # list (explanations are data: one may not change another's).
    first = shared(snap, 1, 2)
    first.append("changed")
    assert shared(snap, 1, 2) == first[:-1]


def test_shared_themes_params_are_sorted_once_and_each_callers_own() -> None:
    # The themes two listings share are sorted (rarest first) once per run for each set of
    # themes; each proposal's explanation gets its own lists.
    from matchmaker.matching.rules import shared_themes_params

    need = view(1, "need", 1, themes={"local-wealth", "funding", "training-advice"})
    offer = view(2, "offer", 2, themes={"local-wealth", "funding"})
    other = view(3, "offer", 3, themes={"funding"})
    snap = snapshot(need, offer, other)
    first = shared_themes_params(snap, need, offer)
    plain = sorted(["funding", "local-wealth"], key=lambda t: (-snap.rarity(t), t))
    assert first["themes"] == plain
    assert first["rare"] == [t for t in plain if snap.rarity(t) >= 0.8]
    first["themes"].append("changed")
    assert shared_themes_params(snap, need, offer)["themes"] == plain
