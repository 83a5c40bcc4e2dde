"""My proposals when there is nothing to show: it says what to do next, in the page itself."""

from __future__ import annotations

from flask import Flask

from tests.factories import make_organisation, make_user
from tests.proposals.helpers import signed_in


def _main(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


def test_someone_without_an_organisation_is_told_to_register_one(app: Flask) -> None:
    """It spoke of "your organisations" and their listings to someone who has none."""
    page = _main(signed_in(app, make_user()).get("/my/proposals").get_data(as_text=True))
    assert "you are not a member of one yet" in page
    assert 'href="/organisations/new"' in page
    assert "Your organisations have no listings yet." not in page


def test_an_organisation_without_listings_is_shown_where_to_post_one(app: Flask) -> None:
    owner = make_user()
    make_organisation(owner=owner)
    page = _main(signed_in(app, owner).get("/my/proposals").get_data(as_text=True))
    assert "Your organisations have no listings yet." in page
    assert 'href="/my/organisations">Post a need or an offer</a>' in page
