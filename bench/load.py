"""Load and fault benchmark: the production topology under a mixed load, then under faults.

    make bench-load                        # or: .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --duration 30 --users 12 --phases steady

It rebuilds the PostgreSQL database ``bench_load`` (migrations, the demo, and accounts of its
own: members of verified organisations with listings, coordinators, proposals already
introduced), then starts what ``make serve`` starts (gunicorn with 4 workers, one Celery
worker, the scheduler) with Redis as broker, plus an SMTP sink that records every message it
takes (bench/smtp_sink.py). Locust (bench/locustfile.py) runs a mixed load twice:

1. steady: visitors browse and search, members post and edit listings, coordinators approve
   and reject (with the version they saw), parties accept and decline;
2. faults: the same load while the SMTP sink is stopped for 20 s and the Celery worker is
   killed (SIGKILL, with its pool) twice and started again.

After each phase it waits for the outbox and the matching jobs to drain, then compares what
the clients saw succeed with the database (bench/load_counts.py) and the outbox with what the
sink received, by Message-ID. It prints req/s and p50/p95/p99 per kind of request, the errors,
and the losses and duplicates, and exits 1 if anything was lost or delivered twice.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from bench.load_counts import Counts, Stored, compare  # noqa: E402

PASSWORD = "bench-load-password"  # noqa: S105 (accounts of a throw-away database)
THEMES = ["research-evaluation", "knowledge-exchange", "social-innovation", "training-advice"]
KINDS = [
    "sse_organisation",
    "academic_institution",
    "public_agency",
    "civil_society",
    "sse_organisation",
]


@dataclass
class Options:
    duration: int
    users: int
    port: int
    smtp_port: int
    pg: str  # the server, e.g. postgresql+psycopg://postgres@127.0.0.1:5432
    database: str
    broker: str
    ratelimit: str
    drain: int
    members: int
    folder: Path

    @property
    def database_url(self) -> str:
        return f"{self.pg}/{self.database}"

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def server_env(options: Options, secret_key: str) -> dict[str, str]:
    """The settings of every process: production, as ``make serve`` runs it."""
    return {
        **os.environ,
        "MATCHMAKER_ENV": "production",
        "MATCHMAKER_SECRET_KEY": secret_key,
        "MATCHMAKER_SECURE_COOKIES": "false",
        "MATCHMAKER_DATABASE_URL": options.database_url,
        "MATCHMAKER_BROKER_URL": options.broker,
        "MATCHMAKER_RATELIMIT_STORAGE_URL": options.ratelimit,
        # Every client signs in from 127.0.0.1: the per-address limit would refuse them.
        "MATCHMAKER_RATELIMIT_LOGIN": "1000 per minute",
        "MATCHMAKER_MAIL_BACKEND": "smtp",
        "MATCHMAKER_MAIL_SERVER": "127.0.0.1",
        "MATCHMAKER_MAIL_PORT": str(options.smtp_port),
        "MATCHMAKER_BASE_URL": options.host,
        "MATCHMAKER_LOG_FORMAT": "text",
        "MATCHMAKER_INSTANCE_PATH": str(options.folder / "instance"),
        "PYTHONPATH": str(ROOT),
    }


# Processes ------------------------------------------------------------------------------------


class Process:
    """A process in a session of its own, so that it and its children stop together."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], folder: Path) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.log = folder / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.popen = subprocess.Popen(  # noqa: S603 (our own commands)
                self.argv,
                env=self.env,
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal(self, number: int) -> None:
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, number)

    def kill(self) -> None:
        """SIGKILL to the process and its children (a Celery worker's pool): no clean-up."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait()

    def stop(self, timeout: float = 20) -> None:
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self.popen = None

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def wait_for_log(self, text: str, since: int = 0, seconds: float = 90) -> None:
        wait_until(
            lambda: text in self.log.read_bytes()[since:].decode(errors="replace"),
            f"{self.name} to log {text!r}",
            seconds,
        )


def wait_until(condition: Any, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise SystemExit(f"gave up waiting {seconds:.0f} s for {what}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return bool(response.status == 200)
    except OSError:
        return False


def no_control_socket() -> list[str]:
    """gunicorn 27 opens a control socket at one path per user, which a second server on the
    machine (make serve, another benchmark) would share; earlier versions have none."""
    import gunicorn

    return ["--no-control-socket"] if gunicorn.version_info >= (27,) else []


class Topology:
    def __init__(self, options: Options, env: dict[str, str]) -> None:
        self.options = options
        self.sink_record = options.folder / "sink.jsonl"
        self.sink_record.touch()
        python, celery = str(BIN / "python"), str(BIN / "celery")
        folder = options.folder
        self.sink = Process(
            "smtp-sink",
            [
                python,
                "bench/smtp_sink.py",
                "--port",
                str(options.smtp_port),
                "--record",
                str(self.sink_record),
            ],
            env,
            folder,
        )
        self.web = Process(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "--workers",
                "4",
                "--bind",
                f"127.0.0.1:{options.port}",
                *no_control_socket(),
                "matchmaker:create_app()",
            ],
            env,
            folder,
        )
        self.worker = Process(
            "celery-worker",
            [
                celery,
                "-A",
                "matchmaker.jobs",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "-n",
                f"bench-load-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            env,
            folder,
        )
        self.beat = Process(
            "celery-beat",
            [
                celery,
                "-A",
                "matchmaker.jobs",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(folder / "celerybeat-schedule"),
            ],
            env,
            folder,
        )

    def start(self) -> None:
        self.start_sink()
        self.web.start()
        self.start_worker()
        self.beat.start()
        wait_until(lambda: answers(f"{self.options.host}/healthz"), "gunicorn", 90)

    def start_sink(self) -> None:
        since = self.sink.log_size()
        self.sink.start()
        self.sink.wait_for_log("SMTP sink on", since)

    def start_worker(self) -> None:
        since = self.worker.log_size()
        self.worker.start()
        self.worker.wait_for_log("ready.", since)

    def stop(self) -> None:
        for process in (self.beat, self.worker, self.web, self.sink):
            process.stop()

    def received(self, since: int = 0) -> list[str]:
        """The Message-ID of each message the sink took, from line ``since`` on."""
        lines = self.sink_record.read_text().splitlines()[since:]
        return [json.loads(line)["message_id"] for line in lines if line.strip()]


# The database ---------------------------------------------------------------------------------


def rebuild_database(options: Options, env: dict[str, str]) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(f"{options.pg}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{options.database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{options.database}"')
    engine.dispose()
    quiet = {**env, "MATCHMAKER_BROKER_URL": "", "MATCHMAKER_MAIL_BACKEND": "locmem"}
    flask = [str(BIN / "flask"), "--app", "matchmaker"]
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run([*flask, *command], env=quiet, cwd=ROOT, check=True)  # noqa: S603


def _app(options: Options) -> Any:
    from matchmaker import create_app

    return create_app(
        {
            "MATCHMAKER_ENV": "testing",
            "SECRET_KEY": "bench-load",
            "SQLALCHEMY_DATABASE_URI": options.database_url,
            "BROKER_URL": None,  # jobs run here, right after each commit
            "MAIL_BACKEND": "locmem",
            "RATELIMIT_ENABLED": False,
            "MATCHMAKER_BASE_URL": options.host,
        }
    )


def prepare_accounts(options: Options) -> dict[str, Any]:
    """Coordinators, and members who each own verified organisations of one region with a
    need and an offer each; the matcher's proposals; a share of them already introduced."""
    import sqlalchemy as sa

    from matchmaker.accounts.models import Role
    from matchmaker.accounts.services import create_user
    from matchmaker.extensions import db
    from matchmaker.listings.models import ListingKind, Scope
    from matchmaker.listings.services import create_listing
    from matchmaker.matching.engine import run_full
    from matchmaker.organisations.models import OrganisationKind
    from matchmaker.organisations.services import create_organisation, verify_organisation
    from matchmaker.proposals.models import Proposal, ProposalParty, ProposalStatus
    from matchmaker.proposals.services import approve_proposal

    app = _app(options)
    with app.app_context(), app.test_request_context():
        coordinators = [
            create_user(
                email=f"bench-coordinator-{n}@bench.example",
                display_name=f"Bench coordinator {n}",
                password=PASSWORD,
                role=Role.COORDINATOR,
                confirmed=True,
            )
            for n in range(3)
        ]
        members = []
        number = 0
        for m in range(options.members):
            user = create_user(
                email=f"bench-member-{m}@bench.example",
                display_name=f"Bench member {m}",
                password=PASSWORD,
                confirmed=True,
            )
            organisations = []
            for _ in range(5):
                number += 1
                organisation = create_organisation(
                    creator=user,
                    name=f"Bench organisation {number}",
                    kind=OrganisationKind(KINDS[number % len(KINDS)]),
                    description="An organisation of the load benchmark.",
                    city="Liverpool",
                    region="Liverpool City Region",
                    country="GB",
                )
                verify_organisation(organisation=organisation, actor=coordinators[0])
                for shift, kind in enumerate((ListingKind.NEED, ListingKind.OFFER)):
                    # Each need shares a theme with the offers of its neighbours.
                    themes = [THEMES[(number + shift + i) % len(THEMES)] for i in range(2)]
                    create_listing(
                        organisation=organisation,
                        actor=user,
                        kind=kind,
                        title=f"Bench {kind.value} of organisation {number}",
                        description="Evaluation, research and training for our members.",
                        themes=themes,
                        scope=Scope.REGIONAL,
                    )
                organisations.append(organisation.id)
            members.append({"email": user.email, "organisations": organisations})
        db.session.commit()  # the listings are matched as this commits
        run_full(wait=True)
        db.session.commit()
        bench_ids = {o for member in members for o in member["organisations"]}
        pending = db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.status == ProposalStatus.PENDING_REVIEW)
            .where(
                ~Proposal.id.in_(
                    sa.select(ProposalParty.proposal_id).where(
                        ProposalParty.organisation_id.not_in(bench_ids)
                    )
                )
            )
            .order_by(Proposal.id)
        ).all()
        introduced = 0
        for proposal in pending[::3]:  # every third, so that parties have answers to give
            if proposal.status == ProposalStatus.PENDING_REVIEW:
                approve_proposal(proposal=proposal, actor=coordinators[1], expected_version=None)
                introduced += 1
        db.session.commit()
        queue = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Proposal)
            .where(Proposal.status == ProposalStatus.PENDING_REVIEW)
        )
        coordinator_emails = [c.email for c in coordinators]
        db.engine.dispose()
    print(
        f"prepared: {len(coordinator_emails)} coordinators, {len(members)} members of "
        f"{len(bench_ids)} verified organisations, {queue} proposals to review, "
        f"{introduced} introduced",
        flush=True,
    )
    return {
        "password": PASSWORD,
        "members": members,
        "coordinators": [{"email": email} for email in coordinator_emails],
        "themes": THEMES,
    }


def outbox_mark(options: Options) -> int:
    """The last outbox row so far: a phase's mail is what comes after it."""
    import sqlalchemy as sa

    from matchmaker.core.models import OutboxMessage
    from matchmaker.extensions import db

    app = _app(options)
    with app.app_context():
        mark = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(OutboxMessage.id), 0)))
        db.engine.dispose()
    return int(mark or 0)


def stored(options: Options, since_message: int) -> tuple[Stored, int]:
    """What the database holds now, and how many of the phase's messages are still pending."""
    import sqlalchemy as sa

    from matchmaker.core.models import Job, JobStatus, MessageStatus, OutboxMessage
    from matchmaker.core.outbox import message_id
    from matchmaker.extensions import db
    from matchmaker.listings.models import Listing
    from matchmaker.matching.tasks import MATCH_LISTING
    from matchmaker.proposals.models import Proposal, ProposalResponse, ResponseDecision

    app = _app(options)
    with app.app_context(), app.test_request_context():
        listings = dict(db.session.execute(sa.select(Listing.id, Listing.title)).all())
        proposals = {
            pid: status.value
            for pid, status in db.session.execute(sa.select(Proposal.id, Proposal.status))
        }
        words = {ResponseDecision.ACCEPTED: "accept", ResponseDecision.DECLINED: "decline"}
        answered = {
            (r.proposal_id, r.organisation_id, words[r.decision])
            for r in db.session.scalars(sa.select(ProposalResponse))
        }
        messages = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.id > since_message)
        ).all()
        mail = {message_id(m): m.status.value for m in messages}
        pending = sum(m.status == MessageStatus.PENDING for m in messages)
        retried = sum(m.attempts > 1 for m in messages)
        waiting = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Job)
            .where(Job.kind == MATCH_LISTING, Job.status == JobStatus.QUEUED)
        )
        db.engine.dispose()
    return Stored(listings, proposals, answered, mail, int(waiting or 0), retried), pending


# A phase --------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    stats: list[dict[str, str]]
    failures: list[dict[str, str]]
    counts: Counts
    load_before: str
    load_after: str
    drained_in: float


def fault_plan(duration: int, topology: Topology) -> list[tuple[float, str, Any]]:
    """When, in seconds after the load starts, each fault comes and goes: the mail server is
    down for 20 s while the worker goes on (deliveries fail and wait for their retry), then
    the worker is killed twice while it delivers (a restart takes some seconds)."""
    d = duration
    return [
        (d / 6, "SMTP sink stopped", topology.sink.stop),
        (d / 6 + 20, "SMTP sink started", topology.start_sink),
        (d * 0.6, "Celery worker killed (SIGKILL)", topology.worker.kill),
        (d * 0.6, "Celery worker started", topology.start_worker),
        (d * 5 / 6, "Celery worker killed (SIGKILL)", topology.worker.kill),
        (d * 5 / 6, "Celery worker started", topology.start_worker),
    ]


def run_faults(plan: list[tuple[float, str, Any]], started: float) -> None:
    for at, what, action in plan:
        time.sleep(max(0.0, started + at - time.monotonic()))
        action()
        print(f"  {time.monotonic() - started:5.1f} s  {what}", flush=True)


def run_phase(
    name: str, options: Options, topology: Topology, accounts: Path, faults: bool
) -> Phase:
    print(f"\n== phase: {name} ({options.duration} s, {options.users} users)", flush=True)
    since_message = outbox_mark(options)
    since_received = len(topology.received())
    outcomes = options.folder / f"{name}-outcomes.jsonl"
    outcomes.unlink(missing_ok=True)
    prefix = options.folder / name
    load_before = os.getloadavg()
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(options.users),
        "--spawn-rate",
        str(options.users),
        "--run-time",
        f"{options.duration}s",
        "--host",
        options.host,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = {**os.environ, "BENCH_ACCOUNTS": str(accounts), "BENCH_OUTCOMES": str(outcomes)}
    started = time.monotonic()
    with (options.folder / f"{name}-locust.log").open("wb") as log:
        locust = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)  # noqa: S603
        faulter = None
        if faults:
            plan = fault_plan(options.duration, topology)
            faulter = threading.Thread(target=run_faults, args=(plan, started), daemon=True)
            faulter.start()
        locust.wait()
        if faulter is not None:
            faulter.join()
    load_after = os.getloadavg()
    print(f"  load over; draining the outbox and the matching jobs (at most {options.drain} s)")
    drain_started = time.monotonic()
    while True:
        state, pending = stored(options, since_message)
        if (not pending and not state.waiting_matches) or (
            time.monotonic() - drain_started > options.drain
        ):
            break
        time.sleep(3)
    drained_in = time.monotonic() - drain_started
    time.sleep(2)  # a message the sink took just now is on its way to the file
    state, _ = stored(options, since_message)
    records = [json.loads(line) for line in outcomes.read_text().splitlines() if line.strip()]
    counts = compare(records, state, topology.received(since_received))
    return Phase(
        name,
        _rows(prefix.with_name(f"{name}_stats.csv")),
        _rows(prefix.with_name(f"{name}_failures.csv")),
        counts,
        " ".join(f"{n:.2f}" for n in load_before),
        " ".join(f"{n:.2f}" for n in load_after),
        drained_in,
    )


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# The report -----------------------------------------------------------------------------------


def report(phases: list[Phase]) -> str:
    lines = []
    for phase in phases:
        lines.append(
            f"\n### {phase.name}: load average {phase.load_before} before, "
            f"{phase.load_after} after; outbox drained {phase.drained_in:.0f} s after the load"
        )
        lines.append("")
        lines.append("| request | count | req/s | p50 ms | p95 ms | p99 ms | errors |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for row in phase.stats:
            name = row["Name"] if row["Type"] else f"**{row['Name'].lower()}**"
            lines.append(
                f"| {name} | {row['Request Count']} | {float(row['Requests/s']):.1f} "
                f"| {row['50%']} | {row['95%']} | {row['99%']} | {row['Failure Count']} |"
            )
        c = phase.counts
        lines.append("")
        lines.append(
            f"- listings posted or edited: {c.listings}, lost {c.listings_lost} "
            f"({c.listings_unanswered} edits stopped with the run before their answer); "
            f"decisions {c.decisions} (lost {c.decisions_lost}, decided twice {c.decided_twice}, "
            f"{c.conflicts} refused as conflicts); answers {c.answers} (lost {c.answers_lost}, "
            f"{c.answers_refused} refused: proposal already declined)"
        )
        lines.append(
            f"- mail queued {c.mail} ({c.mail_retried} sent only at a later attempt): "
            f"delivered {c.mail_delivered}, undelivered "
            f"{c.mail_undelivered}, duplicates {c.mail_duplicates}, strays {c.mail_strays}; "
            f"listings still waiting to be matched {c.waiting_matches}"
        )
        for failure in phase.failures:
            lines.append(
                f"- error ×{failure['Occurrences']}: {failure['Name']}: {failure['Error']}"
            )
        lines += [f"- PROBLEM: {problem}" for problem in c.problems[:20]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load per phase")
    parser.add_argument("--users", type=int, default=20, help="simulated clients")
    parser.add_argument("--phases", choices=["both", "steady", "faults"], default="both")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--smtp-port", type=int, default=8125)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="bench_load")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--ratelimit", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--drain", type=int, default=300, help="seconds to wait for the outbox")
    parser.add_argument("--members", type=int, default=12, help="member accounts (5 orgs each)")
    parser.add_argument("--folder", type=Path, default=ROOT / "instance" / "bench-load")
    args = parser.parse_args()
    settings = {k: v for k, v in vars(args).items() if k != "phases"}
    options = Options(**settings | {"folder": args.folder.resolve()})
    options.folder.mkdir(parents=True, exist_ok=True)
    for old in options.folder.glob("*"):
        if old.is_file():
            old.unlink()
    env = server_env(options, secrets.token_urlsafe(32))

    import redis

    for url in (options.broker, options.ratelimit):
        redis.Redis.from_url(url).flushdb()  # this benchmark's own databases
    print(f"rebuilding {options.database}; logs in {options.folder}", flush=True)
    rebuild_database(options, env)
    accounts = options.folder / "accounts.json"
    accounts.write_text(json.dumps(prepare_accounts(options)))
    topology = Topology(options, env)
    phases = []
    try:
        topology.start()
        if args.phases in ("both", "steady"):
            phases.append(run_phase("steady", options, topology, accounts, faults=False))
        if args.phases in ("both", "faults"):
            phases.append(run_phase("faults", options, topology, accounts, faults=True))
    finally:
        topology.stop()
    print(report(phases))
    return 0 if all(phase.counts.ok for phase in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
