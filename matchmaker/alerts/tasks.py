"""Alerts are a job after the listing's commit, as matching is: a listing posted or reopened
(the ``listing_changed`` event) asks for them in its transaction, and they are worked out and
sent once it commits; a rolled-back post alerts nobody, and the poster never waits on them."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import shared_task
from sqlalchemy.orm import lazyload

from matchmaker.alerts.services import send_alerts
from matchmaker.core.jobs import enqueue_after_commit
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.events import listing_changed
from matchmaker.listings.models import Listing

logger = logging.getLogger(__name__)

SEND_ALERTS = "alerts.send_alerts"
# The changes that make a listing new to a saved search: edits and pauses do not.
OPENING_CHANGES = ("create", "reopen")


@listing_changed.connect
def _alert_after_commit(listing: Listing, change: str = "", **_: Any) -> None:
    if change in OPENING_CHANGES:
        enqueue_after_commit(SEND_ALERTS, listing.id, utcnow().isoformat())


def alert_for(listing_id: int, opened_at: str) -> int:
    """Send the alerts of a listing opened at ``opened_at`` and commit; how many were told."""
    # Its themes are read by the query of the searches (not loaded), its kinds sought never.
    lighter = (lazyload(Listing.themes), lazyload(Listing.sought))
    listing = db.session.get(Listing, listing_id, options=lighter)
    if listing is None:  # deleted since
        return 0
    told = send_alerts(listing, datetime.fromisoformat(opened_at))
    db.session.commit()  # the mail goes out of the outbox after this commit
    if told:
        logger.info("listing %s: alerted %d saved-search owner(s)", listing_id, told)
    return told


@shared_task(name=SEND_ALERTS, ignore_result=True)
def send_alerts_task(listing_id: int, opened_at: str) -> int:
    return alert_for(listing_id, opened_at)
