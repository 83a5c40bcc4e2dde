"""Do older listings get more proposals? The full run's proposals by when each listing was
posted (tenths of the listings, oldest first, by id), for offers and for needs and challenges.

    .venv/bin/python bench/by_age.py                  # 20,000 dense listings (3 countries)
    .venv/bin/python bench/by_age.py --size 50000     # the speed benchmark's largest
    .venv/bin/python bench/by_age.py --spread         # 40 countries (bench/synthetic.py)

The synthetic data (bench/synthetic.py) gives every listing its themes, words, place and scope
at random, whatever its id: a matcher that does not look at when a listing was posted proposes
each tenth about as often as the others.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TENTHS = 10


def measure(size: int, dense: bool) -> dict[str, list[list[int]]]:
    """For offers and for the others: (listings, those in a proposal, proposals they are in)
    for each tenth of the listings by id."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from bench.synthetic import generate
    from matchmaker import create_app
    from matchmaker.extensions import db
    from matchmaker.listings.models import Listing, ListingKind
    from matchmaker.matching.engine import run_full
    from matchmaker.proposals.models import ProposalParty

    folder = Path(tempfile.mkdtemp(prefix="matchmaker-by-age-"))
    try:
        app = create_app(
            {
                "MATCHMAKER_ENV": "testing",
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'by-age.sqlite3'}",
            }
        )
        logging.disable(logging.INFO)  # the migrations' log
        with app.app_context():
            upgrade()
            generate(size, dense=dense)
            run_full()
            db.session.commit()
            proposals_of = dict(
                db.session.execute(
                    sa.select(ProposalParty.listing_id, sa.func.count()).group_by(
                        ProposalParty.listing_id
                    )
                ).all()
            )
            listings = db.session.execute(sa.select(Listing.id, Listing.kind)).all()
            db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    highest = max(listing_id for listing_id, _ in listings)
    found: dict[str, list[list[int]]] = {
        side: [[0, 0, 0] for _ in range(TENTHS)] for side in ("offers", "needs")
    }
    for listing_id, kind in listings:
        side = "offers" if kind == ListingKind.OFFER else "needs"
        row = found[side][(listing_id - 1) * TENTHS // highest]
        count = proposals_of.get(listing_id, 0)
        row[0] += 1
        row[1] += count > 0
        row[2] += count
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--spread", action="store_true", help="40 countries instead of 3")
    args = parser.parse_args()
    found = measure(args.size, dense=not args.spread)
    print(f"{args.size} listings, {'spread' if args.spread else 'dense'}")
    print(
        f"{'tenth (oldest first)':>20} | {'offers in a proposal':>22} | {'needs in a proposal':>22}"
    )
    for tenth in range(TENTHS):
        cells = []
        for side in ("offers", "needs"):
            listings, proposed, proposals = found[side][tenth]
            share, each = proposed / max(listings, 1), proposals / max(listings, 1)
            cells.append(f"{100 * share:4.0f} % ({each:.2f} each)")
        print(f"{tenth + 1:>20} | {cells[0]:>22} | {cells[1]:>22}")


if __name__ == "__main__":
    main()
