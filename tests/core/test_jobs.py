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
