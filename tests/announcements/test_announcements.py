"""Announcements: who posts, edits and withdraws them, the public list, and who receives them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.accounts.models import EmailPreference, Role
from matchmaker.announcements import services
from matchmaker.announcements.models import (
    Announcement,
    AnnouncementDelivery,
    AnnouncementKind,
    AnnouncementStatus,
    Audience,
)
from matchmaker.announcements.tasks import deliver_now
from matchmaker.core.errors import DomainError
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind, ListingStatus
from matchmaker.notifications.models import Notification
from matchmaker.notifications.services import send_digests
from matchmaker.organisations.models import Membership, OrganisationKind, OrganisationStatus
from tests.conftest import Outbox
from tests.core.pager import walk_there_and_back
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in

FUNDING = "funding"
IN_A_MONTH = date.today() + timedelta(days=30)


def _member_of(
    kind: OrganisationKind, *, themes: tuple[str, ...] = (FUNDING,), **fields: Any
) -> Any:
    """A member of a verified organisation of ``kind`` with an open offer on ``themes``."""
    owner = make_user(**{k: fields.pop(k) for k in ("email", "language") if k in fields})
    organisation = make_organisation(owner=owner, kind=kind, **fields)
    make_listing(organisation=organisation, kind=ListingKind.OFFER, themes=themes)
    return owner


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    officer = make_user(email="officer@example.org")
    agency = make_organisation(
        owner=officer, kind=OrganisationKind.PUBLIC_AGENCY, name="Liverpool City Council"
    )
    coop = _member_of(OrganisationKind.SSE_ORGANISATION, email="coop@example.org")
    return {"officer": officer, "agency": agency, "coop": coop}


def _publish(author: Any, organisation: Any, **change: Any) -> Announcement:
    values: dict[str, Any] = {
        "kind": AnnouncementKind.FUNDING_CALL,
        "audience": Audience.PROJECT_DEVELOPERS,
        "title": "Social innovation fund, spring round",
        "body": "Grants of up to 20,000 pounds for SSE projects in the city region.",
        "themes": [FUNDING],
        "ends_on": IN_A_MONTH,
        "link": "https://example.org/fund",
    }
    values.update(change)
    announcement = services.create_announcement(author=author, organisation=organisation, **values)
    db.session.commit()  # delivery runs after this commit
    return announcement


def _notified(user: Any) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.user_id == user.id, Notification.kind == "announcement"
            )
        )
    )


# Delivery --------------------------------------------------------------------------------------


def test_a_fitting_member_is_notified_and_mailed_at_once(
    world: dict[str, Any], outbox: Outbox
) -> None:
    announcement = _publish(world["officer"], world["agency"])
    (notification,) = _notified(world["coop"])
    assert "Funding call" in notification.message
    assert announcement.title in notification.message
    assert notification.url == f"/announcements/{announcement.id}"
    (mail,) = outbox.to("coop@example.org")
    assert announcement.title in mail["Subject"]
    text = outbox.text(mail)
    assert "Liverpool City Council" in text and "Grants of up to 20,000" in text
    assert outbox.link(mail, "/announcements/") == f"/announcements/{announcement.id}"
    # The agency's own members are not told of their own announcement.
    assert not _notified(world["officer"]) and not outbox.to("officer@example.org")


def test_only_the_right_members_receive_it(world: dict[str, Any]) -> None:
    fitting = {
        "civil society": _member_of(OrganisationKind.CIVIL_SOCIETY),
    }
    left_out = {
        "other theme": _member_of(OrganisationKind.SSE_ORGANISATION, themes=("basic-needs",)),
        "other country": _member_of(OrganisationKind.SSE_ORGANISATION, country="GR"),
        "policy maker": _member_of(OrganisationKind.ACADEMIC_INSTITUTION),
        "private sector": _member_of(OrganisationKind.PRIVATE_SECTOR),
        "unverified": _member_of(
            OrganisationKind.SSE_ORGANISATION, status=OrganisationStatus.PENDING
        ),
    }
    closed_owner = make_user()
    closed = make_organisation(owner=closed_owner)
    make_listing(organisation=closed, themes=(FUNDING,), status=ListingStatus.CLOSED)
    left_out["only a closed listing"] = closed_owner
    no_listing = make_user()
    make_organisation(owner=no_listing)
    left_out["no listing"] = no_listing

    _publish(world["officer"], world["agency"])
    assert _notified(world["coop"]) and _notified(fitting["civil society"])
    for why, user in left_out.items():
        assert not _notified(user), why


@pytest.mark.parametrize(
    "audience, kinds_reached",
    [
        (Audience.PROJECT_DEVELOPERS, {"sse_organisation", "civil_society"}),
        (Audience.POLICY_MAKERS, {"public_agency", "academic_institution"}),
        (Audience.EVERYONE, {kind.value for kind in OrganisationKind}),
    ],
)
def test_the_audience_decides_the_kinds_of_organisation(
    world: dict[str, Any], audience: Audience, kinds_reached: set[str]
) -> None:
    members = {kind.value: _member_of(kind) for kind in OrganisationKind}
    _publish(world["officer"], world["agency"], audience=audience)
    assert {kind for kind, user in members.items() if _notified(user)} == kinds_reached


def test_kept_to_the_region_it_reaches_that_region_only(world: dict[str, Any]) -> None:
    elsewhere = _member_of(OrganisationKind.SSE_ORGANISATION, region="Greater Manchester")
    announcement = _publish(world["officer"], world["agency"], region_only=True)
    assert announcement.region == "Liverpool City Region"
    assert _notified(world["coop"]) and not _notified(elsewhere)


def test_a_region_is_reached_whatever_capitals_its_members_wrote(world: dict[str, Any]) -> None:
    """SQLite's lower() leaves "Î" as it is: a region kept by "Île-de-France" reached nobody
    who wrote it otherwise, nor even as written."""
    officer = make_user()
    agency = make_organisation(
        owner=officer,
        kind=OrganisationKind.PUBLIC_AGENCY,
        city="Paris",
        region="Île-de-France",
        country="FR",
    )
    near = [
        _member_of(OrganisationKind.SSE_ORGANISATION, city="Paris", region=r, country="FR")
        for r in ("Île-de-France", "ÎLE-DE-FRANCE")
    ]
    elsewhere = _member_of(
        OrganisationKind.SSE_ORGANISATION, city="Rouen", region="Normandie", country="FR"
    )
    _publish(officer, agency, region_only=True)
    assert all(_notified(user) for user in near) and not _notified(elsewhere)


def test_a_coordinator_posts_for_a_country(world: dict[str, Any]) -> None:
    coordinator = make_user(role=Role.COORDINATOR)
    greek = _member_of(OrganisationKind.SSE_ORGANISATION, country="GR", region="Attica")
    announcement = _publish(coordinator, None, country="GR")
    assert announcement.organisation is None and announcement.country == "GR"
    assert _notified(greek) and not _notified(world["coop"])


@pytest.mark.parametrize(
    "preference, mailed_at_once, in_digest",
    [
        (EmailPreference.IMMEDIATE, True, False),
        (EmailPreference.DAILY, False, True),
        (EmailPreference.NONE, False, False),
    ],
)
def test_delivery_follows_the_email_preference(
    app: Flask,
    world: dict[str, Any],
    outbox: Outbox,
    preference: EmailPreference,
    mailed_at_once: bool,
    in_digest: bool,
) -> None:
    world["coop"].email_preference = preference
    db.session.commit()
    _publish(world["officer"], world["agency"])
    assert len(_notified(world["coop"])) == 1
    assert bool(outbox.to("coop@example.org")) == mailed_at_once
    with app.test_request_context():
        send_digests()
    db.session.commit()
    digests = [m for m in outbox.to("coop@example.org") if "digest" in m["Subject"]]
    assert bool(digests) == in_digest
    if in_digest:
        assert "Social innovation fund" in outbox.text(digests[0])


def test_each_member_reads_it_in_their_language(world: dict[str, Any], outbox: Outbox) -> None:
    french = _member_of(OrganisationKind.SSE_ORGANISATION, email="fr@example.org", language="fr")
    greek = _member_of(OrganisationKind.SSE_ORGANISATION, email="el@example.org", language="el")
    _publish(world["officer"], world["agency"])
    (message_fr,) = _notified(french)
    assert message_fr.message.startswith("Appel à financement")
    (message_el,) = _notified(greek)
    assert "Funding call" not in message_el.message
    assert "Bonjour" in outbox.text(outbox.to("fr@example.org")[0])
    assert "Funding call" in _notified(world["coop"])[0].message


def test_never_twice_to_the_same_person(world: dict[str, Any], outbox: Outbox) -> None:
    # A member of two fitting organisations, an edit that adds a theme, and the job run again.
    second = make_organisation(owner=world["coop"], kind=OrganisationKind.CIVIL_SOCIETY)
    make_listing(organisation=second, kind=ListingKind.OFFER, themes=(FUNDING, "training-advice"))
    trainer = _member_of(OrganisationKind.SSE_ORGANISATION, themes=("training-advice",))
    announcement = _publish(world["officer"], world["agency"])
    assert not _notified(trainer)
    values = {
        "kind": announcement.kind,
        "audience": announcement.audience,
        "title": announcement.title,
        "body": announcement.body,
        "ends_on": announcement.ends_on,
    }
    services.update_announcement(
        announcement=announcement,
        actor=world["officer"],
        themes=[FUNDING, "training-advice"],
        **values,
    )
    db.session.commit()
    assert deliver_now(announcement.id) == 0
    assert len(_notified(world["coop"])) == 1 and len(outbox.to("coop@example.org")) == 1
    assert len(_notified(trainer)) == 1  # new to the edited announcement, told once
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnnouncementDelivery)) == 2


def test_an_announcement_whose_message_was_lost_is_delivered_by_the_sweep_once(
    world: dict[str, Any], outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker was down when the announcement was posted: its delivery was a message and
    nothing else, lost for good. Its job is a row that stays queued, and a minute later the
    scheduler's sweep delivers it, once; a worker taking the message late finds it done."""
    from matchmaker.announcements.tasks import DELIVER_WAITING, deliver_waiting, delivery_job
    from matchmaker.core import jobs
    from matchmaker.core.models import Job
    from matchmaker.db import utcnow
    from matchmaker.schedule import SCHEDULE

    def broker_down(*_: Any) -> None:
        raise ConnectionError("the broker is down")

    with monkeypatch.context() as broken:
        broken.setattr(jobs, "enqueue", broker_down)
        announcement = _publish(world["officer"], world["agency"])
    assert not _notified(world["coop"])
    deliveries = sa.select(Job.id).where(Job.subject_id == announcement.id)
    [job_id] = db.session.scalars(deliveries).all()
    assert deliver_waiting() == 0  # not lost yet: its worker may still take it
    db.session.execute(
        sa.update(Job).values(created_at=utcnow() - jobs.LOST_AFTER - timedelta(seconds=1))
    )
    db.session.commit()
    assert deliver_waiting() == 1
    assert len(_notified(world["coop"])) == 1 and len(outbox.to("coop@example.org")) == 1
    assert db.session.scalars(deliveries).all() == []
    assert delivery_job(job_id) is False  # its worker, late
    assert deliver_waiting() == 0
    assert len(outbox.to("coop@example.org")) == 1
    assert DELIVER_WAITING in {entry["task"] for entry in SCHEDULE.values()}


def test_a_delivery_whose_work_failed_is_tried_again_then_failed_for_good(
    world: dict[str, Any], outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delivery that failed after writing its mail sends none of it and waits for the sweep;
    one that fails every time is failed for good after the last attempt, with its error, and
    no one is told twice when it finally goes."""
    from matchmaker.announcements import tasks
    from matchmaker.core import jobs
    from matchmaker.core.models import Job, JobStatus
    from matchmaker.db import utcnow

    deliver = tasks.deliver

    def fails_after_writing(announcement: Announcement) -> int:
        deliver(announcement)
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    def due_now() -> None:
        db.session.execute(
            sa.update(Job).values(
                created_at=utcnow() - timedelta(hours=2),
                next_attempt_at=utcnow() - timedelta(seconds=1),
            )
        )
        db.session.commit()

    monkeypatch.setattr(tasks, "deliver", fails_after_writing)
    announcement = _publish(world["officer"], world["agency"])
    for _attempt in range(1, jobs.MAX_ATTEMPTS):
        assert tasks.deliver_waiting() == 0  # waiting for its next attempt
        due_now()
        assert tasks.deliver_waiting() == 1
    job = db.session.scalars(sa.select(Job).where(Job.subject_id == announcement.id)).one()
    assert (job.status, job.attempts) == (JobStatus.FAILED, jobs.MAX_ATTEMPTS)
    assert job.error == "ConnectionRefusedError: [Errno 111] Connection refused"
    due_now()
    assert tasks.deliver_waiting() == 0  # failed for good: an admin tries it again
    assert not _notified(world["coop"]) and len(outbox) == 0

    monkeypatch.setattr(tasks, "deliver", deliver)  # the server is back
    jobs.retry_job(actor=None, job=job)
    db.session.commit()  # its worker takes it after this commit
    assert len(_notified(world["coop"])) == 1 and len(outbox.to("coop@example.org")) == 1
    assert db.session.scalars(sa.select(Job.id)).all() == []
    assert tasks.deliver_waiting() == 0 and len(outbox.to("coop@example.org")) == 1


def test_a_message_queued_by_the_old_code_is_still_delivered(
    app: Flask, world: dict[str, Any], outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message in the broker at the upgrade names the announcement, not a job: the task of
    the old name still delivers it."""
    from matchmaker.announcements.tasks import DELIVER_QUEUED_BY_OLD_CODE
    from matchmaker.core import jobs

    with monkeypatch.context() as held:
        held.setattr(jobs, "enqueue", lambda *_: None)
        announcement = _publish(world["officer"], world["agency"])
    app.extensions["celery"].tasks[DELIVER_QUEUED_BY_OLD_CODE].apply((announcement.id,))
    assert len(_notified(world["coop"])) == 1 and len(outbox.to("coop@example.org")) == 1


def test_withdrawn_or_ended_announcements_are_not_delivered(world: dict[str, Any]) -> None:
    announcement = _publish(world["officer"], world["agency"], themes=["basic-needs"])
    services.withdraw_announcement(announcement=announcement, actor=world["officer"])
    db.session.commit()
    late = _member_of(OrganisationKind.SSE_ORGANISATION, themes=("basic-needs",))
    assert deliver_now(announcement.id) == 0
    assert not _notified(late)


@pytest.mark.parametrize("ending", ["withdrawn", "rejected"])
def test_a_notification_waiting_for_the_digest_goes_once_its_announcement_is_gone(
    app: Flask, world: dict[str, Any], outbox: Outbox, ending: str
) -> None:
    """A member who reads mail once a day is not sent, nor shown, an announcement withdrawn or
    whose organisation lost its verification since it was delivered (its page answers 404); it
    comes back if the organisation is verified again."""
    from matchmaker.organisations.services import reject_organisation, verify_organisation

    world["coop"].email_preference = EmailPreference.DAILY
    db.session.commit()
    announcement = _publish(world["officer"], world["agency"])
    assert len(_notified(world["coop"])) == 1
    reader = signed_in(app, world["coop"])
    assert "Social innovation fund" in reader.get("/notifications").get_data(as_text=True)
    coordinator = make_user(role=Role.COORDINATOR)
    with app.test_request_context():
        if ending == "withdrawn":
            services.withdraw_announcement(announcement=announcement, actor=world["officer"])
        else:
            reject_organisation(organisation=world["agency"], actor=coordinator, reason="Not it.")
    db.session.commit()

    page = reader.get("/notifications").get_data(as_text=True)
    assert "Social innovation fund" not in page
    assert reader.get(f"/announcements/{announcement.id}").status_code == 404
    with app.test_request_context():
        send_digests()
    db.session.commit()
    assert not [m for m in outbox.to("coop@example.org") if "digest" in m["Subject"]]

    if ending == "rejected":
        with app.test_request_context():
            verify_organisation(organisation=world["agency"], actor=coordinator)
            send_digests()
        db.session.commit()
        (digest,) = [m for m in outbox.to("coop@example.org") if "digest" in m["Subject"]]
        assert "Social innovation fund" in outbox.text(digest)


# Posting rules ---------------------------------------------------------------------------------


def test_the_end_date_must_not_be_past_and_the_link_must_be_http(world: dict[str, Any]) -> None:
    with pytest.raises(DomainError, match="end date is in the past") as error:
        _publish(world["officer"], world["agency"], ends_on=date.today() - timedelta(days=1))
    assert error.value.field == "ends_on"
    for link in ("javascript:alert(1)", "ftp://example.org/file", "example.org"):
        with pytest.raises(DomainError, match="http:// or https://"):
            _publish(world["officer"], world["agency"], link=link)
    assert _publish(world["officer"], world["agency"], link="").link is None


# Pages -----------------------------------------------------------------------------------------


def _form(**change: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "funding_call",
        "title": "Social innovation fund, spring round",
        "body": "Grants of up to 20,000 pounds for SSE projects in the city region.",
        "themes": [FUNDING],
        "audience": "project_developers",
        "ends_on": IN_A_MONTH.isoformat(),
        "link": "https://example.org/fund",
    }
    data.update(change)
    return data


def test_an_agency_member_posts_and_the_public_list_shows_it(
    app: Flask, world: dict[str, Any]
) -> None:
    client = signed_in(app, world["officer"])
    page = client.get("/announcements/new")
    assert page.status_code == 200 and "Liverpool City Council" in page.get_data(as_text=True)
    response = client.post("/announcements/new", data=_form(organisation=str(world["agency"].id)))
    assert response.status_code == 302
    announcement = db.session.scalar(sa.select(Announcement))
    assert response.headers["Location"] == f"/announcements/{announcement.id}"
    assert (announcement.organisation, announcement.country) == (world["agency"], "GB")

    visitor = app.test_client()
    listing = visitor.get("/announcements").get_data(as_text=True)
    assert announcement.title in listing
    assert announcement.title in visitor.get("/").get_data(as_text=True)
    shown = visitor.get(f"/announcements/{announcement.id}").get_data(as_text=True)
    assert 'href="https://example.org/fund"' in shown and "Withdraw" not in shown


@pytest.mark.parametrize(
    "change, field_error",
    [
        ({"ends_on": (date.today() - timedelta(days=2)).isoformat()}, "end date is in the past"),
        ({"ends_on": "not a date"}, "Enter a real date, like 2027-03-31."),
        ({"link": "javascript:alert(1)"}, "starts with http:// or https://"),
        # urlsplit raises ValueError ("Invalid IPv6 URL") on a bracket in the host: a 500.
        ({"link": "https://[example.org/fund"}, "starts with http:// or https://"),
        ({"themes": []}, "Choose at least one theme."),
        ({"title": ""}, "Give the announcement a title."),
        ({"kind": "rumour"}, "Choose one of the options offered."),
        ({"audience": ""}, "Choose who the announcement is for."),
        ({"body": "Line\x00with a NUL byte and enough words."}, "control characters"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    app: Flask, world: dict[str, Any], change: dict[str, Any], field_error: str
) -> None:
    client = signed_in(app, world["officer"])
    response = client.post(
        "/announcements/new", data=_form(organisation=str(world["agency"].id), **change)
    )
    assert response.status_code == 422
    assert field_error in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 0


def test_who_may_post(app: Flask, world: dict[str, Any]) -> None:
    anonymous = app.test_client().get("/announcements/new")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert signed_in(app, world["coop"]).get("/announcements/new").status_code == 403
    pending_agency = make_user()
    make_organisation(
        owner=pending_agency,
        kind=OrganisationKind.PUBLIC_AGENCY,
        status=OrganisationStatus.PENDING,
    )
    assert signed_in(app, pending_agency).get("/announcements/new").status_code == 403
    # Posting for an organisation one may not post for is refused like an unknown choice.
    client = signed_in(app, world["officer"])
    other = make_organisation(kind=OrganisationKind.PUBLIC_AGENCY)
    response = client.post("/announcements/new", data=_form(organisation=str(other.id)))
    assert response.status_code == 422
    assert "Choose who posts the announcement." in response.get_data(as_text=True)
    assert "Post an announcement" not in signed_in(app, world["coop"]).get(
        "/announcements"
    ).get_data(as_text=True)


def test_in_french_an_announcement_agrees_with_communique_and_a_listing_with_annonce(
    app: Flask,
) -> None:
    """One "Posted by" served both, in the feminine of a listing (une annonce): an announcement
    (un communiqué) was "Publiée par". Each now has its own message."""
    officer = make_user(language="fr")
    agency = make_organisation(owner=officer, kind=OrganisationKind.PUBLIC_AGENCY)
    client = signed_in(app, officer)
    form = client.get("/announcements/new").get_data(as_text=True)
    assert "Publié par" in form and "Publiée par" not in form
    announcement = _publish(officer, agency)
    shown = client.get(f"/announcements/{announcement.id}").get_data(as_text=True)
    assert "<dt>Publié le</dt>" in shown
    # A listing is still une annonce, its date and its author no longer of two genders.
    listing = make_listing(organisation=agency, kind=ListingKind.NEED, created_by=officer)
    page = client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "<dt>Publiée par</dt>" in page and "Publié le" not in page


def test_a_coordinator_posts_for_the_coordination_team(app: Flask, world: dict[str, Any]) -> None:
    client = signed_in(app, make_user(role=Role.COORDINATOR))
    response = client.post("/announcements/new", data=_form(organisation="0"))
    assert response.status_code == 422
    assert "Choose the country the announcement is for." in response.get_data(as_text=True)
    response = client.post("/announcements/new", data=_form(organisation="0", country="GB"))
    assert response.status_code == 302
    announcement = db.session.scalar(sa.select(Announcement))
    assert announcement.organisation is None and announcement.country == "GB"
    assert _notified(world["coop"])


def test_the_list_filters_and_leaves_out_ended_and_withdrawn_ones(
    app: Flask, world: dict[str, Any]
) -> None:
    officer, agency = world["officer"], world["agency"]
    funding = _publish(officer, agency, title="Funding for cooperatives")
    training = _publish(
        officer,
        agency,
        title="Training for policy officers",
        kind=AnnouncementKind.TRAINING,
        audience=Audience.POLICY_MAKERS,
        themes=["training-advice"],
    )
    everyone = _publish(
        officer,
        agency,
        title="Open day at the town hall",
        kind=AnnouncementKind.EVENT,
        audience=Audience.EVERYONE,
    )
    ended = _publish(officer, agency, title="An ended call for projects")
    ended.ends_on = date.today() - timedelta(days=1)
    withdrawn = _publish(officer, agency, title="A withdrawn call for projects")
    services.withdraw_announcement(announcement=withdrawn, actor=officer)
    db.session.commit()

    client = app.test_client()

    def titles(query: str = "") -> list[str]:
        html = client.get(f"/announcements{query}").get_data(as_text=True)
        return [a.title for a in (funding, training, everyone, ended, withdrawn) if a.title in html]

    assert titles() == [funding.title, training.title, everyone.title]
    assert client.get("/announcements").get_data(as_text=True).index(everyone.title) < (
        client.get("/announcements").get_data(as_text=True).index(funding.title)
    )  # newest first
    assert titles("?theme=training-advice") == [training.title]
    assert titles("?kind=event") == [everyone.title]
    assert titles("?audience=project_developers") == [funding.title, everyone.title]
    assert client.get("/announcements?kind=rumour").status_code == 400
    assert client.get("/announcements?theme=%00").status_code == 400

    # Ended and withdrawn ones stay for their author and coordinators only.
    for hidden in (ended, withdrawn):
        path = f"/announcements/{hidden.id}"
        assert client.get(path).status_code == 404
        assert signed_in(app, world["coop"]).get(path).status_code == 404
        assert signed_in(app, officer).get(path).status_code == 200
        assert signed_in(app, make_user(role=Role.COORDINATOR)).get(path).status_code == 200


def test_the_list_is_paginated(app: Flask, world: dict[str, Any]) -> None:
    app.config["PAGE_SIZE"] = 2
    for number in range(3):
        _publish(world["officer"], world["agency"], title=f"Call number {number}")
    client = app.test_client()

    def calls(body: str) -> list[str]:
        return re.findall(r"Call number \d", body)

    pages, last = walk_there_and_back(client, "/announcements?kind=funding_call", calls)
    assert pages == [["Call number 2", "Call number 1"], ["Call number 0"]]
    assert "kind=funding_call" in last
    # An old page number still opens its page.
    assert calls(client.get("/announcements?page=2").get_data(as_text=True)) == ["Call number 0"]


def test_the_author_edits_and_withdraws_others_may_not(app: Flask, world: dict[str, Any]) -> None:
    announcement = _publish(world["officer"], world["agency"])
    path = f"/announcements/{announcement.id}"
    colleague = make_user()
    world["agency"].memberships.append(Membership(user=colleague))
    db.session.commit()
    for outsider in (world["coop"], colleague, make_user(role=Role.COORDINATOR)):
        client = signed_in(app, outsider)
        assert client.get(f"{path}/edit").status_code == 403
        assert client.post(f"{path}/edit", data=_form(title="Taken over")).status_code == 403
    assert signed_in(app, world["coop"]).post(f"{path}/withdraw").status_code == 403
    assert signed_in(app, colleague).post(f"{path}/withdraw").status_code == 403
    anonymous = app.test_client().post(f"{path}/withdraw")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    author = signed_in(app, world["officer"])
    page = author.get(f"{path}/edit")
    assert page.status_code == 200 and "Social innovation fund" in page.get_data(as_text=True)
    response = author.post(f"{path}/edit", data=_form(title="Social innovation fund, 2nd round"))
    assert response.status_code == 302
    db.session.refresh(announcement)
    assert announcement.title == "Social innovation fund, 2nd round"
    bad = author.post(f"{path}/edit", data=_form(link="ftp://example.org"))
    assert bad.status_code == 422

    assert author.post(f"{path}/withdraw").status_code == 302
    db.session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.WITHDRAWN
    assert author.get(f"{path}/edit").status_code == 403
    assert author.post(f"{path}/withdraw").status_code == 403


def test_an_announcement_saved_unchanged_records_nothing(app: Flask, world: dict[str, Any]) -> None:
    """The audit trail holds what changed: a save that changes nothing adds no empty entry
    (the page says the changes are saved, as for a listing or an organisation)."""
    from matchmaker.core.models import AuditEvent

    announcement = _publish(world["officer"], world["agency"])
    author = signed_in(app, world["officer"])

    def save(**change: str) -> str:
        response = author.post(
            f"/announcements/{announcement.id}/edit", data=_form(**change), follow_redirects=True
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def updates() -> int:
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "announcement:update",
                AuditEvent.subject_id == announcement.id,
            )
        )

    assert "Your changes are saved." in save()
    assert updates() == 0
    save(title="Social innovation fund, 2nd round")
    assert updates() == 1


def test_an_author_who_left_the_organisation_no_longer_edits_its_announcement(
    app: Flask, world: dict[str, Any]
) -> None:
    """An announcement speaks for the organisation it was posted for, and an edit is mailed to
    the members it newly concerns: once its author is no longer a member (removed by an owner,
    say), they may neither change it (a new link, under the agency's name) nor withdraw it.
    Likewise a coordinator's announcement for the coordination team, once they are no longer
    a coordinator."""
    departing = make_user()
    world["agency"].memberships.append(Membership(user=departing))
    db.session.commit()
    announcement = _publish(departing, world["agency"])
    path = f"/announcements/{announcement.id}"
    client = signed_in(app, departing)
    assert client.get(f"{path}/edit").status_code == 200

    membership = next(m for m in world["agency"].memberships if m.user_id == departing.id)
    world["agency"].memberships.remove(membership)
    db.session.commit()
    assert client.get(f"{path}/edit").status_code == 403
    taken = client.post(f"{path}/edit", data=_form(link="https://phishing.example/fund"))
    assert taken.status_code == 403
    assert client.post(f"{path}/withdraw").status_code == 403
    db.session.refresh(announcement)
    assert announcement.link == "https://example.org/fund"
    assert announcement.status == AnnouncementStatus.PUBLISHED
    # Their colleagues' coordinators still may withdraw it.
    assert (
        signed_in(app, make_user(role=Role.COORDINATOR)).post(f"{path}/withdraw").status_code == 302
    )

    former = make_user(role=Role.COORDINATOR)
    team = _publish(former, None, country="GB")
    former.role = Role.MEMBER
    db.session.commit()
    demoted = signed_in(app, former)
    assert demoted.get(f"/announcements/{team.id}/edit").status_code == 403
    assert demoted.post(f"/announcements/{team.id}/withdraw").status_code == 403


def test_a_coordinator_withdraws_any_announcement(app: Flask, world: dict[str, Any]) -> None:
    announcement = _publish(world["officer"], world["agency"])
    coordinator = signed_in(app, make_user(role=Role.COORDINATOR))
    page = coordinator.get(f"/announcements/{announcement.id}").get_data(as_text=True)
    assert "Withdraw" in page and "/edit" not in page
    assert coordinator.post(f"/announcements/{announcement.id}/withdraw").status_code == 302
    db.session.refresh(announcement)
    assert announcement.status == AnnouncementStatus.WITHDRAWN
    assert app.test_client().get(f"/announcements/{announcement.id}").status_code == 404


class TestWithCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_posting_editing_and_withdrawing_need_the_csrf_token(
        self, app: Flask, world: dict[str, Any]
    ) -> None:
        announcement = _publish(world["officer"], world["agency"])
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={
                "email": "officer@example.org",
                "password": "correct-horse-battery",
                "csrf_token": token,
            },
        )
        path = f"/announcements/{announcement.id}"
        data = _form(organisation=str(world["agency"].id))
        assert client.post("/announcements/new", data=data).status_code == 400
        assert client.post(f"{path}/edit", data=_form(title="Changed title")).status_code == 400
        assert client.post(f"{path}/withdraw").status_code == 400
        db.session.refresh(announcement)
        assert announcement.status == AnnouncementStatus.PUBLISHED
        assert announcement.title == "Social innovation fund, spring round"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 1


@pytest.mark.parametrize("ending", ["closed", "rejected"])
def test_an_organisation_taken_down_no_longer_speaks_in_public(
    app: Flask, world: dict[str, Any], ending: str
) -> None:
    """Its page, listings and profiles are gone once its owner closes it or a coordinator takes
    its verification back: its announcements leave the public list, the home page and their
    own address, and are no longer delivered, instead of going on under its name."""
    from matchmaker.organisations.services import reject_organisation
    from tests.factories import PASSWORD

    announcement = _publish(world["officer"], world["agency"])
    path = f"/announcements/{announcement.id}"
    visitor = app.test_client()
    assert "Social innovation fund" in visitor.get("/announcements").get_data(as_text=True)
    if ending == "closed":
        closing = signed_in(app, world["officer"]).post(
            f"/organisations/{world['agency'].id}/close", data={"password": PASSWORD}
        )
        assert closing.status_code == 302
    else:
        with app.test_request_context():
            reject_organisation(
                organisation=world["agency"],
                actor=make_user(role=Role.COORDINATOR),
                reason="This is not the council.",
            )
        db.session.commit()

    visitor = app.test_client()
    assert "Social innovation fund" not in visitor.get("/announcements").get_data(as_text=True)
    assert "Social innovation fund" not in visitor.get("/").get_data(as_text=True)
    assert visitor.get(path).status_code == 404
    assert signed_in(app, world["coop"]).get(path).status_code == 404
    late = _member_of(OrganisationKind.SSE_ORGANISATION)
    assert deliver_now(announcement.id) == 0
    assert not _notified(late)
    # Coordinators still find it (to withdraw it for good).
    assert signed_in(app, make_user(role=Role.COORDINATOR)).get(path).status_code == 200
