"""Jobs done once (core.jobs.run_once) whose work fails: tried again after growing waits."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.core import jobs
from matchmaker.core.models import Job, JobStatus
from matchmaker.db import utcnow
from matchmaker.extensions import db
from tests.conftest import is_postgres

KIND = "tests.some_work"


def _queued() -> int:
    job = Job(kind=KIND)
    db.session.add(job)
    db.session.commit()
    return job.id


def _fails(_job: Job) -> None:
    raise RuntimeError("refused")


def test_the_waits_grow_and_end() -> None:
    assert list(jobs.RETRY_WAITS) == sorted(set(jobs.RETRY_WAITS))


def test_a_job_waiting_for_its_next_attempt_is_not_taken_before_it(app: Flask) -> None:
    job_id = _queued()
    assert jobs.run_once(job_id, KIND, _fails) is True
    job = db.session.get(Job, job_id, populate_existing=True)
    assert (job.status, job.attempts, job.error) == (JobStatus.QUEUED, 1, "RuntimeError: refused")
    done: list[int] = []
    assert jobs.run_once(job_id, KIND, lambda job: done.append(job.id)) is False
    job.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert jobs.run_once(job_id, KIND, lambda job: done.append(job.id)) is True
    assert done == [job_id] and db.session.get(Job, job_id) is None


@pytest.mark.skipif(not is_postgres(), reason="row locks are PostgreSQL's")
def test_a_failure_is_not_counted_on_a_job_another_run_took_meanwhile(app: Flask) -> None:
    """Once its work is rolled back the job is free, and another run (the sweep) may hold it:
    that run does the work or counts its own failure; this one leaves the row alone rather than
    wait for it and count a failure on a job it no longer holds."""
    job_id = _queued()
    engine = sa.create_engine(db.engine.url)
    other = engine.connect()
    # The other run ends a few seconds later: one that waited for the row goes on then.
    ends = threading.Timer(3, other.rollback)

    def fails_while_another_takes_it(_job: Job) -> None:
        db.session.rollback()  # (the job's lock goes with the work)
        other.execute(sa.select(Job.id).where(Job.id == job_id).with_for_update())
        ends.start()
        raise RuntimeError("refused")

    try:
        assert jobs.run_once(job_id, KIND, fails_while_another_takes_it) is True
    finally:
        ends.cancel()  # (nothing waited for it)
        ends.join()
        other.close()
        engine.dispose()
    job = db.session.get(Job, job_id, populate_existing=True)
    assert (job.status, job.attempts, job.error) == (JobStatus.QUEUED, 0, None)


def test_a_heartbeat_that_could_not_be_written_once_goes_on(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A beat that fails with anything but a busy database is one beat missed, not the end
    of the heartbeat: a thread that died left a live run looking stopped two minutes later,
    and the sweep started it again."""
    job = Job(kind=KIND, status=JobStatus.RUNNING, updated_at=utcnow() - timedelta(hours=1))
    db.session.add(job)
    db.session.commit()
    before = job.updated_at
    connect = db.engine.connect
    # No connection free in the pool within its timeout; then something nobody foresaw.
    failures: list[Exception] = [
        RuntimeError("unforeseen"),
        sa.exc.TimeoutError("QueuePool limit reached, connection timed out"),
    ]

    def connect_once_refused() -> sa.Connection:
        if failures and threading.current_thread().name.startswith("heartbeat-"):
            raise failures.pop()
        return connect()

    monkeypatch.setattr(db.engine, "connect", connect_once_refused)
    written = None
    with jobs.heartbeat(job.id, every=timedelta(seconds=0.02)):
        for _ in range(200):
            written = db.session.scalar(sa.select(Job.updated_at).where(Job.id == job.id))
            db.session.rollback()
            if written != before:
                break
            threading.Event().wait(0.02)
    assert not failures and written is not None and written > before + timedelta(minutes=59)


def test_progress_not_written_for_want_of_a_connection_does_not_stop_the_run(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """report_progress is best effort: the run goes on without it."""
    job_id = _queued()

    def no_connection() -> sa.Connection:
        raise sa.exc.TimeoutError("QueuePool limit reached, connection timed out")

    monkeypatch.setattr(db.engine, "connect", no_connection)
    jobs.report_progress(job_id, 50)  # no error
    monkeypatch.undo()
    assert db.session.get(Job, job_id, populate_existing=True).progress == 0


def test_a_failed_jobs_error_keeps_the_databases_message_not_the_statements_parameters(
    app: Flask,
) -> None:
    """The error is shown to admins (Admin → Failed jobs) and kept for weeks: SQLAlchemy's
    text of a database error holds the statement's parameters, here an address someone typed
    into the password-reset form, which the job itself deliberately does not keep."""
    job_id = _queued()

    def refused(_job: Job) -> None:
        raise sa.exc.OperationalError(
            "SELECT users.id FROM users WHERE users.email = ?",
            ("someone@example.org",),
            Exception("disk I/O error"),
        )

    assert jobs.run_once(job_id, KIND, refused) is True
    job = db.session.get(Job, job_id, populate_existing=True)
    assert job.error == "OperationalError: disk I/O error"
    jobs.fail_job(job_id, RuntimeError("the template broke"))  # any other error: as it was
    assert db.session.get(Job, job_id).error == "RuntimeError: the template broke"
