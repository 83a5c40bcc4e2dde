"""Deny by default: every endpoint needs a signed-in user unless it is marked :func:`public`."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, abort, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE_NAME
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from matchmaker.core import lent_user
from matchmaker.core.caching import is_audience_page_request, personal_entry
from matchmaker.core.lent_user import LENT, attach_lent_user, lend
from matchmaker.extensions import db, login_manager

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC_ATTR = "_matchmaker_public"
OWN_AUTH_ATTR = "_matchmaker_own_auth"


def public(view: F) -> F:
    """Mark a view as reachable without signing in."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def authenticates_itself(view: F) -> F:
    """Mark a view that checks its own credentials (an API token in a header) and never the
    session: the sign-in redirect does not apply to it, and it must answer 401 itself."""
    setattr(view, OWN_AUTH_ATTR, True)
    return view


def is_self_authenticating_endpoint(endpoint: str | None) -> bool:
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return bool(view is not None and getattr(view, OWN_AUTH_ATTR, False))


def is_public_endpoint(endpoint: str | None) -> bool:
    if endpoint is None or endpoint == "static":
        return True
    view = current_app.view_functions.get(endpoint)
    return bool(view is not None and getattr(view, PUBLIC_ATTR, False))


def require_role(*roles: str) -> Callable[[F], F]:
    """Allow only users whose role is one of ``roles`` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role.value not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def require_confirmed(view: F) -> F:
    """Only users who confirmed their email address may go on; the others get a page (403) that
    says what to do, with a button that sends the link again."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_email_confirmed:
            return render_template("errors/confirm_first.html"), 403
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _enforce_login() -> Any:
    if is_public_endpoint(request.endpoint) or is_self_authenticating_endpoint(request.endpoint):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _anonymous_without_cookies() -> None:
    """A request with neither a session cookie nor a remember-me cookie is a signed-out
    visitor's: Flask-Login would find no one either, after hashing the client's address and
    agent for its session protection and looking for both cookies."""
    config, cookies = current_app.config, request.cookies
    if (
        config["SESSION_COOKIE_NAME"] not in cookies
        and config.get("REMEMBER_COOKIE_NAME", REMEMBER_COOKIE_NAME) not in cookies
    ):
        g._login_user = login_manager.anonymous_user()


def _load_user(session_id: str) -> Any:
    """The user a login id names, while its session token holds and it is not too old."""
    from matchmaker.accounts.models import User

    user_id, _, rest = session_id.partition(":")
    token, _, signed_in_at = rest.partition(":")
    if not user_id.isdigit() or not token or not signed_in_at.isdigit():
        return None
    max_age = current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds()
    if time.time() - int(signed_in_at) > max_age:
        return None
    return _known_user(User, int(user_id), token)


def _known_user(model: Any, user_id: int, token: str) -> Any:
    """The user ``user_id`` in this request's session, copied from the user this process keeps
    while no account changed (no query; see :func:`personal_entry`), else from the database;
    None unless its session token is ``token``."""
    if db.session.registry.has():
        present = db.session.identity_map.get(identity_key(model, user_id))
        if present is not None:
            return present if present.matches_session_token(token) else None
    kept = personal_entry("user", user_id, lambda: _detached_user(model, user_id))
    # Checked before it is lent: a login that was ended (its token changed) must never be lent,
    # or attaching it would sign it in again over the user Flask-Login finds next (a remember-me
    # cookie's).
    if kept is None or not kept.matches_session_token(token):
        return None
    if is_audience_page_request() and not db.session.registry.has():
        return lend(kept)  # read-only until the request needs the database (core/lent_user.py)
    # A copy in this session, as if loaded by it (merge without load makes no query):
    # relationships load on first use and changes are flushed. The kept user is never in a
    # session, so no request's change reaches the next one. (Copying it costs about half of
    # building the user from its row, which a stored coordinator page did on every request.)
    return db.session.merge(kept, load=False)


def _detached_user(model: Any, user_id: int) -> Any:
    """User ``user_id`` loaded from the database, in no session (None when there is none)."""
    row = _user_row(model, user_id)
    if row is None:
        return None
    user = model.__mapper__.class_manager.new_instance()
    for key, value in row.items():
        set_committed_value(user, key, value)
    make_transient_to_detached(user)
    return user


def _user_row(model: Any, user_id: int) -> dict[str, Any] | None:
    keys = [attribute.key for attribute in model.__mapper__.column_attrs]
    row = db.session.execute(
        sa.select(*(getattr(model, key) for key in keys)).where(model.id == user_id)
    ).first()
    return None if row is None else dict(zip(keys, row, strict=True))


def init_app(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    app.before_request(_anonymous_without_cookies)
    app.before_request(_enforce_login)
    lent_user.init_app(app)


def acting_user() -> Any:
    """The signed-in user as a model instance (not the proxy) in the request's database session,
    for services, audit events and anything that changes it or reads its relationships."""
    user = current_user._get_current_object()
    if g.get(LENT) is not None:
        attach_lent_user(db.session)
        user = current_user._get_current_object()
    return user
