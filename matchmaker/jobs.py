"""The Celery application, for the worker and the scheduler:

    celery -A matchmaker.jobs worker --loglevel=INFO
    celery -A matchmaker.jobs beat --loglevel=INFO

Both read the same ``MATCHMAKER_*`` settings as the web app (``MATCHMAKER_BROKER_URL`` above
all). Jobs are declared in core/outbox.py and in each feature's ``tasks.py``; the scheduler
starts what matchmaker/schedule.py lists, so that no cron is needed.
"""

from __future__ import annotations

from matchmaker import create_app
from matchmaker.schedule import SCHEDULE

flask_app = create_app()
app = flask_app.extensions["celery"]
app.conf.beat_schedule = SCHEDULE
