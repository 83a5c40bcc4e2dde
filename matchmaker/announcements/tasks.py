"""Delivery is a job after the announcement's commit, as matching and alerts are: a rolled-back
post reaches nobody, and the author never waits on mail.

The job is a row (``jobs``), not only a message: a job whose message was lost (the broker was
down at the commit, or lost it) stays queued, and the scheduler's sweep
(:func:`deliver_waiting`, every minute) delivers it. Whoever claims the row delivers and
deletes the row in one transaction (core.jobs.run_once), so it is delivered once however many
take it. A delivery whose work failed (the database refused) is tried again by the same
sweep, a few times, each wait longer (core.jobs.RETRY_WAITS), then shown to admins (Admin →
Failed jobs)."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app
from flask_babel import lazy_gettext as _l

from matchmaker.announcements.models import Announcement
from matchmaker.announcements.services import DELIVER_ANNOUNCEMENT, deliver
from matchmaker.core.jobs import describe_kind, lost_jobs, run_once
from matchmaker.core.models import Job
from matchmaker.extensions import db

logger = logging.getLogger(__name__)

DELIVER_WAITING = "announcements.deliver_waiting"
# The task of the old code, which queued the announcement's id with no job row.
DELIVER_QUEUED_BY_OLD_CODE = "announcements.deliver"
describe_kind(
    DELIVER_ANNOUNCEMENT, _l("Announcement delivery"), subject="announcement", kept_failed=True
)


def _deliver(announcement_id: int) -> int:
    """Deliver an announcement to the members it has not reached yet (in the outbox: the mail
    goes once the caller commits); how many were reached."""
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None:  # deleted since
        return 0
    with current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]):
        reached = deliver(announcement)
    if reached:
        logger.info("announcement %s: delivered to %d member(s)", announcement_id, reached)
    return reached


def _deliver_job(job: Job) -> int:
    return _deliver(job.subject_id or 0)


def delivery_job(job_id: int) -> bool:
    """Deliver the announcement of a queued job and delete the job, then commit (the mail goes
    out of the outbox after this commit); False if it is gone or another run holds it."""
    return run_once(job_id, DELIVER_ANNOUNCEMENT, _deliver_job)


def deliver_now(announcement_id: int) -> int:
    """Deliver an announcement to the members it has not reached yet, and commit."""
    reached = _deliver(announcement_id)
    db.session.commit()
    return reached


@shared_task(name=DELIVER_ANNOUNCEMENT, ignore_result=True)
def delivery_task(job_id: int) -> None:
    delivery_job(job_id)


@shared_task(name=DELIVER_QUEUED_BY_OLD_CODE, ignore_result=True)
def deliver_announcement_task(announcement_id: int) -> int:
    return deliver_now(announcement_id)


@shared_task(name=DELIVER_WAITING, ignore_result=True)
def deliver_waiting() -> int:
    """Deliver the announcements whose job is still queued a minute after it was recorded (its
    message lost), or whose next attempt after a failure is due (core.jobs.retry_later).
    Returns how many jobs it did."""
    return sum(delivery_job(job_id) for job_id in lost_jobs(DELIVER_ANNOUNCEMENT))
