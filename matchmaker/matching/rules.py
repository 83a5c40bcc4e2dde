"""The scoring rules, each declared once in :data:`RULES`.

A rule looks at one link (a need or challenge, and an offer) and says:

- ``score``: how much of its share of the points it gives, from 0 to 1;
- ``params``: what made it fire, as plain JSON values (theme slugs, organisation names, words),
  stored with the proposal;
- ``sentence``: the sentence a coordinator reads, made from those parameters when the proposal
  is shown, in the reader's language.

Its ``weight`` is relative: a score is the weighted share of the rules that fired, out of 100
(matching/scoring.py), so a new rule is one more declaration here, with no other weight to
rebalance. Coordinators change the weights on the settings page, which lists the rules from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from matchmaker.core.i18n import gettext as _
from matchmaker.core.words import whole_words_of
from matchmaker.matching.affinity import affinity
from matchmaker.matching.affinity import shared as shared_stems
from matchmaker.matching.snapshot import (
    CITY,
    COUNTRY,
    REGION,
    ListingView,
    Snapshot,
    distance,
    theme_bits,
    themes_of,
)
from matchmaker.places.gazetteer import distance_km, subdivision_name

if TYPE_CHECKING:
    from flask_babel import LazyString

    from matchmaker.matching.explanations import Reader

Params = dict[str, Any]


@dataclass(frozen=True)
class Rule:
    name: str
    weight: int  # default weight, relative to the other rules'
    label: LazyString
    score: Callable[[Snapshot, ListingView, ListingView], float]
    params: Callable[[Snapshot, ListingView, ListingView], Params]
    sentence: Callable[[Params, Reader], str]


# Shared themes ----------------------------------------------------------------------------


def shared_themes(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """More of the need's themes covered gives more; a shared rare theme says more."""
    shared = asker.theme_bits & giver.theme_bits
    if not shared:
        return 0.0
    # Worked out once per run for each of the few thousand (themes, shared themes) that the
    # hundreds of thousands of pairs of a full run fall into.
    known: dict[tuple[int, int], float] = snapshot.memo.setdefault(("shared themes",), {})
    key = (asker.theme_bits, shared)
    found = known.get(key)
    if found is None:
        total, top = snapshot.theme_stats(shared)
        found = known[key] = min(
            1.0, 0.6 * total / (snapshot.theme_stats(asker.theme_bits)[0] or 1.0) + 0.4 * top
        )
    return found


RARE = 0.8  # a theme this rare (0..1) is called rare in the explanation


def shared_themes_params(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Params:
    rarest_first, rare = _rarest_first(snapshot, asker.theme_bits & giver.theme_bits)
    return {
        "listing": asker.kind,
        "total": len(asker.themes),
        "themes": list(rarest_first),
        "rare": list(rare),
    }


def _rarest_first(snapshot: Snapshot, bits: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The themes of ``bits``, rarest first, and those rare enough to say so: sorted once per
    run for each of the few hundred sets of themes that listings share."""
    known: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = snapshot.memo.setdefault(
        ("rarest first",), {}
    )
    found = known.get(bits)
    if found is None:
        rarest_first = sorted(themes_of(bits), key=lambda t: (-snapshot.rarity(t), t))
        rare = [t for t in rarest_first if snapshot.rarity(t) >= RARE]
        found = known[bits] = (tuple(rarest_first), tuple(rare))
    return found


def shared_themes_sentence(p: Params, reader: Reader) -> str:
    themes = reader.themes(p["themes"], marked=p["rare"])
    if p["listing"] == "challenge":
        return _(
            "Shares %(count)d of the challenge's %(total)d themes: %(themes)s.",
            count=len(p["themes"]),
            total=p["total"],
            themes=themes,
        )
    return _(
        "Shares %(count)d of the need's %(total)d themes: %(themes)s.",
        count=len(p["themes"]),
        total=p["total"],
        themes=themes,
    )


# Proximity --------------------------------------------------------------------------------

NEAR_KM = 50  # two cities this close share a labour market, networks and a daily commute
PROXIMITY = {"city": 1.0, "near": 0.8, "region": 2 / 3, "subdivision": 2 / 3, "country": 1 / 3}
# North-south, a degree of latitude is 111 km: farther apart than this, they are not near.
_NEAR_DEGREES = NEAR_KM / 111.0


def _km(a: ListingView, b: ListingView) -> float | None:
    """How far apart the two organisations' cities are, when both are real places and close
    enough to matter (None otherwise: most pairs are told apart by latitude alone)."""
    if a.latitude is None or b.latitude is None or a.longitude is None or b.longitude is None:
        return None
    if abs(a.latitude - b.latitude) > _NEAR_DEGREES:
        return None
    return distance_km((a.latitude, a.longitude), (b.latitude, b.longitude))


def _proximity(asker: ListingView, giver: ListingView) -> tuple[str | None, float | None]:
    """The closest level the two share (city, near, region, subdivision, country), and the
    distance in km when it is "near"."""
    level = distance(asker, giver)
    if level == CITY:
        return "city", None
    km = _km(asker, giver)
    if km is not None and km <= NEAR_KM:
        return "near", km
    if level == REGION:
        return "region", None
    if asker.subdivision is not None and asker.subdivision == giver.subdivision:
        return "subdivision", None
    if level == COUNTRY:
        return "country", None
    return None, None


def proximity(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """Same city > within 50 km > same region > same country, measured on real places (the
    gazetteer's) where the cities were found there, else on the names as written."""
    level, _km_apart = _proximity(asker, giver)
    return PROXIMITY[level] if level else 0.0


def proximity_params(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Params:
    level, km = _proximity(asker, giver)
    if level == "city":
        return {"level": "city", "place": asker.city}
    if level == "near":
        return {"level": "near", "place": asker.city, "other": giver.city, "km": round(km or 0)}
    if level == "region":
        return {"level": "region", "place": asker.region}
    if level == "subdivision":
        return {"level": "subdivision", "place": asker.subdivision}
    return {"level": "country", "place": asker.country}


def proximity_sentence(p: Params, reader: Reader) -> str:
    if p["level"] == "city":
        return _("Same city: %(place)s.", place=p["place"])
    if p["level"] == "near":
        return _(
            "Near each other: %(place)s and %(other)s are %(km)d km apart.",
            place=p["place"],
            other=p["other"],
            km=p["km"],
        )
    if p["level"] == "region":
        return _("Same city-region: %(place)s.", place=p["place"])
    if p["level"] == "subdivision":
        return _("Same region: %(place)s.", place=subdivision_name(p["place"]))
    return _("Same country: %(place)s.", place=p["place"])


# Complementary kinds ----------------------------------------------------------------------

RESEARCH_BITS = theme_bits({"research-evaluation", "knowledge-exchange"})
PUBLIC_NEEDS_ACADEMIC_BITS = theme_bits(
    {
        "research-evaluation",
        "knowledge-exchange",
        "policy-strategy",
        "social-innovation",
        "social-inclusion",
        "information",
    }
)
SUPPORT_THEMES = {
    "incubation-entrepreneurship",
    "training-advice",
    "market-access",
    "funding",
    "information",
}
PUBLIC_OFFER_BITS = theme_bits(
    SUPPORT_THEMES | {"policy-strategy", "participation", "territorial-platforms"}
)
SUPPORT_BITS = theme_bits(SUPPORT_THEMES)
SSE_KINDS = frozenset({"sse_organisation", "civil_society"})
OTHER_KINDS = 0.25  # two kinds that none of the seed pairings below names
PEERS = OTHER_KINDS  # two organisations of the same kind


def _complement(asker: ListingView, giver: ListingView) -> tuple[float, str]:
    """How well the two kinds of organisation complement each other, and which seed pairing
    they follow (a key of :func:`complementary_kinds_sentence`)."""
    a, g = asker.org_kind, giver.org_kind
    if a == g:
        # Peers partner too: cities with cities, universities in consortia, networks of SSE
        # networks, cooperatives with their federation. As much as two kinds that no seed pairs.
        return PEERS, "peers"
    shared = asker.theme_bits & giver.theme_bits
    if g == "academic_institution" and a in SSE_KINDS and shared & RESEARCH_BITS:
        return 1.0, "research_for_practice"
    if a == "public_agency" and g in SSE_KINDS:
        return 1.0, "practice_for_public"
    if g == "academic_institution" and a == "public_agency" and shared & PUBLIC_NEEDS_ACADEMIC_BITS:
        return 0.75, "expertise_for_public"
    if g == "public_agency" and a in SSE_KINDS and shared & PUBLIC_OFFER_BITS:
        # São Paulo and Tanger: public programmes of training, incubation and market access.
        return 0.75, "programme_for_practice"
    if g == "civil_society" and a == "sse_organisation" and shared & SUPPORT_BITS:
        return 0.5, "support_for_enterprise"
    return OTHER_KINDS, "different_kinds"


def complementary_kinds(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """Partners of different kinds bring different things; some pairings are the seeds' own.
    Peers of one kind partner as often as two kinds no seed pairs (city networks, university
    consortia, networks of networks): complementary kinds are one signal, not a condition."""
    return _complement(asker, giver)[0]


def complementary_kinds_params(
    snapshot: Snapshot, asker: ListingView, giver: ListingView
) -> Params:
    return {
        "pairing": _complement(asker, giver)[1],
        "asker_kind": asker.org_kind,
        "giver_kind": giver.org_kind,
    }


def complementary_kinds_sentence(p: Params, reader: Reader) -> str:
    kinds = {"asker": reader.kind(p["asker_kind"]), "giver": reader.kind(p["giver_kind"])}
    pairing = p["pairing"]
    if pairing == "research_for_practice":
        return _("An academic offer meets a research need of a partner (%(asker)s).", **kinds)
    if pairing == "practice_for_public":
        return _("An offer from a partner (%(giver)s) answers a public agency's need.", **kinds)
    if pairing == "expertise_for_public":
        return _("A university's expertise meets a public agency's need.", **kinds)
    if pairing == "programme_for_practice":
        return _("A public agency offers what its policy can give a partner (%(asker)s).", **kinds)
    if pairing == "support_for_enterprise":
        return _("A civil society organisation supports an SSE organisation.", **kinds)
    if pairing == "peers":
        return _("Peers of the same kind (%(asker)s) work together.", **kinds)
    return _("Partners of different kinds (%(asker)s, %(giver)s) complement each other.", **kinds)


# Sought kind ------------------------------------------------------------------------------


def sought_kind(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """A challenge names the kinds of partner it seeks."""
    return 1.0 if asker.kind == "challenge" and giver.org_kind in asker.sought else 0.0


def sought_kind_params(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Params:
    return {"kind": giver.org_kind, "organisation": giver.org_name}


def sought_kind_sentence(p: Params, reader: Reader) -> str:
    return _(
        "The challenge seeks partners of this kind (%(kind)s), and %(organisation)s is one.",
        kind=reader.kind(p["kind"]),
        organisation=p["organisation"],
    )


# Mutual -----------------------------------------------------------------------------------


def _given_back(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> set[str]:
    """The themes the offering organisation needs and the asking one offers."""
    asks = snapshot.org_asks.get(giver.org_id)
    offers = snapshot.org_offers.get(asker.org_id)
    return asks & offers if asks and offers else set()


def mutual(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """An exchange, not a favour: the offering side also needs what the asking side offers."""
    asks = snapshot.org_asks.get(giver.org_id)
    offers = snapshot.org_offers.get(asker.org_id)
    return 1.0 if asks and offers and not asks.isdisjoint(offers) else 0.0


def mutual_params(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Params:
    return {
        "giver": giver.org_name,
        "asker": asker.org_name,
        "themes": sorted(_given_back(snapshot, asker, giver)),
    }


def mutual_sentence(p: Params, reader: Reader) -> str:
    return _(
        "Mutual: %(giver)s also needs %(themes)s, which %(asker)s offers.",
        giver=p["giver"],
        asker=p["asker"],
        themes=reader.themes(p["themes"]),
    )


# Shared words -----------------------------------------------------------------------------


def shared_words(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """Significant words both texts use (beyond the themes)."""
    common = len(asker.words & giver.words)
    return 0.0 if common < 2 else min(1.0, common / 5)


def shared_words_params(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Params:
    """Whole words, as the asking listing writes them (not their stems)."""
    return {"words": whole_words_of(asker.stored_words, sorted(asker.words & giver.words)[:6])}


def shared_words_sentence(p: Params, reader: Reader) -> str:
    return _("Both texts speak of %(words)s.", words=reader.words(p["words"]))


# Shared vocabulary ------------------------------------------------------------------------

AFFINITY_FULL = 0.25  # a cosine this high gives all the rule's points


def shared_vocabulary(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> float:
    """The two organisations speak of the same things (matching/affinity.py)."""
    return min(1.0, affinity(snapshot, asker.org_id, giver.org_id) / AFFINITY_FULL)


def shared_vocabulary_params(snapshot: Snapshot, asker: ListingView, giver: ListingView) -> Params:
    params: Params = {
        "asker": asker.org_name,
        "giver": giver.org_name,
        "words": shared_stems(snapshot, asker.org_id, giver.org_id),
    }
    if not asker.theme_bits & giver.theme_bits:
        params["no_shared_theme"] = True  # a related pair (matching/related.py)
    return params


def shared_vocabulary_sentence(p: Params, reader: Reader) -> str:
    if p.get("no_shared_theme"):
        return _(
            "%(asker)s and %(giver)s share no theme but write about the same work: %(words)s.",
            asker=p["asker"],
            giver=p["giver"],
            words=reader.words(p["words"]),
        )
    return _(
        "%(asker)s and %(giver)s write about the same things: %(words)s.",
        asker=p["asker"],
        giver=p["giver"],
        words=reader.words(p["words"]),
    )


# The registry -----------------------------------------------------------------------------

RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "shared_themes",
            25,
            _l("Shared themes (rarer themes count more)"),
            shared_themes,
            shared_themes_params,
            shared_themes_sentence,
        ),
        Rule(
            "proximity",
            10,
            _l("Proximity (same city > within 50 km > same region > same country)"),
            proximity,
            proximity_params,
            proximity_sentence,
        ),
        Rule(
            "complementary_kinds",
            15,
            _l("Complementary kinds of organisation"),
            complementary_kinds,
            complementary_kinds_params,
            complementary_kinds_sentence,
        ),
        Rule(
            "sought_kind",
            10,
            _l("A challenge's sought kind of partner"),
            sought_kind,
            sought_kind_params,
            sought_kind_sentence,
        ),
        Rule(
            "mutual",
            10,
            _l("Mutual exchange (each offers what the other needs)"),
            mutual,
            mutual_params,
            mutual_sentence,
        ),
        Rule(
            "shared_vocabulary",
            20,
            _l("Shared vocabulary of the two organisations (rarer words count more)"),
            shared_vocabulary,
            shared_vocabulary_params,
            shared_vocabulary_sentence,
        ),
        Rule(
            "shared_words",
            10,
            _l("Shared significant words"),
            shared_words,
            shared_words_params,
            shared_words_sentence,
        ),
    )
}
