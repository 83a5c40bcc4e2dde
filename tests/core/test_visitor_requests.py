"""What a signed-out visitor's request skips, and what it never skips: a stored page is not
rate-checked (it has no limits of its own) while every form still is; a request without
cookies is a signed-out visitor's; the security headers are on every answer."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from flask_login import current_user

from matchmaker.core.caching import is_stored_page_request
from matchmaker.core.security import SECURITY_HEADERS
from tests.factories import make_user

RATE_LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "2 per minute"}


@pytest.mark.parametrize("app_config", [RATE_LIMITED])
def test_stored_pages_skip_the_rate_check_and_forms_do_not(app: Flask, client: FlaskClient) -> None:
    for path, method, skipped in [
        ("/needs?q=kitchen", "GET", True),
        ("/", "HEAD", True),
        ("/coordination/proposals", "GET", True),  # stored for an audience of coordinators
        ("/coordination/dashboard", "GET", True),
        ("/coordination/dashboard/by_theme.csv", "GET", False),  # not a stored page
        ("/login", "GET", False),  # not a stored page
        ("/login", "POST", False),
        ("/language", "POST", False),
    ]:
        with app.test_request_context(path, method=method):
            assert is_stored_page_request() is skipped, (method, path)
    for _ in range(5):
        assert client.get("/needs").status_code == 200
    data = {"email": "a@example.org", "password": "wrong-password"}
    assert [client.post("/login", data=data).status_code == 429 for _ in range(3)] == [
        False,
        False,
        True,
    ]


def test_limits_for_every_page_would_reach_stored_pages_too(app: Flask) -> None:
    # (Checked on the filter: a default limit set on one app would stay on the process's
    # limiter for the tests after it.)
    for setting in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"):
        app.config[setting] = "2 per minute"
        with app.test_request_context("/needs"):
            assert not is_stored_page_request()
        del app.config[setting]


def test_a_request_without_cookies_is_a_signed_out_visitors(
    app: Flask, client: FlaskClient, login: Any
) -> None:
    with app.test_request_context("/"):
        app.preprocess_request()
        assert not current_user.is_authenticated
    user = make_user()
    login(user)
    assert "Sign out" in client.get("/").get_data(as_text=True)
    # The same browser without its cookies is someone else: a visitor.
    client.delete_cookie("session")
    assert "Sign out" not in client.get("/").get_data(as_text=True)


def test_every_answer_carries_the_security_headers(client: FlaskClient, login: Any) -> None:
    answers = [client.get("/"), client.get("/"), client.get("/no-such-page"), client.get("/login")]
    login(make_user())
    answers.append(client.get("/"))
    for answer in answers:
        for name, value in SECURITY_HEADERS:
            assert answer.headers.getlist(name) == [value], (answer.request.path, name)


def test_sessions_open_as_flask_opens_them(app: Flask, client: FlaskClient, login: Any) -> None:
    login(make_user())
    cookie = client.get_cookie("session")
    assert cookie is not None
    plain, opened = SecureCookieSessionInterface(), []
    for sent in ({}, {"Cookie": f"session={cookie.value}"}, {"Cookie": "session=forged"}):
        with app.test_request_context("/", headers=sent) as context:
            ours = app.session_interface.open_session(app, context.request)
            theirs = plain.open_session(app, context.request)
            assert ours is not None and theirs is not None
            assert dict(ours) == dict(theirs), sent
            opened.append(bool(ours))
    assert opened == [False, True, False]  # the signed-in one was read, the forged one not


def test_a_session_cookie_verified_before_opens_as_flask_opens_it(
    app: Flask, client: FlaskClient, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(make_user())
    cookie = client.get_cookie("session")
    assert cookie is not None
    ours, plain = app.session_interface, SecureCookieSessionInterface()

    def both(value: str) -> tuple[dict[str, Any], dict[str, Any]]:
        with app.test_request_context("/", headers={"Cookie": f"session={value}"}) as context:
            opened = ours.open_session(app, context.request)
            assert opened is not None
            theirs = plain.open_session(app, context.request)
            assert theirs is not None
            return dict(opened), dict(theirs)

    first, theirs = both(cookie.value)
    assert first == theirs and "_user_id" in first
    # Read again, from what this process verified (no signature checked): the same, and a change
    # to one request's session (a message queued in place) reaches no other request.
    serializers = []
    build_serializer = ours.get_signing_serializer
    monkeypatch.setattr(
        ours, "get_signing_serializer", lambda a: serializers.append(1) or build_serializer(a)
    )
    again, theirs = both(cookie.value)
    assert again == theirs == first
    assert serializers == []
    with app.test_request_context("/", headers={"Cookie": f"session={cookie.value}"}) as context:
        opened = ours.open_session(app, context.request)
        assert opened is not None
        opened.setdefault("_flashes", []).append(("info", "only here"))
    assert both(cookie.value)[0] == first
    assert both("forged")[0] == {} and serializers  # a forged cookie is checked every time
    # A cookie older than the session lifetime is refused, verified before or not.
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert both(cookie.value) == ({}, {})
    # Another secret key does not read it either.
    monkeypatch.undo()
    app.secret_key = "another key"
    assert both(cookie.value) == ({}, {})


@pytest.mark.parametrize(
    "data",
    [
        {"_user_id": "1:token:1700000000", "_fresh": True, "_id": "abc", "csrf_token": "t"},
        {"_user_id": "1:t:1", "_flashes": [("info", "Saved.")], "n": 2.5, "none": None},
        {"nested": {"list": [1, 2]}},
        {},
    ],
)
def test_a_session_s_own_copy_is_deepcopy_s(data: dict[str, Any]) -> None:
    import copy

    from matchmaker.core.security import own_copy

    kept = copy.deepcopy(data)
    mine = own_copy(data)
    assert mine == copy.deepcopy(data) and mine is not data
    # Changed in place, as a request changes its session: the kept data does not change.
    mine["added"] = 1
    for value in mine.values():
        if isinstance(value, list):
            value.append("changed")
        elif isinstance(value, dict):
            value["changed"] = True
    assert data == kept
