"""Territories: the public page, the admin pages (CSRF on) and the demo's four territories."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role, User
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.organisations.models import Organisation, OrganisationStatus
from matchmaker.territories import services
from matchmaker.territories.models import Territory
from tests.factories import PASSWORD, make_listing, make_organisation, make_user
from tests.territories.helpers import (
    athens_organisation,
    make_city_region,
    make_territorial_coordinator,
    make_territory,
)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _signed_in(app: Flask, user: User) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client, _token(client.get("/").get_data(as_text=True))


def test_the_public_page_shows_the_territory_and_nothing_else(app: Flask) -> None:
    attica = make_territory()
    athens = athens_organisation(name="Athens Cooperative of Cooks")
    liverpool = make_organisation(name="Liverpool Bakers")
    make_organisation(
        name="Pending Athenians",
        status=OrganisationStatus.PENDING,
        city="Athens",
        region="Attica",
        country="GR",
    )
    make_listing(organisation=athens, title="Kitchen space for training", kind=ListingKind.NEED)
    make_listing(
        organisation=liverpool, title="Ovens to share in Liverpool", kind=ListingKind.OFFER
    )
    make_territorial_coordinator(attica, display_name="Eleni Coordinator")

    client = app.test_client()
    page = client.get("/t/attica").get_data(as_text=True)
    assert "Athens Cooperative of Cooks" in page
    assert "Kitchen space for training" in page
    assert "Eleni Coordinator" in page
    assert "Liverpool Bakers" not in page and "Ovens to share" not in page
    assert "Pending Athenians" not in page
    assert client.get("/t/nowhere").status_code == 404
    assert client.get("/t/Bad%00Slug").status_code == 404
    # The home page links every territory.
    assert 'href="/t/attica"' in client.get("/").get_data(as_text=True)


def test_a_city_region_is_a_set_of_cities(app: Flask) -> None:
    lcr = make_city_region()
    inside = make_organisation(name="Inside")  # Liverpool
    outside = make_organisation(name="Outside", city="Manchester", region="Greater Manchester")
    names = set(
        db.session.scalars(sa.select(Organisation.name).where(services.organisations_in(lcr)))
    )
    assert names == {"Inside"}
    assert [t.slug for t in services.territory_of(inside)] == ["lcr"]
    assert services.territory_of(outside) == []


def test_admins_create_territories_and_appoint_coordinators(app: Flask) -> None:
    admin = make_user(role=Role.ADMIN)
    member = make_user(email="eleni@example.org")
    client, token = _signed_in(app, admin)
    response = client.post(
        "/admin/territories",
        data={
            "csrf_token": token,
            "slug": "attica",
            "name": "Attica",
            "language": "el",
            "subdivisions": "gr-i",
            "geonames_ids": "",
        },
    )
    assert response.status_code == 302
    territory = db.session.scalar(sa.select(Territory))
    assert territory is not None and territory.subdivisions == ["GR-I"]

    response = client.post(
        f"/admin/territories/{territory.id}/coordinators",
        data={"csrf_token": token, "email": "eleni@example.org"},
    )
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.role == Role.COORDINATOR
    assert services.coordinators_of(territory) == [member]

    # Her last appointment ends: a member again, not a coordinator of everything.
    response = client.post(
        f"/admin/territories/{territory.id}/coordinators/{member.id}/end",
        data={"csrf_token": token},
    )
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.role == Role.MEMBER
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"territory:create", "territory:appoint", "territory:dismiss", "user:role"} <= actions


def test_a_territory_saved_unchanged_records_nothing(app: Flask) -> None:
    """The audit trail holds what changed: a save that changes nothing adds no empty entry
    (the page says it is saved, as for a listing or an organisation)."""
    territory = make_territory()
    client, token = _signed_in(app, make_user(role=Role.ADMIN))

    def save(name: str) -> str:
        response = client.post(
            f"/admin/territories/{territory.id}",
            data={
                "csrf_token": token,
                "name": name,
                "language": "el",
                "subdivisions": "GR-I",
                "geonames_ids": "",
            },
            follow_redirects=True,
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def updates() -> int:
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "territory:update", AuditEvent.subject_id == territory.id)
        )

    assert "Territory saved." in save("Attica")
    assert updates() == 0
    save("Attica and the islands")
    assert updates() == 1


def test_a_territory_needs_known_places_and_a_free_address(app: Flask) -> None:
    make_territory()
    client, token = _signed_in(app, make_user(role=Role.ADMIN))
    form = {
        "csrf_token": token,
        "slug": "attica",
        "name": "Attica",
        "language": "el",
        "subdivisions": "GR-I",
    }
    response = client.post("/admin/territories", data=form)
    assert response.status_code == 422
    assert "Another territory has this address." in response.get_data(as_text=True)
    response = client.post(
        "/admin/territories",
        data=form | {"slug": "x", "subdivisions": "GR-ZZ", "geonames_ids": "12a"},
    )
    assert response.status_code == 422
    assert "Unknown subdivision codes: GR-ZZ." in response.get_data(as_text=True)
    response = client.post("/admin/territories", data=form | {"slug": "x", "subdivisions": ""})
    assert "Give at least one subdivision or city." in response.get_data(as_text=True)
    # Without the CSRF token nothing is created.
    assert client.post(
        "/admin/territories", data=form | {"slug": "y", "csrf_token": ""}
    ).status_code in (400, 422)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Territory)) == 1


def test_only_admins_manage_territories(app: Flask) -> None:
    territory = make_territory()
    client, token = _signed_in(app, make_user(role=Role.COORDINATOR))
    assert client.get("/admin/territories").status_code == 403
    assert client.get(f"/admin/territories/{territory.id}").status_code == 403
    response = client.post(
        f"/admin/territories/{territory.id}/coordinators",
        data={"csrf_token": token, "email": "x@example.org"},
    )
    assert response.status_code == 403


def test_the_demo_has_four_territories_each_with_its_coordinator(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    territories = {t.slug: t for t in db.session.scalars(sa.select(Territory))}
    assert set(territories) == {
        "liverpool-city-region",
        "attica",
        "tanger-tetouan-al-hoceima",
        "sao-paulo",
    }
    assert {t.language for t in territories.values()} == {"en", "el", "ar", "pt"}
    for territory in territories.values():
        assert len(services.coordinators_of(territory)) == 1
    # Every demo organisation lies in exactly one of them.
    for organisation in db.session.scalars(sa.select(Organisation)):
        assert len(services.territory_of(organisation)) == 1, organisation.name
    # Loading twice changes nothing.
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Territory)) == 4
