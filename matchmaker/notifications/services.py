"""In-app notifications, mailed at once, in a daily digest, or not at all, as each user likes."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from flask_babel.speaklater import LazyString

from matchmaker.accounts.models import EmailPreference, User
from matchmaker.announcements.models import Announcement, current_announcements
from matchmaker.core.i18n import gettext as _
from matchmaker.core.i18n import in_language_of
from matchmaker.core.mail import external_url, send_email
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.notifications.models import Notification

logger = logging.getLogger(__name__)


def notify(
    users: Iterable[User],
    *,
    kind: str,
    message: str | LazyString,
    url: str,
    proposal_id: int | None = None,
    announcement_id: int | None = None,
    subject: str | LazyString,
    template: str,
    context: dict[str, Any] | None = None,
) -> list[Notification]:
    """Notify each user once, in their language; mail those who want mail at once.

    Pass ``message`` and ``subject`` as ``lazy_gettext`` strings: each user reads them
    translated into their own language.
    """
    created = []
    seen: set[int] = set()
    for user in users:
        if user.id in seen or not user.is_active:
            continue
        seen.add(user.id)
        with in_language_of(user):
            notification = Notification(
                user_id=user.id,
                kind=kind,
                message=str(message)[:500],
                url=url,
                proposal_id=proposal_id,
                announcement_id=announcement_id,
            )
            if user.email_preference == EmailPreference.IMMEDIATE:
                send_email(
                    user.email,
                    str(subject),
                    template,
                    user=user,
                    link=external_url(url),
                    **(context or {}),
                )
                notification.emailed_at = utcnow()
        db.session.add(notification)
        created.append(notification)
    return created


def still_relevant() -> sa.ColumnElement[bool]:
    """The notifications still worth reading: all but those of an announcement no longer
    current (withdrawn, ended, or its organisation closed or no longer verified), whose page
    would answer 404. They come back if it is current again (its organisation verified anew)."""
    return sa.or_(
        Notification.announcement_id.is_(None),
        Notification.announcement_id.in_(sa.select(Announcement.id).where(current_announcements())),
    )


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.read_at.is_(None),
                still_relevant(),
            )
        )
        or 0
    )


def _mark_read(user: User, *conditions: Any) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None), *conditions)
        .values(read_at=utcnow())
    )
    # An UPDATE answers with a CursorResult, which counts the rows it changed.
    return cast(sa.CursorResult[Any], result).rowcount or 0


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one notification read, or all of them."""
    if notification_id is None:
        return _mark_read(user)
    return _mark_read(user, Notification.id == notification_id)


def mark_read_about(user: User, *, proposal_id: int | None = None, url: str | None = None) -> int:
    """Mark read what ``user`` was told about this proposal or this page, now that they opened
    it: a notification does not stay unread after one has seen (and acted on) its subject."""
    if proposal_id is not None:
        return _mark_read(user, Notification.proposal_id == proposal_id)
    if url is not None:
        return _mark_read(user, Notification.url == url)
    return 0


def send_digests() -> int:
    """One mail per user who chose the daily digest, with everything not mailed yet.

    The notifications are locked as they are read (on PostgreSQL, ``FOR UPDATE SKIP LOCKED``)
    until they are marked mailed: a second run at the same time (two schedulers, a message the
    broker handed out again) leaves them to the first instead of mailing them a second time."""
    rows = db.session.execute(
        sa.select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.emailed_at.is_(None),
            User.email_preference == EmailPreference.DAILY,
            User.is_active_account.is_(True),
            still_relevant(),
        )
        .order_by(Notification.user_id, Notification.id)
        .with_for_update(of=Notification, skip_locked=True)
    ).all()
    by_user: dict[int, tuple[User, list[Notification]]] = {}
    for notification, user in rows:
        by_user.setdefault(user.id, (user, []))[1].append(notification)
    now = utcnow()
    sent = 0
    for user, notifications in by_user.values():
        # One reader's digest that fails to be written stays for the next run (logged), and
        # does not keep the others from going.
        try:
            with db.session.begin_nested():
                with in_language_of(user):
                    send_email(
                        user.email,
                        _("Your SSE Matchmaker digest: %(n)d new", n=len(notifications)),
                        "digest",
                        user=user,
                        items=[(n.message, external_url(n.url)) for n in notifications],
                    )
                for notification in notifications:
                    notification.emailed_at = now
        except Exception:
            logger.exception("digest of user %s not written", user.id)
            continue
        sent += 1
    return sent
