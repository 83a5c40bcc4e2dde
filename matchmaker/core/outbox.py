"""The outbox: mail is a row written with the decision that causes it, delivered after commit.

:func:`queue_message` adds the rendered message to the request's transaction and asks for a
delivery job after commit: a rolled-back decision sends nothing, and a decision never waits
on (or fails with) the SMTP server. The job (:func:`deliver_due`) sends what is due; a failed
attempt is tried again later, each wait twice the one before, and after ``MAX_ATTEMPTS`` the
message is marked failed for an admin to retry (Admin → Mail).

Exactly once: a message is claimed by an UPDATE that, on PostgreSQL, only touches a row no
other deliverer holds (``FOR UPDATE SKIP LOCKED``); the row stays locked while the message is
sent and is marked sent in the same transaction. On SQLite the claim takes the database's write
lock, which serialises deliverers the same way. That transaction commits as soon as the server
has answered the message's DATA, before the connection is closed (QUIT): a server that drops
the connection at QUIT has the message, and it is not sent again. If a deliverer dies in the
one database round trip between the server's answer and that commit, the message is still
pending and is sent again: at worst a duplicate, never a loss. Every attempt carries the same
Message-ID (:func:`message_id`), so such a duplicate is recognisable as one: mail stores that
drop a Message-ID they already hold drop it, and ``bench/load.py`` counts duplicates by it.
"""

from __future__ import annotations

import enum
import logging
from datetime import timedelta
from email.utils import parseaddr
from typing import Any, cast

import sqlalchemy as sa
from celery import shared_task
from flask import current_app
from flask_mailman import EmailMultiAlternatives

from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.core.jobs import enqueue_after_commit
from matchmaker.core.models import MessageStatus, OutboxMessage
from matchmaker.db import utcnow
from matchmaker.extensions import db, mail

logger = logging.getLogger(__name__)

DELIVER_DUE = "mail.deliver_due"
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)  # then 2, 4, 8 ... minutes
LONGEST_WAIT = timedelta(hours=6)
SWEEP_SIZE = 200


def queue_message(
    *, recipients: list[str], subject: str, body_text: str, body_html: str, template: str
) -> OutboxMessage:
    """Put a message in the outbox, to be delivered once the current transaction commits."""
    message = OutboxMessage(
        recipients=", ".join(recipients),
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        template=template,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    enqueue_after_commit(DELIVER_DUE)
    return message


def retry_wait(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


def _claim(message_id: int) -> OutboxMessage | None:
    """Lock a due message for this transaction and count the attempt, or None if it is not
    due, already sent, or being sent by another deliverer."""
    now = utcnow()
    due = (
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == MessageStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
        )
        .with_for_update(skip_locked=True)
    )
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(due))
        .values(attempts=OutboxMessage.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE answers with a CursorResult, which counts the rows it changed.
    if not cast(sa.CursorResult[Any], result).rowcount:
        return None
    return db.session.get(OutboxMessage, message_id, populate_existing=True)


def message_id(message: OutboxMessage) -> str:
    """The Message-ID of an outbox row, the same at every attempt. Its creation time keeps it
    unique when a new database numbers its rows from 1 again."""
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"


def _send(message: OutboxMessage, connection: Any) -> None:
    """Hand the message to the server over ``connection``, which stays open: the server has the
    message once this returns."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        to=[address.strip() for address in message.recipients.split(",")],
        headers={"Message-ID": message_id(message)},
        connection=connection,
    )
    email.attach_alternative(message.body_html, "text/html")
    connection.open()
    email.send()


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception as error:  # the message is the server's already, or it failed already
        logger.info("SMTP connection not closed cleanly: %s: %s", type(error).__name__, error)


class Delivery(enum.Enum):
    SENT = "sent"
    SKIPPED = "skipped"  # not due, already sent, or another deliverer holds it
    FAILED = "failed"  # the server did not take it: tried again later


def deliver(message_id: int) -> Delivery:
    """Try to send one message now. Commits."""
    message = _claim(message_id)
    if message is None:
        db.session.rollback()
        return Delivery.SKIPPED
    connection = mail.get_connection()
    try:
        _send(message, connection)
    except Exception as error:  # SMTP refused, unreachable, timed out...
        _close(connection)
        message.last_error = f"{type(error).__name__}: {error}"[:1000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = MessageStatus.FAILED
            logger.error(
                "mail %s (%s) failed for good after %d attempts: %s",
                message.id,
                message.template,
                message.attempts,
                message.last_error,
            )
        else:
            message.next_attempt_at = utcnow() + retry_wait(message.attempts)
            logger.warning(
                "mail %s (%s) not delivered (attempt %d), next try at %s: %s",
                message.id,
                message.template,
                message.attempts,
                message.next_attempt_at.isoformat(timespec="seconds"),
                message.last_error,
            )
        db.session.commit()
        return Delivery.FAILED
    message.status, message.sent_at, message.last_error = MessageStatus.SENT, utcnow(), None
    # What was sent is not kept: it may hold a sign-in, confirmation or reset link.
    message.body_text = message.body_html = ""
    db.session.commit()
    _close(connection)  # only now: the message is marked sent whatever QUIT brings
    logger.info("mail %s (%s) delivered", message.id, message.template)
    return Delivery.SENT


def deliver_due(limit: int = SWEEP_SIZE) -> int:
    """Send the messages whose attempt is due, oldest first; how many were sent."""
    due_ids = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.status == MessageStatus.PENDING,
            OutboxMessage.next_attempt_at <= utcnow(),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.rollback()  # end the read; each delivery is a transaction of its own
    sent = 0
    for message_id in due_ids:
        outcome = deliver(message_id)
        if outcome is Delivery.FAILED:
            # The server is down or refusing: the rest wait for the next sweep rather than
            # each waiting for its own time-out now.
            break
        sent += outcome is Delivery.SENT
    return sent


@shared_task(name=DELIVER_DUE, ignore_result=True)
def deliver_due_task() -> int:
    return deliver_due()


# Admin → Mail ---------------------------------------------------------------------------------


def undelivered_messages() -> list[OutboxMessage]:
    """Messages not sent yet (waiting or failed), the ones needing attention first."""
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.status != MessageStatus.SENT)
            .order_by(
                (OutboxMessage.status == MessageStatus.FAILED).desc(),
                OutboxMessage.attempts.desc(),
                OutboxMessage.id,
            )
            .limit(500)
        )
    )


def retry_message(*, actor: Any, message: OutboxMessage) -> None:
    """Try an undelivered message again as soon as this transaction commits."""
    if message.status == MessageStatus.SENT:
        raise DomainError(_("This message was already delivered."))
    message.status = MessageStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    record_event(
        "mail:retry",
        actor=actor,
        subject=message,
        details={"template": message.template, "last_error": message.last_error},
    )
    enqueue_after_commit(DELIVER_DUE)
