"""Two members editing the same listing at once: the second save does not overwrite the first
(optimistic locking, core/versions.py)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingStatus
from tests.concurrency import one_then_the_other
from tests.conftest import is_postgres
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in

FIRST = {
    "title": "Evaluation of our work-integration programme",
    "description": "We need researchers to evaluate the social impact of our programme.",
    "themes": ["research-evaluation"],
    "scope": "regional",
    "language": "en",
    "expires_on": "",
}
SECOND = {
    **FIRST,
    "title": "Volunteers for our community kitchen",
    "description": "Second member's description, written while the first one saved.",
}


def version_in(page: str) -> str:
    found = re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', page)
    assert found, "the edit form carries no version"
    return found.group(1)


@pytest.fixture
def two_members(app: Flask) -> tuple[FlaskClient, FlaskClient, Listing]:
    first, second = make_user(), make_user()
    organisation = make_organisation(owner=first, members=[second])
    listing = make_listing(organisation=organisation, title="The listing as posted")
    return signed_in(app, first), signed_in(app, second), listing


def _read_form(client: FlaskClient, listing: Listing) -> str:
    response = client.get(f"/listings/{listing.id}/edit")
    assert response.status_code == 200
    return version_in(response.get_data(as_text=True))


def test_the_second_of_two_edits_is_refused_with_its_entries_kept(
    two_members: tuple[FlaskClient, FlaskClient, Listing],
) -> None:
    first, second, listing = two_members
    url = f"/listings/{listing.id}/edit"
    read_by_first, read_by_second = _read_form(first, listing), _read_form(second, listing)
    assert read_by_first == read_by_second == "1"

    assert first.post(url, data={**FIRST, "version": read_by_first}).status_code == 302
    response = second.post(url, data={**SECOND, "version": read_by_second})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved changes to this listing while you were editing it." in page
    # The second member's entries are still in the form, beside the listing as saved now.
    assert 'value="Volunteers for our community kitchen"' in page
    assert "Second member&#39;s description" in page
    assert "The listing as saved now" in page and FIRST["title"] in page
    db.session.expire_all()
    saved = db.session.get(Listing, listing.id)
    assert saved is not None
    assert (saved.title, saved.description) == (FIRST["title"], FIRST["description"])
    assert saved.version == 2
    # The form came back at the version just read: saving again is a decision, and it saves.
    assert version_in(page) == "2"
    assert second.post(url, data={**SECOND, "version": "2"}).status_code == 302
    db.session.expire_all()
    assert listing.title == SECOND["title"] and listing.version == 3


def test_status_changes_do_not_make_an_open_form_stale(
    two_members: tuple[FlaskClient, FlaskClient, Listing],
) -> None:
    """Pausing (or closing, reopening) changes nothing the form shows: it is no conflict."""
    first, second, listing = two_members
    version = _read_form(first, listing)
    assert second.post(f"/listings/{listing.id}/pause").status_code == 302
    response = first.post(f"/listings/{listing.id}/edit", data={**FIRST, "version": version})
    assert response.status_code == 302
    db.session.expire_all()
    assert listing.status == ListingStatus.PAUSED and listing.title == FIRST["title"]


def test_a_form_without_a_version_saves_as_before(
    two_members: tuple[FlaskClient, FlaskClient, Listing],
) -> None:
    first, _second, listing = two_members
    for version in ("", "not a number"):
        data = {**FIRST, "version": version} if version else FIRST
        assert first.post(f"/listings/{listing.id}/edit", data=data).status_code == 302


def test_a_save_that_changes_nothing_keeps_the_version(
    two_members: tuple[FlaskClient, FlaskClient, Listing],
) -> None:
    first, _second, listing = two_members
    url = f"/listings/{listing.id}/edit"
    assert first.post(url, data={**FIRST, "version": "1"}).status_code == 302
    assert first.post(url, data={**FIRST, "version": "2"}).status_code == 302
    db.session.expire_all()
    assert listing.version == 2


@pytest.mark.skipif(not is_postgres(), reason="SQLite lets one writer at a time anyway")
def test_two_saves_at_the_same_moment_cannot_both_win(
    two_members: tuple[FlaskClient, FlaskClient, Listing],
) -> None:
    """The second save waits for the first's row lock, then reads the version it wrote."""
    first, second, listing = two_members
    url = f"/listings/{listing.id}/edit"
    one, two = one_then_the_other(
        "before_commit",
        lambda: first.post(url, data={**FIRST, "version": "1"}),
        lambda: second.post(url, data={**SECOND, "version": "1"}),
    )
    assert (one.status_code, two.status_code) == (302, 409)
    db.session.expire_all()
    assert listing.title == FIRST["title"] and listing.version == 2
