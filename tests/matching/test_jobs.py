"""How matching is started: after commit, as jobs with their progress on a page, and never
leaving a listing unmatched because a full run held the lock."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role, User
from matchmaker.core.models import Job, JobStatus
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind
from matchmaker.matching import tasks
from matchmaker.matching.engine import ADVISORY_LOCK_KEY
from matchmaker.matching.models import MatcherRun, RunKind, RunStatus
from matchmaker.matching.templates import TEMPLATES
from matchmaker.organisations.models import Organisation, OrganisationKind
from matchmaker.proposals.models import Proposal, ProposalParty
from tests.conftest import is_postgres
from tests.factories import PASSWORD, make_listing, make_organisation, make_user

NEED = {
    "title": "Evaluation of our work-integration programme",
    "description": "We need researchers to evaluate the social impact of our programme.",
    "themes": ["research-evaluation"],
    "scope": "regional",
    "expires_on": "",
}


def _as(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _proposals_of(listing_id: int) -> int:
    db.session.expire_all()
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ProposalParty)
            .where(ProposalParty.listing_id == listing_id)
        )
        or 0
    )


def _waiting_jobs() -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Job)
            .where(Job.kind == tasks.MATCH_LISTING, Job.status == JobStatus.QUEUED)
        )
        or 0
    )


@pytest.fixture
def offer() -> Listing:
    university = make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION)
    return make_listing(
        organisation=university, kind=ListingKind.OFFER, themes=("research-evaluation",)
    )


def _post_need(app: Flask) -> tuple[FlaskClient, int]:
    member = make_user()
    organisation = make_organisation(owner=member)
    client = _as(app, member)
    response = client.post(f"/organisations/{organisation.id}/listings/new/need", data=NEED)
    assert response.status_code == 302
    listing_id = db.session.scalar(sa.select(Listing.id).where(Listing.title == NEED["title"]))
    assert listing_id is not None
    return client, listing_id


def test_a_posted_listing_is_matched_once_its_transaction_commits(
    app: Flask, offer: Listing
) -> None:
    _, need_id = _post_need(app)
    assert _proposals_of(need_id) == 1
    assert _waiting_jobs() == 0
    run = db.session.scalar(sa.select(MatcherRun).where(MatcherRun.focus_listing_id == need_id))
    assert run is not None and run.status == RunStatus.FINISHED


def test_a_listing_rolled_back_is_never_matched(app: Flask, offer: Listing) -> None:
    from matchmaker.listings.services import change_status

    with app.test_request_context():
        change_status(listing=offer, actor=None, action="close")
    db.session.rollback()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatcherRun)) == 0
    assert _waiting_jobs() == 0


def _new_need(organisation: Organisation) -> Listing:
    """A need posted through the listing service, not committed: its matching is queued."""
    from matchmaker.listings.models import Scope
    from matchmaker.listings.services import create_listing

    return create_listing(
        organisation=organisation,
        actor=None,
        kind=ListingKind.NEED,
        title=NEED["title"],
        description=NEED["description"],
        themes=NEED["themes"],
        scope=Scope.REGIONAL,
    )


def test_a_savepoint_released_is_not_the_commit_its_jobs_wait_for(
    app: Flask, offer: Listing
) -> None:
    organisation = make_organisation()
    with db.session.begin_nested():
        need = _new_need(organisation)
    # Released, not committed: a worker could not even read the need yet.
    with db.engine.connect() as worker:
        assert worker.scalar(sa.select(Listing.id).where(Listing.id == need.id)) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatcherRun)) == 0
    db.session.commit()
    assert _proposals_of(need.id) == 1


def test_a_savepoint_rolled_back_forgets_only_what_was_queued_inside_it(
    app: Flask, offer: Listing
) -> None:
    from matchmaker.listings.models import Scope
    from matchmaker.listings.services import change_status, update_listing

    need = _new_need(make_organisation())  # its matching is queued before the savepoint
    with pytest.raises(RuntimeError), db.session.begin_nested():
        change_status(listing=offer, actor=None, action="pause")
        raise RuntimeError("the pause is undone")
    # The offer's job went with the savepoint: a change after it queues it again.
    update_listing(
        listing=offer,
        actor=None,
        title="Impact evaluation by our researchers",
        description=offer.description,
        themes=["research-evaluation"],
        scope=Scope.REGIONAL,
    )
    db.session.commit()
    assert _proposals_of(need.id) == 1
    runs = db.session.scalars(sa.select(MatcherRun.focus_listing_id)).all()
    assert sorted(runs) == sorted([need.id, offer.id])


@pytest.mark.skipif(not is_postgres(), reason="the matcher's lock is PostgreSQL's")
def test_a_listing_posted_while_a_full_run_holds_the_lock_is_matched_afterwards(
    app: Flask, offer: Listing
) -> None:
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    full_run = engine.connect()  # stands for a full run under way: it holds the lock
    full_run.execute(sa.select(sa.func.pg_advisory_lock(ADVISORY_LOCK_KEY)))
    try:
        _, need_id = _post_need(app)  # the posting succeeds; its matching waits
        assert _proposals_of(need_id) == 0
        assert _waiting_jobs() == 1
        coordinator = _as(app, make_user(role=Role.COORDINATOR))
        started = threading.Thread(
            target=lambda: coordinator.post("/coordination/matching/run"), name="full-run"
        )
        started.start()  # a full run from the page waits for the lock too
    finally:
        full_run.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
        full_run.close()
        engine.dispose()
    started.join(timeout=60)
    assert not started.is_alive()
    assert _proposals_of(need_id) == 1
    assert _waiting_jobs() == 0  # the full run matched what waited


@pytest.mark.skipif(not is_postgres(), reason="the matcher's lock is PostgreSQL's")
def test_the_scheduler_matches_listings_left_waiting(app: Flask, offer: Listing) -> None:
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as full_run:
        full_run.execute(sa.select(sa.func.pg_advisory_lock(ADVISORY_LOCK_KEY)))
        _, need_id = _post_need(app)
        full_run.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
    engine.dispose()
    assert _proposals_of(need_id) == 0
    app.extensions["celery"].tasks[tasks.MATCH_WAITING].apply()  # what beat starts each minute
    assert _proposals_of(need_id) == 1
    assert _waiting_jobs() == 0


@pytest.mark.skipif(not is_postgres(), reason="row locks are PostgreSQL's")
def test_a_listing_job_is_run_once_however_many_take_it(app: Flask, offer: Listing) -> None:
    """Its worker and the scheduler's sweep may both take a waiting listing's job: the one that
    claims it matches the listing; the other finds it held (or gone) and leaves it, rather than
    matching the listing a second time and failing on a job already deleted."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as full_run:  # the posting's own job waits
        full_run.execute(sa.select(sa.func.pg_advisory_lock(ADVISORY_LOCK_KEY)))
        _, need_id = _post_need(app)
        full_run.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
    [job_id] = db.session.scalars(
        sa.select(Job.id).where(Job.kind == tasks.MATCH_LISTING, Job.subject_id == need_id)
    ).all()
    db.session.rollback()
    runs = sa.select(sa.func.count()).select_from(MatcherRun)
    runs = runs.where(MatcherRun.focus_listing_id == need_id)
    with engine.connect() as worker:  # a worker running the job holds its row
        worker.execute(sa.select(Job.id).where(Job.id == job_id).with_for_update())
        # Were it to go on anyway, deleting the job would wait for the worker: not for long.
        db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
        assert tasks.match_one(job_id) is True  # the sweep's turn: nothing left to do
        assert db.session.scalar(runs) == 0
        worker.rollback()  # the worker died: its job is still waiting
    engine.dispose()
    assert _waiting_jobs() == 1
    tasks.match_waiting()  # what the scheduler starts each minute
    assert tasks.match_one(job_id) is True  # a late worker finds it done
    assert db.session.scalar(runs) == 1
    assert _proposals_of(need_id) == 1
    assert _waiting_jobs() == 0


@pytest.mark.parametrize("role, status", [(Role.MEMBER, 403), (Role.COORDINATOR, 302)])
def test_only_coordinators_start_a_full_run(app: Flask, role: Role, status: int) -> None:
    client = _as(app, make_user(role=role))
    assert client.post("/coordination/matching/run").status_code == status


def test_a_full_run_started_from_the_page_shows_its_outcome(app: Flask, offer: Listing) -> None:
    make_listing(themes=("research-evaluation",))
    coordinator = _as(app, make_user(role=Role.COORDINATOR))
    response = coordinator.post("/coordination/matching/run")
    assert response.status_code == 302
    job_page = response.headers["Location"]
    page = coordinator.get(job_page).get_data(as_text=True)
    assert "Done: 2 listings considered, 1 proposals added and 0 withdrawn." in page
    assert 'http-equiv="refresh"' not in page
    assert _as(app, make_user()).get(job_page).status_code == 403
    run = db.session.scalar(sa.select(MatcherRun).where(MatcherRun.kind == RunKind.FULL))
    assert run is not None and run.proposals_created == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1


def test_a_full_run_whose_message_was_lost_is_run_by_the_sweep_once(
    app: Flask, offer: Listing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker was down when the run was started (from the page, by an import, by the
    nightly schedule): its job stayed queued for ever, its page reloading, the listings
    unmatched until the next night. A minute later the scheduler's sweep runs it, once."""
    from matchmaker.core import jobs
    from matchmaker.db import utcnow
    from matchmaker.schedule import SCHEDULE

    make_listing(themes=("research-evaluation",))
    coordinator = _as(app, make_user(role=Role.COORDINATOR))

    def broker_down(*_: Any) -> None:
        raise ConnectionError("the broker is down")

    with monkeypatch.context() as broken:
        broken.setattr(jobs, "enqueue", broker_down)
        job_page = coordinator.post("/coordination/matching/run").headers["Location"]
    [job_id] = db.session.scalars(sa.select(Job.id).where(Job.kind == tasks.FULL_RUN)).all()
    assert tasks.run_waiting() == 0  # not lost yet: its worker may still take it
    db.session.execute(sa.update(Job).values(created_at=utcnow() - 2 * jobs.LOST_AFTER))
    db.session.commit()
    assert tasks.run_waiting() == 1
    page = coordinator.get(job_page).get_data(as_text=True)
    assert "Done: 2 listings considered, 1 proposals added and 0 withdrawn." in page
    assert tasks.full_run(job_id) is None  # its worker, late
    assert tasks.run_waiting() == 0
    runs = sa.select(sa.func.count()).select_from(MatcherRun).where(MatcherRun.kind == RunKind.FULL)
    assert db.session.scalar(runs) == 1
    assert tasks.RUN_WAITING in {entry["task"] for entry in SCHEDULE.values()}


def _full_run_job(app: Flask, monkeypatch: pytest.MonkeyPatch) -> int:
    """A full run's job, recorded and committed, whose message no worker takes."""
    from matchmaker.core import jobs

    with monkeypatch.context() as held:
        held.setattr(jobs, "enqueue", lambda *_: None)
        job = jobs.create_job(tasks.FULL_RUN)
        db.session.commit()
    return job.id


def _heartbeat_before(job_id: int, age: timedelta) -> None:
    """The job's last heartbeat (its ``updated_at``) was ``age`` ago."""
    from matchmaker.db import utcnow

    db.session.execute(sa.update(Job).where(Job.id == job_id).values(updated_at=utcnow() - age))
    db.session.commit()


def _full_runs() -> int:
    runs = sa.select(sa.func.count()).select_from(MatcherRun).where(MatcherRun.kind == RunKind.FULL)
    return db.session.scalar(runs) or 0


def _delivered_again(app: Flask, task_name: str, job_id: int) -> None:
    """The job's message, handed out again by the broker (marked ``redelivered``)."""
    task = app.extensions["celery"].tasks[task_name]
    task.push_request(delivery_info={"redelivered": True})
    try:
        task.run(job_id)
    finally:
        task.pop_request()


class _WorkerDied(BaseException):
    """The worker's process ends mid-run: nothing of the run's own code runs after it."""


def test_a_full_run_the_sweep_started_whose_worker_died_is_taken_up_again_once(
    app: Flask, offer: Listing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep runs a lost full run inline; its worker dies in it. The job stayed "running"
    for ever, its page reloading: the sweep's own message, handed out again, looked only for
    queued jobs (so did every later sweep), and so it did when the broker acked a dying
    worker's message anyway. Once its heartbeat is older than STOPPED_AFTER, the sweep takes it
    up again, once, and its page says so."""
    from matchmaker.core import jobs
    from matchmaker.db import utcnow

    make_listing(themes=("research-evaluation",))
    job_id = _full_run_job(app, monkeypatch)
    db.session.execute(sa.update(Job).values(created_at=utcnow() - 2 * jobs.LOST_AFTER))
    db.session.commit()

    def dies(**_: Any) -> None:
        raise _WorkerDied

    with monkeypatch.context() as dying, pytest.raises(_WorkerDied):
        dying.setattr(tasks, "run_full", dies)
        tasks.run_waiting()
    db.session.rollback()  # what the database does with a dead worker's transaction
    assert tasks.run_waiting() == 0  # the sweep's message handed out again: it looks alive
    _heartbeat_before(job_id, jobs.STOPPED_AFTER - timedelta(seconds=5))
    assert tasks.run_waiting() == 0
    db.session.expire_all()
    assert db.session.get(Job, job_id).status == JobStatus.RUNNING
    _heartbeat_before(job_id, jobs.STOPPED_AFTER + timedelta(seconds=5))

    assert tasks.run_waiting() == 1
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None and job.status == JobStatus.FINISHED and job.restarted_at is not None
    assert _full_runs() == 1
    assert tasks.run_waiting() == 0  # the next sweep, and a message handed out late: nothing
    _delivered_again(app, tasks.FULL_RUN, job_id)
    assert _full_runs() == 1
    coordinator = _as(app, make_user(role=Role.COORDINATOR))
    page = coordinator.get(f"/coordination/jobs/{job_id}").get_data(as_text=True)
    assert "Done: 2 listings considered, 1 proposals added and 0 withdrawn." in page
    assert "Taken up again after its worker stopped" in page


def test_a_live_slow_run_is_left_to_its_worker(
    app: Flask, offer: Listing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose heartbeat is recent is alive, however long it has run: neither the sweep nor
    its message handed out again (Redis does so when a run outlasts its visibility timeout)
    starts it a second time. Before, the message did."""
    from matchmaker.core import jobs
    from matchmaker.db import utcnow

    job_id = _full_run_job(app, monkeypatch)
    assert jobs.start_job(job_id) is not None  # its worker runs it
    db.session.execute(sa.update(Job).values(started_at=utcnow() - timedelta(hours=3)))  # slow
    _heartbeat_before(job_id, jobs.STOPPED_AFTER - timedelta(seconds=15))
    assert tasks.run_waiting() == 0
    _delivered_again(app, tasks.FULL_RUN, job_id)
    assert tasks.preview(job_id) is None and tasks.full_run(job_id) is None
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None and job.status == JobStatus.RUNNING and job.restarted_at is None
    assert _full_runs() == 0
    page = _as(app, make_user(role=Role.COORDINATOR)).get(f"/coordination/jobs/{job_id}").text
    assert "Running: 0% done." in page and "Taken up again" not in page


def test_a_preview_whose_worker_stopped_is_taken_up_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matchmaker.core import jobs

    with monkeypatch.context() as held:
        held.setattr(jobs, "enqueue", lambda *_: None)
        job_id = jobs.create_job(tasks.PREVIEW, params={"settings": {"min_score": 45}}).id
        db.session.commit()
    assert jobs.start_job(job_id) is not None
    _heartbeat_before(job_id, jobs.STOPPED_AFTER + timedelta(seconds=5))
    _delivered_again(app, tasks.PREVIEW, job_id)  # whoever comes first takes it
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None and job.status == JobStatus.FINISHED and job.restarted_at is not None
    assert tasks.run_waiting() == 0


def test_a_running_job_shows_it_is_alive(app: Flask) -> None:
    """The heartbeat is written on a connection of its own while the job's work goes on,
    whatever that work is doing (here: nothing the job's page could see)."""
    from matchmaker.core.jobs import heartbeat

    job = Job(kind=tasks.FULL_RUN, status=JobStatus.RUNNING)
    db.session.add(job)
    db.session.commit()
    _heartbeat_before(job.id, timedelta(hours=1))
    with db.engine.connect() as reader:
        before = reader.scalar(sa.select(Job.updated_at).where(Job.id == job.id))
    with heartbeat(job.id, every=timedelta(seconds=0.02)), db.engine.connect() as reader:
        for _ in range(200):
            now = reader.scalar(sa.select(Job.updated_at).where(Job.id == job.id))
            reader.rollback()
            if now != before:
                break
            threading.Event().wait(0.02)
    assert now is not None and before is not None and now > before + timedelta(minutes=59)
    assert not any(t.name == f"heartbeat-{job.id}" for t in threading.enumerate())


@pytest.mark.skipif(is_postgres(), reason="SQLite's database-wide write lock")
def test_on_sqlite_a_run_holding_the_write_lock_is_not_taken_from_it(
    app: Flask, monkeypatch: pytest.MonkeyPatch, short_busy_timeout: int
) -> None:
    """There a full run holds the write lock from its first write to its commit, and cannot
    write its heartbeat meanwhile: it looks stopped. Taking it is a write too, which waits for
    that lock and gives up; the sweep leaves it, without failing, to try again next minute."""
    import sqlite3

    from matchmaker.core import jobs

    job_id = _full_run_job(app, monkeypatch)
    assert jobs.start_job(job_id) is not None
    _heartbeat_before(job_id, jobs.STOPPED_AFTER + timedelta(seconds=5))
    run = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
    run.execute("BEGIN IMMEDIATE")  # the live run's write lock
    try:
        jobs.report_progress(job_id, 50)  # not written, and no error
        assert tasks.run_waiting() == 1  # found, not taken
    finally:
        run.rollback()
        run.close()
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None and job.status == JobStatus.RUNNING and job.restarted_at is None
    assert job.progress == 0 and _full_runs() == 0


@pytest.mark.skipif(not is_postgres(), reason="row locks are PostgreSQL's")
def test_two_sweeps_at_once_take_a_stopped_run_up_once(
    app: Flask, offer: Listing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sweeps (or a sweep and the message handed out again) find the same stopped run: the
    first to update its row takes it; the second waits for that row, then reads it running
    with a fresh heartbeat and leaves it. The row is held here until both are waiting for it."""
    from matchmaker.core import jobs

    make_listing(themes=("research-evaluation",))
    job_id = _full_run_job(app, monkeypatch)
    assert jobs.start_job(job_id) is not None
    _heartbeat_before(job_id, jobs.STOPPED_AFTER + timedelta(seconds=5))
    sweep = app.extensions["celery"].tasks[tasks.RUN_WAITING]
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as holder:
        holder.execute(sa.select(Job.id).where(Job.id == job_id).with_for_update())
        sweeps = [threading.Thread(target=sweep.apply, name=f"sweep-{n}") for n in (1, 2)]
        for thread in sweeps:
            thread.start()
        waiting = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        )
        with engine.connect() as watcher:
            for _ in range(300):
                if watcher.scalar(waiting) == 2:
                    break
                watcher.rollback()
                threading.Event().wait(0.02)
            assert watcher.scalar(waiting) == 2
        holder.rollback()
    engine.dispose()
    for thread in sweeps:
        thread.join(timeout=60)
        assert not thread.is_alive()
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None and job.status == JobStatus.FINISHED and job.restarted_at is not None
    assert _full_runs() == 1


@pytest.mark.skipif(not is_postgres(), reason="the matcher's lock is PostgreSQL's")
def test_the_matchers_lock_goes_with_a_worker_that_dies(app: Flask) -> None:
    """The matcher's lock is a transaction's advisory lock: PostgreSQL releases it when the
    connection of a worker killed in a run closes, and the run taken up again gets it."""
    import os
    import signal
    import subprocess
    import sys

    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    holds_the_lock = (
        "import sys, time, psycopg\n"
        "connection = psycopg.connect(sys.argv[1])\n"
        f"connection.execute('SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})')\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", holds_the_lock, url.render_as_string(hide_password=False)],
        stdout=subprocess.PIPE,
        text=True,
    ) as worker:
        try:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "locked"
            try_lock = sa.select(sa.func.pg_try_advisory_xact_lock(ADVISORY_LOCK_KEY))
            assert db.session.scalar(try_lock) is False
            db.session.rollback()
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            for _ in range(250):
                if db.session.scalar(try_lock):
                    break
                db.session.rollback()
                threading.Event().wait(0.02)
            assert db.session.scalar(try_lock) is True
            db.session.rollback()
        finally:
            if worker.poll() is None:
                worker.kill()


@pytest.mark.skipif(is_postgres(), reason="busy_timeout is SQLite's")
def test_progress_written_on_the_side_leaves_its_connection_waiting_for_locks(app: Flask) -> None:
    """On SQLite the progress is written without waiting for the lock; the pooled connection it
    used must not keep that, or a later request on it fails at once with "database is locked"
    where it should have waited for the other writer."""
    from matchmaker.core.jobs import report_progress

    job = Job(kind=tasks.FULL_RUN, status=JobStatus.RUNNING, progress=0)
    db.session.add(job)
    db.session.commit()
    busy_timeout = "PRAGMA busy_timeout"
    with db.engine.connect() as connection:
        waits = connection.exec_driver_sql(busy_timeout).scalar()
    report_progress(job.id, 40)
    db.session.expire_all()
    assert db.session.get(Job, job.id).progress == 40
    with db.engine.connect() as connection:  # the pool hands back the connection just used
        assert connection.exec_driver_sql(busy_timeout).scalar() == waits > 0


def test_a_job_page_refreshes_itself_until_the_job_ends(app: Flask) -> None:
    job = Job(kind=tasks.FULL_RUN, status=JobStatus.RUNNING, progress=30)
    db.session.add(job)
    db.session.commit()
    coordinator = _as(app, make_user(role=Role.COORDINATOR))
    page = coordinator.get(f"/coordination/jobs/{job.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Running: 30% done." in page and 'value="30"' in page
    assert coordinator.get("/coordination/jobs/999").status_code == 404


def test_a_failing_run_is_recorded_as_failed_with_its_error_and_logged(
    app: Flask, offer: Listing, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the pair template broke")

    monkeypatch.setattr(TEMPLATES["pair"], "propose", broken)
    coordinator = _as(app, make_user(role=Role.COORDINATOR))
    with caplog.at_level(logging.ERROR, logger="matchmaker.matching.tasks"):
        response = coordinator.post("/coordination/matching/run")
    page = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "It failed: RuntimeError: the pair template broke" in page
    [run] = db.session.scalars(sa.select(MatcherRun)).all()
    assert (run.kind, run.status) == (RunKind.FULL, RunStatus.FAILED)
    assert run.error == "RuntimeError: the pair template broke"
    assert run.finished_at is not None
    assert "matcher run (full) failed: RuntimeError: the pair template broke" in caplog.text
    settings_page = coordinator.get("/coordination/matching").get_data(as_text=True)
    assert "failed: RuntimeError: the pair template broke" in settings_page


def test_a_failing_incremental_run_is_recorded_too(
    app: Flask, offer: Listing, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the pair template broke")

    monkeypatch.setattr(TEMPLATES["pair"], "propose", broken)
    _, need_id = _post_need(app)  # the listing is saved all the same
    run = db.session.scalar(sa.select(MatcherRun))
    assert run is not None
    assert (run.kind, run.status, run.focus_listing_id) == (
        RunKind.INCREMENTAL,
        RunStatus.FAILED,
        need_id,
    )
    job = db.session.scalar(sa.select(Job).where(Job.kind == tasks.MATCH_LISTING))
    assert job is not None and job.status == JobStatus.FAILED and "broke" in (job.error or "")


def test_a_preview_is_followed_by_its_author_and_the_platform_coordinators_only(
    app: Flask,
) -> None:
    """A coordinator of some territories may preview settings; another such coordinator does
    not see that preview (not even that it exists), nor does a member."""
    from tests.territories.helpers import make_territorial_coordinator, make_territory

    attica = make_territory(language="en")  # its coordinators read English here
    author = make_territorial_coordinator(attica)
    colleague = make_territorial_coordinator(attica)
    preview = Job(
        kind=tasks.PREVIEW,
        status=JobStatus.RUNNING,
        progress=50,
        requested_by_id=author.id,
        params={"settings": {"min_score": 45}},
    )
    run = Job(kind=tasks.FULL_RUN, status=JobStatus.RUNNING, progress=20)
    db.session.add_all([preview, run])
    db.session.commit()

    assert "Running: 50% done." in _as(app, author).get(f"/coordination/jobs/{preview.id}").text
    assert _as(app, colleague).get(f"/coordination/jobs/{preview.id}").status_code == 404
    platform = _as(app, make_user(role=Role.COORDINATOR))
    assert "Running: 50% done." in platform.get(f"/coordination/jobs/{preview.id}").text
    member = _as(app, make_user())
    assert member.get(f"/coordination/jobs/{preview.id}").status_code in (403, 404)
    # The runs are listed on the matching page for every coordinator; so are their pages.
    assert "Running: 20% done." in _as(app, colleague).get(f"/coordination/jobs/{run.id}").text
