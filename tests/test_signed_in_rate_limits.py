"""Signed-in forms that mail addresses the user typed, mail many members, check the password or
make the server redraw a picture are limited per user (found in the 2026-12 penetration test:
they had no limit at all, so one account could flood an inbox with confirmation links)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from matchmaker.organisations.models import OrganisationKind
from tests.conftest import Outbox
from tests.factories import PASSWORD, make_organisation, make_user
from tests.proposals.helpers import signed_in

ALLOWED = 2


@pytest.fixture
def app_config() -> dict[str, Any]:
    limit = f"{ALLOWED} per hour"
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_ACCOUNT_MAIL": limit,
        "RATELIMIT_ACCOUNT_CHANGE": limit,
        "RATELIMIT_ANNOUNCEMENT": limit,
        "RATELIMIT_LOGO": limit,
        "RATELIMIT_SIMILAR": limit,
        "RATELIMIT_STORED_PAGES": limit,
    }


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _posts(app: Flask) -> dict[str, tuple[FlaskClient, str, dict[str, Any]]]:
    unconfirmed = make_user(confirmed=False)
    member = make_user()
    officer = make_user()
    agency = make_organisation(owner=officer, kind=OrganisationKind.PUBLIC_AGENCY)
    announcement = {
        "organisation": str(agency.id),
        "kind": "funding_call",
        "title": "Social innovation fund, spring round",
        "body": "Grants of up to 20,000 pounds for SSE projects in the city region.",
        "themes": ["funding"],
        "audience": "project_developers",
        "ends_on": (date.today() + timedelta(days=30)).isoformat(),
    }
    return {
        "confirmation link": (signed_in(app, unconfirmed), "/confirm/resend", {}),
        "email change": (
            signed_in(app, member),
            "/account/email",
            {"em-email": "someone.else@example.org", "em-password": PASSWORD},
        ),
        "password change": (
            signed_in(app, member),
            "/account/password",
            {"pw-current_password": "a wrong guess", "pw-new_password": "x" * 12},
        ),
        "announcement": (signed_in(app, officer), "/announcements/new", announcement),
        "logo": (
            signed_in(app, officer),
            f"/organisations/{agency.id}/logo",
            {"logo": "a fresh file each time"},
        ),
    }


@pytest.mark.parametrize(
    "form", ["confirmation link", "email change", "password change", "announcement", "logo"]
)
def test_signed_in_forms_that_mail_or_cost_are_limited_per_user(
    app: Flask, outbox: Outbox, form: str
) -> None:
    client, url, data = _posts(app)[form]

    def post() -> Any:
        # A file is read by each request: a fresh one each time.
        fresh = {
            k: (io.BytesIO(_logo()), "logo.png") if k == "logo" else v for k, v in data.items()
        }
        return client.post(url, data=fresh)

    if form == "announcement":
        # A form sent back to fix a field is not counted: only what is published (and mailed).
        for _ in range(ALLOWED + 1):
            assert client.post(url, data=data | {"title": ""}).status_code == 422
    for _ in range(ALLOWED):
        assert post().status_code != 429
    mailed = len(outbox)
    response = post()
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)
    assert len(outbox) == mailed  # nothing more went out
    # Another user is not held back by this one's count.
    if form == "confirmation link":
        assert signed_in(app, make_user(confirmed=False)).post(url).status_code != 429


def test_the_rate_limit_check_is_skipped_for_stored_pages_gets_only(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flask-Limiter's check before each request is wrapped so that a stored page's GET skips
    it, and nothing else does. If a new Flask-Limiter registers its check under another name,
    the first assertion fails (its request filter would still skip the limits, at more cost)."""
    from flask import request

    from matchmaker.core.caching import STORED_PAGE_ATTR, skip_rate_limit_check_for_stored_pages
    from matchmaker.extensions import limiter

    registered = app.before_request_funcs[None]
    assert limiter._check_request_limit not in registered
    assert any(getattr(f, "__wrapped__", None) == limiter._check_request_limit for f in registered)

    checked: list[str] = []
    monkeypatch.setattr(limiter, "_check_request_limit", lambda: checked.append(request.path))
    tiny = Flask(__name__)
    tiny.before_request(limiter._check_request_limit)

    def stored() -> str:
        return "stored"

    setattr(stored, STORED_PAGE_ATTR, True)
    tiny.add_url_rule("/stored", "stored", stored, methods=["GET", "POST"])
    tiny.add_url_rule("/plain", "plain", lambda: "plain")
    assert skip_rate_limit_check_for_stored_pages(tiny)
    client = tiny.test_client()
    client.get("/stored")
    client.post("/stored")
    client.get("/plain")
    assert checked == ["/stored", "/plain"]  # the POST and the other page, not the GET


def test_password_guesses_share_one_budget_on_every_form_that_checks_the_password(
    app: Flask,
) -> None:
    """Erasing one's account and closing an organisation ask for the password as changing it
    does: each answers whether a guess was right. They had no limit (a stolen session could try
    passwords there without end, each guess costing the server a password hash), and one budget
    covers the three, so moving from form to form buys no more guesses."""
    owner = make_user()
    organisation = make_organisation(owner=owner)
    client = signed_in(app, owner)
    guesses = [
        ("/account/erase", {"password": "a wrong guess"}),
        (f"/organisations/{organisation.id}/close", {"password": "a wrong guess"}),
        (
            "/account/password",
            {"pw-current_password": "a wrong guess", "pw-new_password": "x" * 12},
        ),
    ]
    for url, data in guesses[:ALLOWED]:
        assert client.post(url, data=data).status_code == 422, url
    for url, data in guesses:
        response = client.post(url, data=data)
        assert response.status_code == 429, url
        assert "Too many requests" in response.get_data(as_text=True)
    # The account and the organisation are still there, and another owner is not held back.
    assert client.get("/account").status_code == 200
    assert client.get(f"/organisations/{organisation.id}").status_code == 200
    other = make_user()
    assert signed_in(app, other).post("/account/erase", data=guesses[0][1]).status_code == 422


def test_similar_listings_are_limited_per_user(app: Flask) -> None:
    """The suggestions shown while a listing is written compare the text with every open listing
    in its language (some 90 ms of CPU at 20,000 listings): without a limit, one signed-in
    account could keep the servers busy. The form asks at most once a pause in typing."""
    owner = make_user()
    make_organisation(owner=owner)
    client = signed_in(app, owner)
    url = "/listings/similar?kind=need&q=community+energy+evaluation"
    for _ in range(ALLOWED):
        assert client.get(url).status_code == 200
    assert client.get(url).status_code == 429
    other = make_user()
    make_organisation(owner=other)
    assert signed_in(app, other).get(url).status_code == 200


def test_one_address_adds_only_its_budget_of_pages_to_the_visitors_cache(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every query string is a page of its own: an address inventing them (?q=...) stores
    its budget of pages, then is served pages built for it, and the cache stops growing."""
    from matchmaker.core import caching

    stored: list[str] = []
    real_store = caching.store
    monkeypatch.setattr(
        caching, "store", lambda key, value: (stored.append(key), real_store(key, value))
    )
    visitor = app.test_client()
    for word in ["alpha", "beta", "gamma", "delta"]:
        response = visitor.get("/needs", query_string={"q": word})
        assert response.status_code == 200
    pages = [key for key in stored if key.startswith("visitor-page:")]
    assert len(pages) == ALLOWED
    other = app.test_client()
    response = other.get(
        "/needs", query_string={"q": "epsilon"}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert response.status_code == 200
    pages = [key for key in stored if key.startswith("visitor-page:")]
    assert len(pages) == ALLOWED + 1  # another address has a budget of its own


def test_the_email_change_form_draws_on_the_same_password_guesses(app: Flask) -> None:
    """It checks the password too: a stolen session that used up its guesses on the other
    forms got more of them there (a budget of its own, for the mail it sends)."""
    client = signed_in(app, make_user())
    wrong = {"pw-current_password": "a wrong guess", "pw-new_password": "x" * 12}
    for _ in range(ALLOWED):
        assert client.post("/account/password", data=wrong).status_code == 422
    response = client.post(
        "/account/email",
        data={"em-email": "someone.else@example.org", "em-password": "another guess"},
    )
    assert response.status_code == 429
