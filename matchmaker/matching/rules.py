"""Scoring rules. Each is a small named function of one link (a need or challenge, and an offer)
that says how much of its weight it gives (0 to 1) and why, in one sentence a coordinator can
read. Weights are settings (matching/settings.py); rules know nothing of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matchmaker.matching.snapshot import CITY, COUNTRY, REGION, ListingView, Snapshot, distance


@dataclass(frozen=True, slots=True)
class Firing:
    fraction: float  # of the rule's weight, 0..1
    reason: str


PairRule = Callable[[Snapshot, ListingView, ListingView], Firing | None]

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


def shared_themes(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Firing | None:
    """More of the need's themes covered gives more; a shared rare theme says more."""
    shared = asker.themes & giver.themes
    if not shared:
        return None
    asked = sum(snapshot.rarity(t) for t in asker.themes) or 1.0
    coverage = sum(snapshot.rarity(t) for t in shared) / asked
    rarest = max(snapshot.rarity(t) for t in shared)
    fraction = min(1.0, 0.6 * coverage + 0.4 * rarest)
    names = ", ".join(
        f"{t} (rare)" if snapshot.rarity(t) >= 0.8 else t
        for t in sorted(shared, key=lambda t: (-snapshot.rarity(t), t))
    )
    return Firing(
        fraction,
        f"Shares {len(shared)} of the {asker.kind}'s {len(asker.themes)} themes: {names}.",
    )


def proximity(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Firing | None:
    """Same city > same region > same country."""
    level = distance(asker, giver)
    if level == CITY:
        return Firing(1.0, f"Same city: {asker.city}.")
    if level == REGION:
        return Firing(2 / 3, f"Same city-region: {asker.region}.")
    if level == COUNTRY:
        return Firing(1 / 3, f"Same country: {asker.country}.")
    return None


def complementary_kinds(
    snapshot: Snapshot, asker: ListingView, giver: ListingView
) -> Firing | None:
    """Partners of different kinds bring different things; some pairings are the seeds' own."""
    a, g = asker.org_kind, giver.org_kind
    if a == g:
        return None
    shared = asker.themes & giver.themes
    if g == "academic_institution" and a in SSE_KINDS and shared & RESEARCH_THEMES:
        return Firing(
            1.0,
            f"An academic offer meets an {KIND_NAMES[a]}'s need for research "
            "and knowledge exchange.",
        )
    if a == "public_agency" and g in SSE_KINDS:
        return Firing(1.0, f"An {KIND_NAMES[g]}'s offer answers a public agency's {asker.kind}.")
    if g == "academic_institution" and a == "public_agency" and shared & PUBLIC_NEEDS_ACADEMIC:
        return Firing(0.75, "A university's expertise meets a public agency's need.")
    if g == "public_agency" and a in SSE_KINDS and shared & POLICY_THEMES:
        return Firing(0.75, f"A public agency offers what its policy can give an {KIND_NAMES[a]}.")
    if g == "civil_society" and a == "sse_organisation" and shared & SUPPORT_THEMES:
        return Firing(0.5, "A civil society organisation supports an SSE organisation.")
    return Firing(
        0.25,
        f"Partners of different kinds ({KIND_NAMES[a]} and {KIND_NAMES[g]}) complement each other.",
    )


def sought_kind(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Firing | None:
    """A challenge names the kinds of partner it seeks."""
    if asker.kind != "challenge" or giver.org_kind not in asker.sought:
        return None
    return Firing(
        1.0, f"The challenge seeks an {KIND_NAMES[giver.org_kind]}; {giver.org_name} is one."
    )


def mutual(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Firing | None:
    """An exchange, not a favour: the offering side also needs what the asking side offers."""
    back = snapshot.org_asks.get(giver.org_id, set()) & snapshot.org_offers.get(asker.org_id, set())
    if not back:
        return None
    return Firing(
        1.0,
        f"Mutual: {giver.org_name} also needs {', '.join(sorted(back))}, which "
        f"{asker.org_name} offers.",
    )


def shared_words(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Firing | None:
    """Significant words both texts use (beyond the themes)."""
    common = asker.words & giver.words
    if len(common) < 2:
        return None
    shown = ", ".join(sorted(common)[:6])
    return Firing(min(1.0, len(common) / 5), f"Both texts speak of {shown}.")


PAIR_RULES: dict[str, PairRule] = {
    "shared_themes": shared_themes,
    "proximity": proximity,
    "complementary_kinds": complementary_kinds,
    "sought_kind": sought_kind,
    "mutual": mutual,
    "shared_words": shared_words,
}
