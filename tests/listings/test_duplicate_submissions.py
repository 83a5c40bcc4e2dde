"""L4: a listing form sent twice (Back and Submit again, a double click) makes one listing."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError

from matchmaker.extensions import db
from matchmaker.listings import services
from matchmaker.listings.models import Listing, ListingKind, Scope
from tests.factories import make_organisation, make_user
from tests.listings.test_posting import NEED


def _form_key(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="submission_key"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="submission_key"', page
    )
    assert found is not None, "the form carries a one-time submission key"
    return found.group(1)


def _listings() -> list[Listing]:
    return list(db.session.scalars(sa.select(Listing)))


def test_l4_a_resubmitted_listing_form_makes_one_listing(client: FlaskClient, login: Any) -> None:
    member = make_user()
    organisation = make_organisation(owner=member)
    login(member)
    url = f"/organisations/{organisation.id}/listings/new/need"
    data = {**NEED, "submission_key": _form_key(client, url)}
    first = client.post(url, data=data)
    again = client.post(url, data=data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert len(_listings()) == 1
    # A fresh form is a new listing, even with the same words.
    fresh = client.post(url, data={**NEED, "submission_key": _form_key(client, url)})
    assert fresh.status_code == 302 and fresh.headers["Location"] != first.headers["Location"]
    assert len(_listings()) == 2


def test_l4_the_same_form_sent_at_the_same_moment_makes_one_listing(
    client: FlaskClient, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests look for the form's listing before either has saved it; the unique key
    stops the second, which then answers with the first one's listing."""
    member = make_user()
    organisation = make_organisation(owner=member)
    login(member)
    url = f"/organisations/{organisation.id}/listings/new/need"
    data = {**NEED, "submission_key": _form_key(client, url)}
    first = client.post(url, data=data)
    real_lookup = services.submitted_listing
    looked = []

    def not_yet_committed(**kwargs: Any) -> Any:
        looked.append(kwargs)
        # The first look (before saving) misses, as it would while the other request is still
        # inside its transaction; the look after the unique key refused the row finds it.
        return None if len(looked) == 1 else real_lookup(**kwargs)

    monkeypatch.setattr(services, "submitted_listing", not_yet_committed)
    second = client.post(url, data=data)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert len(looked) == 2
    assert len(_listings()) == 1


def test_l4_the_database_refuses_two_listings_from_one_form(app: Any) -> None:
    organisation = make_organisation()
    key = services.new_submission_key()
    for _ in range(2):
        db.session.add(
            Listing(
                organisation=organisation,
                kind=ListingKind.NEED,
                title="Twice the same",
                description="The same form, saved twice by two requests.",
                scope=Scope.LOCAL,
                submission_key=key,
            )
        )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_l4_a_forged_submission_key_is_ignored(client: FlaskClient, login: Any) -> None:
    member = make_user()
    organisation = make_organisation(owner=member)
    login(member)
    url = f"/organisations/{organisation.id}/listings/new/need"
    for key in ("x" * 5000, "<script>", ""):
        assert client.post(url, data={**NEED, "submission_key": key}).status_code == 302
    assert [listing.submission_key for listing in _listings()] == [None, None, None]
