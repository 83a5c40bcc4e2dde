"""The nightly purge: delivered mail and ended jobs go after the setting's days, nothing else."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from matchmaker.core.models import Job, JobStatus, MessageStatus, OutboxMessage
from matchmaker.core.purge import PURGE_OLD_RECORDS, purge_old_records
from matchmaker.db import utcnow
from matchmaker.extensions import db


def _message(status: MessageStatus, days_ago: int) -> OutboxMessage:
    when = utcnow() - timedelta(days=days_ago)
    message = OutboxMessage(
        recipients="someone@example.org",
        subject=f"{status.value}, {days_ago} days ago",
        body_text="",
        body_html="",
        template="reset_password",
        status=status,
        sent_at=when if status == MessageStatus.SENT else None,
        created_at=when,
    )
    db.session.add(message)
    return message


def _job(status: JobStatus, days_ago: int) -> Job:
    when = utcnow() - timedelta(days=days_ago)
    ended = status in (JobStatus.FINISHED, JobStatus.FAILED)
    job = Job(kind="matching.full_run", status=status, finished_at=when if ended else None)
    job.created_at = when
    db.session.add(job)
    return job


def _left() -> tuple[set[str], set[tuple[str, int]]]:
    db.session.expire_all()
    subjects = set(db.session.scalars(sa.select(OutboxMessage.subject)))
    jobs = {
        (job.status.value, (utcnow() - job.created_at).days)
        for job in db.session.scalars(sa.select(Job))
    }
    return subjects, jobs


def test_delivered_mail_and_ended_jobs_older_than_the_setting_are_deleted(app: Flask) -> None:
    for status in MessageStatus:
        _message(status, days_ago=31)
        _message(status, days_ago=29)
    for job_status in JobStatus:
        _job(job_status, days_ago=31)
    _job(JobStatus.FINISHED, days_ago=29)
    db.session.commit()

    assert purge_old_records() == {"mail": 1, "jobs": 2}
    db.session.commit()

    subjects, jobs = _left()
    assert subjects == {
        "sent, 29 days ago",
        "pending, 31 days ago",
        "pending, 29 days ago",
        "failed, 31 days ago",
        "failed, 29 days ago",
    }
    assert jobs == {("queued", 31), ("running", 31), ("finished", 29)}


def test_the_purge_follows_the_setting(app: Flask) -> None:
    app.config["PURGE_AFTER_DAYS"] = 7
    _message(MessageStatus.SENT, days_ago=8)
    _job(JobStatus.FAILED, days_ago=8)
    _message(MessageStatus.SENT, days_ago=6)
    db.session.commit()
    assert purge_old_records() == {"mail": 1, "jobs": 1}
    db.session.commit()
    assert _left() == ({"sent, 6 days ago"}, set())


def test_the_purge_job_commits_what_it_deleted(app: Flask) -> None:
    _message(MessageStatus.SENT, days_ago=40)
    db.session.commit()
    app.extensions["celery"].tasks[PURGE_OLD_RECORDS].apply()
    db.session.rollback()
    assert _left() == (set(), set())


def test_failed_alerts_and_announcements_stay_for_an_admin_whatever_their_age(
    app: Flask,
) -> None:
    """Their mail was never sent and nothing else will send it: they stay on Admin → Failed
    jobs until an admin tries them again; a failed full run (the next night's does its work)
    goes."""
    for kind in ("alerts.send_alerts", "announcements.delivery", "matching.full_run"):
        for status in (JobStatus.FAILED, JobStatus.FINISHED):
            job = _job(status, days_ago=31)
            job.kind = kind
    db.session.commit()
    assert purge_old_records() == {"mail": 0, "jobs": 4}
    db.session.commit()
    left = {(job.kind, job.status) for job in db.session.scalars(sa.select(Job))}
    assert left == {
        ("alerts.send_alerts", JobStatus.FAILED),
        ("announcements.delivery", JobStatus.FAILED),
    }
