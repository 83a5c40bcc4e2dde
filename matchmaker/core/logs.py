"""Logs: JSON lines in production, readable lines in development, each with the request id.

Every module logs through ``logging.getLogger(__name__)``; the handler installed here sits on
the package's logger, ``matchmaker``. Values passed with ``extra={...}`` become fields of the
JSON line (or ``key=value`` pairs in the readable line), so a log collector can filter on them.
A request's id comes from the ``X-Request-ID`` header a proxy sets, when it looks like an id,
or is made here; the response carries it back, so a user's report can be found in the logs.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, has_request_context, request

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from proxies and load balancers (UUIDs, hex, dashed or dotted tokens); anything else,
# such as a line break meant to forge a log line, is replaced by an id made here.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

# The attributes every LogRecord has; the others came in through ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


# URL parts that are secrets: the links mailed to reset a password, confirm an address or
# accept an invitation carry them, and whoever reads the logs must not be able to follow them.
SECRET_URL_ARGUMENTS = frozenset({"token"})


def loggable_path() -> str:
    """The request's path for the logs: its route (``/reset-password/<token>``) when the path
    holds a secret, else the path itself."""
    rule = request.url_rule
    if rule is not None and SECRET_URL_ARGUMENTS & (request.view_args or {}).keys():
        return rule.rule
    return request.path


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}
    request_id = current_request_id()
    if request_id is not None:
        fields.setdefault("request_id", request_id)
    return fields


# Made once: json.dumps with options makes an encoder a line.
_JSON = json.JSONEncoder(default=str, ensure_ascii=False)


class JSONFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the request id and the extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _JSON.encode(line)


class ReadableFormatter(logging.Formatter):
    """``time level logger: message key=value …`` with the traceback below, for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        pairs = " ".join(f"{key}={value}" for key, value in _fields(record).items())
        message = super().formatMessage(record)
        return f"{message} {pairs}" if pairs else message


FORMATTERS: dict[str, type[logging.Formatter]] = {
    "json": JSONFormatter,
    "text": ReadableFormatter,
}


class PackageHandler(logging.StreamHandler[IO[str]]):
    """The one handler on the ``matchmaker`` logger."""


def configure_logging(app: Flask, stream: IO[str] | None = None) -> None:
    """Send the package's logs to ``stream`` (stderr) in the configured format. Creating a
    second app replaces the handler the first one installed, so no line is written twice."""
    package_logger = logging.getLogger("matchmaker")
    for old in [h for h in package_logger.handlers if isinstance(h, PackageHandler)]:
        package_logger.removeHandler(old)
    handler = PackageHandler(stream or sys.stderr)
    handler.setFormatter(FORMATTERS[app.config["LOG_FORMAT"]]())
    package_logger.addHandler(handler)
    package_logger.setLevel(app.config["LOG_LEVEL"])


def _start_request() -> None:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = offered if SANE_REQUEST_ID.fullmatch(offered) else secrets.token_hex(16)
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
        method, path, status = request.method, loggable_path(), response.status_code
        logger.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1),
            },
        )
    return response


def init_app(app: Flask) -> None:
    configure_logging(app)
    app.before_request(_start_request)
    app.after_request(_finish_request)
