"""Scheduled mail: the daily digest and the outcome reminders (Celery beat starts them)."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from matchmaker.extensions import db
from matchmaker.notifications.services import send_digests
from matchmaker.proposals.services import send_outcome_reminders

logger = logging.getLogger(__name__)

SEND_DIGESTS = "notifications.send_digests"
SEND_REMINDERS = "notifications.send_reminders"


@shared_task(name=SEND_DIGESTS, ignore_result=True)
def send_digests_task() -> int:
    """Mail each daily-digest user what they have not been mailed yet."""
    with current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]):
        count = send_digests()
    db.session.commit()  # the digests go out of the outbox after this commit
    logger.info("queued %d digest(s)", count)
    return count


@shared_task(name=SEND_REMINDERS, ignore_result=True)
def send_reminders_task() -> int:
    """Remind the parties of agreements 30 days old with no outcome yet."""
    with current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]):
        count = send_outcome_reminders()
    db.session.commit()
    logger.info("reminded the parties of %d agreement(s)", count)
    return count
