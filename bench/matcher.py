"""Matcher benchmark: full run, incremental run, peak memory, and a naive all-pairs reference.

    .venv/bin/python bench/matcher.py                 # 1k, 10k and 50k listings (SQLite)
    .venv/bin/python bench/matcher.py --sizes 1000    # one size
    .venv/bin/python bench/matcher.py --dense         # 3 countries, 12 cities (bench/synthetic.py)

Each size runs in its own process on a fresh SQLite database built by the migrations, so the
peak memory reported is that size's own (the whole process: Python, SQLAlchemy and the data).
The full run is timed several times (--repeat, 3 by default), each on its own copy of the
generated database; the table gives the median and the range, and the median CPU time of the
process (on a shared machine the wall time also waits for whatever else runs). Then 20 needs
are posted through the listing service: "incremental run" is the median of the posted needs'
own runs (their MatcherRun's start to finish, the first left out: it also compiles the
statements), "posting" the service, the commit and every run the posting starts (the need's,
and one for each other listing of its organisation when it changes what the organisation
needs: "runs" is how many, on average).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matchmaker.listings.models import Listing
    from matchmaker.organisations.models import Organisation

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def post_need(organisation: Organisation, number: int) -> Listing:
    """A new need posted through the listing service, committed: the matcher's jobs run once
    it commits, in this process (no broker): the need's incremental run, then one for each other
    listing of its organisation when the need changes what the organisation needs."""
    from matchmaker.extensions import db
    from matchmaker.listings.models import ListingKind, Scope
    from matchmaker.listings.services import create_listing

    listing = create_listing(
        organisation=organisation,
        actor=None,
        kind=ListingKind.NEED,
        title=f"Benchmark need {number}",
        description="Evaluation and training for cooperative kitchens and housing.",
        themes=["research-evaluation", "training-advice"],
        scope=Scope.REGIONAL,
    )
    db.session.commit()
    return listing


def measure(
    size: int, naive_askers: int, repeats: int, dense: bool = False
) -> dict[str, float | int | str]:
    folder = Path(tempfile.mkdtemp(prefix="matchmaker-bench-"))
    try:
        return _measure(folder, size, naive_askers, repeats, dense)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _measure(
    folder: Path, size: int, naive_askers: int, repeats: int, dense: bool
) -> dict[str, float | int | str]:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from bench.synthetic import generate
    from matchmaker import create_app
    from matchmaker.extensions import db
    from matchmaker.matching.engine import run_full
    from matchmaker.matching.models import MatcherRun
    from matchmaker.matching.settings import load_settings
    from matchmaker.matching.snapshot import full_snapshot, within_reach
    from matchmaker.matching.templates import TEMPLATES
    from matchmaker.organisations.models import Organisation

    def app_on(path: Path):  # type: ignore[no-untyped-def]
        return create_app(
            {
                "MATCHMAKER_ENV": "testing",
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            }
        )

    result: dict[str, float | int | str] = {"listings": size}
    generated = folder / "generated.sqlite3"
    with app_on(generated).app_context():
        upgrade()
        generate(size, dense=dense)
        db.session.remove()
        db.engine.dispose()  # the last connection closes: the WAL is folded into the file
    # The full run, several times, each on its own copy of the generated database: one timing
    # on a shared machine says little; the median of a few says more.
    full_timings, full_cpu = [], []
    for number in range(repeats):
        path = folder / f"run{number}.sqlite3"
        shutil.copyfile(generated, path)
        app = app_on(path)
        with app.app_context():
            started, cpu_started = time.perf_counter(), time.process_time()
            run = run_full()
            db.session.commit()
            full_timings.append(time.perf_counter() - started)
            full_cpu.append(time.process_time() - cpu_started)
            result["candidates_scored"] = run.candidates_scored
            result["proposals_created"] = run.proposals_created
            if number < repeats - 1:
                db.session.remove()
                db.engine.dispose()
                path.unlink()
    result["full_seconds"] = statistics.median(full_timings)
    result["full_seconds_min"], result["full_seconds_max"] = min(full_timings), max(full_timings)
    result["full_runs"] = repeats
    # The CPU time this process spent: on a shared machine, what the code costs, whatever
    # else runs beside it (the wall time waits for the other processes too).
    result["full_cpu_seconds"] = statistics.median(full_cpu)

    # The incremental runs follow the last full run on its connection, as in a running server.
    with app.app_context():
        # Incremental: post new needs through the listing service (which runs the matcher).
        organisations = db.session.query(Organisation).limit(20).all()
        timings, cpu_timings, own_runs, runs = [], [], [], []
        for number, organisation in enumerate(organisations):
            last_run = db.session.scalar(sa.select(sa.func.max(MatcherRun.id))) or 0
            started, cpu_started = time.perf_counter(), time.process_time()
            need = post_need(organisation, number)
            timings.append(time.perf_counter() - started)
            cpu_timings.append(time.process_time() - cpu_started)
            posted_runs = db.session.scalars(
                sa.select(MatcherRun).where(MatcherRun.id > last_run).order_by(MatcherRun.id)
            ).all()
            own = next(run for run in posted_runs if run.focus_listing_id == need.id)
            assert own.finished_at is not None
            own_runs.append((own.finished_at - own.started_at).total_seconds())
            runs.append(len(posted_runs))
        # One incremental run: the posted need's own (its MatcherRun's start to finish).
        result["run_ms_median"] = statistics.median(own_runs[1:]) * 1000
        result["runs_per_posting"] = statistics.mean(runs)
        # A posting: the service, the commit, and every run it starts.
        result["incremental_ms_median"] = statistics.median(timings) * 1000
        result["incremental_cpu_ms_median"] = statistics.median(cpu_timings) * 1000
        # The first in a process also compiles the statements an incremental run uses (SQLAlchemy
        # caches them): reported apart from the slowest of the others.
        result["incremental_ms_first"] = timings[0] * 1000
        result["incremental_ms_max"] = max(timings[1:]) * 1000

        # The naive reference: every need against every offer, no index.
        if naive_askers:
            snapshot = full_snapshot()
            settings = load_settings()
            pair = TEMPLATES["pair"]
            askers = [v for v in snapshot.listings.values() if v.asks]
            offers = [v for v in snapshot.listings.values() if not v.asks]
            sample = askers[:naive_askers]
            started = time.perf_counter()
            for asker in sample:
                for offer in offers:
                    if offer.org_id != asker.org_id and within_reach(asker, offer):
                        pair._score(snapshot, settings, asker, offer)
            naive = (time.perf_counter() - started) * len(askers) / len(sample)
            indexed_started = time.perf_counter()
            list(pair.propose(snapshot, settings, None))
            indexed = time.perf_counter() - indexed_started
            result["naive_pairs_seconds"] = naive
            result["naive_estimated"] = "yes" if len(sample) < len(askers) else "no"
            result["indexed_pairs_seconds"] = indexed
            result["naive_ratio"] = naive / indexed if indexed else float("inf")
    result["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 5000, 10000, 50000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--naive-askers", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--repeat", type=int, default=3, help="full runs for each size; the median is reported"
    )
    parser.add_argument(
        "--dense",
        action="store_true",
        help="a few countries and many organisations in each city (bench/synthetic.py)",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat needs at least one full run")
    if args.one:
        print(json.dumps(measure(args.one, args.naive_askers, args.repeat, args.dense)))
        return
    rows = []
    for size in args.sizes:
        # All pairs at 1k; at 10k, estimated from 500 needs; none at 50k.
        naive = {1000: 10**9, 10000: 500}.get(size, 0)
        output = subprocess.run(  # noqa: S603 (our own script, our own arguments)
            [
                sys.executable,
                __file__,
                *("--one", str(size), "--naive-askers", str(naive), "--repeat", str(args.repeat)),
                *(["--dense"] if args.dense else []),
            ],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        ).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr)
    print(
        f"{'listings':>8} | {'full run (median, range)':>24} | {'CPU':>7} | "
        f"{'incremental run':>15} | {'posting (median / max / first)':>35} | {'CPU':>8} | "
        f"{'runs':>4} | {'peak memory':>11} | {'all-pairs reference':>30}"
    )
    for row in rows:
        naive = (
            f"{row['naive_pairs_seconds']:.1f} s vs {row['indexed_pairs_seconds']:.2f} s "
            f"(x{row['naive_ratio']:.0f}{', est.' if row['naive_estimated'] == 'yes' else ''})"
            if "naive_pairs_seconds" in row
            else "—"
        )
        print(
            f"{row['listings']:>8} | {row['full_seconds']:>6.2f} s "
            f"({row['full_seconds_min']:.2f}-{row['full_seconds_max']:.2f} s) | "
            f"{row['full_cpu_seconds']:>5.2f} s | "
            f"{row['run_ms_median']:>12.1f} ms | "
            f"{row['incremental_ms_median']:>8.1f} ms / {row['incremental_ms_max']:>5.1f} ms / "
            f"{row['incremental_ms_first']:>5.1f} ms | "
            f"{row['incremental_cpu_ms_median']:>5.1f} ms | "
            f"{row['runs_per_posting']:>4.1f} | "
            f"{row['peak_memory_mb']:>8.0f} MB | {naive:>30}"
        )
    full = {row["listings"]: row["full_seconds"] for row in rows}
    cpu = {row["listings"]: row["full_cpu_seconds"] for row in rows}
    for small, large in [(5000, 50000)]:
        if small in full and large in full:
            # How the full run grows: ten times the listings should cost at most twelve times.
            print(
                f"time({large // 1000}k) / time({small // 1000}k) = "
                f"{full[large] / full[small]:.1f} (target: at most 12; "
                f"CPU time: {cpu[large] / cpu[small]:.1f})"
            )


if __name__ == "__main__":
    main()
