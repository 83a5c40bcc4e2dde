"""The signed-in user of a stored coordinator page, lent from the process without a database
session until the request needs one.

A coordinator's stored page (:func:`matchmaker.core.caching.for_audience`) is served from the
cache: its request reads the user's id, role and language and nothing else, and opens no
database session. Copying the user into a session (``Session.merge``), then opening and closing
that session, cost about an eighth of such a request (2.77 M -> 2.42 M instructions,
``bench/web_instructions.py --callgrind /coordination/dashboard``). So on these requests the
user Flask-Login gets is the one the process keeps (:func:`matchmaker.core.auth._known_user`),
*lent*: read its columns, never change it or follow its relationships. It is attached, as a
copy in the request's database session, as soon as anything needs one:

- :func:`matchmaker.core.auth.acting_user` (services, audit events, forms) attaches it;
- the request's database session attaches it when it is created (:class:`LendingSession`), so
  a relationship read after any query loads;
- a stored page that has to be built (not stored yet, a message to show) attaches it before
  its view runs, and any template attaches it before it is rendered (an error page, say).

:func:`reading_user` gives the user as it is, lent or attached, to the few places on a stored
page's path that only read its columns.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_app_context
from flask_login import current_user
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.orm import Session, scoped_session

LENT = "_lent_user"


def lend(user: Any) -> Any:
    """Mark ``user`` (the process's kept, detached copy), which the user loader is about to give
    Flask-Login, as this request's lent user."""
    g.setdefault(LENT, user)
    return user


def attach_lent_user(session: Session | scoped_session[Any]) -> None:
    """Put a copy of the lent user in ``session`` and make it the request's user (no query).
    Only while it is still the request's user: attaching never changes who is signed in (after
    ``logout_user()``, say, the lent user is forgotten)."""
    if not has_app_context():
        return
    lent = g.pop(LENT, None)
    if lent is not None and g.get("_login_user") is lent:
        g._login_user = session.merge(lent, load=False)


def reading_user() -> Any:
    """The signed-in user (or the anonymous one) to read its own columns: id, role, language,
    whether its address is confirmed. On a stored page's request it may be lent (see the module):
    change it or follow its relationships only through :func:`acting_user`."""
    return current_user._get_current_object()


class LendingSession(FlaskSession):
    """The app's database session: a request's first session takes in its lent user."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attach_lent_user(self)


def _attached_for_templates() -> dict[str, Any]:
    """A template's ``current_user`` in the request's session, when it was lent (this context
    processor comes after Flask-Login's, whose ``current_user`` it replaces)."""
    if g.get(LENT) is None:
        return {}
    attach_lent_user(current_app.extensions["sqlalchemy"].session)
    return {"current_user": current_user._get_current_object()}


def init_app(app: Flask) -> None:
    """After ``login_manager.init_app(app)``."""
    app.context_processor(_attached_for_templates)
