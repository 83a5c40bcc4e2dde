"""Logs carry the request id (from the proxy when it is sane, else made here) as JSON lines or
readable lines; the response hands the id back."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.core.auth import public
from matchmaker.core.logs import configure_logging


@dataclass
class LogCapture:
    app: Flask
    stream: io.StringIO = field(default_factory=io.StringIO)

    def start(self, log_format: str) -> None:
        self.app.config.update(LOG_FORMAT=log_format, LOG_LEVEL="INFO")
        configure_logging(self.app, self.stream)

    def text(self) -> str:
        return self.stream.getvalue()

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text().splitlines()]

    def request_line(self, path: str) -> dict[str, Any]:
        [line] = [
            x
            for x in self.json_lines()
            if x["logger"] == "matchmaker.core.logs" and x.get("path") == path
        ]
        return line


@pytest.fixture
def logs(app: Flask) -> Iterator[LogCapture]:
    saved = app.config["LOG_FORMAT"], app.config["LOG_LEVEL"]
    yield LogCapture(app)
    app.config["LOG_FORMAT"], app.config["LOG_LEVEL"] = saved
    configure_logging(app)


def test_the_proxys_request_id_is_logged_and_returned(
    client: FlaskClient, logs: LogCapture
) -> None:
    logs.start("json")
    response = client.get("/", headers={"X-Request-ID": "edge-7f3a.1"})
    assert response.headers["X-Request-ID"] == "edge-7f3a.1"
    line = logs.request_line("/")
    assert line["request_id"] == "edge-7f3a.1"
    assert (line["level"], line["message"], line["method"], line["status"]) == (
        "INFO",
        "GET / 200",
        "GET",
        200,
    )
    assert line["duration_ms"] >= 0


@pytest.mark.parametrize("offered", [None, "<script>alert(1)</script>", "x" * 300, "a b"])
def test_a_request_without_a_sane_id_gets_one_made_here(
    client: FlaskClient, logs: LogCapture, offered: str | None
) -> None:
    logs.start("json")
    headers = {"X-Request-ID": offered} if offered is not None else {}
    first = client.get("/needs", headers=headers).headers["X-Request-ID"]
    second = client.get("/offers", headers=headers).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
    assert logs.request_line("/needs")["request_id"] == first
    assert logs.request_line("/offers")["request_id"] == second


def test_development_logs_are_readable_lines_with_the_same_fields(
    client: FlaskClient, logs: LogCapture
) -> None:
    logs.start("text")
    client.get("/missing-page", headers={"X-Request-ID": "req-42"})
    [line] = [x for x in logs.text().splitlines() if "matchmaker.core.logs" in x]
    assert " INFO matchmaker.core.logs: GET /missing-page 404 " in line
    assert "status=404" in line
    assert line.endswith("request_id=req-42")


@pytest.mark.fresh_app  # adds a route
def test_an_error_is_logged_with_its_traceback_and_request_id(
    app: Flask, client: FlaskClient, logs: LogCapture
) -> None:
    @public
    def broken() -> str:
        raise RuntimeError("the database fell over")

    app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    logs.start("json")
    response = client.get("/broken-for-test", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "req-500"
    [error] = [x for x in logs.json_lines() if x["level"] == "ERROR"]
    assert error["request_id"] == "req-500"
    assert "RuntimeError: the database fell over" in error["exception"]


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/reset-password/SECRET-a1b2", "/reset-password/<token>"),
        ("/confirm/SECRET-a1b2", "/confirm/<token>"),
        ("/account/email/confirm/SECRET-a1b2", "/account/email/confirm/<token>"),
        ("/invitations/SECRET-a1b2", "/invitations/<token>"),
    ],
)
def test_a_mailed_links_secret_is_not_logged(
    client: FlaskClient, logs: LogCapture, path: str, route: str
) -> None:
    """Every request line named its path: a password-reset link (working an hour), an address
    confirmation or an invitation was in the logs for whoever reads them to follow."""
    logs.start("json")
    client.get(path)
    assert "SECRET" not in logs.text()
    assert logs.request_line(route)["status"] in {302, 200}


@pytest.mark.fresh_app  # adds a route
def test_an_error_on_a_link_with_a_secret_is_logged_without_it(
    app: Flask, client: FlaskClient, logs: LogCapture
) -> None:
    @public
    def broken(token: str) -> str:
        raise RuntimeError("the database fell over")

    app.add_url_rule("/broken-for-test/<token>", "broken_for_test", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    logs.start("json")
    assert client.get("/broken-for-test/SECRET-a1b2").status_code == 500
    assert "SECRET" not in logs.text()
    [error] = [x for x in logs.json_lines() if x["level"] == "ERROR"]
    assert error["message"] == "Exception on /broken-for-test/<token> [GET]"
