"""Two owners editing the same organisation at once: the second save does not overwrite the
first (optimistic locking, core/versions.py), and coordinators' decisions still go through."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.extensions import db
from matchmaker.organisations.models import (
    Membership,
    MembershipRole,
    Organisation,
    OrganisationStatus,
)
from tests.factories import make_organisation, make_user
from tests.listings.test_edit_conflicts import version_in
from tests.proposals.helpers import signed_in

FORM = {
    "name": "Liverpool Food Cooperative",
    "kind": "sse_organisation",
    "description": "A food cooperative that runs community kitchens across the city.",
    "language": "en",
    "website": "",
    "city": "Liverpool",
    "region": "Liverpool City Region",
    "country": "GB",
}
SECOND = {**FORM, "description": "The second owner's description, written at the same time."}


def _two_owners(app: Flask, **fields: Any) -> tuple[FlaskClient, FlaskClient, Organisation]:
    first, second = make_user(), make_user()
    organisation = make_organisation(owner=first, name=FORM["name"], **fields)
    organisation.memberships.append(Membership(user=second, role=MembershipRole.OWNER))
    db.session.commit()
    return signed_in(app, first), signed_in(app, second), organisation


def _verify(app: Flask, organisation: Organisation) -> None:
    coordinator = signed_in(app, make_user(role=Role.COORDINATOR))
    url = f"/coordination/organisations/{organisation.id}/verify"
    assert coordinator.post(url).status_code == 302


def _read_form(client: FlaskClient, organisation: Organisation) -> str:
    response = client.get(f"/organisations/{organisation.id}/edit")
    assert response.status_code == 200
    return version_in(response.get_data(as_text=True))


def test_the_second_of_two_edits_is_refused_with_its_entries_kept(app: Flask) -> None:
    first, second, organisation = _two_owners(app)
    url = f"/organisations/{organisation.id}/edit"
    read_by_first, read_by_second = (
        _read_form(first, organisation),
        _read_form(second, organisation),
    )

    assert first.post(url, data={**FORM, "version": read_by_first}).status_code == 302
    response = second.post(url, data={**SECOND, "version": read_by_second})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved changes to this organisation while you were editing it." in page
    assert "The second owner&#39;s description" in page  # the entries stay in the form
    assert "The organisation as saved now" in page and FORM["description"] in page
    db.session.expire_all()
    saved = db.session.get(Organisation, organisation.id)
    assert saved is not None and saved.description == FORM["description"]
    assert version_in(page) == str(saved.version) == "2"


def test_a_coordinators_decision_on_identity_changes_makes_an_open_form_stale(
    app: Flask,
) -> None:
    """Accepting changes the values the form shows: a form read before is not saved over them."""
    first, second, organisation = _two_owners(app)
    url = f"/organisations/{organisation.id}/edit"
    renamed = {**FORM, "name": "Merseyside Food Cooperative"}
    assert (
        first.post(url, data={**renamed, "version": _read_form(first, organisation)}).status_code
        == 302
    )
    stale = _read_form(second, organisation)  # shows the name waiting for a coordinator
    _verify(app, organisation)
    assert second.post(url, data={**SECOND, "version": stale}).status_code == 409
    db.session.expire_all()
    assert organisation.name == "Merseyside Food Cooperative"


def test_verifying_a_new_organisation_does_not_make_an_open_form_stale(app: Flask) -> None:
    first, _second, organisation = _two_owners(app, status=OrganisationStatus.PENDING)
    version = _read_form(first, organisation)
    _verify(app, organisation)
    response = first.post(
        f"/organisations/{organisation.id}/edit", data={**SECOND, "version": version}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert organisation.status == OrganisationStatus.VERIFIED
    assert organisation.description == SECOND["description"]


def test_the_registration_form_carries_no_version(client: FlaskClient, login: Any) -> None:
    login(make_user())
    assert 'name="version"' not in client.get("/organisations/new").get_data(as_text=True)


@pytest.mark.parametrize("version", [None, "", "9" * 40])
def test_a_form_without_a_usable_version_saves_as_before(app: Flask, version: str | None) -> None:
    first, _second, organisation = _two_owners(app)
    data = SECOND if version is None else {**SECOND, "version": version}
    assert first.post(f"/organisations/{organisation.id}/edit", data=data).status_code == 302
