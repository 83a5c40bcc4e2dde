"""H1: a verified organisation's identity changes wait for a coordinator."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind, ListingStatus
from matchmaker.organisations.models import OrganisationKind, OrganisationStatus
from tests.conftest import Outbox
from tests.factories import PASSWORD, make_listing, make_organisation, make_user

CO_OP = {
    "name": "Athens Social Co-op",
    "kind": "sse_organisation",
    "description": "A cooperative that works on social inclusion in Athens.",
    "website": "https://coop.example.org",
    "city": "Athens",
    "region": "Attica",
    "country": "GR",
}
IMPERSONATION = {
    **CO_OP,
    "name": "Municipality of Athens - Social Services",
    "kind": "public_agency",
    "description": "The social services of the municipality.",
}


@pytest.fixture
def co_op() -> Any:
    owner = make_user(email="owner@example.org")
    fields = {key: value for key, value in CO_OP.items() if key != "kind"}
    return make_organisation(owner=owner, kind=OrganisationKind.SSE_ORGANISATION, **fields)


def _coordinator(app: Any) -> FlaskClient:
    browser = app.test_client()
    browser.post(
        "/login", data={"email": make_user(role=Role.COORDINATOR).email, "password": PASSWORD}
    )
    return browser


def _edit(client: FlaskClient, organisation: Any, data: dict[str, str]) -> Any:
    return client.post(f"/organisations/{organisation.id}/edit", data=data)


def test_h1_identity_changes_of_a_verified_organisation_wait_for_a_coordinator(
    client: FlaskClient, login: Any, co_op: Any
) -> None:
    login(co_op.memberships[0].user)
    response = _edit(client, co_op, IMPERSONATION)
    assert response.status_code == 302
    db.session.expire_all()
    # The verified identity stays in force, and visible; the other fields change at once.
    assert co_op.status == OrganisationStatus.VERIFIED
    assert co_op.name == "Athens Social Co-op"
    assert co_op.kind == OrganisationKind.SSE_ORGANISATION
    assert co_op.description == "The social services of the municipality."
    directory = client.get("/organisations?q=Athens").get_data(as_text=True)
    assert "Athens Social Co-op" in directory
    assert "Municipality of Athens" not in directory
    # Challenges follow the verified kind: still not a public agency.
    assert client.get(f"/organisations/{co_op.id}/listings/new/challenge").status_code == 403
    # The owner sees what waits; the edit form keeps asking for it.
    page = client.get(f"/organisations/{co_op.id}").get_data(as_text=True)
    assert "Changes waiting for a coordinator" in page
    form = client.get(f"/organisations/{co_op.id}/edit").get_data(as_text=True)
    assert 'value="Municipality of Athens - Social Services"' in form


def test_h1_the_public_sees_the_verified_identity_only(
    app: Any, client: FlaskClient, login: Any, co_op: Any
) -> None:
    login(co_op.memberships[0].user)
    _edit(client, co_op, IMPERSONATION)
    visitor = app.test_client()
    page = visitor.get(f"/organisations/{co_op.id}").get_data(as_text=True)
    assert "Athens Social Co-op" in page
    assert "Municipality of Athens" not in page


def test_h1_coordinator_accepts_the_changes(
    app: Any, client: FlaskClient, login: Any, co_op: Any, outbox: Outbox
) -> None:
    login(co_op.memberships[0].user)
    _edit(client, co_op, IMPERSONATION)
    coordinator = _coordinator(app)
    queue = coordinator.get("/coordination/organisations").get_data(as_text=True)
    assert "Municipality of Athens - Social Services" in queue
    assert coordinator.post(f"/coordination/organisations/{co_op.id}/verify").status_code == 302
    db.session.expire_all()
    assert co_op.name == "Municipality of Athens - Social Services"
    assert co_op.kind == OrganisationKind.PUBLIC_AGENCY
    assert co_op.pending_changes is None
    assert co_op.status == OrganisationStatus.VERIFIED
    [message] = outbox.to("owner@example.org")
    assert "changes" in message["Subject"]
    assert client.get(f"/organisations/{co_op.id}/listings/new/challenge").status_code == 200
    assert db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "organisation:accept-changes")
    )


def test_h1_coordinator_refuses_the_changes_and_the_verified_identity_stays(
    app: Any, client: FlaskClient, login: Any, co_op: Any, outbox: Outbox
) -> None:
    login(co_op.memberships[0].user)
    _edit(client, co_op, IMPERSONATION)
    coordinator = _coordinator(app)
    response = coordinator.post(
        f"/coordination/organisations/{co_op.id}/reject",
        data={f"o{co_op.id}-reason": "You are not the municipality."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert co_op.status == OrganisationStatus.VERIFIED
    assert co_op.name == "Athens Social Co-op"
    assert co_op.kind == OrganisationKind.SSE_ORGANISATION
    assert co_op.pending_changes is None
    [message] = outbox.to("owner@example.org")
    assert "You are not the municipality." in outbox.text(message)
    queue = coordinator.get("/coordination/organisations").get_data(as_text=True)
    assert f'id="organisation-{co_op.id}"' not in queue


def test_h1_saving_the_verified_values_again_cancels_the_request(
    client: FlaskClient, login: Any, co_op: Any
) -> None:
    login(co_op.memberships[0].user)
    _edit(client, co_op, IMPERSONATION)
    _edit(client, co_op, CO_OP)
    db.session.expire_all()
    assert co_op.pending_changes is None


def test_h1_unverified_organisations_change_at_once(client: FlaskClient, login: Any) -> None:
    owner = make_user()
    pending = make_organisation(owner=owner, status=OrganisationStatus.PENDING)
    login(owner)
    _edit(client, pending, IMPERSONATION)
    db.session.expire_all()
    assert pending.name == "Municipality of Athens - Social Services"
    assert pending.pending_changes is None


def test_h1_challenges_close_when_the_verified_kind_stops_being_a_public_agency(
    app: Any, client: FlaskClient, login: Any
) -> None:
    owner = make_user(email="officer@example.org")
    fields = {key: value for key, value in CO_OP.items() if key != "kind"}
    agency = make_organisation(owner=owner, kind=OrganisationKind.PUBLIC_AGENCY, **fields)
    challenge = make_listing(organisation=agency, kind=ListingKind.CHALLENGE)
    need = make_listing(organisation=agency, kind=ListingKind.NEED)
    login(owner)
    _edit(client, agency, CO_OP)  # now an SSE organisation, waiting for a coordinator
    db.session.expire_all()
    assert challenge.status == ListingStatus.OPEN  # the verified kind still holds
    assert (
        _coordinator(app).post(f"/coordination/organisations/{agency.id}/verify").status_code == 302
    )
    db.session.expire_all()
    assert agency.kind == OrganisationKind.SSE_ORGANISATION
    assert challenge.status == ListingStatus.CLOSED
    assert need.status == ListingStatus.OPEN
    assert client.get(f"/organisations/{agency.id}/listings/new/challenge").status_code == 403


def test_h1_a_challenge_closed_by_the_kind_change_cannot_be_reopened(
    app: Any, client: FlaskClient, login: Any
) -> None:
    """Its members cannot put it back up, on the page or with a token: challenges stay a
    verified public agency's."""
    from matchmaker.accounts import access_tokens
    from matchmaker.accounts.models import TokenScope

    owner = make_user(email="officer@example.org")
    fields = {key: value for key, value in CO_OP.items() if key != "kind"}
    agency = make_organisation(owner=owner, kind=OrganisationKind.PUBLIC_AGENCY, **fields)
    challenge = make_listing(
        organisation=agency, kind=ListingKind.CHALLENGE, title="Social care innovation"
    )
    login(owner)
    _edit(client, agency, CO_OP)
    _coordinator(app).post(f"/coordination/organisations/{agency.id}/verify")
    db.session.expire_all()
    assert challenge.status == ListingStatus.CLOSED
    # Its page offers no Reopen button that could only be refused.
    page = client.get(f"/listings/{challenge.id}").get_data(as_text=True)
    assert f'action="/listings/{challenge.id}/reopen"' not in page
    assert f'action="/listings/{challenge.id}/close"' not in page  # closed already

    client.post(f"/listings/{challenge.id}/reopen")
    db.session.expire_all()
    assert challenge.status == ListingStatus.CLOSED
    assert "Social care innovation" not in app.test_client().get("/challenges").get_data(
        as_text=True
    )

    secret = access_tokens.create_token(user=owner, name="script", scope=TokenScope.WRITE).secret
    db.session.commit()
    response = app.test_client().post(
        f"/api/v1/me/listings/{challenge.id}/reopen",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 409
    db.session.expire_all()
    assert challenge.status == ListingStatus.CLOSED
