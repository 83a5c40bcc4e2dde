"""How good are the matcher's proposals? Precision and recall against real partnerships.

    .venv/bin/python bench/quality.py

The fixture (bench/fixtures/partnerships.json) describes publicly documented SSE partnerships
that are not among the seed cases — Preston's community wealth building, Mondragon, Montréal,
Seoul, Barcelona, Rio de Janeiro's university incubator, Bologna's urban commons — as their
organisations would post them, with a few plausible distractors; the four seed cases (the demo
data) are added. For every need or challenge of a real partnership:

- recall@5: of its real partners, the share found in its five best proposals;
- precision: the share of all proposals whose parties all belong to one real partnership;
- multi-party recall: the share of real multi-party partnerships proposed as one multi-party
  proposal (three or more of its organisations), not only as pairs.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED_EXPECTED = [
    {
        "name": "Liverpool City Region (seed)",
        "organisations": ["sen", "uol", "lcm"],
        "multi_party": True,
    },
    {
        "name": "Athens (seed)",
        "organisations": ["athens", "tua", "athens-wisc", "athens-sin"],
        "multi_party": True,
    },
    {"name": "São Paulo (seed)", "organisations": ["sp", "sp-incubator"], "multi_party": False},
    {
        "name": "Tanger-Tetouan-Al Hoceima (seed)",
        "organisations": ["ttah", "ttah-assoc"],
        "multi_party": False,
    },
]
TOP = 5


def evaluate() -> dict[str, object]:
    import logging

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from matchmaker import create_app
    from matchmaker.demo.data import SEED_FILE
    from matchmaker.extensions import db
    from matchmaker.interchange.services import import_document
    from matchmaker.listings.models import Listing
    from matchmaker.matching.engine import run_full
    from matchmaker.organisations.models import Organisation
    from matchmaker.proposals.models import Proposal

    fixture = json.loads((ROOT / "bench/fixtures/partnerships.json").read_text())
    seeds = json.loads(SEED_FILE.read_text())
    document = {
        "format": "sse-matchmaker/1",
        "organisations": fixture["document"]["organisations"] + seeds["organisations"],
        "listings": fixture["document"]["listings"] + seeds["listings"],
    }
    expected = fixture["expected"] + SEED_EXPECTED
    folder = tempfile.mkdtemp(prefix="matchmaker-quality-")
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
        import_document(document)
        run_full()
        db.session.commit()
        ref_of = {
            db.session.scalar(
                sa.select(Organisation.id).where(
                    Organisation.name == o["name"], Organisation.country == o["country"]
                )
            ): o["ref"]
            for o in document["organisations"]
        }
        proposals = list(db.session.scalars(sa.select(Proposal)))
        by_listing: dict[int, list[Proposal]] = defaultdict(list)
        for proposal in proposals:
            for party in proposal.parties:
                by_listing[party.listing_id].append(proposal)
        found = wanted = 0
        rows = []
        for case in expected:
            members = set(case["organisations"])
            case_found = case_wanted = 0
            askers = db.session.scalars(
                sa.select(Listing).join(Organisation).where(Listing.kind != "offer")
            )
            for listing in askers:
                own = ref_of[listing.organisation_id]
                if own not in members:
                    continue
                best = sorted(by_listing[listing.id], key=lambda p: -p.score)[:TOP]
                partners = {ref_of[party.organisation_id] for p in best for party in p.parties}
                case_wanted += len(members - {own})
                case_found += len((members - {own}) & partners)
            multi = any(
                len(p.parties) >= 3 and {ref_of[x.organisation_id] for x in p.parties} <= members
                for p in proposals
            )
            rows.append(
                (case["name"], case_found, case_wanted, multi if case["multi_party"] else None)
            )
            found += case_found
            wanted += case_wanted
        groups = [set(case["organisations"]) for case in expected]
        relevant = sum(
            1
            for p in proposals
            if any({ref_of[x.organisation_id] for x in p.parties} <= g for g in groups)
        )
        multi_cases = [r for r in rows if r[3] is not None]
        return {
            "proposals": len(proposals),
            "precision": relevant / len(proposals) if proposals else 0.0,
            "recall_at_5": found / wanted if wanted else 0.0,
            "multi_party_recall": sum(1 for r in multi_cases if r[3]) / len(multi_cases),
            "cases": rows,
        }


def main() -> None:
    result = evaluate()
    print(f"{'partnership':<40} {'partners found in top 5':>24} {'as one multi-party':>20}")
    for name, case_found, case_wanted, multi in result["cases"]:  # type: ignore[union-attr]
        shown = "—" if multi is None else ("yes" if multi else "no")
        print(f"{name:<40} {f'{case_found}/{case_wanted}':>24} {shown:>20}")
    print()
    print(f"proposals: {result['proposals']}")
    print(
        f"precision: {result['precision']:.2f}  (proposals whose parties all belong to one "
        "real partnership)"
    )
    print(f"recall@5: {result['recall_at_5']:.2f}  (real partners among a need's 5 best proposals)")
    print(f"multi-party recall: {result['multi_party_recall']:.2f}")


if __name__ == "__main__":
    main()
