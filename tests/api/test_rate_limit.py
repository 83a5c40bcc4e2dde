"""The API's rate limit: each token has its own budget; calls without one share their address's."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from matchmaker.accounts import access_tokens
from matchmaker.accounts.models import TokenScope
from matchmaker.extensions import db
from tests.factories import make_user


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_API": "3 per minute"}


def test_each_token_has_its_own_budget(client: FlaskClient) -> None:
    first, second = (
        access_tokens.create_token(user=make_user(), name="n", scope=TokenScope.READ).secret
        for _ in range(2)
    )
    db.session.commit()

    def call(secret: str | None) -> int:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return client.get("/api/v1/me/listings", headers=headers).status_code

    assert [call(first) for _ in range(3)] == [200, 200, 200]
    over = client.get("/api/v1/me/listings", headers={"Authorization": f"Bearer {first}"})
    assert over.status_code == 429 and over.content_type == "application/problem+json"
    assert "Retry-After" in over.headers
    # Another token, and calls without a token, are not held back by the first token's use.
    assert call(second) == 200
    assert client.get("/api/v1/themes").status_code == 200
