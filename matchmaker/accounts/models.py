from __future__ import annotations

import enum
import hmac
import secrets
import time
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from matchmaker.db import TimestampMixin, UpdatedMixin, str_enum, utcnow
from matchmaker.extensions import db

if TYPE_CHECKING:
    from matchmaker.organisations.models import Membership


class EmailPreference(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    NONE = "none"


class TokenScope(enum.StrEnum):
    """What a personal access token may do with the API: read only, or read and change."""

    READ = "read"
    WRITE = "write"


class Role(enum.StrEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def hash_password(password: str) -> str:
    """The stored form of ``password``, at the configured cost."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


class User(UserMixin, UpdatedMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(
        str_enum(Role), default=Role.MEMBER, server_default=Role.MEMBER.value
    )
    is_active_account: Mapped[bool] = mapped_column(
        "is_active", default=True, server_default=sa.true()
    )
    email_confirmed_at: Mapped[datetime | None] = mapped_column()
    # Part of the login session's identity: changing it signs the user out everywhere else.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    last_login_at: Mapped[datetime | None] = mapped_column()
    email_preference: Mapped[EmailPreference] = mapped_column(
        str_enum(EmailPreference),
        default=EmailPreference.IMMEDIATE,
        server_default=EmailPreference.IMMEDIATE.value,
    )
    # A code from the LANGUAGES setting; empty means "follow the browser" (mail: the default).
    language: Mapped[str | None] = mapped_column(sa.String(8))
    # Set when the member erased their account: the row stays as a pseudonym (privacy/erasure.py)
    # so the audit trail and the listings they wrote keep an author who is nobody in particular.
    erased_at: Mapped[datetime | None] = mapped_column()

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    # Flask-Login
    @property
    def is_active(self) -> bool:
        return self.is_active_account

    def get_id(self) -> str:
        """The login id kept in the session and the remember-me cookie (both signed).

        The session token ends every login at once when it changes (password change, sign-out);
        the time of sign-in lets the server refuse a login older than the configured maximum,
        whatever the cookie's own expiry says.
        """
        return f"{self.id}:{self.session_token}:{int(time.time())}"

    def matches_session_token(self, token: str) -> bool:
        return hmac.compare_digest(self.session_token, token)

    def end_sessions(self) -> None:
        """Sign out every browser and remember-me cookie of this user."""
        self.session_token = new_session_token()

    # Passwords
    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def is_email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def confirm_email(self) -> None:
        if self.email_confirmed_at is None:
            self.email_confirmed_at = utcnow()

    @property
    def is_coordinator(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class AccessToken(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """A personal access token for the JSON API. Only its SHA-256 digest is kept: the token
    itself is shown once, when it is made. Revoked tokens stay (with ``revoked_at``) so the
    account page and the audit trail can still name them."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    scope: Mapped[TokenScope] = mapped_column(str_enum(TokenScope))
    # Hex SHA-256 of the whole token; the token is random enough that no salt or slow hash is
    # needed, and a digest can be looked up at each request.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters of the token, so its owner can tell their tokens apart.
    hint: Mapped[str] = mapped_column(sa.String(16))
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<AccessToken {self.id} {self.name!r} {self.scope.value}>"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE
