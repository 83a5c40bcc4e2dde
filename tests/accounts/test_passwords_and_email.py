from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from tests.conftest import Outbox
from tests.factories import PASSWORD, make_user

NEW = "another-long-password"


def test_forgotten_password_resets_once(client: FlaskClient, outbox: Outbox) -> None:
    user = make_user(email="forgetful@example.org")
    response = client.post("/forgot-password", data={"email": "forgetful@example.org"})
    assert "If an account uses" in response.get_data(as_text=True)
    [message] = outbox.to("forgetful@example.org")
    link = outbox.link(message, "/reset-password/")
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW, "confirm_password": NEW})
    assert response.status_code == 302
    assert client.post("/login", data={"email": user.email, "password": NEW}).status_code == 302
    # The link worked once: the password changed, so it is no longer valid.
    again = client.get(link, follow_redirects=True)
    assert "expired or was already used" in again.get_data(as_text=True)


def test_reset_for_unknown_address_looks_the_same_and_sends_nothing(
    client: FlaskClient, outbox: Outbox
) -> None:
    from matchmaker.core.models import Job

    response = client.post("/forgot-password", data={"email": "nobody@example.org"})
    assert response.status_code == 200
    assert "If an account uses" in response.get_data(as_text=True)
    assert len(outbox) == 0
    assert db.session.scalars(sa.select(Job)).all() == []  # the address is not kept


def test_a_reset_whose_message_was_lost_is_sent_by_the_sweep_once(
    client: FlaskClient, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker was down when the link was asked for: the page answers as ever, the job
    stays queued as a row, and a minute later the scheduler's sweep sends the link, once; the
    address is not kept once its mail is written."""
    from matchmaker.accounts.tasks import SEND_WAITING_RESETS, send_reset, send_waiting_resets
    from matchmaker.core import jobs
    from matchmaker.core.jobs import LOST_AFTER
    from matchmaker.core.models import Job
    from matchmaker.db import utcnow
    from matchmaker.schedule import SCHEDULE

    make_user(email="forgetful@example.org")

    def broker_down(*_: Any) -> None:
        raise ConnectionError("the broker is down")

    with monkeypatch.context() as broken:
        broken.setattr(jobs, "enqueue", broker_down)
        response = client.post("/forgot-password", data={"email": "Forgetful@example.org"})
    assert "If an account uses" in response.get_data(as_text=True)
    assert outbox.to("forgetful@example.org") == []
    [job_id] = db.session.scalars(sa.select(Job.id)).all()
    assert send_waiting_resets() == 0  # not lost yet: its worker may still take it
    db.session.execute(
        sa.update(Job).values(created_at=utcnow() - LOST_AFTER - timedelta(seconds=1))
    )
    db.session.commit()
    assert send_waiting_resets() == 1
    [message] = outbox.to("forgetful@example.org")
    assert outbox.link(message, "/reset-password/")
    assert db.session.scalars(sa.select(Job)).all() == []
    # Its worker, taking it late, finds it sent; the sweep has nothing left.
    assert send_reset(job_id) is False
    assert send_waiting_resets() == 0
    assert len(outbox.to("forgetful@example.org")) == 1
    assert SEND_WAITING_RESETS in {entry["task"] for entry in SCHEDULE.values()}


def test_a_reset_job_that_fails_is_recorded_failed_not_swept_for_ever(
    client: FlaskClient, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reset job whose work raises (a bug, not a lost message) ends failed, with its error
    and without the address, instead of staying queued for the sweep to try every minute."""
    from matchmaker.accounts import services
    from matchmaker.accounts.tasks import send_waiting_resets
    from matchmaker.core.jobs import LOST_AFTER
    from matchmaker.core.models import Job, JobStatus
    from matchmaker.db import utcnow

    make_user(email="forgetful@example.org")

    def broken(_email: str) -> bool:
        raise RuntimeError("the template is broken")

    monkeypatch.setattr(services, "send_password_reset", broken)
    monkeypatch.setattr("matchmaker.accounts.tasks.send_password_reset", broken)
    response = client.post("/forgot-password", data={"email": "forgetful@example.org"})
    assert "If an account uses" in response.get_data(as_text=True)
    [job] = db.session.scalars(sa.select(Job)).all()
    assert job.status == JobStatus.FAILED
    assert "the template is broken" in (job.error or "")
    assert job.params == {}
    db.session.execute(
        sa.update(Job).values(created_at=utcnow() - LOST_AFTER - timedelta(seconds=1))
    )
    db.session.commit()
    assert send_waiting_resets() == 0
    assert len(outbox) == 0


def test_reset_link_expires(app: Flask, client: FlaskClient, outbox: Outbox) -> None:
    make_user(email="late@example.org")
    client.post("/forgot-password", data={"email": "late@example.org"})
    link = outbox.link(outbox[0], "/reset-password/")
    app.config["RESET_TOKEN_MAX_AGE"] = -1
    response = client.get(link, follow_redirects=True)
    assert "expired or was already used" in response.get_data(as_text=True)


def test_reset_form_rejects_a_short_password(client: FlaskClient, outbox: Outbox) -> None:
    make_user(email="short@example.org")
    client.post("/forgot-password", data={"email": "short@example.org"})
    link = outbox.link(outbox[0], "/reset-password/")
    response = client.post(link, data={"password": "short", "confirm_password": "short"})
    assert response.status_code == 422
    assert "between 10 and 200" in response.get_data(as_text=True)


def test_changing_the_password_signs_out_other_sessions(app: Flask, login: Any) -> None:
    user = make_user()
    this_browser = app.test_client()
    other_browser = app.test_client()
    for browser in (this_browser, other_browser):
        browser.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
        assert browser.get("/account").status_code == 200
    response = this_browser.post(
        "/account/password",
        data={"pw-current_password": PASSWORD, "pw-new_password": NEW, "pw-confirm_password": NEW},
    )
    assert response.status_code == 302
    assert this_browser.get("/account").status_code == 200
    assert other_browser.get("/account").status_code == 302
    assert db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user:change-password")
    )


def test_changing_the_password_needs_the_current_one(client: FlaskClient, login: Any) -> None:
    login(make_user())
    response = client.post(
        "/account/password",
        data={
            "pw-current_password": "wrong-one!!",
            "pw-new_password": NEW,
            "pw-confirm_password": NEW,
        },
    )
    assert response.status_code == 422
    assert "Your current password is not correct" in response.get_data(as_text=True)


def test_changing_the_email_confirms_the_new_address_first(
    client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    user = make_user(email="old@example.org")
    login(user)
    response = client.post(
        "/account/email", data={"em-email": "new@example.org", "em-password": PASSWORD}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.email == "old@example.org"
    [message] = outbox.to("new@example.org")
    client.get(outbox.link(message, "/account/email/confirm/"))
    db.session.refresh(user)
    assert user.email == "new@example.org"


def test_m4_changing_the_email_answers_the_same_for_a_taken_address(
    client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    """The form said "Another account already uses this email address": any account (anyone
    may sign up) could ask it address after address. It answers as for a free address; the
    owner of the taken one is told by mail, and nothing changes."""
    make_user(email="taken@example.org", display_name="Tam Taken")
    user = make_user(email="me@example.org")
    login(user)
    answers = []
    for address in ("taken@example.org", "free@example.org"):
        response = client.post(
            "/account/email", data={"em-email": address, "em-password": PASSWORD}
        )
        answers.append(
            (response.status_code, response.headers.get("Location"), len(outbox.to(address)))
        )
        page = client.get("/account").get_data(as_text=True)
        assert f"We have sent a confirmation link to {address}" in page
    assert answers[0] == answers[1] == (302, "/account", 1)
    [told] = outbox.to("taken@example.org")
    assert told["Subject"] == "Someone tried to move an account to your email address"
    assert "/account/email/confirm/" not in outbox.text(told)
    assert "Tam Taken" in outbox.text(told)
    # The account's own address hears of both requests, as of any.
    assert len(outbox.to("me@example.org")) == 2
    db.session.refresh(user)
    assert user.email == "me@example.org"


def test_changing_the_email_needs_the_password(client: FlaskClient, login: Any) -> None:
    login(make_user())
    response = client.post(
        "/account/email", data={"em-email": "new@example.org", "em-password": "not-my-password"}
    )
    assert response.status_code == 422
    assert "Your password is not correct" in response.get_data(as_text=True)


def _ask_for_email_change(client: FlaskClient, outbox: Outbox, new_email: str) -> str:
    response = client.post("/account/email", data={"em-email": new_email, "em-password": PASSWORD})
    assert response.status_code == 302
    message = outbox.to(new_email)[-1]
    return outbox.link(message, "/account/email/confirm/")


def test_h2_email_change_link_works_once(client: FlaskClient, login: Any, outbox: Outbox) -> None:
    user = make_user(email="victim@example.org")
    login(user)
    first = _ask_for_email_change(client, outbox, "attacker@example.org")
    client.get(first)
    db.session.refresh(user)
    assert user.email == "attacker@example.org"
    client.get(_ask_for_email_change(client, outbox, "victim@example.org"))
    db.session.refresh(user)
    assert user.email == "victim@example.org"

    # The first link does not flip the address back again.
    client.get(first)
    db.session.refresh(user)
    assert user.email == "victim@example.org"


def test_h2_email_change_link_dies_with_a_password_change(
    client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    user = make_user(email="victim@example.org")
    login(user)
    link = _ask_for_email_change(client, outbox, "attacker@example.org")
    client.post(
        "/account/password",
        data={"pw-current_password": PASSWORD, "pw-new_password": NEW, "pw-confirm_password": NEW},
    )
    response = client.get(link, follow_redirects=True)
    assert "This link has expired or is not valid" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.email == "victim@example.org"


def test_h2_email_change_link_dies_when_the_address_changes(
    client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    user = make_user(email="me@example.org")
    login(user)
    older = _ask_for_email_change(client, outbox, "first@example.org")
    client.get(_ask_for_email_change(client, outbox, "second@example.org"))
    client.get(older)
    db.session.refresh(user)
    assert user.email == "second@example.org"


def test_h2_old_address_hears_of_the_request_and_the_change(
    client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    user = make_user(email="old@example.org")
    login(user)
    link = _ask_for_email_change(client, outbox, "new@example.org")
    [requested] = outbox.to("old@example.org")
    assert "new@example.org" in outbox.text(requested)
    assert "It changes only when that address confirms" in outbox.text(requested)
    client.get(link)
    [_, changed] = outbox.to("old@example.org")
    assert "is now new@example.org" in outbox.text(changed)


def test_a_reset_message_queued_by_the_old_code_still_sends_its_link(
    app: Flask, outbox: Outbox
) -> None:
    """Before the job was a row, its message carried the address itself: one still in the
    broker when the new code starts sends its link as before."""
    from matchmaker.accounts.tasks import send_password_reset_task

    make_user(email="forgetful@example.org")
    send_password_reset_task("forgetful@example.org")
    [message] = outbox.to("forgetful@example.org")
    assert outbox.link(message, "/reset-password/")
