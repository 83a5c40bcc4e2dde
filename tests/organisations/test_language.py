"""Each organisation says the language its name and description are written in."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade

from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.organisations.models import Organisation
from tests.factories import make_listing, make_organisation, make_user
from tests.organisations.test_organisations import NEW_ORGANISATION

BEFORE = "d6e1a4b8c935"


def test_a_new_organisation_is_written_in_the_registering_persons_language_by_default(
    client: FlaskClient, login: Any
) -> None:
    login(make_user(language="el"))
    page = client.get("/organisations/new").get_data(as_text=True)
    assert '<option selected value="el">' in page
    assert "Η γλώσσα στην οποία είναι γραμμένα το όνομα και η περιγραφή." in page


def test_the_form_saves_the_language_and_an_edit_changes_it(
    client: FlaskClient, login: Any
) -> None:
    owner = make_user()
    login(owner)
    response = client.post("/organisations/new", data={**NEW_ORGANISATION, "language": "pt"})
    assert response.status_code == 302
    organisation = db.session.scalar(sa.select(Organisation))
    assert organisation.language == "pt"
    page = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    assert 'lang="pt"' in page
    edit = f"/organisations/{organisation.id}/edit"
    assert '<option selected value="pt">' in client.get(edit).get_data(as_text=True)
    assert client.post(edit, data={**NEW_ORGANISATION, "language": "en"}).status_code == 302
    db.session.expire_all()
    assert organisation.language == "en"
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "organisation:update")
    ).one()
    assert event.details == {"language": ["pt", "en"]}


def test_a_new_listing_starts_in_its_organisations_language(
    client: FlaskClient, login: Any
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner, language="ar")
    db.session.commit()
    login(owner)
    page = client.get(f"/organisations/{organisation.id}/listings/new/need").get_data(as_text=True)
    assert '<option selected value="ar">' in page


def test_a_language_the_matcher_cannot_read_is_refused(client: FlaskClient, login: Any) -> None:
    login(make_user())
    response = client.post("/organisations/new", data={**NEW_ORGANISATION, "language": "xx"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose a language." in page
    assert "Not a valid choice" not in page  # one message, not WTForms' own as well
    assert db.session.scalar(sa.select(Organisation)) is None


def test_the_api_gives_the_organisations_language(client: FlaskClient) -> None:
    organisation = make_organisation(language="el")
    db.session.commit()
    assert client.get(f"/api/v1/organisations/{organisation.id}").json["language"] == "el"
    # And with each of its listings, whose names a reader shows in that language.
    listing = make_listing(organisation=organisation, language="en")
    db.session.commit()
    shown = client.get(f"/api/v1/listings/{listing.id}").json
    assert shown["language"] == "en" and shown["organisation"]["language"] == "el"


def test_the_migration_takes_the_language_most_of_its_listings_are_written_in(app: Flask) -> None:
    downgrade(revision=BEFORE)
    organisations = {
        # name: its listings' languages, in the order they were posted
        "Mostly Greek": ["en", "el", "el"],
        "Tied": ["fr", "ar", "ar", "fr"],  # the earliest listing's language wins the tie
        "Arabic": ["ar"],
        "No listings": [],
    }
    with db.engine.begin() as connection:
        for name, languages in organisations.items():
            organisation_id = connection.execute(
                sa.text(
                    "INSERT INTO organisations (name, kind, description, city, region, country,"
                    " status, created_at, updated_at) VALUES (:name, 'sse_organisation', '',"
                    " 'Athens', '', 'GR', 'verified', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    " RETURNING id"
                ),
                {"name": name},
            ).scalar_one()
            for number, language in enumerate(languages):
                connection.execute(
                    sa.text(
                        "INSERT INTO listings (organisation_id, kind, title, description, scope,"
                        " language, created_at, updated_at) VALUES (:organisation, 'need',"
                        " :title, 'A description long enough.', 'local', :language,"
                        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "organisation": organisation_id,
                        "title": f"{name} {number}",
                        "language": language,
                    },
                )
    upgrade()
    with db.engine.connect() as connection:
        found = dict(connection.execute(sa.text("SELECT name, language FROM organisations")).all())
    assert found == {"Mostly Greek": "el", "Tied": "fr", "Arabic": "ar", "No listings": "en"}
    downgrade(revision=BEFORE)
    upgrade()


def test_a_listing_posted_through_the_api_without_a_language_takes_its_organisations(
    client: FlaskClient,
) -> None:
    from tests.api.test_api import _need, bearer

    user = make_user()
    organisation = make_organisation(owner=user, language="pt")
    db.session.commit()
    need, headers = _need(organisation_id=organisation.id), bearer(user)
    need.pop("language", None)
    response = client.post("/api/v1/me/listings", json=need, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["language"] == "pt"
    said = client.post("/api/v1/me/listings", json={**need, "language": "fr"}, headers=headers)
    assert said.status_code == 201 and said.get_json()["language"] == "fr"
