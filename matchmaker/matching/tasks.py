"""How the matcher is started: jobs after commit, never inside a web request's work.

- A listing posted, edited, paused, reopened or closed (the ``listing_changed`` event) writes a
  "match this listing" job in the same transaction; the job runs after commit. So does each of
  its organisation's other live listings when the change alters what the organisation needs or
  offers (engine.siblings_to_match), each open listing of an organisation verified, rejected,
  edited or closed (``organisation_changed``), the listings of its city-region whose related
  pairs (matching/related.py) the change of a listing's words or of an organisation's presence
  there may have made or unmade (engine.words_to_match, engine.organisation_kin_to_match: the
  transaction asks, a job answers after the commit, ``match_kin``), and each listing of a
  proposal that a person's decision took off its listings' cap or brought back to the queue
  (``proposal_released``: rejected, covered, declined, uncovered, withdrawn by its
  organisation's closing). If a full run holds the matcher's lock meanwhile, the job stays
  queued: the full run matches every waiting listing when it ends, a worker tries again a little
  later, and the scheduler sweeps what is left every minute, with the kin questions whose job
  was lost (its worker died, the broker was down). Nothing posted is left unmatched until the
  next full run.
- Full runs and settings previews are jobs started from Review → Matching settings, with their
  progress on a page (proposals/routes.py). One whose message was lost (the broker was down at
  the commit) is run by the scheduler's sweep a minute later (:func:`run_waiting`); so is one
  whose worker stopped in it (its heartbeat, core.jobs.heartbeat, stopped), from the start.
- A run that fails is recorded as failed, with its error, and logged.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from celery import Task, shared_task
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import lazyload

from matchmaker.core.jobs import (
    claim_job,
    create_job,
    create_job_once,
    describe_kind,
    error_text,
    fail_job,
    finish_job,
    heartbeat,
    lost_jobs,
    report_progress,
    start_job,
    stopped_jobs,
)
from matchmaker.core.models import Job, JobStatus
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.events import listing_changed
from matchmaker.listings.models import Listing, ListingStatus
from matchmaker.matching.engine import (
    KinQuestion,
    kin_answer,
    match_listing,
    organisation_kin_to_match,
    partners_to_match,
    plan,
    run_full,
    siblings_to_match,
    words_to_match,
)
from matchmaker.matching.models import MatcherRun, RunKind, RunStatus
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import Place, full_snapshot
from matchmaker.matching.templates import TEMPLATES
from matchmaker.organisations.events import organisation_changed
from matchmaker.organisations.models import Organisation
from matchmaker.proposals.events import proposal_released
from matchmaker.proposals.models import Proposal

logger = logging.getLogger(__name__)

MATCH_LISTING = "matching.match_listing"
MATCH_WAITING = "matching.match_waiting"
MATCH_KIN = "matching.match_kin"
FULL_RUN = "matching.full_run"
PREVIEW = "matching.preview"
NIGHTLY_RUN = "matching.nightly_run"
RUN_WAITING = "matching.run_waiting"
BUSY_RETRY_SECONDS = 10
describe_kind(MATCH_LISTING, _l("Matching of a listing"), subject="listing")
describe_kind(MATCH_KIN, _l("Listings related to a change"), subject="listing")
describe_kind(FULL_RUN, _l("Full matcher run"))
describe_kind(PREVIEW, _l("Matching settings preview"))


@listing_changed.connect
def _match_after_commit(
    listing: Listing,
    change: str = "",
    live_before: bool = False,
    themes_before: tuple[str, ...] = (),
    words_before: str | None = None,
    **_: Any,
) -> None:
    """The listing, and its organisation's other listings when the change alters what the
    organisation needs or offers (engine.siblings_to_match) or the words it uses, the
    listings whose related pairs its words may have made or unmade (engine.words_to_match),
    and, when it was edited, the other listings of its pending proposals
    (engine.partners_to_match), each a job of its own, once per
    transaction: the job reads the listing as it is after the commit, so an organisation
    closing its listings one by one (each closing queues the others) makes one job for each."""
    others, kin = words_to_match(listing, live_before, words_before)
    queued = [
        listing.id,
        *siblings_to_match(listing, live_before, themes_before),
        *others,
        *(partners_to_match(listing) if change == "update" else ()),
    ]
    for listing_id in queued:
        create_job_once(MATCH_LISTING, listing_id)
    if kin is not None:
        # Its answer leaves out what is queued here: each listing is matched once.
        kin = replace(kin, queued=tuple(sorted(set(queued))))
        create_job(MATCH_KIN, subject_id=listing.id, params=kin.params())


@organisation_changed.connect
def _match_its_listings_after_commit(
    organisation: Organisation,
    verified_before: bool | None = None,
    place_before: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    """An organisation verified, rejected or edited: each of its open or paused listings is
    matched again, as if it had changed itself (a paused or unverified one's proposals are
    withdrawn, a newly verified one's are made now rather than at the next full run); and,
    when it came into a city-region or left one, the listings there whose related pairs its
    words may have made or unmade (engine.organisation_kin_to_match)."""
    listings = db.session.scalars(
        sa.select(Listing.id)
        .where(
            Listing.organisation_id == organisation.id,
            Listing.status.in_([ListingStatus.OPEN, ListingStatus.PAUSED]),
        )
        .order_by(Listing.id)
    )
    queued = tuple(listings)
    for listing_id in queued:
        create_job_once(MATCH_LISTING, listing_id)
    if verified_before is not None and place_before is not None:
        for question in organisation_kin_to_match(
            organisation, verified_before, Place(**place_before)
        ):
            question = replace(question, queued=queued)  # each listing matched once
            create_job(MATCH_KIN, subject_id=question.focus_id, params=question.params())


@proposal_released.connect
def _match_its_parties_after_commit(proposal: Proposal, **_: Any) -> None:
    """A proposal rejected, declined, covered or withdrawn by a person, or brought back to the
    queue: each of its listings is matched again, as if it had changed itself (a listing with
    room under its cap again gets the proposals a full run would give it; a proposal back in
    the queue is withdrawn if it no longer meets the rules, or rescored)."""
    for listing_id in proposal.listing_ids:
        create_job_once(MATCH_LISTING, listing_id)


def record_failed_run(
    kind: RunKind, started_at: datetime, error: BaseException, focus_listing_id: int | None = None
) -> MatcherRun:
    """After the failed run's transaction was rolled back: a record of it, committed."""
    db.session.rollback()
    run = MatcherRun(
        kind=kind,
        status=RunStatus.FAILED,
        started_at=started_at,
        finished_at=utcnow(),
        focus_listing_id=focus_listing_id,
        error=error_text(error),
    )
    db.session.add(run)
    db.session.commit()
    logger.error("matcher run (%s) failed: %s", kind.value, run.error, exc_info=error)
    return run


def match_one(job_id: int) -> bool:
    """Run a queued "match this listing" job; False if the matcher is busy (it stays queued).
    Its worker and the scheduler's sweep (:func:`match_waiting`) may both take it: the one
    that claims it matches the listing, the other does nothing (True: nothing left to do)."""
    job = claim_job(job_id, MATCH_LISTING)
    if job is None:
        db.session.rollback()
        return True
    # Its themes are read only for a neighbourhood beyond its region, its kinds sought never.
    lighter = (lazyload(Listing.themes), lazyload(Listing.sought))
    listing = db.session.get(Listing, job.subject_id, options=lighter) if job.subject_id else None
    if listing is None:  # deleted since
        db.session.delete(job)
        db.session.commit()
        return True
    started_at = utcnow()
    try:
        run = match_listing(listing)
    except Exception as error:
        record_failed_run(RunKind.INCREMENTAL, started_at, error, focus_listing_id=listing.id)
        fail_job(job_id, error)
        return True
    if run is None:
        db.session.rollback()  # the engine logged it; the job stays queued
        return False
    db.session.delete(job)  # done: only waiting work keeps a row
    db.session.commit()
    return True


def match_kin(job_id: int) -> bool:
    """Answer a queued kin question (engine.KinQuestion): queue a "match this listing" job
    for each listing whose related pairs the change may have made or unmade. Its worker and
    the scheduler's sweep (:func:`match_waiting`) may both take it: the one that claims it
    answers it, the other does nothing (False)."""
    job = claim_job(job_id, MATCH_KIN)
    if job is None:
        db.session.rollback()
        return False
    try:
        found = kin_answer(KinQuestion.of(job.params))
    except Exception as error:
        fail_job(job_id, error)
        return True
    for listing_id in found:
        create_job_once(MATCH_LISTING, listing_id)
    db.session.delete(job)  # done: only waiting work keeps a row
    db.session.commit()
    return True


@shared_task(name=MATCH_KIN, ignore_result=True)
def match_kin_task(job_id: int) -> None:
    match_kin(job_id)


def match_waiting() -> int:
    """Match every listing whose job is still queued (e.g. it was posted during a full run),
    after answering every kin question still queued (its message lost: a worker died, the
    broker was down), since answering one queues listings to match. Returns how many
    listing jobs it ended (matched, or found gone or taken by a worker); the ones the
    matcher was too busy for stay queued."""
    questions = db.session.scalars(
        sa.select(Job.id)
        .where(Job.kind == MATCH_KIN, Job.status == JobStatus.QUEUED)
        .order_by(Job.id)
    ).all()
    db.session.rollback()
    for job_id in questions:
        match_kin(job_id)
    waiting = db.session.scalars(
        sa.select(Job.id)
        .where(Job.kind == MATCH_LISTING, Job.status == JobStatus.QUEUED)
        .order_by(Job.id)
    ).all()
    db.session.rollback()
    return sum(match_one(job_id) for job_id in waiting)


@shared_task(name=MATCH_LISTING, bind=True, ignore_result=True)
def match_listing_task(self: Task, job_id: int) -> None:
    if not match_one(job_id) and not self.request.is_eager:
        # Try again soon; the full run under way also matches it when it ends.
        raise self.retry(countdown=BUSY_RETRY_SECONDS, max_retries=30)


@shared_task(name=MATCH_WAITING, ignore_result=True)
def match_waiting_task() -> int:
    return match_waiting()


def full_run(job_id: int) -> MatcherRun | None:
    """The full run of a job: progress on the job's page, failure recorded, then the listings
    that changed meanwhile. None if the job is gone, ended or taken by a live worker
    (core.jobs.start_job)."""
    if start_job(job_id) is None:
        return None
    started_at = utcnow()

    def progress(done: int) -> None:
        # Scoring is most of a run; writing the proposals is the last tenth.
        report_progress(job_id, 90 * done // len(TEMPLATES))

    with heartbeat(job_id):
        try:
            run = run_full(wait=True, progress=progress)
            # The run and its job's end in one commit: no moment where the run is written
            # and its job still running, for a sweep to take up again on SQLite.
            finish_job(
                job_id,
                {
                    "run_id": run.id,
                    "listings": run.listings_considered,
                    "created": run.proposals_created,
                    "withdrawn": run.proposals_withdrawn,
                },
            )
        except Exception as error:
            record_failed_run(RunKind.FULL, started_at, error)
            fail_job(job_id, error)
            return None
    match_waiting()
    return run


@shared_task(name=FULL_RUN, ignore_result=True)
def full_run_task(job_id: int) -> None:
    full_run(job_id)


def run_waiting() -> int:
    """Run the previews and full runs whose job is still queued a minute after it was recorded
    (its message was lost: the broker was down at the commit), or still marked running with its
    heartbeat stopped (its worker died in it, also when that worker was this sweep, which runs
    them inline, or when the broker acked its message anyway), from the start. Its page would
    wait for ever, a full run's listings until the next night's. Only one taker starts a job
    (start_job), so another sweep, or the message, if it comes late, finds it taken. Returns how
    many it found."""
    previews = lost_jobs(PREVIEW) + stopped_jobs(PREVIEW)
    runs = lost_jobs(FULL_RUN) + stopped_jobs(FULL_RUN)
    for job_id in previews:  # someone is waiting on its page: the quick ones first
        preview(job_id)
    for job_id in runs:
        full_run(job_id)
    return len(previews) + len(runs)


@shared_task(name=RUN_WAITING, ignore_result=True)
def run_waiting_task() -> int:
    return run_waiting()


@shared_task(name=NIGHTLY_RUN, ignore_result=True)
def nightly_run_task() -> int:
    """A full run every night (the scheduler's, matchmaker/jobs.py), as a job like the ones
    coordinators start. An incremental run rescores only the proposals of the listing it
    matches, while every new listing makes some words and themes more common and so changes
    the scores of proposals elsewhere a little; the nightly run brings every score, and what
    falls below the minimum score, in line with what a full run finds. Returns the job's id."""
    job = create_job(FULL_RUN)
    db.session.commit()  # the run starts after this commit
    return job.id


def preview(job_id: int) -> dict[str, int] | None:
    """What the settings in the job's parameters would change, changing nothing. None if the
    job is gone, ended or taken by a live worker (core.jobs.start_job)."""
    job = start_job(job_id)
    if job is None:
        return None
    try:
        settings = MatchSettings.of(**job.params["settings"])
        with heartbeat(job_id):
            outcome = plan(
                full_snapshot(),
                settings,
                progress=lambda done: report_progress(job_id, 90 * done // len(TEMPLATES)),
            )
    except Exception as error:
        logger.exception("matching preview %s failed", job_id)
        fail_job(job_id, error)
        return None
    db.session.rollback()
    result = {
        "added": len(outcome.create) + len(outcome.revive),
        "dropped": len(outcome.withdraw),
        "rescored": len(outcome.rescore),
    }
    finish_job(job_id, result)
    return result


@shared_task(name=PREVIEW, ignore_result=True)
def preview_task(job_id: int) -> None:
    preview(job_id)
