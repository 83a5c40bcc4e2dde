"""Organisations pick their city from the gazetteer; owners of an unfound one are asked again."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from matchmaker.extensions import db
from matchmaker.organisations.models import Organisation
from tests.factories import make_organisation, make_user
from tests.organisations.test_organisations import NEW_ORGANISATION


def test_a_city_typed_in_greek_is_stored_as_the_real_place(client: FlaskClient, login: Any) -> None:
    login(make_user())
    response = client.post(
        "/organisations/new",
        data={**NEW_ORGANISATION, "city": "Αθήνα", "region": "Αττική", "country": "GR"},
    )
    assert response.status_code == 302
    organisation = db.session.scalar(sa.select(Organisation))
    assert organisation.city == "Αθήνα"  # as the owner wrote it
    assert (organisation.geonames_id, organisation.subdivision) == (264371, "GR-I")
    assert round(organisation.latitude or 0) == 38 and round(organisation.longitude or 0) == 24


def test_a_suggestion_with_its_subdivision_is_stored_by_its_name(
    client: FlaskClient, login: Any
) -> None:
    login(make_user())
    client.post(
        "/organisations/new",
        data={**NEW_ORGANISATION, "city": "Athens (Georgia)", "country": "US"},
    )
    organisation = db.session.scalar(sa.select(Organisation))
    assert (organisation.city, organisation.subdivision) == ("Athens", "US-GA")


def test_an_unknown_city_is_explained_and_nothing_is_saved(client: FlaskClient, login: Any) -> None:
    login(make_user())
    response = client.post("/organisations/new", data={**NEW_ORGANISATION, "city": "Atlantis"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "We cannot find Atlantis in the chosen country" in page
    assert db.session.scalar(sa.select(Organisation)) is None


def test_the_form_offers_suggestions_and_works_without_them(
    client: FlaskClient, login: Any
) -> None:
    login(make_user())
    page = client.get("/organisations/new").get_data(as_text=True)
    assert 'list="city-suggestions"' in page
    assert 'data-suggestions-url="/places/suggestions"' in page


def test_owners_of_an_unfound_city_are_asked_to_pick_it_again(
    client: FlaskClient, login: Any
) -> None:
    owner, member = make_user(), make_user()
    organisation = make_organisation(owner=owner, members=[member], city="Liverpol", country="GB")
    assert organisation.place_unresolved
    notice = "We could not find the city “Liverpol” on the map"
    login(owner)
    for url in (f"/organisations/{organisation.id}", "/my/organisations"):
        assert notice in client.get(url).get_data(as_text=True)
    edit = f"/organisations/{organisation.id}/edit"
    assert notice in client.get(edit).get_data(as_text=True)
    response = client.post(
        edit, data={**NEW_ORGANISATION, "name": organisation.name, "city": "Liverpool"}
    )
    assert response.status_code == 302
    db.session.refresh(organisation)
    assert organisation.geonames_id == 2644210 and not organisation.place_unresolved
    assert notice not in client.get(f"/organisations/{organisation.id}").get_data(as_text=True)


def test_only_owners_see_the_notice(client: FlaskClient, login: Any) -> None:
    member = make_user()
    organisation = make_organisation(members=[member], city="Liverpol", country="GB")
    login(member)
    page = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    assert "We could not find the city" not in page
