"""Issue 14: the confirmation link signs the newcomer in (once), and an unconfirmed member who
tries what needs a confirmed address is told what to do, with a button that resends the link."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import User
from matchmaker.extensions import db
from tests.conftest import Outbox
from tests.factories import make_user
from tests.proposals.helpers import signed_in

SIGNUP = {
    "email": "newcomer@example.org",
    "display_name": "Nia Newcomer",
    "password": "a-long-password",
    "confirm_password": "a-long-password",
}


def test_the_confirmation_link_signs_the_newcomer_in(
    app: Flask, client: FlaskClient, outbox: Outbox
) -> None:
    client.post("/signup", data=SIGNUP)
    link = outbox.link(outbox.to("newcomer@example.org")[0], "/confirm/")
    response = client.get(link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/my/organisations"
    page = client.get("/account").get_data(as_text=True)
    assert client.get("/account").status_code == 200
    assert "newcomer@example.org" in page and "not confirmed yet" not in page
    # The same link later, in another browser, confirms nothing new and signs nobody in.
    other = app.test_client()
    assert "/login" in other.get(link).headers["Location"]
    assert other.get("/account").status_code == 302


def test_a_forwarded_link_signs_nobody_in(app: Flask, outbox: Outbox) -> None:
    """Login CSRF: someone signs up with an address of their own and sends the unclicked link
    to another person, whose first click would sign them in to the sender's account without a
    word (what they then enter, the sender reads). The link signs in only the browser that
    signed up; elsewhere it confirms the address and asks for the password."""
    sender = app.test_client()
    sender.post("/signup", data=SIGNUP)
    link = outbox.link(outbox.to("newcomer@example.org")[0], "/confirm/")
    other = app.test_client()
    response = other.get(link)
    assert "/login" in response.headers["Location"]
    assert other.get("/account").status_code == 302
    newcomer = db.session.scalar(sa.select(User).where(User.email == "newcomer@example.org"))
    assert newcomer.is_email_confirmed
    # The sender's own browser signs in with the password, as anywhere.
    assert sender.get("/account").status_code == 302


def test_the_link_does_not_switch_a_signed_in_user(app: Flask, outbox: Outbox) -> None:
    app.test_client().post("/signup", data=SIGNUP)
    link = outbox.link(outbox.to("newcomer@example.org")[0], "/confirm/")
    someone = make_user(email="someone@example.org")
    client = signed_in(app, someone)
    client.get(link)
    assert "someone@example.org" in client.get("/account").get_data(as_text=True)
    newcomer = db.session.scalar(sa.select(User).where(User.email == "newcomer@example.org"))
    assert newcomer.is_email_confirmed


def test_an_unconfirmed_member_is_told_what_to_do_and_can_resend(
    app: Flask, outbox: Outbox
) -> None:
    user = make_user(email="unconfirmed@example.org", confirmed=False)
    client = signed_in(app, user)
    response = client.get("/organisations/new")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Confirm your email address first" in page
    assert "unconfirmed@example.org" in page
    assert 'action="/confirm/resend"' in page and "Send the confirmation link again" in page
    assert client.post("/confirm/resend").status_code == 302
    assert "/confirm/" in outbox.text(outbox.to("unconfirmed@example.org")[0])
