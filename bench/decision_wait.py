"""How long a coordinator's decision waits for a full matcher run that holds its proposal
(PostgreSQL).

    .venv/bin/python bench/decision_wait.py --sizes 20000 50000 --repeat 3

For each size a base database is built once through the migrations (bench/synthetic.py, then a
first full run, committed, then the stored score of ``--share`` of the pending proposals
lowered by one point, so that the next full run rescores them: a nightly run after the
words and themes moved). Each repeat copies it (CREATE DATABASE ... TEMPLATE) and starts a full
run in a thread; once the run has locked the proposals it rewrites (engine._lock_planned),
a coordinator approves one of them through the review page (Flask test client, jobs queued on
an in-memory broker as in production, where a worker runs them). Reported: the run's wall and
CPU time, how long it held the proposals (locked until committed), how long the approval
took and what it answered.

``--url`` names a PostgreSQL database the script may drop and create; the base databases beside
it (``<name>_base_<size>_<share in %>``) are kept for the next time (drop them with dropdb).
By default ``bench_holds`` on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_holds"
EMAIL, PASSWORD = "coordinator@bench.example", "bench-password-1"


def _admin(url: sa.URL, statement: str) -> None:
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


def _app(url: sa.URL) -> Any:
    from matchmaker import create_app

    return create_app(
        {
            "MATCHMAKER_ENV": "testing",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "BROKER_URL": "memory://",  # jobs queued, as in production, not run in the request
            "MAIL_BACKEND": "console",
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "SESSION_COOKIE_SECURE": False,
        }
    )


def build(url: sa.URL, size: int, share: float) -> sa.URL:
    """The base database of ``size`` listings, built if it is not there yet."""
    from flask_migrate import upgrade

    from bench.synthetic import generate
    from matchmaker.accounts.models import Role, User
    from matchmaker.extensions import db
    from matchmaker.matching.engine import run_full

    base = url.set(database=f"{url.database}_base_{size}_{int(share * 100)}")
    probe = sa.create_engine(url.set(database="postgres"))
    with probe.connect() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": base.database}
        ).scalar()
    probe.dispose()
    if exists:
        return base
    _admin(url, f'CREATE DATABASE "{base.database}"')
    app = _app(base)
    with app.app_context():
        upgrade()
        generate(size)
        user = User(email=EMAIL, display_name="Bench Coordinator", role=Role.ADMIN)
        user.set_password(PASSWORD)
        user.confirm_email()
        db.session.add(user)
        db.session.commit()
        started = time.perf_counter()
        run_full()
        db.session.commit()
        print(f"{size}: first full run {time.perf_counter() - started:.1f} s", file=sys.stderr)
        # The next run finds these scores changed: it rescores them (and locks them first).
        db.session.execute(
            sa.text(
                "UPDATE proposals SET score = score - 1"
                " WHERE status = 'pending_review' AND abs(hashtext(id::text)) % 100 < :share"
            ),
            {"share": int(share * 100)},
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return base


def measure(url: sa.URL, base: sa.URL, action: str) -> dict[str, Any]:
    from matchmaker.extensions import db
    from matchmaker.matching import engine
    from matchmaker.proposals.models import Proposal

    _admin(url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{url.database}" TEMPLATE "{base.database}"')
    app = _app(url)
    client = app.test_client()
    with app.app_context():
        response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
        assert response.status_code == 302, response.status_code
    locked = threading.Event()
    held: list[int] = []
    times: dict[str, float] = {}
    lock_planned = engine._lock_planned

    def watched(plan_: Any) -> Any:
        started = time.perf_counter()  # the first proposals are held from here
        found = lock_planned(plan_)
        if found and not locked.is_set():
            held.extend(sorted(found))
            times["locked"] = started
            locked.set()
        return found

    def full_run() -> None:
        with app.app_context():
            started, cpu = time.perf_counter(), time.thread_time()
            engine.run_full()
            db.session.commit()
            times["committed"] = time.perf_counter()
            times["run"] = times["committed"] - started
            times["run_cpu"] = time.thread_time() - cpu
            db.session.remove()

    engine._lock_planned = watched  # type: ignore[assignment]
    try:
        runner = threading.Thread(target=full_run, name="full-run")
        runner.start()
        assert locked.wait(600), "the run never locked a proposal"
        with app.app_context():
            proposal = db.session.get(Proposal, held[len(held) // 2])
            assert proposal is not None
            version = proposal.version
            db.session.remove()
        prefix = "approve" if action == "approve" else "reject"
        data = {f"{prefix}-version": version, f"{prefix}-note": "Entered by the coordinator."}
        if action == "reject":
            data["reject-reason"] = "other"
        started = time.perf_counter()
        response = client.post(f"/coordination/proposals/{proposal.id}/{action}", data=data)
        answered = time.perf_counter()
        runner.join(600)
    finally:
        engine._lock_planned = lock_planned  # type: ignore[assignment]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    body = response.get_data(as_text=True)
    return {
        "held": len(held),
        "run": times["run"],
        "run_cpu": times["run_cpu"],
        "holding": times["committed"] - times["locked"],
        "wait": answered - started,
        "status": response.status_code,
        "location": response.headers.get("Location", ""),
        "kept_note": "Entered by the coordinator." in body,
        "answered_before_commit": answered < times["committed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[20000, 50000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--share", type=float, default=1.0, help="of pending proposals rescored")
    parser.add_argument("--action", choices=["approve", "reject"], default="approve")
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args()
    url = sa.make_url(args.url)
    for size in args.sizes:
        base = build(url, size, args.share)
        rows = []
        for _ in range(args.repeat):
            row = measure(url, base, args.action)
            rows.append(row)
            print(f"{size}: {row}", file=sys.stderr)
        waits = [row["wait"] for row in rows]
        holding = [row["holding"] for row in rows]
        print(
            f"{size:>6} listings, {rows[0]['held']} proposals held | run "
            f"{statistics.median(r['run'] for r in rows):.1f} s wall, "
            f"{statistics.median(r['run_cpu'] for r in rows):.1f} s CPU | held "
            f"{min(holding):.2f}-{max(holding):.2f} s | {args.action} answered in "
            f"{min(waits):.2f}-{max(waits):.2f} s, status {sorted({r['status'] for r in rows})}"
        )
    _admin(url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
