"""Mail the forgotten-password page asks for, as a job after its request commits: the page
answers in the same time whether or not an account has the address it was given.

The request records the job as a row (``jobs``, with the address it was given) and its worker
takes it after the commit. A job whose message was lost (the broker was down, the worker
died) stays queued: the scheduler's sweep (:func:`send_waiting_resets`, every minute) sends
it. Whoever claims the row sends the mail and deletes the row in one transaction, so the mail
goes once and the address is not kept once its mail is in the outbox."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app
from flask_babel import lazy_gettext as _l

from matchmaker.accounts.services import SEND_RESET_LINK, send_password_reset
from matchmaker.core.jobs import claim_job, describe_kind, fail_job, lost_jobs
from matchmaker.core.models import Job
from matchmaker.extensions import db

logger = logging.getLogger(__name__)

SEND_WAITING_RESETS = "accounts.send_waiting_resets"
# A failed one keeps no address to send the link to: the person asks again.
describe_kind(SEND_RESET_LINK, _l("Password reset link"), may_retry=False)


def send_reset(job_id: int) -> bool:
    """Send the reset link of a queued job, and delete the job; False if it is gone, or
    another run holds it (the worker and the sweep may both take it)."""
    job = claim_job(job_id, SEND_RESET_LINK)
    if job is None:
        db.session.rollback()
        return False
    email = job.params["email"]
    db.session.delete(job)
    try:
        _mail_link(email)
    except Exception as error:
        # Recorded as failed, not left queued for the sweep to try every minute for ever; the
        # address is not kept (the person may ask again).
        fail_job(job_id, error)
        _forget_address(job_id)
        logger.exception("password reset job %s failed", job_id)
        return True
    db.session.commit()  # the mail goes out of the outbox after this commit
    return True


def _mail_link(email: str) -> None:
    """The reset link's mail to the account of ``email``, if any (in the outbox: it goes once
    the caller commits), with links to the site's configured address."""
    with current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]):
        send_password_reset(email)


def _forget_address(job_id: int) -> None:
    """A failed reset job keeps its error, not the address it was asked for."""
    job = db.session.get(Job, job_id)
    if job is not None:
        job.params = {}
        db.session.commit()


@shared_task(name=SEND_RESET_LINK, ignore_result=True)
def send_password_reset_task(job_id: int | str) -> None:
    if isinstance(job_id, str):  # queued before the job was a row: the address itself
        _mail_link(job_id)
        db.session.commit()
        return
    send_reset(job_id)


@shared_task(name=SEND_WAITING_RESETS, ignore_result=True)
def send_waiting_resets() -> int:
    """Send the reset links whose job is still queued a minute after it was asked for (its
    message lost). Returns how many were sent."""
    return sum(send_reset(job_id) for job_id in lost_jobs(SEND_RESET_LINK))
