"""Background jobs: a Celery app bound to the Flask app, and jobs queued after commit.

A service that needs work done once its decision is saved (mail to deliver, a listing to match)
calls :func:`enqueue_after_commit`. The job goes out only when the request's transaction
commits (releasing a savepoint inside it is no commit), and never when it rolls back (a
savepoint rolled back forgets only what was queued inside it). With ``MATCHMAKER_BROKER_URL``
set (Redis), a worker runs it (``celery -A matchmaker.jobs worker``); without one, it runs in
this process right after the commit (Celery's eager mode), so ``make run`` and ``make test``
need no broker.

Jobs are Celery tasks declared with ``@shared_task(name=...)`` in each feature's ``tasks.py``;
each runs inside an application context of its own, with its own database session, and owns
its transactions (it commits, as a CLI command does).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa
from celery import Celery, Task
from flask import Flask, current_app
from sqlalchemy.orm import Session, SessionTransaction

from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.core.models import Job, JobStatus
from matchmaker.db import database_busy, not_waiting_for_sqlite, utcnow
from matchmaker.extensions import db

logger = logging.getLogger(__name__)

_QUEUED = "matchmaker.jobs_after_commit"
_SUBJECTS = "matchmaker.job_subjects_this_transaction"
_SAVEPOINTS = "matchmaker.jobs_at_savepoints"
# A job still queued this long after it was recorded lost its message (the broker was down, a
# worker died before taking it): its worker would have taken it by now.
LOST_AFTER = timedelta(minutes=1)
# A job done by run_once whose work failed (the database refused, a template broke) is taken
# again by its sweep after each of these waits in turn, then recorded failed for good (an
# admin may try it again, Admin → Failed jobs). Its mail is only written to the outbox, whose
# deliverer tries the SMTP server again by itself (core/outbox.py).
RETRY_WAITS = (timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1))
MAX_ATTEMPTS = len(RETRY_WAITS) + 1
# A running job's heartbeat (its ``updated_at``) is written this often while it runs
# (:func:`heartbeat`); one whose heartbeat is older than STOPPED_AFTER lost its worker. Twelve
# beats missed: a live worker misses none (see heartbeat), and the clocks of the hosts that
# write and read it (workers, the scheduler's sweep) agree to far better than that (NTP).
HEARTBEAT_EVERY = timedelta(seconds=10)
STOPPED_AFTER = timedelta(minutes=2)


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
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction goes on, and may still roll back
    session.info.pop(_SAVEPOINTS, None)
    session.info.pop(_SUBJECTS, None)
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
    if session.in_nested_transaction():
        # A savepoint rolled back: forget only what was queued since it began.
        mark = session.info.get(_SAVEPOINTS, {}).get(session.get_nested_transaction())
        if mark is not None:
            queued, subjects = mark
            del session.info.setdefault(_QUEUED, [])[queued:]
            session.info[_SUBJECTS] = set(subjects)
        return
    session.info.pop(_SAVEPOINTS, None)
    session.info.pop(_SUBJECTS, None)
    session.info.pop(_QUEUED, None)


@sa.event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    """What is queued when a savepoint begins (``begin_nested``), so that rolling it back
    forgets only what was queued inside it."""
    if transaction.nested:
        session.info.setdefault(_SAVEPOINTS, {})[transaction] = (
            len(session.info.get(_QUEUED, ())),
            frozenset(session.info.get(_SUBJECTS, ())),
        )


@sa.event.listens_for(Session, "after_transaction_end")
def _unmark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        session.info.get(_SAVEPOINTS, {}).pop(transaction, None)


def record_once(rows: Iterable[Any]) -> bool:
    """Add rows whose primary key marks work done once per subject (an alert, a delivery) and
    flush; False, with the session rolled back, when another run of the job recorded them first.
    """
    db.session.add_all(list(rows))
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return False
    return True


# Jobs with a record: progress and outcome on a page -----------------------------------------


def create_job(
    kind: str,
    *,
    subject_id: int | None = None,
    requested_by: Any = None,
    params: dict[str, Any] | None = None,
) -> Job:
    """Record a job in the current transaction; it starts once that transaction commits."""
    job = Job(
        kind=kind,
        subject_id=subject_id,
        requested_by_id=getattr(requested_by, "id", None),
        params=params or {},
    )
    db.session.add(job)
    db.session.flush()
    enqueue_after_commit(kind, job.id)
    return job


def create_job_once(kind: str, subject_id: int) -> None:
    """:func:`create_job` for ``subject_id``, unless this transaction has already created one
    of ``kind`` for it: a job that reads its subject as it is after the commit needs to run
    once however many changes in the transaction ask for it."""
    created: set[tuple[str, int]] = db.session.info.setdefault(_SUBJECTS, set())
    if (kind, subject_id) not in created:
        created.add((kind, subject_id))
        create_job(kind, subject_id=subject_id)


def start_job(job_id: int) -> Job | None:
    """Mark a job running and commit, or None if it is gone, ended or taken by a live worker.

    A queued job is taken, and so is a running one whose heartbeat stopped
    (:data:`STOPPED_AFTER`): its worker died in it (or the sweep that ran it inline did), and
    without this the job stayed "running" for ever and its work was never done. Whoever takes
    it (a worker its message was handed to again, the scheduler's sweep) marks the attempt
    ``restarted_at``. One statement decides: on PostgreSQL a second taker waits for the
    first's row lock and then reads the job running with a fresh heartbeat, so it is taken
    once; SQLite lets one writer at a time. A message handed out again (Redis does so when a
    live run outlasts its visibility timeout, too) takes nothing from a live run.

    On SQLite a run that holds the database's write lock cannot write its heartbeat, and
    cannot be taken either: taking it waits for that lock, and gives up (None, logged) when
    the busy timeout passes; the next sweep tries again. Only for a job that may run again
    from the start without harm (a full run waits for the matcher's lock and does again what
    the first did; a preview changes nothing)."""
    now = utcnow()
    stopped = sa.and_(Job.status == JobStatus.RUNNING, Job.updated_at < now - STOPPED_AFTER)
    try:
        result = db.session.execute(
            sa.update(Job)
            .where(Job.id == job_id, sa.or_(Job.status == JobStatus.QUEUED, stopped))
            .values(
                status=JobStatus.RUNNING,
                started_at=now,
                updated_at=now,
                # SET reads the row as it was: marked only when a running job is taken.
                restarted_at=sa.case((Job.status == JobStatus.RUNNING, now), else_=None),
            )
            .execution_options(synchronize_session=False)
        )
    except sa.exc.OperationalError as error:
        if not database_busy(error):
            raise
        db.session.rollback()
        logger.warning("job %s not started: the database is busy", job_id)
        return None
    # An UPDATE answers with a CursorResult, which counts the rows it changed.
    taken = cast(sa.CursorResult[Any], result).rowcount
    db.session.commit()
    job = db.session.get(Job, job_id) if taken else None
    if job is not None and job.restarted_at is not None:
        logger.warning("job %s (%s) taken up again: its worker stopped", job_id, job.kind)
    return job


def _due() -> Any:
    """Jobs whose next attempt is due (a job that never failed is due at once)."""
    return sa.or_(Job.next_attempt_at.is_(None), Job.next_attempt_at <= utcnow())


def claim_job(job_id: int, kind: str) -> Job | None:
    """Lock a queued job of ``kind`` for the current transaction, or None if it is gone, ended,
    not due yet (:func:`retry_later`), or another run holds it (on PostgreSQL, ``FOR UPDATE
    SKIP LOCKED``; SQLite lets one writer at a time, and the second finds it gone). For a job a
    worker and the scheduler's sweep may both take: the one that claims it does the work and
    deletes it in the same transaction, so a worker that dies meanwhile leaves it queued for the
    next sweep, and the other does nothing."""
    queued = (
        sa.select(Job.id)
        .where(Job.id == job_id, Job.kind == kind, Job.status == JobStatus.QUEUED, _due())
        .with_for_update(skip_locked=True)
    )
    result = db.session.execute(
        sa.update(Job)
        .where(Job.id.in_(queued))
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    # An UPDATE answers with a CursorResult, which counts the rows it changed.
    if not cast(sa.CursorResult[Any], result).rowcount:
        return None
    return db.session.get(Job, job_id, populate_existing=True)


def run_once(job_id: int, kind: str, work: Callable[[Job], object]) -> bool:
    """Do a queued job of ``kind`` that its worker and the scheduler's sweep may both take:
    claim it (:func:`claim_job`), do ``work(job)``, delete the job and commit, all in one
    transaction, so the work is done once and a worker that dies meanwhile leaves the job queued
    for the sweep. False if it is gone or another run holds it.

    Work that raises is rolled back, logged, and tried again by the sweep after a wait that
    grows (:func:`retry_later`), rather than left queued for the sweep to try every minute or
    given up at once. Its mail is written to the outbox in the transaction that is rolled back,
    so nothing of a failed attempt is sent, and the attempt that succeeds sends each message
    once. Work that ended its transaction itself (:func:`record_once` found its rows recorded
    by another run, and rolled back) leaves the job queued: the sweep takes it again and finds
    what is left to do, if anything (False)."""
    job = claim_job(job_id, kind)
    if job is None:
        db.session.rollback()
        return False
    transaction = db.session().get_transaction()
    try:
        work(job)
    except Exception as error:
        logger.exception("job %s (%s) failed", job_id, kind)
        retry_later(job_id, kind, error)
        return True
    if db.session().get_transaction() is not transaction:
        db.session.rollback()
        return False
    db.session.delete(job)  # done: only waiting work keeps a row
    db.session.commit()
    return True


def retry_later(job_id: int, kind: str, error: BaseException) -> None:
    """After the work of a job of ``kind`` failed (:func:`run_once`): roll the work back, count
    the attempt, and leave the job queued for the sweep once the next of :data:`RETRY_WAITS`
    has passed, or record it failed for good after the last; commit. The job is claimed again
    first: one that another run took meanwhile (free once the work was rolled back) is left to
    that run, which does the work or counts its own failure."""
    db.session.rollback()
    job = claim_job(job_id, kind)
    if job is None:
        db.session.rollback()
        return
    job.attempts += 1
    job.error = error_text(error)
    if job.attempts >= MAX_ATTEMPTS:
        job.status, job.finished_at, job.next_attempt_at = JobStatus.FAILED, utcnow(), None
        logger.error("job %s (%s) failed for good after %d attempts", job_id, kind, job.attempts)
    else:
        job.next_attempt_at = utcnow() + RETRY_WAITS[job.attempts - 1]
        logger.warning(
            "job %s (%s) failed (attempt %d), next try at %s",
            job_id,
            kind,
            job.attempts,
            job.next_attempt_at.isoformat(timespec="seconds"),
        )
    db.session.commit()


def lost_jobs(kind: str) -> list[int]:
    """The jobs of ``kind`` still queued :data:`LOST_AFTER` after they were recorded, and due,
    oldest first: the ones a sweep takes (a younger one's worker may still take it; a failed
    one waits for its next attempt). Ends the read."""
    return _oldest_first(
        kind, Job.status == JobStatus.QUEUED, Job.created_at < utcnow() - LOST_AFTER, _due()
    )


def stopped_jobs(kind: str) -> list[int]:
    """The jobs of ``kind`` marked running whose heartbeat is older than :data:`STOPPED_AFTER`,
    oldest first: their worker died (:func:`start_job` takes them). Ends the read."""
    return _oldest_first(
        kind, Job.status == JobStatus.RUNNING, Job.updated_at < utcnow() - STOPPED_AFTER
    )


def _oldest_first(kind: str, *conditions: sa.ColumnElement[bool]) -> list[int]:
    """The ids of the jobs of ``kind`` that meet ``conditions``, oldest first. Ends the read."""
    ids = db.session.scalars(
        sa.select(Job.id).where(Job.kind == kind, *conditions).order_by(Job.id)
    ).all()
    db.session.rollback()
    return list(ids)


@contextmanager
def heartbeat(job_id: int, every: timedelta = HEARTBEAT_EVERY) -> Iterator[None]:
    """While the block runs, show that the job's worker is alive: a thread writes its
    ``updated_at`` every ``every`` on a connection of its own (:func:`report_progress`), until
    the block ends or the process dies. Not the progress alone: a live full run reports none
    while it waits for the matcher's lock behind another run (as long as that run), reads its
    snapshot or writes its proposals (the last tenth), and its templates report one each
    (the pair template, about 5-7 s of CPU at 50k listings, is the longest: README, "Where the
    50k full run's CPU goes"). So the longest gap between two heartbeats of a live run is
    ``every`` and one write, far below :data:`STOPPED_AFTER`, whatever the run is doing.

    The block must not leave its transaction open holding the job's row (it would keep the
    last heartbeat waiting): the runs' work never writes it before its end commits or rolls
    back. On SQLite no heartbeat is written while another transaction holds the write lock (a
    full run holds it from its first write to its commit; see :func:`start_job`)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()

    def beat() -> None:
        with app.app_context():
            while not stop.wait(every.total_seconds()):
                try:
                    _write_on_the_side(job_id)
                except Exception:
                    # One beat missed, not the heartbeat: a thread that died would leave a live
                    # run looking stopped, and taken up again (a second run of it).
                    logger.exception("job %s: heartbeat not written", job_id)

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def report_progress(job_id: int, percent: int) -> None:
    """Show progress while the job's own transaction is still open: written on a connection of
    its own. Best effort: SQLite lets one writer at a time, and a job holding the write lock
    there shows its progress only when it ends."""
    _write_on_the_side(job_id, progress=percent)


def _write_on_the_side(job_id: int, **values: Any) -> None:
    """Write ``values`` and a fresh ``updated_at`` into the job's row on a connection of its
    own, without waiting for SQLite's write lock (nothing written while another holds it)."""
    try:
        with db.engine.connect() as connection, not_waiting_for_sqlite(connection):
            connection.execute(
                sa.update(Job).where(Job.id == job_id).values(**values, updated_at=utcnow())
            )
            connection.commit()
    except sa.exc.SQLAlchemyError as error:
        # Best effort, as the docstring says: busy (SQLite's write lock), or no connection
        # (the pool's timeout, the server gone for a moment); the next write tries again.
        if database_busy(error):
            logger.debug("job %s: progress or heartbeat not written (database busy)", job_id)
        else:
            logger.warning("job %s: progress or heartbeat not written: %s", job_id, error)


def finish_job(job_id: int, result: dict[str, Any] | None = None) -> None:
    """Record a job's result and commit."""
    job = db.session.get(Job, job_id)
    if job is not None:
        job.status, job.progress, job.result = JobStatus.FINISHED, 100, result
        job.finished_at = utcnow()
    db.session.commit()


def error_text(error: BaseException) -> str:
    """What a failed job keeps of its error, shown on its page and Admin → Failed jobs. A
    database error's own message, not the statement and its parameters that SQLAlchemy adds:
    those hold what people wrote (a password reset's address, which the job does not keep
    otherwise, a listing's text, a message's body)."""
    if isinstance(error, sa.exc.StatementError) and error.orig is not None:
        return f"{type(error).__name__}: {error.orig}"[:5000]
    return f"{type(error).__name__}: {error}"[:5000]


def fail_job(job_id: int, error: BaseException) -> None:
    """Record why a job failed (after rolling back its work) and commit."""
    db.session.rollback()
    job = db.session.get(Job, job_id)
    if job is not None:
        job.status, job.finished_at = JobStatus.FAILED, utcnow()
        job.attempts += 1
        job.error = error_text(error)
    db.session.commit()


# Admin → Failed jobs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class JobKind:
    """A kind of job as Admin → Failed jobs shows it."""

    label: Any  # lazy: read in the reader's language
    subject: str | None = None  # what its subject_id numbers, as the audit trail names it
    may_retry: bool = True  # whether an admin may queue a failed one again
    # Work owed to people that nothing else will do (alerts, announcements): a failed one is
    # kept for an admin, whatever its age, rather than purged (core/purge.py).
    kept_failed: bool = False


# Each feature describes its own kinds (:func:`describe_kind`), beside their tasks.
JOB_KINDS: dict[str, JobKind] = {}


def describe_kind(
    kind: str,
    label: Any,
    *,
    subject: str | None = None,
    may_retry: bool = True,
    kept_failed: bool = False,
) -> None:
    """How Admin → Failed jobs shows the jobs of ``kind`` (a task's name)."""
    JOB_KINDS[kind] = JobKind(label, subject, may_retry, kept_failed)


def kind_of(job: Job) -> JobKind:
    """A job's kind as Admin → Failed jobs shows it; a kind no feature describes (one the old
    code queued) by its task's name, and not tried again (no task may take it)."""
    return JOB_KINDS.get(job.kind) or JobKind(job.kind, may_retry=False)


def _failed() -> sa.ColumnElement[bool]:
    """Jobs whose work failed: for good, or waiting for their next attempt."""
    return sa.or_(
        Job.status == JobStatus.FAILED, sa.and_(Job.status == JobStatus.QUEUED, Job.attempts > 0)
    )


def failed_jobs() -> sa.Select[tuple[Job]]:
    """The jobs whose work failed: for good, or waiting for their next attempt."""
    return sa.select(Job).where(_failed())


def failed_for_an_admin() -> sa.ColumnElement[bool]:
    """Jobs that failed for good and that an admin may try again: what the admin menu counts.
    A failed password-reset link is listed but waits for nobody: it cannot be sent again."""
    retried = [kind for kind, described in JOB_KINDS.items() if described.may_retry]
    return sa.and_(Job.status == JobStatus.FAILED, Job.kind.in_(retried))


def retry_job(*, actor: Any, job: Job) -> None:
    """Queue a failed job again, to be taken as soon as this transaction commits (by its worker,
    or the sweep if its message is lost), with its automatic attempts anew. One waiting for its
    next attempt is taken now. Taking it is claiming it (:func:`claim_job`, :func:`start_job`),
    so it runs once however many take it, and a job that sends mail sends it once."""
    if not kind_of(job).may_retry:
        raise DomainError(_("This job cannot be tried again."))
    job_id, kind = job.id, job.kind
    details = {"kind": kind, "attempts": job.attempts, "last_error": job.error}
    # One statement decides, on the row as it is now, not as this request read it: another
    # admin may have tried it again meanwhile (it is queued again: tried once, audited once),
    # and its run may have done it and deleted it (the ORM's own UPDATE then failed on the
    # missing row: a server error).
    result = db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id, _failed())
        .values(
            status=JobStatus.QUEUED,
            progress=0,
            attempts=0,
            next_attempt_at=None,
            started_at=None,
            finished_at=None,
            error=None,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if not cast(sa.CursorResult[Any], result).rowcount:
        raise DomainError(_("This job has not failed: there is nothing to try again."))
    db.session.expire(job)  # as the statement left it
    record_event("job:retry", actor=actor, subject=job, details=details)
    enqueue_after_commit(kind, job_id)
