"""Friendly error pages, and the domain error that services raise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from matchmaker.db import database_busy
from matchmaker.extensions import db


class DomainError(Exception):
    """A rule of the product was broken; the message is shown to the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("Upload too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Busy right now"),
}

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to see or change this."),
    404: _l("There is nothing at this address. It may have moved or never existed."),
    405: _l("This page cannot be used that way."),
    413: _l("The file you sent is larger than we accept."),
    429: _l("You have made too many requests. Please wait a moment and try again."),
    500: _l("An unexpected error happened on our side. It has been logged; please try again."),
    503: _l(
        "The database is busy with a long update (the matcher's run, most often). "
        "Nothing was saved: please try again in a minute."
    ),
}

# How long a client asked to come back after a 503 waits (seconds): about a full run's length.
RETRY_BUSY_AFTER = 60


ErrorRenderer = Callable[[int, str | None, Exception | None], Any]
JSON_ERRORS_KEY = "matchmaker.json_errors"


def answer_errors_under(app: Flask, prefix: str, renderer: ErrorRenderer) -> None:
    """Errors of requests whose path starts with ``prefix`` (a JSON API) are answered by
    ``renderer(code, description, error)`` instead of an HTML page."""
    app.extensions.setdefault(JSON_ERRORS_KEY, []).append((prefix, renderer))


def _renderer_for_request() -> ErrorRenderer | None:
    for prefix, renderer in current_app.extensions.get(JSON_ERRORS_KEY, []):
        if request.path.startswith(prefix):
            return renderer
    return None


def _render(code: int, description: str | None = None, error: Exception | None = None) -> Any:
    renderer = _renderer_for_request()
    if renderer is not None:
        return renderer(code, description, error)
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=TITLES.get(code, TITLES[500]),
            message=description or MESSAGES.get(code, MESSAGES[500]),
        ),
        code,
    )


def handle_http_error(error: HTTPException) -> Any:
    code = error.code or 500
    # Werkzeug's default descriptions are technical; only keep ones our code set on purpose.
    described = error.description if error.description != type(error).description else None
    return _render(code, described, error)


def handle_csrf_error(error: CSRFError) -> Any:
    return _render(
        400,
        str(
            _l("The form had expired or was not sent from this site. Please go back and try again.")
        ),
    )


def handle_server_error(error: Exception) -> Any:
    db.session.rollback()
    return _render(500)


def handle_database_error(error: sa.exc.OperationalError) -> Any:
    """A request that waited too long for a lock another transaction held (a full matcher
    run holds SQLite's write lock until it commits) is told to come back: 503, nothing saved.
    Any other database error stays a server error."""
    if not database_busy(error):
        raise error
    db.session.rollback()
    # Not a server error, but refused work an operator should see (how often, and where).
    current_app.logger.warning(
        "%s %s refused: the database is busy (%s)", request.method, request.path, error.orig
    )
    response = make_response(_render(503, None, error))
    response.headers["Retry-After"] = str(RETRY_BUSY_AFTER)
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(500, handle_server_error)
    app.register_error_handler(sa.exc.OperationalError, handle_database_error)
