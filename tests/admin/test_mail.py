"""Admin → Mail: undelivered and failed mail, and sending it again (with CSRF on)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role, User
from matchmaker.core import outbox as mail_outbox
from matchmaker.core.mail import send_email
from matchmaker.core.models import AuditEvent, MessageStatus, OutboxMessage
from matchmaker.extensions import db
from tests.conftest import Outbox
from tests.core.test_outbox import smtp_down  # noqa: F401 (a fixture)
from tests.factories import PASSWORD, make_user


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def _csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _logged_in(app: Flask, user: User) -> tuple[FlaskClient, str]:
    """A client signed in as ``user``, and a CSRF token of its session."""
    client = app.test_client()
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    # The token changes at sign-in: take the one of the signed-in session.
    return client, _csrf_token(client.get("/").get_data(as_text=True))


def _failed_message(app: Flask) -> OutboxMessage:
    user = make_user(email="someone@example.org")
    with app.test_request_context():
        send_email(
            user.email, "Your reset link", "reset_password", user=user, reset_url="x", minutes=1
        )
    db.session.commit()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message is not None
    message.status, message.attempts = MessageStatus.FAILED, mail_outbox.MAX_ATTEMPTS
    message.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
    db.session.commit()
    return message


@pytest.mark.parametrize(
    "role, status", [(Role.MEMBER, 403), (Role.COORDINATOR, 403), (Role.ADMIN, 302)]
)
def test_only_admins_see_and_retry_undelivered_mail(
    app: Flask, outbox: Outbox, role: Role, status: int
) -> None:
    message = _failed_message(app)
    outbox.sink.messages.clear()
    client, token = _logged_in(app, make_user(role=role))
    assert client.get("/admin/mail").status_code == (200 if status == 302 else status)
    retry = client.post(f"/admin/mail/{message.id}/retry", data={"csrf_token": token})
    assert retry.status_code == status
    assert len(outbox) == (1 if status == 302 else 0)


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient) -> None:
    assert client.get("/admin/mail").status_code == 302
    assert "/login" in client.get("/admin/mail").headers["Location"]


def test_an_admin_sees_failed_mail_and_sends_it_again(
    app: Flask,
    outbox: Outbox,
    smtp_down: Callable[[], None],  # noqa: F811
) -> None:
    message = _failed_message(app)
    client, token = _logged_in(app, make_user(role=Role.ADMIN))
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "Your reset link" in page and "someone@example.org" in page and "failed" in page
    assert "ConnectionRefusedError" in page
    assert client.post(f"/admin/mail/{message.id}/retry").status_code == 400  # no CSRF token

    smtp_down()  # the server is back
    response = client.post(f"/admin/mail/{message.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    [delivered] = outbox.to("someone@example.org")
    assert delivered["Subject"] == "Your reset link"
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == MessageStatus.SENT
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "mail:retry"))
    assert "Every message has been delivered" in client.get("/admin/mail").get_data(as_text=True)
    again = client.post(f"/admin/mail/{message.id}/retry", data={"csrf_token": token})
    assert again.status_code == 302
    assert len(outbox) == 1


def test_retrying_an_unknown_message_is_404(app: Flask) -> None:
    client, token = _logged_in(app, make_user(role=Role.ADMIN))
    assert client.post("/admin/mail/999/retry", data={"csrf_token": token}).status_code == 404
