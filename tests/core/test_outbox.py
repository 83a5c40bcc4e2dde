"""The outbox: mail is saved with the decision, sent after commit, retried, and sent once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_mailman.backends.smtp import EmailBackend
from sqlalchemy.orm import Session

from matchmaker.accounts.models import Role, User
from matchmaker.core import outbox as mail_outbox
from matchmaker.core.mail import send_email
from matchmaker.core.models import MessageStatus, OutboxMessage
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.matching.engine import run_full
from matchmaker.organisations.models import OrganisationKind, OrganisationStatus
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.conftest import Outbox, free_port, is_postgres
from tests.factories import PASSWORD, make_listing, make_organisation, make_user


@pytest.fixture
def smtp_down(app: Flask, smtp_sink: Any) -> Iterator[Callable[[], None]]:
    """Point the mailer at a port where nothing listens; call the result to bring SMTP back."""
    mailer = app.extensions["mailman"]
    mailer.port = free_port()

    def restore() -> None:
        mailer.port = smtp_sink.port

    yield restore
    restore()


SIGNUP = {
    "email": "new@example.org",
    "display_name": "Nia Newcomer",
    "password": "a-long-password",
    "confirm_password": "a-long-password",
}


def _as(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _messages(status: MessageStatus | None = None) -> list[OutboxMessage]:
    statement = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if status is not None:
        statement = statement.where(OutboxMessage.status == status)
    db.session.expire_all()
    return list(db.session.scalars(statement))


def _time_passes() -> None:
    """As if every wait before the next attempt were over."""
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()


def _queue_mail(app: Flask, user: User, subject: str = "Hello") -> None:
    """Queue one message to ``user`` in the current transaction (sent once it commits)."""
    with app.test_request_context():
        send_email(user.email, subject, "reset_password", user=user, reset_url="x", minutes=1)


def _proposal() -> tuple[Proposal, User, User]:
    network_owner = make_user(email="rosie@example.org")
    uni_owner = make_user(email="alan@example.org")
    network = make_organisation(owner=network_owner)
    university = make_organisation(
        owner=uni_owner, kind=OrganisationKind.ACADEMIC_INSTITUTION, name="University"
    )
    make_listing(organisation=network, themes=("research-evaluation",))
    make_listing(organisation=university, kind=ListingKind.OFFER, themes=("research-evaluation",))
    run_full()
    db.session.commit()
    proposal = db.session.scalar(sa.select(Proposal))
    assert proposal is not None
    return proposal, network_owner, uni_owner


def test_with_smtp_down_every_action_succeeds_and_its_mail_follows_once(
    app: Flask, outbox: Outbox, smtp_down: Callable[[], None]
) -> None:
    proposal, network_owner, _ = _proposal()
    coordinator = make_user(role=Role.COORDINATOR)
    owner = make_user(email="owner@example.org")
    pending = make_organisation(owner=owner, status=OrganisationStatus.PENDING)
    make_user(email="forgetful@example.org")

    signup = app.test_client().post(
        "/signup",
        data=SIGNUP,
    )
    assert signup.status_code == 200 and "Check your email" in signup.get_data(as_text=True)
    reset = app.test_client().post("/forgot-password", data={"email": "forgetful@example.org"})
    assert reset.status_code == 200
    by_coordinator = _as(app, coordinator)
    verify = by_coordinator.post(f"/coordination/organisations/{pending.id}/verify")
    assert verify.status_code == 302
    approve = by_coordinator.post(
        f"/coordination/proposals/{proposal.id}/approve",
        data={"approve-version": proposal.version},
    )
    assert approve.status_code == 302
    party = proposal.parties[0]
    answer = _as(app, network_owner).post(
        f"/proposals/{proposal.id}/organisations/{party.organisation_id}/accept"
    )
    assert answer.status_code == 302

    db.session.expire_all()
    assert db.session.scalar(sa.select(User).where(User.email == "new@example.org"))
    assert db.session.get(Proposal, proposal.id).status == ProposalStatus.APPROVED
    assert len(outbox) == 0
    waiting = _messages(MessageStatus.PENDING)
    assert {m.template for m in waiting} == {
        "confirm_email",
        "reset_password",
        "organisation_verified",
        "proposal_introduced",
    }
    # Each request tried its mail once; after the first refusal a request leaves the rest.
    tried = [m for m in waiting if m.attempts]
    assert tried and all("refused" in (m.last_error or "").lower() for m in tried)
    assert all(m.attempts <= 1 and m.next_attempt_at > utcnow() for m in tried)

    attempts = sum(m.attempts for m in waiting)
    _time_passes()
    assert mail_outbox.deliver_due() == 0  # still down: one attempt, and the sweep stops there
    assert sum(m.attempts for m in _messages()) == attempts + 1

    smtp_down()  # the server is back
    # What that sweep did not reach is still due; the one it tried waits its turn.
    assert mail_outbox.deliver_due() == len(waiting) - 1
    _time_passes()
    assert mail_outbox.deliver_due() == 1
    assert sorted(m["X-Envelope-To"] for m in outbox.sink.messages) == sorted(
        [
            "new@example.org",
            "forgetful@example.org",
            "owner@example.org",
            "rosie@example.org",
            "alan@example.org",
        ]
    )
    assert _messages(MessageStatus.PENDING) == []
    _time_passes()
    assert mail_outbox.deliver_due() == 0
    assert len(outbox) == 5


def test_mail_arrives_before_the_response_is_read(client: FlaskClient, outbox: Outbox) -> None:
    client.post(
        "/signup",
        data=SIGNUP,
    )
    [message] = outbox.to("new@example.org")
    assert "/confirm/" in outbox.text(message)
    [row] = _messages()
    assert (row.status, row.attempts, row.sent_at is not None) == (MessageStatus.SENT, 1, True)
    assert row.body_text == row.body_html == ""  # the confirmation link is not kept


def test_a_rolled_back_decision_sends_nothing(app: Flask, outbox: Outbox) -> None:
    user = make_user(email="someone@example.org")
    _queue_mail(app, user, "Never sent")
    db.session.rollback()
    make_user(email="later@example.org")  # a later transaction commits
    assert len(outbox) == 0
    assert _messages() == []


def test_a_failing_message_waits_twice_as_long_each_time_then_fails_and_is_logged(
    app: Flask, outbox: Outbox, smtp_down: Callable[[], None], caplog: pytest.LogCaptureFixture
) -> None:
    _queue_mail(app, make_user(email="someone@example.org"))
    with caplog.at_level(logging.WARNING, logger="matchmaker.core.outbox"):
        db.session.commit()
    [message] = _messages()
    waits = []
    for _attempt in range(mail_outbox.MAX_ATTEMPTS - 1):
        waits.append(message.next_attempt_at - message.updated_at)
        _time_passes()
        mail_outbox.deliver_due()
        [message] = _messages()
    assert message.attempts == mail_outbox.MAX_ATTEMPTS
    assert message.status == MessageStatus.FAILED
    assert [round(w / timedelta(minutes=1)) for w in waits[:4]] == [1, 2, 4, 8]
    assert waits[-1] <= mail_outbox.LONGEST_WAIT + timedelta(seconds=1)
    assert "not delivered (attempt 1)" in caplog.text
    assert "failed for good after 8 attempts" in caplog.text
    _time_passes()
    assert mail_outbox.deliver_due() == 0  # a failed message waits for an admin
    assert len(outbox) == 0


def test_a_message_is_delivered_once_however_often_it_is_asked_for(
    app: Flask, outbox: Outbox
) -> None:
    _queue_mail(app, make_user(email="someone@example.org"))
    db.session.commit()
    [message] = _messages()
    assert mail_outbox.deliver(message.id) is mail_outbox.Delivery.SKIPPED  # sent at commit
    assert mail_outbox.deliver_due() == 0
    assert len(outbox) == 1


@pytest.mark.skipif(not is_postgres(), reason="row locks are PostgreSQL's")
def test_a_message_another_deliverer_holds_is_skipped_not_sent_twice(
    app: Flask, outbox: Outbox, smtp_down: Callable[[], None]
) -> None:
    _queue_mail(app, make_user(email="someone@example.org"))
    db.session.commit()  # SMTP is down: the message waits
    smtp_down()
    _time_passes()
    [message] = _messages()
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with Session(engine) as other_deliverer:
        other_deliverer.execute(
            sa.select(OutboxMessage.id).where(OutboxMessage.id == message.id).with_for_update()
        )
        assert mail_outbox.deliver(message.id) is mail_outbox.Delivery.SKIPPED  # at once
        other_deliverer.rollback()
    engine.dispose()
    assert len(outbox) == 0
    assert mail_outbox.deliver(message.id) is mail_outbox.Delivery.SENT
    assert len(outbox) == 1


def test_every_attempt_at_a_message_carries_the_same_message_id(
    app: Flask, outbox: Outbox, smtp_down: Callable[[], None]
) -> None:
    _queue_mail(app, make_user(email="someone@example.org"))
    db.session.commit()  # SMTP is down: the first attempt fails
    smtp_down()
    _time_passes()
    assert mail_outbox.deliver_due() == 1
    [message] = _messages()
    # As if the deliverer had died after the server took the message, before marking it sent.
    db.session.execute(
        sa.update(OutboxMessage).values(status=MessageStatus.PENDING, body_text="Hello again")
    )
    db.session.commit()
    assert mail_outbox.deliver_due() == 1
    first, again = outbox.sink.messages
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"].startswith(f"<outbox.{message.id}.")
    assert first["Message-ID"].endswith("@localhost>")


def test_messages_have_message_ids_of_their_own(app: Flask, outbox: Outbox) -> None:
    user = make_user(email="someone@example.org")
    for _ in range(2):
        _queue_mail(app, user)
        db.session.commit()
    first, second = outbox.sink.messages
    assert first["Message-ID"] != second["Message-ID"]


def test_a_message_is_marked_sent_before_the_connection_closes_and_not_sent_again(
    app: Flask, outbox: Outbox, smtp_down: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server has the message once it answered DATA: a connection lost at QUIT does not
    make it a failure to send again, and a deliverer dying at QUIT finds it marked sent."""
    _queue_mail(app, make_user(email="someone@example.org"))
    db.session.commit()  # SMTP is down: the message waits
    smtp_down()
    [message] = _messages()
    seen_at_quit = []

    def close_badly(self: EmailBackend) -> None:
        with db.engine.connect() as other_connection:  # what another deliverer would see
            seen_at_quit.append(
                other_connection.scalar(
                    sa.select(OutboxMessage.status).where(OutboxMessage.id == message.id)
                )
            )
        self.connection.close()
        self.connection = None
        raise ConnectionResetError("reset by peer at QUIT")

    monkeypatch.setattr(EmailBackend, "close", close_badly)
    _time_passes()
    assert mail_outbox.deliver_due() == 1
    assert seen_at_quit == [MessageStatus.SENT]
    _time_passes()
    assert mail_outbox.deliver_due() == 0
    assert len(outbox) == 1
    assert _messages(MessageStatus.SENT) == _messages()
