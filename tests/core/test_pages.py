from unittest import mock

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.extensions import db


def test_home_page_invites_newcomers(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'lang="en"' in page
    assert "/signup" in page


def test_healthz_answers_when_the_database_does(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_says_unavailable_when_the_database_fails(client: FlaskClient) -> None:
    with mock.patch.object(
        db.session, "execute", side_effect=sa.exc.OperationalError("SELECT 1", {}, Exception())
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.fresh_app  # adds a route
def test_unexpected_error_is_a_friendly_500(app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    from matchmaker.core.auth import public

    public(boom)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


def test_static_assets_are_served_locally(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "/static/css/app.css" in page
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200
    assert "//cdn" not in page


@pytest.mark.fresh_app  # adds routes
def test_a_database_error_other_than_busy_stays_a_logged_server_error(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a busy database is answered 503 (core.errors.handle_database_error); any other
    OperationalError goes on to the server error's page, or the API's problem+json, logged
    with its traceback, and neither says what the statement was."""
    import logging
    import sqlite3

    from matchmaker.core.auth import public

    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken() -> str:
        error = sqlite3.OperationalError("no such table: secret_table")
        error.sqlite_errorcode = sqlite3.SQLITE_ERROR
        raise sa.exc.OperationalError("SELECT secret FROM secret_table", {}, error)

    app.add_url_rule("/broken", "broken", public(broken))
    app.add_url_rule("/api/v1/broken", "api_broken", public(broken))
    page = app.test_client().get("/broken")
    assert page.status_code == 500 and "Retry-After" not in page.headers
    assert "Something went wrong" in page.get_data(as_text=True)
    api = app.test_client().get("/api/v1/broken")
    assert api.status_code == 500 and api.content_type == "application/problem+json"
    for answer in (page, api):
        assert "secret" not in answer.get_data(as_text=True)
    assert len([r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]) == 2
