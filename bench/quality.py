"""How good are the matcher's proposals? Measured against publicly documented SSE partnerships.

    .venv/bin/python bench/quality.py                   # the held-out half (the figure to report)
    .venv/bin/python bench/quality.py --half tuning     # the half to tune the rules on
    .venv/bin/python bench/quality.py --json            # the same figures as JSON
    .venv/bin/python bench/quality.py --half tuning --why   # where the real pairs are lost

The fixture (bench/fixtures/, described in its README) holds documented partnerships, each
with its source, written as their organisations would post them, and distractor organisations
posting plausible listings on the same themes in the same places. It is split once, by a fixed
rule (bench/fixture.py, half_of: SHA-256 of "sse-matchmaker-fixture/" + the partnership's id,
first byte even → tuning, odd → held-out; distractors follow the partnership they are placed
beside; the four seed cases are always in the tuning half). Tune on the tuning half; report the
held-out half.

The chosen half is imported through the interchange format into a fresh SQLite database built
by the migrations, and the real matcher runs once with default settings. Measures:

- pair recall: of all pairs of organisations of one real partnership, the share that appear
  together in at least one proposal;
- precision: the share of proposals whose parties all belong to one real partnership;
- multi-party recall: of the real partnerships of three or more organisations, the share
  proposed as one proposal holding at least three of them;
- distractor rate: the share of proposals that include at least one distractor organisation
  (the rest of the imprecise proposals join organisations of different real partnerships).

The same figures are given for a plain theme-overlap baseline: each need or challenge is paired
with the five offers of other organisations that share the most themes with it (at least one;
ties by listing id, and ids follow a hashed order, not the fixture's), with no other rule.

The command exits with status 2, without measuring, if the fixture breaks its own counts.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fixture import HALVES, Half, Partnership, load_half, problems  # noqa: E402

if TYPE_CHECKING:
    from matchmaker.matching.snapshot import ListingView, Snapshot

BASELINE_TOP = 5


@dataclass
class Figures:
    proposals: int
    multi_party_proposals: int
    pairs_found: int
    pairs: int
    precise: int
    with_distractor: int
    multi_found: int
    multi: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "proposals": self.proposals,
            "multi_party_proposals": self.multi_party_proposals,
            "pair_recall": _share(self.pairs_found, self.pairs),
            "pairs_found": self.pairs_found,
            "pairs": self.pairs,
            "precision": _share(self.precise, self.proposals),
            "precise_proposals": self.precise,
            "multi_party_recall": _share(self.multi_found, self.multi),
            "multi_party_found": self.multi_found,
            "multi_party_partnerships": self.multi,
            "distractor_rate": _share(self.with_distractor, self.proposals),
            "proposals_with_distractor": self.with_distractor,
        }


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def measure(
    proposals: list[frozenset[str]], partnerships: list[Partnership], distractors: set[str]
) -> tuple[Figures, list[dict[str, object]]]:
    """Score proposals, each given as the set of its parties' organisation refs."""
    groups = [frozenset(p.organisations) for p in partnerships]
    rows = []
    pairs_found = pairs = multi_found = multi = 0
    for partnership, group in zip(partnerships, groups, strict=True):
        wanted = [frozenset(pair) for pair in itertools.combinations(sorted(group), 2)]
        found = sum(1 for pair in wanted if any(pair <= parties for parties in proposals))
        pairs += len(wanted)
        pairs_found += found
        as_one: bool | None = None
        if partnership.is_multi_party:
            multi += 1
            as_one = any(len(parties & group) >= 3 for parties in proposals)
            multi_found += as_one
        rows.append(
            {
                "id": partnership.id,
                "name": partnership.name,
                "partners": len(group),
                "pairs_found": found,
                "pairs": len(wanted),
                "as_one_proposal": as_one,
            }
        )
    figures = Figures(
        proposals=len(proposals),
        multi_party_proposals=sum(1 for parties in proposals if len(parties) >= 3),
        pairs_found=pairs_found,
        pairs=pairs,
        precise=sum(1 for parties in proposals if any(parties <= g for g in groups)),
        with_distractor=sum(1 for parties in proposals if parties & distractors),
        multi_found=multi_found,
        multi=multi,
    )
    return figures, rows


def baseline(listings: Iterable[tuple[int, str, str, frozenset[str]]]) -> list[frozenset[str]]:
    """Plain theme overlap: each need or challenge with the BASELINE_TOP offers of other
    organisations sharing the most themes (ties by listing id). Listings are given as
    (id, kind, organisation ref, themes)."""
    listings = sorted(listings)
    offers = [item for item in listings if item[1] == "offer"]
    proposals = []
    for _, kind, owner, themes in listings:
        if kind == "offer":
            continue
        ranked = sorted(
            (-len(themes & their_themes), offer_id, their_owner)
            for offer_id, _, their_owner, their_themes in offers
            if their_owner != owner and themes & their_themes
        )
        proposals += [frozenset({owner, other}) for _, _, other in ranked[:BASELINE_TOP]]
    return proposals


# Why a real pair of partners is, or is not, in a proposal (--why): the best way the matcher
# could join them, from a listing of one to a listing of the other.
WHY = (
    ("linked", "a need or challenge of one and an offer of the other share a theme within reach"),
    ("related", "related by their words (matching/related.py), no theme shared"),
    ("reach only", "within reach of each other, no theme shared, not related"),
    ("theme only", "a theme shared, but not within both listings' scopes"),
    ("offers only", "neither has a need or challenge the other's offers could meet"),
    ("neither", "no theme shared and not within reach"),
)


def why(snapshot: Snapshot, views_of: dict[str, list[ListingView]], first: str, second: str) -> str:
    """The first of WHY that holds for two organisations (refs), by their live listings' views
    in a full snapshot."""
    from matchmaker.matching.related import linked, related
    from matchmaker.matching.snapshot import within_reach

    found = set()
    for one, other in ((first, second), (second, first)):
        for asker in views_of.get(one, []):
            for giver in views_of.get(other, []):
                if not asker.asks or giver.asks:
                    continue
                if linked(snapshot, asker, giver):
                    found.add("related" if related(snapshot, asker, giver) else "linked")
                elif asker.theme_bits & giver.theme_bits:
                    found.add("theme only")
                else:
                    found.add("reach only" if within_reach(asker, giver) else "neither")
    return next((name for name, _ in WHY if name in found), "offers only")


def run(half: Half, *, explain: bool = False) -> dict[str, object]:
    """Import the half into a fresh database, run the matcher, and measure it and the baseline;
    with ``explain``, also say where the real pairs are lost (WHY)."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from matchmaker import create_app
    from matchmaker.extensions import db
    from matchmaker.interchange.services import import_document
    from matchmaker.listings.models import Listing
    from matchmaker.matching.engine import run_full
    from matchmaker.organisations.models import Organisation
    from matchmaker.proposals.models import Proposal

    folder = tempfile.mkdtemp(prefix="matchmaker-quality-")
    try:
        app = create_app(
            {
                "MATCHMAKER_ENV": "testing",
                "SECRET_KEY": "quality",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/quality.sqlite3",
            }
        )
        logging.disable(logging.INFO)
        with app.app_context():
            upgrade()
            import_document(half.document)
            db.session.commit()
            run_full()
            db.session.commit()
            ref_of = {
                db.session.scalar(
                    sa.select(Organisation.id).where(
                        Organisation.name == o["name"], Organisation.country == o["country"]
                    )
                ): o["ref"]
                for o in half.document["organisations"]
            }
            matched = [
                frozenset(ref_of[party.organisation_id] for party in proposal.parties)
                for proposal in db.session.scalars(sa.select(Proposal))
            ]
            listings = [
                (
                    listing.id,
                    listing.kind.value,
                    ref_of[listing.organisation_id],
                    frozenset(t.slug for t in listing.themes),
                )
                for listing in db.session.scalars(sa.select(Listing))
            ]
            lost = _why_lost(half, matched, ref_of) if explain else None
            db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures, rows = measure(matched, half.partnerships, half.distractors)
    base, base_rows = measure(baseline(listings), half.partnerships, half.distractors)
    result: dict[str, object] = {
        "half": half.name,
        "partnerships": len(half.partnerships),
        "multi_party_partnerships": sum(1 for p in half.partnerships if p.is_multi_party),
        "partners": sum(len(p.organisations) for p in half.partnerships),
        "distractors": len(half.distractors),
        "listings": len(half.document["listings"]),
        "matcher": figures.as_dict(),
        "baseline": base.as_dict(),
        "cases": [
            row | {"baseline_pairs_found": b["pairs_found"]}
            for row, b in zip(rows, base_rows, strict=True)
        ],
    }
    if lost is not None:
        result["why"] = lost
    return result


def _why_lost(
    half: Half, matched: list[frozenset[str]], ref_of: dict[int | None, str]
) -> dict[str, dict[str, int]]:
    """For each way of WHY, how many real partner pairs it describes and how many of them
    are in a proposal. Inside the app context of run(), after the full run."""
    from matchmaker.matching.snapshot import full_snapshot

    snapshot = full_snapshot()
    views_of: dict[str, list[ListingView]] = {}
    for view in snapshot.listings.values():
        views_of.setdefault(ref_of[view.org_id], []).append(view)
    lost = {name: {"pairs": 0, "found": 0} for name, _ in WHY}
    for partnership in half.partnerships:
        for first, second in itertools.combinations(sorted(partnership.organisations), 2):
            counts = lost[why(snapshot, views_of, first, second)]
            counts["pairs"] += 1
            counts["found"] += any({first, second} <= parties for parties in matched)
    return lost


def print_report(result: dict[str, object]) -> None:
    print(
        f"half: {result['half']} — {result['partnerships']} partnerships "
        f"({result['multi_party_partnerships']} of 3 or more), {result['partners']} partners, "
        f"{result['distractors']} distractor organisations, {result['listings']} listings"
    )
    print()
    print(f"{'partnership':<44} {'pairs (matcher)':>16} {'pairs (baseline)':>17} {'as one':>7}")
    for row in result["cases"]:  # type: ignore[attr-defined]
        shown = {None: "—", True: "yes", False: "no"}[row["as_one_proposal"]]
        found = f"{row['pairs_found']}/{row['pairs']}"
        base_found = f"{row['baseline_pairs_found']}/{row['pairs']}"
        print(f"{row['name'][:44]:<44} {found:>16} {base_found:>17} {shown:>7}")
    print()
    print(f"{'measure':<58} {'matcher':>9} {'baseline':>9}")
    matcher: dict[str, float] = result["matcher"]  # type: ignore[assignment]
    base: dict[str, float] = result["baseline"]  # type: ignore[assignment]
    lines = [
        ("pair recall (real partner pairs in one proposal)", "pair_recall"),
        ("precision (parties all of one real partnership)", "precision"),
        ("multi-party recall (≥3 of a partnership in one proposal)", "multi_party_recall"),
        ("distractor rate (proposals with a distractor)", "distractor_rate"),
    ]
    for label, key in lines:
        print(f"{label:<58} {matcher[key]:>9.2f} {base[key]:>9.2f}")
    for label, key in [
        ("proposals", "proposals"),
        ("  of 3 or more parties", "multi_party_proposals"),
    ]:
        print(f"{label:<58} {matcher[key]:>9} {base[key]:>9}")
    print(
        f"{'pairs found':<58} {matcher['pairs_found']:>9} {base['pairs_found']:>9}"
        f"  (of {matcher['pairs']})"
    )
    lost: dict[str, dict[str, int]] | None = result.get("why")  # type: ignore[assignment]
    if lost is not None:
        print()
        print("real partner pairs, by the best way the matcher could join them")
        for name, meaning in WHY:
            counts = lost[name]
            found = f"{counts['found']}/{counts['pairs']}"
            print(f"  {name:<12} {found:>7} found  {meaning}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=HALVES, default="held-out")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--why", action="store_true", help="also say where the real partner pairs are lost"
    )
    args = parser.parse_args(argv)
    broken = problems()
    if broken:
        for problem in broken:
            print(f"fixture: {problem}", file=sys.stderr)
        return 2
    from matchmaker.interchange.services import ImportRefused

    try:
        result = run(load_half(args.half), explain=args.why)
    except ImportRefused as refused:
        for line in refused.problems.lines():
            print(f"fixture: {line}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
