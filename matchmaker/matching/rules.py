"""Scoring rules. Each is a small named function of one link (a need or challenge, and an offer)
that says how much of its weight it gives (0 to 1), with a companion that says why in one
sentence a coordinator can read. The sentence is only written for proposals that are kept, so
scoring many candidates stays cheap. Weights are settings (matching/settings.py).
"""

from __future__ import annotations

from collections.abc import Callable

from matchmaker.matching.snapshot import (
    CITY,
    COUNTRY,
    REGION,
    WORLD,
    ListingView,
    Snapshot,
    distance,
    theme_bits,
    themes_of,
)

PairRule = Callable[[Snapshot, ListingView, ListingView], float]  # 0..1 of the rule's weight
PairReason = Callable[[Snapshot, ListingView, ListingView], str]

KIND_NAMES = {
    "sse_organisation": "SSE organisation",
    "academic_institution": "academic institution",
    "public_agency": "public agency",
    "private_sector": "private company",
    "civil_society": "civil society organisation",
}
RESEARCH_THEMES = frozenset({"research-evaluation", "knowledge-exchange"})
POLICY_THEMES = frozenset(
    {
        "policy-strategy",
        "funding",
        "market-access",
        "participation",
        "information",
        "territorial-platforms",
    }
)
PUBLIC_NEEDS_ACADEMIC = frozenset(
    {
        "research-evaluation",
        "knowledge-exchange",
        "policy-strategy",
        "social-innovation",
        "social-inclusion",
        "information",
    }
)
SUPPORT_THEMES = frozenset(
    {"incubation-entrepreneurship", "training-advice", "market-access", "funding", "information"}
)
SSE_KINDS = frozenset({"sse_organisation", "civil_society"})
RESEARCH_BITS = theme_bits(RESEARCH_THEMES)
PUBLIC_NEEDS_ACADEMIC_BITS = theme_bits(PUBLIC_NEEDS_ACADEMIC)
PUBLIC_OFFER_BITS = theme_bits(POLICY_THEMES | SUPPORT_THEMES)
SUPPORT_BITS = theme_bits(SUPPORT_THEMES)


def shared_themes(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """More of the need's themes covered gives more; a shared rare theme says more."""
    shared = asker.theme_bits & giver.theme_bits
    if not shared:
        return 0.0
    total, top = snapshot.theme_stats(shared)
    return min(1.0, 0.6 * total / (snapshot.theme_stats(asker.theme_bits)[0] or 1.0) + 0.4 * top)


def shared_themes_reason(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> str:
    shared = asker.theme_bits & giver.theme_bits
    names = snapshot.memo.get(("rarest first", shared))
    if names is None:
        names = snapshot.memo["rarest first", shared] = ", ".join(
            f"{t} (rare)" if snapshot.rarity(t) >= 0.8 else t
            for t in sorted(themes_of(shared), key=lambda t: (-snapshot.rarity(t), t))
        )
    return f"Shares {shared.bit_count()} of the {asker.kind}'s {len(asker.themes)} themes: {names}."


def proximity(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """Same city > same region > same country."""
    return PROXIMITY[distance(asker, giver)]


PROXIMITY = {CITY: 1.0, REGION: 2 / 3, COUNTRY: 1 / 3, WORLD: 0.0}


def proximity_reason(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> str:
    level = distance(asker, giver)
    if level == CITY:
        return f"Same city: {asker.city}."
    if level == REGION:
        return f"Same city-region: {asker.region}."
    return f"Same country: {asker.country}."


def _complement(asker: ListingView, giver: ListingView) -> tuple[float, str]:
    a, g = asker.org_kind, giver.org_kind
    if a == g:
        return 0.0, ""
    shared = asker.theme_bits & giver.theme_bits
    if g == "academic_institution" and a in SSE_KINDS and shared & RESEARCH_BITS:
        return 1.0, (
            f"An academic offer meets an {KIND_NAMES[a]}'s need for research and "
            "knowledge exchange."
        )
    if a == "public_agency" and g in SSE_KINDS:
        return 1.0, f"An {KIND_NAMES[g]}'s offer answers a public agency's {asker.kind}."
    if g == "academic_institution" and a == "public_agency" and shared & PUBLIC_NEEDS_ACADEMIC_BITS:
        return 0.75, "A university's expertise meets a public agency's need."
    if g == "public_agency" and a in SSE_KINDS and shared & PUBLIC_OFFER_BITS:
        # São Paulo and Tanger: public programmes of training, incubation and market access.
        return 0.75, f"A public agency offers what its policy can give an {KIND_NAMES[a]}."
    if g == "civil_society" and a == "sse_organisation" and shared & SUPPORT_BITS:
        return 0.5, "A civil society organisation supports an SSE organisation."
    return 0.25, (
        f"Partners of different kinds ({KIND_NAMES[a]} and {KIND_NAMES[g]}) complement each other."
    )


def complementary_kinds(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """Partners of different kinds bring different things; some pairings are the seeds' own."""
    return _complement(asker, giver)[0]


def complementary_kinds_reason(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> str:
    return _complement(asker, giver)[1]


def sought_kind(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """A challenge names the kinds of partner it seeks."""
    return 1.0 if asker.kind == "challenge" and giver.org_kind in asker.sought else 0.0


def sought_kind_reason(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> str:
    return f"The challenge seeks an {KIND_NAMES[giver.org_kind]}; {giver.org_name} is one."


def _mutual_themes(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> set[str]:
    asks = snapshot.org_asks.get(giver.org_id)
    offers = snapshot.org_offers.get(asker.org_id)
    return asks & offers if asks and offers else set()


def mutual(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """An exchange, not a favour: the offering side also needs what the asking side offers."""
    asks = snapshot.org_asks.get(giver.org_id)
    offers = snapshot.org_offers.get(asker.org_id)
    return 1.0 if asks and offers and not asks.isdisjoint(offers) else 0.0


def mutual_reason(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> str:
    back = ", ".join(sorted(_mutual_themes(snapshot, asker, giver)))
    return f"Mutual: {giver.org_name} also needs {back}, which {asker.org_name} offers."


def shared_words(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """Significant words both texts use (beyond the themes)."""
    common = len(asker.words & giver.words)
    return 0.0 if common < 2 else min(1.0, common / 5)


def shared_words_reason(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> str:
    return f"Both texts speak of {', '.join(sorted(asker.words & giver.words)[:6])}."


PAIR_RULES: dict[str, tuple[PairRule, PairReason]] = {
    "shared_themes": (shared_themes, shared_themes_reason),
    "proximity": (proximity, proximity_reason),
    "complementary_kinds": (complementary_kinds, complementary_kinds_reason),
    "sought_kind": (sought_kind, sought_kind_reason),
    "mutual": (mutual, mutual_reason),
    "shared_words": (shared_words, shared_words_reason),
}
