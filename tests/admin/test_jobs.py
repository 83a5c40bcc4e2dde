"""Admin → Failed jobs: the jobs whose work failed, and trying one again (with CSRF on)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.accounts.models import Role
from matchmaker.accounts.services import SEND_RESET_LINK
from matchmaker.alerts import tasks as alert_tasks
from matchmaker.announcements.services import DELIVER_ANNOUNCEMENT
from matchmaker.core import jobs
from matchmaker.core.models import AuditEvent, Job, JobStatus
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings import services as listing_services
from matchmaker.listings.models import ListingKind, Scope
from tests.admin.test_mail import _logged_in
from tests.conftest import Outbox
from tests.core.pager import walk_there_and_back
from tests.factories import make_organisation, make_user


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def _failed(kind: str = DELIVER_ANNOUNCEMENT, subject_id: int | None = 7, **values: Any) -> Job:
    """A job of ``kind`` whose work failed for good (nothing takes it: its subject is gone)."""
    failed: dict[str, Any] = {
        "status": JobStatus.FAILED,
        "attempts": jobs.MAX_ATTEMPTS,
        "error": "OperationalError: the database refused",
        "finished_at": utcnow(),
    }
    job = Job(kind=kind, subject_id=subject_id, **(failed | values))
    db.session.add(job)
    db.session.commit()
    return job


@pytest.mark.parametrize(
    "role, status", [(Role.MEMBER, 403), (Role.COORDINATOR, 403), (Role.ADMIN, 302)]
)
def test_only_admins_see_and_retry_failed_jobs(app: Flask, role: Role, status: int) -> None:
    job_id = _failed().id
    client, token = _logged_in(app, make_user(role=role))
    assert client.get("/admin/jobs").status_code == (200 if status == 302 else status)
    retry = client.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": token})
    assert retry.status_code == status
    db.session.expire_all()
    retried = db.session.get(Job, job_id) is None  # tried again: its announcement is gone
    assert retried == (status == 302)


def test_anonymous_visitors_are_sent_to_log_in(app: Flask) -> None:
    job = _failed()
    client = app.test_client()
    answer = client.get("/admin/jobs")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert client.post(f"/admin/jobs/{job.id}/retry").status_code in (302, 400)
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == JobStatus.FAILED


def test_an_admin_sees_failed_alerts_and_tries_them_again(
    app: Flask, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alerts of a new listing failed for good: the page says which job, about what, when,
    how often and why; "Try again" (a POST with its CSRF token) sends them, once, and the
    admin's decision is in the audit trail."""
    from matchmaker.alerts import services as alerts
    from matchmaker.listings.search import ListingFilters

    watcher = make_user(email="watcher@example.org")
    make_organisation(owner=watcher, name="Curious University")
    alerts.save_search(user=watcher, name="Anything", filters=ListingFilters(kind=ListingKind.NEED))
    poster = make_user(email="poster@example.org")
    network = make_organisation(owner=poster, name="Social Enterprise Network")
    db.session.commit()

    def refused(*_: Any) -> int:
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    with monkeypatch.context() as broken:
        broken.setattr(alert_tasks, "send_alerts", refused)
        listing = listing_services.create_listing(
            organisation=network,
            actor=poster,
            kind=ListingKind.NEED,
            title="Evaluation of our programmes",
            description="We need researchers to evaluate our programmes.",
            themes=["research-evaluation"],
            scope=Scope.REGIONAL,
        )
        db.session.commit()
        for _attempt in range(1, jobs.MAX_ATTEMPTS):
            db.session.execute(
                sa.update(Job).values(
                    created_at=utcnow() - timedelta(hours=2),
                    next_attempt_at=utcnow() - timedelta(seconds=1),
                )
            )
            db.session.commit()
            assert alert_tasks.send_waiting_alerts() == 1
    job = db.session.scalars(sa.select(Job)).one()
    assert job.status == JobStatus.FAILED and len(outbox) == 0

    client, token = _logged_in(app, make_user(role=Role.ADMIN))
    menu = client.get("/").get_data(as_text=True)  # one failed job, counted in the menu
    assert '<a href="/admin/jobs">Failed jobs <span class="count" aria-hidden="true">1<' in menu
    page = client.get("/admin/jobs").get_data(as_text=True)
    row = page[page.index(f'id="job-{job.id}"') :]
    assert "Saved-search alerts" in row and f"Listing {listing.id}" in row
    assert f"<td>{jobs.MAX_ATTEMPTS}</td>" in row and "ConnectionRefusedError" in row
    assert "Try again" in row
    assert client.post(f"/admin/jobs/{job.id}/retry").status_code == 400  # no CSRF token

    response = client.post(f"/admin/jobs/{job.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    assert len(outbox.to("watcher@example.org")) == 1
    assert db.session.scalars(sa.select(Job)).all() == []
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "job:retry")).one()
    assert event.subject_type == "job" and event.subject_id == job.id
    assert event.details["last_error"] == "ConnectionRefusedError: [Errno 111] Connection refused"
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "No job has failed" in page and '<a href="/admin/jobs">Failed jobs</a>' in page
    again = client.post(f"/admin/jobs/{job.id}/retry", data={"csrf_token": token})
    assert again.status_code == 404
    assert alert_tasks.send_waiting_alerts() == 0 and len(outbox) == 1


def test_a_job_waiting_for_its_next_attempt_is_listed_and_can_be_taken_now(app: Flask) -> None:
    job_id = _failed(
        status=JobStatus.QUEUED,
        attempts=1,
        next_attempt_at=utcnow() + timedelta(minutes=1),
        finished_at=None,
    ).id
    client, token = _logged_in(app, make_user(role=Role.ADMIN))
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert f'id="job-{job_id}"' in page and "waiting" in page
    client.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Job, job_id) is None  # taken now: its announcement is gone


def test_a_job_that_cannot_be_tried_again_has_no_button_and_is_refused(app: Flask) -> None:
    """A failed password-reset job keeps no address to send the link to."""
    reset = _failed(SEND_RESET_LINK, subject_id=None, params={})
    client, token = _logged_in(app, make_user(role=Role.ADMIN))
    page = client.get("/admin/jobs").get_data(as_text=True)
    row = page[page.index(f'id="job-{reset.id}"') :]
    row = row[: row.index("</tr>")]
    assert "Password reset link" in row and "Try again" not in row
    response = client.post(
        f"/admin/jobs/{reset.id}/retry", data={"csrf_token": token}, follow_redirects=True
    )
    assert "This job cannot be tried again." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Job, reset.id).status == JobStatus.FAILED
    # Listed, but nothing an admin can do: the menu does not count it as waiting for them.
    menu = client.get("/").get_data(as_text=True)
    assert '<a href="/admin/jobs">Failed jobs</a>' in menu
    _failed()  # an announcement's delivery can be tried again: counted
    menu = client.get("/").get_data(as_text=True)
    assert '<a href="/admin/jobs">Failed jobs <span class="count" aria-hidden="true">1<' in menu


def test_jobs_that_have_not_failed_are_not_listed_nor_tried_again(app: Flask) -> None:
    queued = Job(kind=DELIVER_ANNOUNCEMENT, subject_id=7)
    db.session.add(queued)
    db.session.commit()
    client, token = _logged_in(app, make_user(role=Role.ADMIN))
    assert f'id="job-{queued.id}"' not in client.get("/admin/jobs").get_data(as_text=True)
    response = client.post(
        f"/admin/jobs/{queued.id}/retry", data={"csrf_token": token}, follow_redirects=True
    )
    assert "This job has not failed" in response.get_data(as_text=True)
    assert not db.session.scalars(sa.select(AuditEvent)).all()


def test_retrying_an_unknown_job_is_404(app: Flask) -> None:
    client, token = _logged_in(app, make_user(role=Role.ADMIN))
    assert client.post("/admin/jobs/999/retry", data={"csrf_token": token}).status_code == 404


def test_failed_jobs_are_paged_newest_first(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from matchmaker.admin import routes

    monkeypatch.setattr(routes, "JOBS_PAGE_SIZE", 3)
    ids = [_failed(subject_id=n).id for n in range(8)]
    client, _token = _logged_in(app, make_user(role=Role.ADMIN))
    pages, _last = walk_there_and_back(
        client, "/admin/jobs", lambda body: re.findall(r'id="job-(\d+)"', body)
    )
    assert [len(page) for page in pages] == [3, 3, 2]
    assert [int(i) for page in pages for i in page] == ids[::-1]


def test_every_kind_an_admin_may_try_again_has_a_task_to_take_it(app: Flask) -> None:
    tasks = app.extensions["celery"].tasks
    retried = {kind for kind, described in jobs.JOB_KINDS.items() if described.may_retry}
    assert {DELIVER_ANNOUNCEMENT, alert_tasks.SEND_ALERTS} <= retried
    assert retried <= set(tasks)


def test_a_failed_full_run_tried_again_runs(app: Flask) -> None:
    from matchmaker.matching.tasks import FULL_RUN

    job_id = _failed(FULL_RUN, subject_id=None).id
    client, token = _logged_in(app, make_user(role=Role.ADMIN))
    assert "Full matcher run" in client.get("/admin/jobs").get_data(as_text=True)
    client.post(f"/admin/jobs/{job_id}/retry", data={"csrf_token": token})
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == JobStatus.FINISHED and job.error is None and job.attempts == 0


def test_a_job_another_admin_tried_again_meanwhile_is_not_tried_again_twice(app: Flask) -> None:
    """Two admins try the same job again at once: what decides is the row as it is when the
    second one's request writes it, not as that request read it. Before, the second one queued
    it a second time (a second audit event), or, when the first one's run had done the job and
    deleted it, failed on the missing row (a server error)."""
    from matchmaker.core.errors import DomainError

    admin = make_user(role=Role.ADMIN)
    done, queued = _failed().id, _failed().id
    read = [db.session.get(Job, job_id) for job_id in (done, queued)]  # this request's reading
    with db.engine.begin() as other:  # meanwhile, the other admin's request and its run
        other.execute(sa.delete(Job).where(Job.id == done))
        other.execute(
            sa.update(Job).where(Job.id == queued).values(status=JobStatus.QUEUED, attempts=0)
        )
    for job in read:
        with pytest.raises(DomainError, match="This job has not failed"):
            jobs.retry_job(actor=admin, job=job)
    db.session.commit()
    assert not db.session.scalars(sa.select(AuditEvent)).all()
    assert db.session.get(Job, queued, populate_existing=True).status == JobStatus.QUEUED
