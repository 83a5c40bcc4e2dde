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
