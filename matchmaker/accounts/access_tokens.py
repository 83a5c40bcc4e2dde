"""Personal access tokens: made, named and revoked by their owner on the account page, checked
at each API request. Only a digest is stored; the token itself is shown once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from matchmaker.accounts.models import AccessToken, TokenScope, User
from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.db import database_busy, not_waiting_for_sqlite, utcnow
from matchmaker.extensions import db

# Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
PREFIX = "mm_"
HINT_LENGTH = len(PREFIX) + 6
MAX_ACTIVE_TOKENS = 20
# "Last used" is a hint for the owner, not a log: a token used all day writes once a minute.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is shown to its owner now and never again."""

    token: AccessToken
    secret: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def active_tokens(user: User) -> list[AccessToken]:
    return list(
        db.session.scalars(
            sa.select(AccessToken)
            .where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
            .order_by(AccessToken.created_at.desc(), AccessToken.id.desc())
        )
    )


def create_token(*, user: User, name: str, scope: TokenScope) -> NewToken:
    # Anyone may sign up with another's address and sign in unconfirmed: a token made then
    # would outlive the real owner's taking the account back (a password reset).
    if not user.is_email_confirmed:
        raise DomainError(_("Please confirm your email address: we sent you a link."), "name")
    name = name.strip()
    if not name:
        raise DomainError(_("Give the token a name."), "name")
    active = active_tokens(user)
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise DomainError(
            _("You have %(n)d tokens; revoke one you no longer use first.", n=len(active))
        )
    if any(token.name == name for token in active):
        raise DomainError(_("You already have a token with this name."), "name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(
        user=user, name=name, scope=scope, token_hash=digest(secret), hint=secret[:HINT_LENGTH]
    )
    db.session.add(token)
    db.session.flush()
    record_event(
        "token:create", actor=user, subject=token, details={"name": name, "scope": scope.value}
    )
    return NewToken(token=token, secret=secret)


def revoke_token(*, user: User, token: AccessToken) -> None:
    if token.user_id != user.id:
        raise DomainError(_("This token is not yours."))
    if token.is_revoked:
        return
    token.revoked_at = utcnow()
    record_event("token:revoke", actor=user, subject=token, details={"name": token.name})


def revoke_every_token(user: User) -> None:
    """End every live token of ``user`` (a password reset: whoever held the account meanwhile
    may have made one)."""
    for token in active_tokens(user):
        revoke_token(user=user, token=token)


def authenticate(secret: str) -> AccessToken | None:
    """The live token ``secret`` names, its use recorded; None for an unknown, revoked or
    malformed token, or one whose owner's account is disabled or its address unconfirmed."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(
        sa.select(AccessToken).where(AccessToken.token_hash == digest(secret))
    )
    if (
        token is None
        or token.is_revoked
        or not token.user.is_active
        or not token.user.is_email_confirmed
    ):
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
    return token


def keep_last_use() -> None:
    """Commit the "last used" time :func:`authenticate` set. It is bookkeeping: when the
    database is busy (on SQLite, a full matcher run holds its write lock until it commits),
    it is given up and the operation goes on; a read then still answers.

    On SQLite it does not wait for the write lock either: the time is not written while the
    run lasts, so every request of the token would try again, each waiting the busy timeout
    (5 s) before answering, for as long as the run holds the lock."""
    try:
        if db.session.dirty:
            with not_waiting_for_sqlite(db.session.connection()):
                db.session.flush()  # takes the write lock now, or is refused at once
        db.session.commit()
    except sa.exc.OperationalError as error:
        if not database_busy(error):
            raise
        db.session.rollback()
