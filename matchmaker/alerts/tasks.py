"""Alerts are a job after the listing's commit, as matching is: a listing posted or reopened
(the ``listing_changed`` event) records a job in its transaction, and the alerts are worked out
and sent once it commits; a rolled-back post alerts nobody, and the poster never waits on them.

The job is a row (``jobs``, with the moment the listing opened), not only a message: a job
whose message was lost (the broker was down at the commit, or lost it) stays queued, and the
scheduler's sweep (:func:`send_waiting_alerts`, every minute) sends its alerts. Whoever claims
the row sends the alerts and deletes the row in one transaction (core.jobs.run_once), so they
go once however many take it. Alerts whose work failed (the database refused) are tried
again by the same sweep, a few times, each wait longer (core.jobs.RETRY_WAITS), then shown to
admins (Admin → Failed jobs)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import shared_task
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import lazyload

from matchmaker.alerts.services import send_alerts
from matchmaker.core.jobs import create_job, describe_kind, lost_jobs, run_once
from matchmaker.core.models import Job
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.events import listing_changed
from matchmaker.listings.models import Listing

logger = logging.getLogger(__name__)

SEND_ALERTS = "alerts.send_alerts"
SEND_WAITING_ALERTS = "alerts.send_waiting_alerts"
# The changes that make a listing new to a saved search: edits and pauses do not.
OPENING_CHANGES = ("create", "reopen")
describe_kind(SEND_ALERTS, _l("Saved-search alerts"), subject="listing", kept_failed=True)


@listing_changed.connect
def _alert_after_commit(listing: Listing, change: str = "", **_: Any) -> None:
    if change in OPENING_CHANGES:
        create_job(SEND_ALERTS, subject_id=listing.id, params={"opened_at": utcnow().isoformat()})


def _alert(listing_id: int, opened_at: str) -> int:
    """Send the alerts of a listing opened at ``opened_at`` (in the outbox: they go once the
    caller commits); how many people were told."""
    # Its themes are read by the query of the searches (not loaded), its kinds sought never.
    lighter = (lazyload(Listing.themes), lazyload(Listing.sought))
    listing = db.session.get(Listing, listing_id, options=lighter)
    if listing is None:  # deleted since
        return 0
    told = send_alerts(listing, datetime.fromisoformat(opened_at))
    if told:
        logger.info("listing %s: alerted %d saved-search owner(s)", listing_id, told)
    return told


def _alert_of(job: Job) -> int:
    return _alert(job.subject_id or 0, job.params["opened_at"])


def alert_job(job_id: int) -> bool:
    """Send the alerts of a queued job and delete it, then commit (the mail goes out of the
    outbox after this commit); False if it is gone or another run holds it."""
    return run_once(job_id, SEND_ALERTS, _alert_of)


def alert_for(listing_id: int, opened_at: str) -> int:
    """Send the alerts of a listing opened at ``opened_at`` and commit; how many were told.
    For a message queued by the old code, which had no job row."""
    told = _alert(listing_id, opened_at)
    db.session.commit()
    return told


@shared_task(name=SEND_ALERTS, ignore_result=True)
def send_alerts_task(job_id: int, opened_at: str | None = None) -> None:
    if opened_at is not None:  # queued before the job was a row: the listing and the moment
        alert_for(job_id, opened_at)
        return
    alert_job(job_id)


@shared_task(name=SEND_WAITING_ALERTS, ignore_result=True)
def send_waiting_alerts() -> int:
    """Send the alerts whose job is still queued a minute after it was recorded (its message
    lost), or whose next attempt after a failure is due (core.jobs.retry_later). Returns how
    many jobs it did."""
    return sum(alert_job(job_id) for job_id in lost_jobs(SEND_ALERTS))
