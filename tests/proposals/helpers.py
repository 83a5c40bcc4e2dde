from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD


def signed_in(app: Flask, user: Any) -> FlaskClient:
    """A client of its own, signed in as ``user``."""
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client
