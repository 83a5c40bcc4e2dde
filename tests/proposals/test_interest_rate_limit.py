"""Requests for introductions are limited per user, whatever address they come from."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from matchmaker.listings.models import ListingKind
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_LOGIN": "100 per minute",
        "RATELIMIT_INTRODUCTION_REQUEST": "2 per hour",
    }


def test_introduction_requests_are_rate_limited_per_user(app: Flask) -> None:
    asker = make_user()
    mine = make_listing(organisation=make_organisation(owner=asker), kind=ListingKind.OFFER)
    listings = [make_listing(themes=("social-inclusion",)) for _ in range(3)]

    data = {"listing": mine.id, "message": "We would like to meet you."}
    first, second = signed_in(app, asker), signed_in(app, asker)  # two sessions, one user
    assert first.post(f"/listings/{listings[0].id}/interest", data=data).status_code == 302
    assert second.post(f"/listings/{listings[1].id}/interest", data=data).status_code == 302
    assert first.post(f"/listings/{listings[2].id}/interest", data=data).status_code == 429
    # Reading the form is not limited, and another user is not held back.
    assert first.get(f"/listings/{listings[2].id}/interest").status_code == 200
    other = make_user()
    theirs = make_listing(organisation=make_organisation(owner=other), kind=ListingKind.OFFER)
    response = signed_in(app, other).post(
        f"/listings/{listings[2].id}/interest",
        data={"listing": theirs.id, "message": "We would like to meet you."},
    )
    assert response.status_code == 302
