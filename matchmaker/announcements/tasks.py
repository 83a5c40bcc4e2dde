"""Delivery is a job after the announcement's commit, as matching and alerts are: a rolled-back
post reaches nobody, and the author never waits on mail."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from matchmaker.announcements.models import Announcement
from matchmaker.announcements.services import DELIVER_ANNOUNCEMENT, deliver
from matchmaker.extensions import db

logger = logging.getLogger(__name__)


def deliver_now(announcement_id: int) -> int:
    """Deliver an announcement to the members it has not reached yet, and commit."""
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None:  # deleted since
        return 0
    with current_app.test_request_context(base_url=current_app.config["MATCHMAKER_BASE_URL"]):
        reached = deliver(announcement)
    db.session.commit()  # the mail goes out of the outbox after this commit
    if reached:
        logger.info("announcement %s: delivered to %d member(s)", announcement_id, reached)
    return reached


@shared_task(name=DELIVER_ANNOUNCEMENT, ignore_result=True)
def deliver_announcement_task(announcement_id: int) -> int:
    return deliver_now(announcement_id)
