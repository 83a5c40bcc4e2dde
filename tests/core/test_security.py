"""The reader's signed CSRF token, given again while it is young: it is what Flask-WTF would
give, it validates, and it never outlives what the time limit allows."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask, g, session
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import URLSafeTimedSerializer

from matchmaker.core.security import signed_csrf_token


def _signed(app: Flask, raw: str) -> str:
    """A token as a request of the session holding ``raw`` would be given it."""
    with app.test_request_context("/"):
        g.pop("csrf_token", None)  # (the test's app context outlives each request's)
        session["csrf_token"] = raw
        return signed_csrf_token()


def _raw_of(app: Flask, token: str) -> Any:
    serializer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    return serializer.loads(token)


def test_a_signed_token_is_what_flask_wtf_gives_and_it_validates(app: Flask) -> None:
    with app.test_request_context("/"):
        g.pop("csrf_token", None)
        session["csrf_token"] = "raw-token-of-ada"
        ours = signed_csrf_token()
        assert g.csrf_token == ours  # the request's token, as generate_csrf leaves it
        assert generate_csrf() == ours
        validate_csrf(ours)
        g.pop("csrf_token")
        plain = generate_csrf()
    assert _raw_of(app, ours) == _raw_of(app, plain) == "raw-token-of-ada"
    # Another request of the same session is given the token signed for the first.
    assert _signed(app, "raw-token-of-ada") == ours
    # Another session's raw token gets its own token; so does a session with none yet.
    assert _raw_of(app, _signed(app, "raw-token-of-bob")) == "raw-token-of-bob"
    with app.test_request_context("/"):
        g.pop("csrf_token", None)
        token = signed_csrf_token()
        assert _raw_of(app, token) == session["csrf_token"]


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_TIME_LIMIT": 600}])
def test_a_token_is_given_again_only_while_young(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _signed(app, "raw-token-of-cleo")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 59)  # under a tenth of the limit
    assert _signed(app, "raw-token-of-cleo") == first
    monkeypatch.setattr(time, "time", lambda: now + 61)
    again = _signed(app, "raw-token-of-cleo")
    assert again != first
    with app.test_request_context("/"):
        session["csrf_token"] = "raw-token-of-cleo"
        validate_csrf(again)
