"""Saved searches: a member keeps a search and hears of each new listing that matches it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.accounts.models import EmailPreference
from matchmaker.alerts import services
from matchmaker.alerts.models import SavedSearch, SavedSearchAlert
from matchmaker.core.errors import DomainError
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings import services as listing_services
from matchmaker.listings.models import ListingKind, ListingStatus, Scope
from matchmaker.listings.search import ListingFilters
from matchmaker.notifications.models import Notification
from matchmaker.notifications.services import send_digests
from matchmaker.organisations.models import OrganisationKind
from tests.conftest import Outbox, is_postgres
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in

EVALUATION = ListingFilters(kind=ListingKind.NEED, q="evaluation", theme="research-evaluation")


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    watcher = make_user(email="watcher@example.org", display_name="Watcher")
    university = make_organisation(
        owner=watcher, kind=OrganisationKind.ACADEMIC_INSTITUTION, name="Curious University"
    )
    poster = make_user(email="poster@example.org")
    network = make_organisation(owner=poster, name="Social Enterprise Network")
    return {"watcher": watcher, "university": university, "poster": poster, "network": network}


def _post(organisation: Any, **change: Any) -> Any:
    """Post a need as its members do: the alerts job runs once this commits."""
    values: dict[str, Any] = {
        "title": "Evaluation of our programmes",
        "description": "We need researchers to evaluate the social impact of our programmes.",
        "themes": ["research-evaluation"],
        "scope": Scope.REGIONAL,
    }
    values.update(change)
    listing = listing_services.create_listing(
        organisation=organisation,
        actor=organisation.memberships[0].user,
        kind=values.pop("kind", ListingKind.NEED),
        **values,
    )
    db.session.commit()
    return listing


def _notifications(user: Any) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)))


# Services --------------------------------------------------------------------------------------


def test_a_new_listing_that_matches_alerts_the_owner_in_the_app_and_by_mail(
    world: dict[str, Any], outbox: Outbox
) -> None:
    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    db.session.commit()
    listing = _post(world["network"])

    (notification,) = _notifications(world["watcher"])
    assert notification.kind == "saved_search"
    assert "Evaluation work" in notification.message and listing.title in notification.message
    assert notification.url == f"/listings/{listing.id}"
    (mail,) = outbox.to("watcher@example.org")
    assert "Evaluation work" in mail["Subject"]
    text = outbox.text(mail)
    assert listing.title in text and "Social Enterprise Network" in text
    assert outbox.link(mail, f"/listings/{listing.id}") == f"/listings/{listing.id}"
    assert outbox.link(mail, "/account") == "/account"
    # The poster's side is not told of their own listing.
    assert not _notifications(world["poster"])


@pytest.mark.parametrize(
    "change",
    [
        {
            "title": "Training for our volunteers",
            "description": "We need a trainer for our volunteers, twice a year.",
        },
        {"themes": ["training-advice"]},
        {"kind": ListingKind.OFFER},
    ],
    ids=["other words", "other theme", "other kind"],
)
def test_a_listing_that_does_not_match_alerts_nobody(
    world: dict[str, Any], outbox: Outbox, change: dict[str, Any]
) -> None:
    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    db.session.commit()
    _post(world["network"], **change)
    assert not _notifications(world["watcher"])
    assert not outbox.to("watcher@example.org")


def test_filters_on_the_organisation_are_checked(world: dict[str, Any]) -> None:
    in_greece = ListingFilters(kind=ListingKind.NEED, country="GR")
    by_agencies = ListingFilters(kind=ListingKind.NEED, organisation_kind="public_agency")
    in_britain = ListingFilters(
        kind=ListingKind.NEED, country="GB", organisation_kind="sse_organisation"
    )
    for name, filters in (
        ("Greece", in_greece),
        ("Agencies", by_agencies),
        ("Britain", in_britain),
    ):
        services.save_search(user=world["watcher"], name=name, filters=filters)
    db.session.commit()
    _post(world["network"])  # a British SSE organisation
    (notification,) = _notifications(world["watcher"])
    assert "Britain" in notification.message


def test_own_organisation_paused_searches_and_older_listings_alert_nobody(
    world: dict[str, Any],
) -> None:
    older = make_listing(
        organisation=world["network"],
        title="Evaluation of our programmes",
        themes=("research-evaluation",),
        status=ListingStatus.PAUSED,
    )
    poster_search = services.save_search(user=world["poster"], name="Mine", filters=EVALUATION)
    paused = services.save_search(user=world["watcher"], name="Paused", filters=EVALUATION)
    services.set_paused(search=paused, paused=True)
    db.session.commit()
    _post(world["network"])
    assert not _notifications(world["poster"]) and not _notifications(world["watcher"])
    # A listing opened before a search was saved is not news to it.
    assert poster_search not in services.candidate_searches(older, utcnow() - timedelta(days=1))


def test_a_search_for_a_theme_is_a_candidate_for_the_listings_of_that_theme_only(
    world: dict[str, Any],
) -> None:
    # The listing's themes are read by the query of the searches, not loaded with the listing.
    evaluation = services.save_search(user=world["watcher"], name="Theme", filters=EVALUATION)
    anything = services.save_search(
        user=world["watcher"], name="Any", filters=ListingFilters(kind=ListingKind.NEED)
    )
    db.session.commit()
    later = utcnow() + timedelta(days=1)
    for themes, expected in (
        (("research-evaluation", "training-advice"), [evaluation, anything]),
        (("training-advice",), [anything]),
    ):
        listing = make_listing(organisation=world["network"], themes=themes)
        assert services.candidate_searches(listing, later) == expected


def test_a_reopened_listing_alerts_once_and_an_edit_does_not(world: dict[str, Any]) -> None:
    listing = make_listing(
        organisation=world["network"],
        title="Evaluation of our programmes",
        description="We need researchers to evaluate the social impact of our programmes.",
        themes=("research-evaluation",),
        status=ListingStatus.PAUSED,
    )
    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    db.session.commit()
    poster = world["poster"]
    listing_services.update_listing(
        listing=listing,
        actor=poster,
        title="Evaluation of all our programmes",
        description=listing.description,
        themes=["research-evaluation"],
        scope=listing.scope,
    )
    db.session.commit()
    assert not _notifications(world["watcher"])  # paused, and edited: nothing new

    listing_services.change_status(listing=listing, actor=poster, action="reopen")
    db.session.commit()
    assert len(_notifications(world["watcher"])) == 1
    for action in ("close", "reopen"):
        listing_services.change_status(listing=listing, actor=poster, action=action)
        db.session.commit()
    assert len(_notifications(world["watcher"])) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedSearchAlert)) == 1


def test_two_searches_that_match_make_one_notification(world: dict[str, Any]) -> None:
    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    services.save_search(
        user=world["watcher"], name="Anything", filters=ListingFilters(kind=ListingKind.NEED)
    )
    db.session.commit()
    _post(world["network"])
    assert len(_notifications(world["watcher"])) == 1


def _broker_down(*_: Any) -> None:
    raise ConnectionError("the broker is down")


def test_alerts_whose_message_was_lost_are_sent_by_the_sweep_once(
    world: dict[str, Any], outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker was down when the listing was posted: its alerts were a message and nothing
    else, lost for good. Their job is a row that stays queued, and a minute later the
    scheduler's sweep sends them, once; a worker taking the message late finds them sent."""
    from matchmaker.alerts.tasks import SEND_WAITING_ALERTS, alert_job, send_waiting_alerts
    from matchmaker.core import jobs
    from matchmaker.core.models import Job
    from matchmaker.schedule import SCHEDULE

    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    db.session.commit()
    with monkeypatch.context() as broken:
        broken.setattr(jobs, "enqueue", _broker_down)
        _post(world["network"])
    assert not _notifications(world["watcher"])
    alerts = sa.select(Job.id).where(Job.kind == "alerts.send_alerts")
    [job_id] = db.session.scalars(alerts).all()
    assert send_waiting_alerts() == 0  # not lost yet: its worker may still take it
    db.session.execute(
        sa.update(Job).values(created_at=utcnow() - jobs.LOST_AFTER - timedelta(seconds=1))
    )
    db.session.commit()
    assert send_waiting_alerts() == 1
    assert len(_notifications(world["watcher"])) == 1
    assert len(outbox.to("watcher@example.org")) == 1
    assert db.session.scalars(alerts).all() == []
    assert alert_job(job_id) is False  # its worker, late
    assert send_waiting_alerts() == 0
    assert len(outbox.to("watcher@example.org")) == 1
    assert SEND_WAITING_ALERTS in {entry["task"] for entry in SCHEDULE.values()}


def test_an_alert_job_is_done_once_however_many_take_it(
    world: dict[str, Any], outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its worker and the sweep may both take an alert job. On PostgreSQL the second finds the
    job held by the first and leaves it (were it to go on, it would wait for the first's
    alerts, then fail); a job whose alerts another run recorded first stays queued (its rows
    rolled back with the claim) and the sweep ends it, telling nobody twice."""
    from matchmaker.alerts.tasks import alert_job, send_waiting_alerts
    from matchmaker.core import jobs
    from matchmaker.core.models import Job

    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    db.session.commit()
    with monkeypatch.context() as held:
        held.setattr(jobs, "enqueue", lambda *_: None)  # nothing runs by itself
        _post(world["network"])
    alerts = sa.select(Job.id).where(Job.kind == "alerts.send_alerts")
    [job_id] = db.session.scalars(alerts).all()
    db.session.rollback()
    if is_postgres():
        engine = sa.create_engine(db.engine.url)
        with engine.connect() as worker:  # a worker running the job holds its row
            worker.execute(sa.select(Job.id).where(Job.id == job_id).with_for_update())
            db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            assert alert_job(job_id) is False
            worker.rollback()  # the worker died: its job is still waiting
        engine.dispose()
    assert not _notifications(world["watcher"])
    # Another run told the watcher first (the old code's message, say): this one stands back.
    listing_id = db.session.scalar(sa.select(Job.subject_id).where(Job.id == job_id))
    [search_id] = db.session.scalars(sa.select(SavedSearch.id)).all()
    db.session.add(SavedSearchAlert(saved_search_id=search_id, listing_id=listing_id))
    db.session.commit()
    with monkeypatch.context() as late:  # it read the searches before the other run's commit
        late.setattr(
            services, "candidate_searches", lambda *_: [db.session.get(SavedSearch, search_id)]
        )
        assert alert_job(job_id) is False
    assert db.session.scalars(alerts).all() == [job_id]  # still waiting
    db.session.execute(
        sa.update(Job).values(created_at=utcnow() - jobs.LOST_AFTER - timedelta(seconds=1))
    )
    db.session.commit()
    assert send_waiting_alerts() == 1
    assert db.session.scalars(alerts).all() == []
    assert not _notifications(world["watcher"]) and len(outbox.to("watcher@example.org")) == 0


def _due_now() -> None:
    """Time passes: every job waiting for its next attempt is due."""
    from matchmaker.core.models import Job

    db.session.execute(
        sa.update(Job).values(
            next_attempt_at=utcnow() - timedelta(seconds=1),
            created_at=utcnow() - timedelta(hours=2),
        )
    )
    db.session.commit()


def test_alerts_whose_work_failed_are_tried_again_by_the_sweep_and_sent_once(
    world: dict[str, Any], outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alerts' mail was written, then the work failed (the database refused): nothing of
    it is sent, the job waits a minute, and the sweep sends the alerts once."""
    from matchmaker.alerts import tasks
    from matchmaker.core import jobs
    from matchmaker.core.models import Job, JobStatus

    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    db.session.commit()
    send_alerts = tasks.send_alerts

    def fails_after_writing(*args: Any) -> int:
        send_alerts(*args)
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))

    with monkeypatch.context() as broken:
        broken.setattr(tasks, "send_alerts", fails_after_writing)
        _post(world["network"])
    assert not _notifications(world["watcher"]) and len(outbox) == 0
    job = db.session.scalars(sa.select(Job).where(Job.kind == tasks.SEND_ALERTS)).one()
    assert job.status == JobStatus.QUEUED and job.attempts == 1
    assert job.error and "server closed the connection" in job.error
    assert job.next_attempt_at is not None
    wait = job.next_attempt_at - utcnow()
    assert jobs.RETRY_WAITS[0] - timedelta(minutes=1) < wait <= jobs.RETRY_WAITS[0]
    db.session.execute(  # its message is older than a lost one's, but its wait is not over
        sa.update(Job).values(created_at=utcnow() - jobs.LOST_AFTER - timedelta(seconds=1))
    )
    db.session.commit()
    assert tasks.send_waiting_alerts() == 0
    assert tasks.alert_job(job.id) is False  # nor does its message, delivered again

    _due_now()
    assert tasks.send_waiting_alerts() == 1
    assert len(_notifications(world["watcher"])) == 1
    assert len(outbox.to("watcher@example.org")) == 1
    assert db.session.scalars(sa.select(Job.id)).all() == []
    assert tasks.send_waiting_alerts() == 0
    assert len(outbox.to("watcher@example.org")) == 1


def test_alerts_that_keep_failing_are_failed_for_good_with_their_last_error(
    world: dict[str, Any], outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each attempt waits longer than the one before; after the last, the job is failed and
    kept with its error, and the sweep leaves it alone."""
    from matchmaker.alerts import tasks
    from matchmaker.core import jobs
    from matchmaker.core.models import Job, JobStatus

    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    db.session.commit()
    failures = iter(range(1, 100))

    def fails(*_: Any) -> int:
        raise sa.exc.OperationalError("SELECT", {}, Exception(f"refused {next(failures)}"))

    monkeypatch.setattr(tasks, "send_alerts", fails)
    _post(world["network"])
    waits = []
    for attempt in range(1, jobs.MAX_ATTEMPTS):
        job = db.session.scalars(sa.select(Job)).one()
        assert (job.status, job.attempts) == (JobStatus.QUEUED, attempt)
        assert job.next_attempt_at is not None
        waits.append(job.next_attempt_at - job.updated_at)
        _due_now()
        assert tasks.send_waiting_alerts() == 1
    assert waits == sorted(waits) and len(set(waits)) == len(waits)
    db.session.expire_all()
    job = db.session.scalars(sa.select(Job)).one()
    assert (job.status, job.attempts) == (JobStatus.FAILED, jobs.MAX_ATTEMPTS)
    assert job.error == f"OperationalError: refused {jobs.MAX_ATTEMPTS}"  # the last attempt's
    assert job.finished_at is not None and job.next_attempt_at is None
    _due_now()
    assert tasks.send_waiting_alerts() == 0
    assert not _notifications(world["watcher"]) and len(outbox) == 0


def test_a_message_queued_by_the_old_code_still_alerts(
    app: Flask, world: dict[str, Any], outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message in the broker at the upgrade names the listing and the moment it opened, not a
    job: the task still sends its alerts."""
    from matchmaker.alerts.tasks import SEND_ALERTS
    from matchmaker.core import jobs

    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    db.session.commit()
    with monkeypatch.context() as held:
        held.setattr(jobs, "enqueue", lambda *_: None)
        listing = _post(world["network"])
    app.extensions["celery"].tasks[SEND_ALERTS].apply((listing.id, utcnow().isoformat()))
    assert len(_notifications(world["watcher"])) == 1
    assert len(outbox.to("watcher@example.org")) == 1


@pytest.mark.parametrize(
    "preference, mailed_at_once, in_digest",
    [
        (EmailPreference.IMMEDIATE, True, False),
        (EmailPreference.DAILY, False, True),
        (EmailPreference.NONE, False, False),
    ],
)
def test_alerts_follow_the_email_preference(
    app: Flask,
    world: dict[str, Any],
    outbox: Outbox,
    preference: EmailPreference,
    mailed_at_once: bool,
    in_digest: bool,
) -> None:
    world["watcher"].email_preference = preference
    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    db.session.commit()
    _post(world["network"])
    assert len(_notifications(world["watcher"])) == 1
    assert bool(outbox.to("watcher@example.org")) == mailed_at_once
    with app.test_request_context():
        send_digests()
    db.session.commit()
    digests = [m for m in outbox.to("watcher@example.org") if "digest" in m["Subject"]]
    assert bool(digests) == in_digest
    if in_digest:
        assert "Evaluation work" in outbox.text(digests[0])


def test_an_alert_is_in_the_owners_language(world: dict[str, Any], outbox: Outbox) -> None:
    world["watcher"].language = "fr"
    services.save_search(user=world["watcher"], name="Évaluation", filters=EVALUATION)
    db.session.commit()
    _post(world["network"])
    (notification,) = _notifications(world["watcher"])
    assert "Évaluation" in notification.message and "New need" not in notification.message
    (mail,) = outbox.to("watcher@example.org")
    assert "Bonjour" in outbox.text(mail)


def test_an_account_keeps_a_limited_number_of_searches(world: dict[str, Any]) -> None:
    for number in range(services.MAX_SAVED_SEARCHES):
        services.save_search(
            user=world["watcher"],
            name=f"Search {number}",
            filters=ListingFilters(kind=ListingKind.NEED),
        )
    with pytest.raises(DomainError, match="Delete one"):
        services.save_search(
            user=world["watcher"], name="One more", filters=ListingFilters(kind=ListingKind.NEED)
        )


def test_a_search_is_described_in_words(app: Flask, world: dict[str, Any]) -> None:
    filters = ListingFilters(
        kind=ListingKind.CHALLENGE, q="housing", theme="basic-needs", country="GR", scope="local"
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        words = [(c.label, c.value) for c in services.describe(filters)]
        assert words == [
            ("Words", "housing"),
            ("Theme", "Housing, food and psycho-social support"),
            ("Country", "Greece"),
            ("Scope", "Local (same city)"),
        ]
        assert services.suggested_name(ListingFilters(kind=ListingKind.NEED, country="GR")) == (
            "Needs: Greece"
        )


# Pages -----------------------------------------------------------------------------------------


def test_a_member_saves_the_search_shown_from_its_page(app: Flask, world: dict[str, Any]) -> None:
    client = signed_in(app, world["watcher"])
    page = client.get("/needs?q=evaluation&theme=research-evaluation&sort=newest")
    html = page.get_data(as_text=True)
    assert "Save this search" in html
    assert "/saved-searches/new/needs?q=evaluation&amp;theme=research-evaluation" in html
    assert "sort=" not in html.split("/saved-searches/new/needs")[1].split('"')[0]

    response = client.post(
        "/saved-searches/new/needs?q=evaluation&theme=research-evaluation",
        data={"name": "  Evaluation   work "},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/needs?q=evaluation&theme=research-evaluation"
    saved = db.session.scalar(sa.select(SavedSearch))
    assert (saved.name, saved.kind, saved.q, saved.theme) == (
        "Evaluation work",
        ListingKind.NEED,
        "evaluation",
        "research-evaluation",
    )
    account = client.get("/account").get_data(as_text=True)
    assert "Evaluation work" in account and "Research, evaluation and impact measurement" in account


def test_saving_needs_a_name_and_a_valid_search(app: Flask, world: dict[str, Any]) -> None:
    client = signed_in(app, world["watcher"])
    response = client.post("/saved-searches/new/needs?q=evaluation", data={"name": " "})
    assert response.status_code == 422
    assert "Give the search a name." in response.get_data(as_text=True)
    response = client.post("/saved-searches/new/needs?theme=no-such-theme", data={"name": "x"})
    assert response.status_code == 400
    assert "This search cannot be saved" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedSearch)) == 0


def test_the_limit_is_explained_on_the_page(app: Flask, world: dict[str, Any]) -> None:
    for number in range(services.MAX_SAVED_SEARCHES):
        services.save_search(
            user=world["watcher"],
            name=f"Search {number}",
            filters=ListingFilters(kind=ListingKind.NEED),
        )
    db.session.commit()
    client = signed_in(app, world["watcher"])
    response = client.post("/saved-searches/new/offers", data={"name": "One more"})
    assert response.status_code == 422
    assert "the most an account may keep" in response.get_data(as_text=True)


def test_who_may_save_a_search(app: Flask, world: dict[str, Any]) -> None:
    anonymous = app.test_client()
    response = anonymous.post("/saved-searches/new/needs", data={"name": "Mine"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "Sign in to save this search" in anonymous.get("/needs").get_data(as_text=True)

    unconfirmed = make_user(confirmed=False)
    client = signed_in(app, unconfirmed)
    assert client.post("/saved-searches/new/needs", data={"name": "Mine"}).status_code == 403
    assert "Save this search" not in client.get("/needs").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedSearch)) == 0


def test_the_owner_renames_pauses_resumes_and_deletes(app: Flask, world: dict[str, Any]) -> None:
    saved = services.save_search(user=world["watcher"], name="Evaluation", filters=EVALUATION)
    db.session.commit()
    client = signed_in(app, world["watcher"])

    assert client.get(f"/saved-searches/{saved.id}/rename").status_code == 200
    response = client.post(f"/saved-searches/{saved.id}/rename", data={"name": ""})
    assert response.status_code == 422
    response = client.post(f"/saved-searches/{saved.id}/rename", data={"name": "Impact studies"})
    assert response.status_code == 302
    db.session.refresh(saved)
    assert saved.name == "Impact studies"

    client.post(f"/saved-searches/{saved.id}/pause")
    db.session.refresh(saved)
    assert saved.is_paused
    assert "Resume alerts" in client.get("/account").get_data(as_text=True)
    client.post(f"/saved-searches/{saved.id}/resume")
    db.session.refresh(saved)
    assert not saved.is_paused

    response = client.post(f"/saved-searches/{saved.id}/delete")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedSearch)) == 0


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("get", "/saved-searches/{id}/rename", None),
        ("post", "/saved-searches/{id}/rename", {"name": "Taken over"}),
        ("post", "/saved-searches/{id}/pause", None),
        ("post", "/saved-searches/{id}/delete", None),
    ],
)
def test_another_users_saved_search_is_not_found(
    app: Flask, world: dict[str, Any], method: str, path: str, data: dict[str, str] | None
) -> None:
    saved = services.save_search(user=world["watcher"], name="Evaluation", filters=EVALUATION)
    db.session.commit()
    client = signed_in(app, world["poster"])
    response = getattr(client, method)(path.format(id=saved.id), data=data)
    assert response.status_code == 404
    db.session.refresh(saved)
    assert (saved.name, saved.is_paused) == ("Evaluation", False)


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_saving_and_deleting_need_the_csrf_token(
        self, app: Flask, world: dict[str, Any]
    ) -> None:
        saved = services.save_search(user=world["watcher"], name="Evaluation", filters=EVALUATION)
        db.session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={
                "email": "watcher@example.org",
                "password": "correct-horse-battery",
                "csrf_token": token,
            },
        )
        assert client.post("/saved-searches/new/needs", data={"name": "x"}).status_code == 400
        assert client.post(f"/saved-searches/{saved.id}/delete").status_code == 400
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedSearch)) == 1


class TestRateLimit:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_LOGIN": "100 per minute",
            "RATELIMIT_SAVE_SEARCH": "2 per hour",
        }

    def test_saving_searches_is_rate_limited_per_user(
        self, app: Flask, world: dict[str, Any]
    ) -> None:
        first, second = signed_in(app, world["watcher"]), signed_in(app, world["watcher"])
        assert first.post("/saved-searches/new/needs", data={"name": "A"}).status_code == 302
        assert second.post("/saved-searches/new/offers", data={"name": "B"}).status_code == 302
        assert first.post("/saved-searches/new/needs", data={"name": "C"}).status_code == 429
        assert first.get("/saved-searches/new/needs").status_code == 200
        other = signed_in(app, world["poster"])
        assert other.post("/saved-searches/new/needs", data={"name": "D"}).status_code == 302


def test_opening_the_listing_marks_its_alert_read(app: Flask, world: dict[str, Any]) -> None:
    services.save_search(user=world["watcher"], name="Evaluation work", filters=EVALUATION)
    db.session.commit()
    listing = _post(world["network"])
    client = signed_in(app, world["watcher"])
    assert client.get(f"/listings/{listing.id}").status_code == 200
    db.session.expire_all()
    (notification,) = _notifications(world["watcher"])
    assert notification.read_at is not None
