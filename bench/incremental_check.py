"""Same proposals before and after a change to the incremental matcher: a fingerprint of the
proposals table after bench/matcher.py's incremental runs.

    .venv/bin/python bench/incremental_check.py                 # 5,000 listings
    .venv/bin/python bench/incremental_check.py --dense         # 3 countries, 12 cities

Builds the synthetic database (bench/synthetic.py), makes a full run, posts the same 20 needs
through the listing service as bench/matcher.py (each runs the incremental matcher after its
commit), then prints how many proposals there are and a SHA-256 of every proposal's template,
status, score, fingerprint, explanation and parties. Run it at two commits: a change that keeps
the matcher's behaviour prints the same line at both. Also prints the incremental runs' median
wall and CPU time (a comparison within one machine's load only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def check(size: int, dense: bool) -> dict[str, object]:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from bench.matcher import post_need
    from bench.synthetic import generate
    from matchmaker import create_app
    from matchmaker.extensions import db
    from matchmaker.matching.engine import run_full
    from matchmaker.organisations.models import Organisation
    from matchmaker.proposals.models import Proposal, ProposalParty

    folder = Path(tempfile.mkdtemp(prefix="matchmaker-check-"))
    try:
        app = create_app(
            {
                "MATCHMAKER_ENV": "testing",
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'check.sqlite3'}",
            }
        )
        with app.app_context():
            upgrade()
            generate(size, dense=dense)
            run_full()
            db.session.commit()
            walls, cpus = [], []
            for number, organisation in enumerate(db.session.query(Organisation).limit(20)):
                started, cpu_started = time.perf_counter(), time.process_time()
                post_need(organisation, number)
                walls.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu_started)
            parties: dict[int, list[tuple[int, str, int]]] = {}
            for pid, lid, role, position in db.session.execute(
                sa.select(
                    ProposalParty.proposal_id,
                    ProposalParty.listing_id,
                    ProposalParty.role,
                    ProposalParty.position,
                ).order_by(ProposalParty.proposal_id, ProposalParty.position)
            ):
                parties.setdefault(pid, []).append((lid, role, position))
            rows = [
                [template, str(status), score, fingerprint, explanation, parties.get(pid, [])]
                for pid, template, status, score, fingerprint, explanation in db.session.execute(
                    sa.select(
                        Proposal.id,
                        Proposal.template,
                        Proposal.status,
                        Proposal.score,
                        Proposal.fingerprint,
                        Proposal.explanation,
                    ).order_by(Proposal.fingerprint, Proposal.id)
                )
            ]
            digest = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
            db.session.remove()
            db.engine.dispose()
        return {
            "listings": size,
            "dense": dense,
            "proposals": len(rows),
            "sha256": digest,
            # The first run also compiles the statements: left out, as bench/matcher.py does.
            "incremental_ms_median": round(statistics.median(walls[1:]) * 1000, 1),
            "incremental_cpu_ms_median": round(statistics.median(cpus[1:]) * 1000, 1),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--dense", action="store_true")
    args = parser.parse_args()
    if os.environ.get("PYTHONHASHSEED") != "0":  # the same order of sets at both commits
        os.execve(  # noqa: S606 (this very script again, with a fixed hash seed)
            sys.executable,
            [sys.executable, *sys.argv],
            {**os.environ, "PYTHONHASHSEED": "0"},
        )
    print(json.dumps(check(args.size, args.dense)))


if __name__ == "__main__":
    main()
