"""What the scheduler (``celery -A matchmaker.jobs beat``) starts, and when: no cron needed.
Apart from matchmaker/jobs.py so that it can be read without making the Celery application."""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab

from matchmaker.accounts.tasks import SEND_WAITING_RESETS
from matchmaker.alerts.tasks import SEND_WAITING_ALERTS
from matchmaker.announcements.tasks import DELIVER_WAITING
from matchmaker.core.outbox import DELIVER_DUE
from matchmaker.core.purge import PURGE_OLD_RECORDS
from matchmaker.matching.tasks import MATCH_WAITING, NIGHTLY_RUN, RUN_WAITING
from matchmaker.notifications.tasks import SEND_DIGESTS, SEND_REMINDERS

SCHEDULE = {
    # Mail whose next attempt is due (after an SMTP failure).
    "deliver-due-mail": {"task": DELIVER_DUE, "schedule": timedelta(seconds=30)},
    # Password-reset links whose job lost its message (normally none).
    "send-waiting-resets": {"task": SEND_WAITING_RESETS, "schedule": timedelta(minutes=1)},
    # Saved-search alerts and announcements whose job lost its message (normally none).
    "send-waiting-alerts": {"task": SEND_WAITING_ALERTS, "schedule": timedelta(minutes=1)},
    "deliver-waiting-announcements": {"task": DELIVER_WAITING, "schedule": timedelta(minutes=1)},
    # Listings whose matching waited for a full run, and matching jobs whose message was lost
    # (normally none).
    "match-waiting-listings": {"task": MATCH_WAITING, "schedule": timedelta(minutes=1)},
    # Full runs and previews whose job lost its message (normally none).
    "run-waiting-jobs": {"task": RUN_WAITING, "schedule": timedelta(minutes=1)},
    # A full run: every pending proposal's score as a full run finds it (matching/tasks.py).
    "nightly-full-run": {"task": NIGHTLY_RUN, "schedule": crontab(hour=2, minute=30)},
    "send-digests": {"task": SEND_DIGESTS, "schedule": crontab(hour=7, minute=0)},
    "send-reminders": {"task": SEND_REMINDERS, "schedule": crontab(hour=7, minute=30)},
    # Delivered mail and ended jobs older than MATCHMAKER_PURGE_AFTER_DAYS.
    "purge-old-records": {"task": PURGE_OLD_RECORDS, "schedule": crontab(hour=3, minute=15)},
}
