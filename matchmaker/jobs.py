"""The Celery application, for the worker and the scheduler:

    celery -A matchmaker.jobs worker --loglevel=INFO
    celery -A matchmaker.jobs beat --loglevel=INFO

Both read the same ``MATCHMAKER_*`` settings as the web app (``MATCHMAKER_BROKER_URL`` above
all). Jobs are declared in core/outbox.py and in each feature's ``tasks.py``; this module adds
what the scheduler starts, so that no cron is needed.
"""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab

from matchmaker import create_app
from matchmaker.core.outbox import DELIVER_DUE
from matchmaker.core.purge import PURGE_OLD_RECORDS
from matchmaker.matching.tasks import MATCH_WAITING
from matchmaker.notifications.tasks import SEND_DIGESTS, SEND_REMINDERS

SCHEDULE = {
    # Mail whose next attempt is due (after an SMTP failure).
    "deliver-due-mail": {"task": DELIVER_DUE, "schedule": timedelta(seconds=30)},
    # Listings whose matching waited for a full run (normally none).
    "match-waiting-listings": {"task": MATCH_WAITING, "schedule": timedelta(minutes=1)},
    "send-digests": {"task": SEND_DIGESTS, "schedule": crontab(hour=7, minute=0)},
    "send-reminders": {"task": SEND_REMINDERS, "schedule": crontab(hour=7, minute=30)},
    # Delivered mail and ended jobs older than MATCHMAKER_PURGE_AFTER_DAYS.
    "purge-old-records": {"task": PURGE_OLD_RECORDS, "schedule": crontab(hour=3, minute=15)},
}

flask_app = create_app()
app = flask_app.extensions["celery"]
app.conf.beat_schedule = SCHEDULE
