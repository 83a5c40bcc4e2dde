"""PATCH /me/listings/{id} with If-Match: a change someone made since the listing was read is
not overwritten (412); without If-Match a PATCH saves as it always did."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from matchmaker.extensions import db
from matchmaker.listings.models import Listing
from tests.api.test_api import PROBLEM, bearer
from tests.factories import make_listing, make_organisation, make_user


@pytest.fixture
def two_members() -> tuple[dict[str, str], dict[str, str], Listing]:
    first, second = make_user(), make_user()
    organisation = make_organisation(owner=first, members=[second])
    return bearer(first), bearer(second), make_listing(organisation=organisation)


def test_a_patch_with_a_stale_etag_is_refused(
    client: FlaskClient, two_members: tuple[dict[str, str], dict[str, str], Listing]
) -> None:
    first, second, listing = two_members
    url = f"/api/v1/me/listings/{listing.id}"
    read = client.get(url, headers=first)
    etag = read.headers["ETag"]
    assert etag == '"1"' and client.get(url, headers=second).headers["ETag"] == etag

    saved = client.patch(
        url, json={"title": "The first member's title"}, headers={**first, "If-Match": etag}
    )
    assert saved.status_code == 200 and saved.headers["ETag"] == '"2"'
    refused = client.patch(
        url, json={"title": "The second member's title"}, headers={**second, "If-Match": etag}
    )

    assert refused.status_code == 412
    assert refused.content_type == PROBLEM
    assert refused.headers["ETag"] == '"2"'
    assert "changed this listing since you read it" in refused.get_json()["detail"]
    db.session.expire_all()
    assert listing.title == "The first member's title" and listing.version == 2
    # Read again (here: the ETag the refusal gave), the change goes through.
    again = client.patch(
        url, json={"title": "The second member's title"}, headers={**second, "If-Match": '"2"'}
    )
    assert again.status_code == 200 and again.headers["ETag"] == '"3"'


@pytest.mark.parametrize(
    "if_match, status",
    [(None, 200), ("*", 200), ('"7", "1"', 200), ('W/"1"', 412), ('"7"', 412), ('"2"', 412)],
)
def test_if_match_is_compared_as_rfc_9110_says(
    client: FlaskClient,
    two_members: tuple[dict[str, str], dict[str, str], Listing],
    if_match: str | None,
    status: int,
) -> None:
    """No If-Match (or "*"): saved as before. Otherwise one of the strong tags must match."""
    first, _second, listing = two_members
    headers: dict[str, Any] = {**first} if if_match is None else {**first, "If-Match": if_match}
    response = client.patch(
        f"/api/v1/me/listings/{listing.id}", json={"title": "A new title here"}, headers=headers
    )
    assert response.status_code == status, response.get_json()


def test_status_changes_leave_the_etag_valid(
    client: FlaskClient, two_members: tuple[dict[str, str], dict[str, str], Listing]
) -> None:
    first, second, listing = two_members
    url = f"/api/v1/me/listings/{listing.id}"
    etag = client.get(url, headers=first).headers["ETag"]
    assert client.post(f"{url}/pause", headers=second).status_code == 200
    response = client.patch(
        url, json={"title": "A new title here"}, headers={**first, "If-Match": etag}
    )
    assert response.status_code == 200


def test_the_openapi_document_describes_if_match_and_the_etag(client: FlaskClient) -> None:
    operations = client.get("/api/v1/openapi.json").get_json()["paths"][
        "/api/v1/me/listings/{listing_id}"
    ]
    patch = operations["patch"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
    assert "412" in patch["responses"]
    assert "ETag" in patch["responses"]["200"]["headers"]
    assert "ETag" in operations["get"]["responses"]["200"]["headers"]
