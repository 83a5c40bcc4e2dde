"""Deep pages: the database work of one page of a long list, by OFFSET and by cursor.

    .venv/bin/python bench/paging.py                       # SQLite, 50,000 listings
    .venv/bin/python bench/paging.py --url postgresql+psycopg://…/db   # an empty database

Builds the seeded synthetic data (bench/synthetic.py; no matcher run) and times, for the
directory, the needs (newest first) and a needs search (relevance), the first page and page
500 (row 10,000, the deepest an old ``?page=`` link may open): Flask-SQLAlchemy's
``db.paginate`` (OFFSET and a full COUNT, as the lists did) against ``core/paging.page_of``
(keyset, or position for relevance, and a count capped at 1,000). Median of --repeat runs, in
milliseconds, inside the app (no HTTP, no template).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PER_PAGE, DEEP_PAGE = 20, 500


def timed(run: Callable[[], Any], repeat: int) -> float:
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--listings", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from bench.synthetic import generate
    from matchmaker import create_app
    from matchmaker.core.paging import dumped, encode_cursor, page_of
    from matchmaker.extensions import db
    from matchmaker.listings.models import ListingKind
    from matchmaker.listings.search import SORT_KEYS, ListingFilters, browse_statement
    from matchmaker.organisations.services import (
        DIRECTORY_ORDER,
        DirectoryFilters,
        directory_statement,
    )

    folder = tempfile.TemporaryDirectory(prefix="matchmaker-paging-")  # removed at exit
    url = args.url or f"sqlite:///{folder.name}/bench.sqlite3"
    app = create_app(
        {"MATCHMAKER_ENV": "testing", "SECRET_KEY": "bench-only", "SQLALCHEMY_DATABASE_URI": url}
    )
    with app.app_context():
        upgrade()
        generate(args.listings)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        needs = ListingFilters(kind=ListingKind.NEED)
        lists = [
            ("directory", directory_statement(DirectoryFilters()), DIRECTORY_ORDER),
            ("needs, newest first", browse_statement(needs), SORT_KEYS["newest"]),
            (
                "needs, search (relevance)",
                browse_statement(ListingFilters(kind=ListingKind.NEED, q="housing")),
                None,
            ),
        ]
        print(f"{'list':28} {'OFFSET p1':>10} {'p500':>8} {'cursor p1':>10} {'p500':>8}  (ms)")
        for name, statement, keys in lists:
            times = []
            for page in (1, DEEP_PAGE):
                with app.test_request_context("/"):
                    times.append(
                        timed(
                            lambda page=page, statement=statement: (
                                db.paginate(
                                    statement, page=page, per_page=PER_PAGE, error_out=False
                                ).items
                            ),
                            args.repeat,
                        )
                    )
            before = (DEEP_PAGE - 1) * PER_PAGE - 1
            last_before = db.session.scalars(statement.offset(before).limit(1)).unique().first()
            deep = (
                f"cursor={encode_cursor({'after': dumped(keys, last_before)})}"
                if keys and last_before is not None
                else f"page={DEEP_PAGE}"
            )
            for query in ("", deep):
                with app.test_request_context(f"/?{query}"):
                    times.append(
                        timed(
                            lambda statement=statement, keys=keys: page_of(
                                statement, per_page=PER_PAGE, keys=keys
                            ),
                            args.repeat,
                        )
                    )
            print(
                f"{name:28} "
                + " ".join(f"{t:>{w}.1f}" for t, w in zip(times, (10, 8, 10, 8), strict=True))
            )


if __name__ == "__main__":
    main()
