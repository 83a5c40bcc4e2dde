"""Errors of the API as ``application/problem+json`` (RFC 9457), each naming the fields that
are wrong: ``{"type", "title", "status", "detail", "errors": [{"field", "message"}]}``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Any, NoReturn

import marshmallow as ma
from flask import Response, json
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from matchmaker.core.errors import MESSAGES
from matchmaker.extensions import db

CONTENT_TYPE = "application/problem+json"
INVALID_FIELDS = _l("Some fields are not valid: see errors.")


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(
        required=True,
        metadata={"description": "The field that is wrong, e.g. `title` or `themes.0`."},
    )
    location = ma.fields.String(
        metadata={"description": "Where the field was: `json` (the body), `query` or `path`."}
    )
    message = ma.fields.String(required=True)


class ProblemSchema(ma.Schema):
    """What every error answer holds."""

    type = ma.fields.String(required=True, metadata={"description": "Always `about:blank`."})
    title = ma.fields.String(required=True, metadata={"description": "The HTTP status phrase."})
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True, metadata={"description": "What went wrong."})
    errors = ma.fields.List(
        ma.fields.Nested(FieldErrorSchema),
        metadata={"description": "One entry per wrong field (422 only)."},
    )


class ApiProblem(HTTPException):
    """An error answered as problem+json, raised by views and the token check."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description=detail)
        self.code = status
        self.detail = detail
        self.errors = errors
        self.extra_headers = dict(headers or {})


def fail(
    status: int, detail: str, *, field: str | None = None, headers: Mapping[str, str] | None = None
) -> NoReturn:
    errors = [{"field": field, "location": "json", "message": detail}] if field else None
    raise ApiProblem(status, detail, errors=errors, headers=headers)


def _flatten(messages: Any, location: str, path: str = "") -> Iterator[dict[str, str]]:
    """marshmallow's nested ``{"themes": {"0": ["Not a string."]}}`` as flat field errors."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            yield from _flatten(value, location, f"{path}.{key}" if path else str(key))
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        for message in messages:
            yield {"field": path or "_schema", "location": location, "message": message}
    else:
        yield {"field": path or "_schema", "location": location, "message": str(messages)}


def validation_errors(data: Mapping[str, Any] | None) -> list[dict[str, str]] | None:
    """The field errors webargs attached to its 422 (``{"json": {"title": [...]}}``)."""
    messages = (data or {}).get("messages")
    if not isinstance(messages, Mapping):
        return None
    errors: list[dict[str, str]] = []
    for location, fields in messages.items():
        errors.extend(_flatten(fields, str(location)))
    return errors


def problem_response(code: int, description: str | None, error: Exception | None) -> Response:
    """The answer to an error anywhere under the API's prefix."""
    if code >= 500:
        db.session.rollback()
    status = HTTPStatus(code) if code in HTTPStatus._value2member_map_ else HTTPStatus(500)
    errors: list[dict[str, str]] | None = None
    headers: dict[str, str] = {}
    if isinstance(error, ApiProblem):
        errors, headers = error.errors, error.extra_headers
    elif isinstance(error, HTTPException):
        data = getattr(error, "data", None)
        errors = validation_errors(data)
        headers = dict((data or {}).get("headers") or {})
        if code == 422 and errors:
            description = str(INVALID_FIELDS)
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": status.phrase,
        "status": status.value,
        "detail": description or str(MESSAGES.get(code, status.description)),
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status.value, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response.headers[name] = value
    return response
