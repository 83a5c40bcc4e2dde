from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import User
from matchmaker.extensions import db
from tests.conftest import Outbox
from tests.factories import PASSWORD, make_user

SIGNUP = {
    "email": "Newcomer@Example.org",
    "display_name": "Nia Newcomer",
    "password": "a-long-password",
    "confirm_password": "a-long-password",
}


def test_signup_sends_a_confirmation_link_that_confirms(
    client: FlaskClient, outbox: Outbox
) -> None:
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.email == "newcomer@example.org"))
    assert user is not None and not user.is_email_confirmed
    assert user.password_hash.startswith("scrypt:")
    [message] = outbox.to("newcomer@example.org")
    assert message["Subject"] == "Confirm your email address"
    link = outbox.link(message, "/confirm/")
    assert client.get(link).status_code == 302
    db.session.refresh(user)
    assert user.is_email_confirmed


def test_confirmation_link_expires(app: Flask, client: FlaskClient, outbox: Outbox) -> None:
    client.post("/signup", data=SIGNUP)
    link = outbox.link(outbox[0], "/confirm/")
    app.config["EMAIL_TOKEN_MAX_AGE"] = -1
    response = client.get(link, follow_redirects=True)
    assert "This confirmation link has expired" in response.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.email == "newcomer@example.org"))
    assert not user.is_email_confirmed


def test_tampered_confirmation_link_is_refused(client: FlaskClient) -> None:
    response = client.get("/confirm/not-a-real-token", follow_redirects=True)
    assert "This confirmation link is not valid" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "change, field_error",
    [
        ({"password": "short", "confirm_password": "short"}, "between 10 and 200"),
        ({"confirm_password": "something-else"}, "The two passwords are not the same"),
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"display_name": ""}, "Enter your name"),
    ],
)
def test_signup_shows_errors_and_keeps_what_was_typed(
    client: FlaskClient, change: dict[str, str], field_error: str
) -> None:
    response = client.post("/signup", data={**SIGNUP, **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error in page
    if "display_name" not in change:
        assert 'value="Nia Newcomer"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_signup_with_a_taken_address_reveals_nothing_and_mails_the_owner(
    client: FlaskClient, outbox: Outbox
) -> None:
    make_user(email="taken@example.org")
    response = client.post("/signup", data={**SIGNUP, "email": "taken@example.org"})
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    [message] = outbox.to("taken@example.org")
    assert "already have one" in outbox.text(message)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_login_and_logout(client: FlaskClient, login: Any) -> None:
    user = make_user()
    login(user)
    assert client.get("/account").status_code == 200
    client.post("/logout")
    assert client.get("/account").status_code == 302


def test_login_is_case_insensitive_on_email(client: FlaskClient) -> None:
    make_user(email="case@example.org")
    response = client.post("/login", data={"email": "CASE@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_failed_login_says_nothing_about_the_address(client: FlaskClient) -> None:
    make_user(email="known@example.org")
    wrong_password = client.post(
        "/login", data={"email": "known@example.org", "password": "wrong-password"}
    )
    unknown_email = client.post(
        "/login", data={"email": "unknown@example.org", "password": "wrong-password"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 422
    message = "The email address or password is not correct."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_email.get_data(as_text=True)


def test_remember_me_sets_a_lasting_cookie(client: FlaskClient, login: Any) -> None:
    response = login(make_user(), remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "Expires=" in remember[0]


def test_without_remember_me_no_lasting_cookie(client: FlaskClient, login: Any) -> None:
    response = login(make_user())
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember")]


def test_login_page_sends_to_next_after_signing_in(client: FlaskClient) -> None:
    user = make_user()
    response = client.get("/account")
    assert response.headers["Location"] == "/login?next=%2Faccount"
    response = client.post(
        "/login?next=%2Faccount", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/account"


def test_deactivated_account_cannot_sign_in(client: FlaskClient) -> None:
    user = make_user()
    user.is_active_account = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 422


def test_unconfirmed_user_is_reminded_and_can_resend(
    client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    user = make_user(confirmed=False)
    login(user)
    page = client.get("/").get_data(as_text=True)
    assert "Please confirm your email address" in page
    client.post("/confirm/resend")
    [message] = outbox.to(user.email)
    assert "/confirm/" in outbox.text(message)


def _copy_cookies(source: FlaskClient, target: FlaskClient, *names: str) -> None:
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, name
        target.set_cookie(name, cookie.value)


def test_m2_logout_ends_the_saved_session_and_remember_me_cookies(app: Flask) -> None:
    user = make_user()
    browser = app.test_client()
    browser.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    saved_session, saved_remember = app.test_client(), app.test_client()
    _copy_cookies(browser, saved_session, "session")
    _copy_cookies(browser, saved_remember, "remember_token")
    assert saved_session.get("/account").status_code == 200
    assert saved_remember.get("/account").status_code == 200

    browser.post("/logout")

    assert browser.get("/account").status_code == 302
    assert saved_session.get("/account").status_code == 302
    assert saved_remember.get("/account").status_code == 302


def test_m2_remember_me_cookie_expires_on_the_server(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    browser = app.test_client()
    browser.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    signed_in = time.time()
    days = app.config["REMEMBER_COOKIE_DURATION"].days

    def remembered_after(elapsed_days: int) -> int:
        monkeypatch.setattr(time, "time", lambda: signed_in + elapsed_days * 86400)
        # A browser that kept only the remember-me cookie, whatever expiry it was given.
        returning = app.test_client()
        _copy_cookies(browser, returning, "remember_token")
        return returning.get("/account").status_code

    assert remembered_after(days - 1) == 200
    assert remembered_after(days + 1) == 302
