"""Background jobs: a Celery app bound to the Flask app, and jobs queued after commit.

A service that needs work done once its decision is saved (mail to deliver, a listing to match)
calls :func:`enqueue_after_commit`. The job goes out only when the request's transaction
commits, and never when it rolls back. With ``MATCHMAKER_BROKER_URL`` set (Redis), a worker
runs it (``celery -A matchmaker.jobs worker``); without one, it runs in this process right
after the commit (Celery's eager mode), so ``make run`` and ``make test`` need no broker.

Jobs are Celery tasks declared with ``@shared_task(name=...)`` in each feature's ``tasks.py``;
each runs inside an application context of its own, with its own database session, and owns
its transactions (it commits, as a CLI command does).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask, current_app
from sqlalchemy.orm import Session

from matchmaker.extensions import db

logger = logging.getLogger(__name__)

_QUEUED = "matchmaker.jobs_after_commit"

# What the scheduler (celery beat) starts, so that no cron is needed.
BEAT_SCHEDULE = {
    "deliver-due-mail": {"task": "mail.deliver_due", "schedule": timedelta(seconds=30)},
    "send-digests": {"task": "notifications.send_digests", "schedule": crontab(hour=7, minute=0)},
    "send-reminders": {
        "task": "notifications.send_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
}


def init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            # A context of its own (also when run eagerly inside a request): its own session.
            with app.app_context():
                return self.run(*args, **kwargs)

    broker_url = app.config["BROKER_URL"]
    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=broker_url or "memory://",
        task_always_eager=broker_url is None,
        # Eager jobs raise into the after-commit hook, which logs them (see _run_queued).
        task_eager_propagates=True,
        task_ignore_result=True,
        # A job is taken off the queue only when it has finished: a worker that dies mid-job
        # leaves it for another worker.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule=BEAT_SCHEDULE,
        timezone="UTC",
    )
    app.extensions["celery"] = celery
    return celery


def is_eager() -> bool:
    return bool(current_app.extensions["celery"].conf.task_always_eager)


def enqueue_after_commit(task_name: str, *args: Any) -> None:
    """Run the job ``task_name(*args)`` once the current transaction commits (not before, and
    not at all if it rolls back). The same job queued twice in one transaction runs once."""
    queued: list[tuple[str, tuple[Any, ...]]] = db.session.info.setdefault(_QUEUED, [])
    if (task_name, args) not in queued:
        queued.append((task_name, args))


def enqueue(task_name: str, *args: Any) -> None:
    """Start the job now (for work that has no transaction of its own to wait for)."""
    current_app.extensions["celery"].tasks[task_name].apply_async(args)


@sa.event.listens_for(Session, "after_commit")
def _run_queued(session: Session) -> None:
    queued = session.info.pop(_QUEUED, None)
    for task_name, args in queued or ():
        try:
            enqueue(task_name, *args)
        except Exception:
            # The decision is saved whatever happens here: mail stays in the outbox for the
            # next sweep, and a listing left unmatched is matched by the next full run.
            logger.exception("job %s%r failed to start after commit", task_name, args)


@sa.event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    session.info.pop(_QUEUED, None)
