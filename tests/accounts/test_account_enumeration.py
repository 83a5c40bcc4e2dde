"""M4: the sign-up and forgotten-password pages do not tell whether an address has an account,
neither by their answer nor by the work (and so the time) it takes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from werkzeug import security

from matchmaker.accounts import models, services
from matchmaker.accounts.models import User
from matchmaker.core import jobs
from matchmaker.core.models import Job, OutboxMessage
from matchmaker.extensions import db
from tests.conftest import Outbox, free_port
from tests.factories import make_user

_OUTBOX_COUNT = sa.select(sa.func.count()).select_from(OutboxMessage)

SIGNUP = {
    "display_name": "Nia Newcomer",
    "password": "a-long-password",
    "confirm_password": "a-long-password",
}


def _page(response: Any) -> str:
    """The page, without its CSRF tokens (signed afresh for every page)."""
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "csrf", response.get_data(as_text=True))


@pytest.fixture
def hasher_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How many times passwords were hashed or checked (the slow, deliberately costly work)."""
    calls: Counter[str] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(
        models, "generate_password_hash", counting("hash", security.generate_password_hash)
    )
    for module in (models, services):
        monkeypatch.setattr(
            module, "check_password_hash", counting("check", security.check_password_hash)
        )
    services._dummy_hash()  # computed once per process, before anything is counted
    yield calls


def test_m4_signup_does_the_same_work_for_known_and_new_addresses(
    client: FlaskClient, outbox: Outbox, hasher_calls: Counter[str]
) -> None:
    make_user(email="known@example.org")
    hasher_calls.clear()

    known = client.post("/signup", data={**SIGNUP, "email": "known@example.org"})
    work_for_known = dict(hasher_calls)
    hasher_calls.clear()
    new = client.post("/signup", data={**SIGNUP, "email": "new@example.org"})
    work_for_new = dict(hasher_calls)

    assert work_for_known == work_for_new == {"hash": 1}
    assert known.status_code == new.status_code == 200
    assert _page(known).replace("known@", "new@") == _page(new)
    # One mail each: the owner of the known address is told someone tried to sign up.
    [told] = outbox.to("known@example.org")
    assert told["Subject"] == "Someone tried to sign up with your address"
    assert [m["Subject"] for m in outbox.to("new@example.org")] == ["Confirm your email address"]
    emails = set(db.session.scalars(sa.select(User.email)))
    assert emails == {"known@example.org", "new@example.org"}


def test_m4_failed_login_does_the_same_work_for_known_and_unknown_addresses(
    client: FlaskClient, hasher_calls: Counter[str]
) -> None:
    make_user(email="known@example.org")
    hasher_calls.clear()
    known = client.post("/login", data={"email": "known@example.org", "password": "wrong-guess"})
    work_for_known = dict(hasher_calls)
    hasher_calls.clear()
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "wrong-guess"})
    assert dict(hasher_calls) == work_for_known == {"check": 1}
    assert known.status_code == unknown.status_code == 422


def test_m4_forgot_password_answers_the_same_for_known_unknown_and_inactive_addresses(
    client: FlaskClient, outbox: Outbox
) -> None:
    make_user(email="known@example.org")
    inactive = make_user(email="gone@example.org")
    inactive.is_active_account = False
    db.session.commit()
    answers = {}
    for address in ("known@example.org", "nobody@example.org", "gone@example.org"):
        response = client.post("/forgot-password", data={"email": address})
        answers[address] = (
            response.status_code,
            _page(response).replace(address, "ADDRESS"),
        )
    assert answers["known@example.org"] == answers["nobody@example.org"]
    assert answers["gone@example.org"] == answers["nobody@example.org"]
    assert answers["known@example.org"][0] == 200
    assert len(outbox.to("known@example.org")) == 1
    assert len(outbox) == 1


def test_m4_forgot_password_does_the_same_work_for_known_and_unknown_addresses(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request only queues the job that looks the address up. Signing a token, rendering
    the mail and queueing it in the request made a known address answer measurably later than
    an unknown one (about 70 ms on a quiet server): an oracle for which addresses have accounts,
    whatever the page says."""
    make_user(email="known@example.org")
    started: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args: started.append((name, args)))
    rendered: list[str] = []

    def record(_sender: Flask, template: Any, **_extra: Any) -> None:
        rendered.append(template.name)

    work = {}
    with template_rendered.connected_to(record, app):
        for address in ("known@example.org", "nobody@example.org"):
            started.clear()
            rendered.clear()
            response = client.post("/forgot-password", data={"email": address})
            assert response.status_code == 200
            # The job is a row holding the address (accounts/tasks.py), whatever the address.
            jobs_started = [
                (name, db.session.get(Job, args[0]).params == {"email": address})
                for name, args in started
            ]
            work[address] = (jobs_started, list(rendered), db.session.scalar(_OUTBOX_COUNT))

    assert work["known@example.org"] == work["nobody@example.org"]
    assert work["known@example.org"] == (
        [(services.SEND_RESET_LINK, True)],
        ["accounts/check_email.html"],
        0,
    )


def test_m4_the_reset_job_mails_only_an_active_account(app: Flask, outbox: Outbox) -> None:
    make_user(email="known@example.org")
    inactive = make_user(email="gone@example.org")
    inactive.is_active_account = False
    db.session.commit()
    with app.test_request_context(base_url=app.config["MATCHMAKER_BASE_URL"]):
        sent = [
            services.send_password_reset(address)
            for address in ("known@example.org", "nobody@example.org", "gone@example.org")
        ]
    db.session.commit()  # the mail goes out of the outbox after this commit
    assert sent == [True, False, False]
    [message] = outbox
    assert message["To"] == "known@example.org"
    assert outbox.link(message, "/reset-password/")


def test_m4_forgot_password_answers_the_same_while_the_mail_server_is_down(
    app: Flask, client: FlaskClient
) -> None:
    make_user(email="known@example.org")
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    known = client.post("/forgot-password", data={"email": "known@example.org"})
    unknown = client.post("/forgot-password", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert _page(known).replace("known@", "nobody@") == _page(unknown)
