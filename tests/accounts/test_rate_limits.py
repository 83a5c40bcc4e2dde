from typing import Any

import pytest
from flask.testing import FlaskClient


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_LOGIN": "3 per minute",
        "RATELIMIT_SIGNUP": "2 per minute",
        "RATELIMIT_RESET": "2 per minute",
    }


@pytest.mark.parametrize(
    "url, data, allowed",
    [
        ("/login", {"email": "a@example.org", "password": "wrong-password"}, 3),
        ("/signup", {"email": "not-valid"}, 2),
        ("/forgot-password", {"email": "a@example.org"}, 2),
    ],
)
def test_sensitive_forms_are_rate_limited(
    client: FlaskClient, url: str, data: dict[str, str], allowed: int
) -> None:
    for _ in range(allowed):
        assert client.post(url, data=data).status_code != 429
    response = client.post(url, data=data)
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)
    # Reading the page is not limited.
    assert client.get(url).status_code == 200
