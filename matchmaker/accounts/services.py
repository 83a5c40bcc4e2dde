"""Accounts: sign-up, confirmation, authentication, password and email changes, roles."""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app, url_for
from werkzeug.security import check_password_hash

from matchmaker.accounts import access_tokens
from matchmaker.accounts.models import Role, User, hash_password
from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.core.i18n import in_language_of
from matchmaker.core.jobs import create_job
from matchmaker.core.mail import external_url, send_email
from matchmaker.core.tokens import InvalidToken, make_token, read_token
from matchmaker.db import utcnow
from matchmaker.extensions import db

MIN_PASSWORD_LENGTH = 10
# The job that mails a password-reset link (accounts/tasks.py).
SEND_RESET_LINK = "accounts.send_password_reset"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked against when no account matches, so a failed log-in takes as long either way."""
    return hash_password(secrets.token_urlsafe(16))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def create_user(
    *,
    email: str,
    display_name: str,
    password: str,
    role: Role = Role.MEMBER,
    confirmed: bool = False,
    language: str | None = None,
) -> User:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _("Passwords must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), "password"
        )
    if find_user_by_email(email) is not None:
        raise DomainError(_("An account with this email address already exists."), "email")
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        role=role,
        language=language,
    )
    user.set_password(password)
    if confirmed:
        user.confirm_email()
    db.session.add(user)
    db.session.flush()
    return user


def register_user(
    *, email: str, display_name: str, password: str, language: str | None = None
) -> User | None:
    """Create an account and mail its confirmation link.

    ``language`` is the one the person signed up in: their mail is written in it from then on.
    When the address already has an account nothing is created and its owner is told by mail
    instead, so the sign-up page does not reveal which addresses have accounts. Both ways do
    the same work: the password is hashed and one mail is sent, or a known address would
    answer in a fraction of the time a new one takes.
    """
    existing = find_user_by_email(email)
    if existing is not None:
        hash_password(password)
        with in_language_of(existing):
            send_email(
                existing.email,
                _("Someone tried to sign up with your address"),
                "signup_existing",
                user=existing,
                login_url=external_url(url_for("accounts.login")),
                reset_url=external_url(url_for("accounts.forgot_password")),
            )
        return None
    try:
        with db.session.begin_nested():
            user = create_user(
                email=email, display_name=display_name, password=password, language=language
            )
    except sa.exc.IntegrityError:
        # The same address signed up by another request at the same moment (a double click):
        # that one made the account and mails its link; this one answers as it does.
        return None
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    token = make_token("confirm-email", {"user": user.id, "email": user.email})
    with in_language_of(user):
        send_email(
            user.email,
            _("Confirm your email address"),
            "confirm_email",
            user=user,
            confirm_url=external_url(url_for("accounts.confirm_email", token=token)),
            hours=current_app.config["EMAIL_TOKEN_MAX_AGE"] // 3600,
        )


def confirm_email(token: str) -> tuple[User, bool]:
    """The user the link confirms, and whether this click confirmed them (the first one)."""
    data = read_token("confirm-email", token, current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = db.session.get(User, data.get("user"))
    if user is None or user.email != data.get("email"):
        raise InvalidToken()
    first_time = not user.is_email_confirmed
    user.confirm_email()
    return user, first_time


def authenticate(*, email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def sign_out(user: User) -> None:
    user.end_sessions()


def _password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so a reset link works once."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _email_change_fingerprint(user: User) -> str:
    """Changes with the password, the address and the time the address was confirmed, so an
    email-change link works once and dies when the password or the address changes."""
    confirmed = user.email_confirmed_at.isoformat() if user.email_confirmed_at else ""
    state = "\0".join((user.password_hash, user.email, confirmed))
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def request_password_reset(email: str) -> None:
    """Mail a reset link to the account of ``email``, once the request commits.

    Whether an account has the address is looked up by the job (:func:`send_password_reset`),
    not here: the request does the same work for any address (it records the job, with the
    address), or a known one would answer in the time it takes to sign a token, render the mail
    and queue it, and an unknown one at once. The job is a row: if its message is lost (the
    broker was down, a worker died), the scheduler's sweep sends it (accounts/tasks.py)."""
    create_job(SEND_RESET_LINK, params={"email": normalise_email(email)})


def send_password_reset(email: str) -> bool:
    """The reset link, mailed to the active account of ``email`` (False: none has it)."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return False
    token = make_token("reset-password", {"user": user.id, "pw": _password_fingerprint(user)})
    with in_language_of(user):
        send_email(
            user.email,
            _("Reset your password"),
            "reset_password",
            user=user,
            reset_url=external_url(url_for("accounts.reset_password", token=token)),
            minutes=current_app.config["RESET_TOKEN_MAX_AGE"] // 60,
        )
    return True


def user_for_reset_token(token: str) -> User:
    data = read_token("reset-password", token, current_app.config["RESET_TOKEN_MAX_AGE"])
    user = db.session.get(User, data.get("user"))
    if user is None or _password_fingerprint(user) != data.get("pw"):
        raise InvalidToken()
    return user


def reset_password(*, token: str, password: str) -> User:
    user = user_for_reset_token(token)
    user.set_password(password)
    # Every session ends, and the API's tokens with them.
    access_tokens.revoke_every_token(user)
    # Following the link proves the address works.
    user.confirm_email()
    record_event("user:reset-password", actor=user, subject=user)
    return user


def change_password(*, user: User, current_password: str, new_password: str) -> None:
    if not user.check_password(current_password):
        raise DomainError(_("Your current password is not correct."), "current_password")
    user.set_password(new_password)
    record_event("user:change-password", actor=user, subject=user)


def request_email_change(*, user: User, new_email: str, password: str) -> None:
    """Mail a confirmation link to ``new_email``, and a notice to the current address.

    When another account has ``new_email`` nothing can change, and its owner is told by mail
    instead of the link, so the form does not reveal which addresses have accounts (anyone may
    sign up, and ask again from a new account when one reaches its limit). The answer and the
    work are the same either way, as on the sign-up page; following a link still checks again.
    """
    if not user.check_password(password):
        raise DomainError(_("Your password is not correct."), "password")
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise DomainError(_("This is already your email address."), "email")
    owner = find_user_by_email(new_email)
    if owner is not None:
        with in_language_of(owner):
            send_email(
                new_email,
                _("Someone tried to move an account to your email address"),
                "email_change_taken",
                user=owner,
                login_url=external_url(url_for("accounts.login")),
            )
    else:
        token = make_token(
            "change-email",
            {"user": user.id, "email": new_email, "state": _email_change_fingerprint(user)},
        )
        with in_language_of(user):
            send_email(
                new_email,
                _("Confirm your new email address"),
                "change_email",
                user=user,
                confirm_url=external_url(url_for("accounts.confirm_email_change", token=token)),
                hours=current_app.config["EMAIL_TOKEN_MAX_AGE"] // 3600,
            )
    with in_language_of(user):
        send_email(
            user.email,
            _("A change of your email address was requested"),
            "email_change_requested",
            user=user,
            new_email=new_email,
            account_url=external_url(url_for("accounts.account")),
        )


def confirm_email_change(token: str) -> User:
    data = read_token("change-email", token, current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = db.session.get(User, data.get("user"))
    if user is None or _email_change_fingerprint(user) != data.get("state"):
        raise InvalidToken()
    new_email = data.get("email")
    if find_user_by_email(new_email) not in (None, user):
        raise DomainError(_("Another account already uses this email address."))
    before = user.email
    user.email = new_email
    # Following the link confirmed the new address now; this also retires the link.
    user.email_confirmed_at = utcnow()
    with in_language_of(user):
        send_email(
            before,
            _("Your email address was changed"),
            "email_changed",
            user=user,
            new_email=new_email,
        )
    record_event(
        "user:change-email",
        actor=user,
        subject=user,
        details={"before": before, "after": new_email},
    )
    return user


def set_role(*, actor: User, user: User, role: Role) -> None:
    if user.role == role:
        return
    if user.role == Role.ADMIN and role != Role.ADMIN:
        # The admins' rows held (two admins taking the role from each other at once would each
        # count two admins and leave none): the second waits, then counts one.
        admins = db.session.scalars(
            sa.select(User.id)
            .where(User.role == Role.ADMIN)
            .order_by(User.id)
            .with_for_update(key_share=True)
        ).all()
        if user.id not in admins:  # the role changed by a request just before: read it again
            db.session.refresh(user)
            return set_role(actor=actor, user=user, role=role)
        if len(admins) <= 1:
            raise DomainError(_("The last admin cannot lose the admin role."))
    before = user.role
    user.role = role
    record_event(
        "user:role",
        actor=actor,
        subject=user,
        details={"before": before.value, "after": role.value},
    )


def set_language(*, user: User, language: str | None) -> None:
    """``language`` is one of the LANGUAGES codes, or None to follow the browser."""
    user.language = language or None
