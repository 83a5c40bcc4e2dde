"""Rows kept only for a while: delivered mail and ended jobs.

The scheduler runs :func:`purge_old_records` every night (matchmaker/jobs.py). A message
delivered more than ``MATCHMAKER_PURGE_AFTER_DAYS`` days ago (30 by default) leaves the outbox;
so does a job (a full run, a preview) that finished or failed that long ago. Mail still waiting
or failed for good stays for an admin to see, and so do jobs still queued or running, and
failed jobs whose work nothing else will do (alerts, announcements: ``JobKind.kept_failed``),
whatever their age. Matcher runs and the audit trail are records of their own and are not touched.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from celery import shared_task
from flask import current_app

from matchmaker.core.jobs import JOB_KINDS
from matchmaker.core.models import Job, JobStatus, MessageStatus, OutboxMessage
from matchmaker.db import utcnow
from matchmaker.extensions import db

logger = logging.getLogger(__name__)

PURGE_OLD_RECORDS = "core.purge_old_records"


def _deleted(statement: sa.Delete) -> int:
    # A DELETE answers with a CursorResult, which counts the rows it removed.
    return cast(sa.CursorResult[Any], db.session.execute(statement)).rowcount


def purge_old_records(now: datetime | None = None) -> dict[str, int]:
    """Delete the delivered mail and ended jobs older than the setting; how many of each."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["PURGE_AFTER_DAYS"])
    kept = [kind for kind, described in JOB_KINDS.items() if described.kept_failed]
    return {
        "mail": _deleted(
            sa.delete(OutboxMessage).where(
                OutboxMessage.status == MessageStatus.SENT, OutboxMessage.sent_at < cutoff
            )
        ),
        "jobs": _deleted(
            sa.delete(Job).where(
                Job.status.in_([JobStatus.FINISHED, JobStatus.FAILED]),
                Job.finished_at < cutoff,
                sa.not_(sa.and_(Job.status == JobStatus.FAILED, Job.kind.in_(kept))),
            )
        ),
    }


@shared_task(name=PURGE_OLD_RECORDS, ignore_result=True)
def purge_old_records_task() -> dict[str, int]:
    counts = purge_old_records()
    db.session.commit()
    logger.info(
        "purged %d delivered message(s) and %d ended job(s)", counts["mail"], counts["jobs"]
    )
    return counts
