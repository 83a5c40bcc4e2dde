from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.organisations.models import OrganisationKind, OrganisationStatus
from tests.conftest import Outbox
from tests.factories import make_organisation, make_user


@pytest.fixture
def pending() -> Any:
    owner = make_user(email="owner@example.org")
    return make_organisation(owner=owner, status=OrganisationStatus.PENDING, name="New Co-op")


@pytest.mark.parametrize(
    "role, status", [(Role.MEMBER, 403), (Role.COORDINATOR, 200), (Role.ADMIN, 200)]
)
def test_only_coordinators_see_the_verification_queue(
    client: FlaskClient, login: Any, pending: Any, role: Role, status: int
) -> None:
    login(make_user(role=role))
    response = client.get("/coordination/organisations")
    assert response.status_code == status
    if status == 200:
        assert "New Co-op" in response.get_data(as_text=True)


def test_coordinator_verifies_and_the_owner_is_told(
    client: FlaskClient, login: Any, pending: Any, outbox: Outbox
) -> None:
    coordinator = make_user(role=Role.COORDINATOR)
    login(coordinator)
    response = client.post(f"/coordination/organisations/{pending.id}/verify")
    assert response.status_code == 302
    db.session.refresh(pending)
    assert pending.status == OrganisationStatus.VERIFIED
    assert pending.verified_by_id == coordinator.id
    [message] = outbox.to("owner@example.org")
    assert "is verified" in message["Subject"]
    assert "New Co-op" in client.get("/organisations").get_data(as_text=True)
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "organisation:verify")
    )
    assert event.actor_id == coordinator.id
    assert event.details == {"before": "pending", "after": "verified"}


def test_coordinator_rejects_with_a_reason_the_owner_reads(
    client: FlaskClient, login: Any, pending: Any, outbox: Outbox
) -> None:
    login(make_user(role=Role.COORDINATOR))
    response = client.post(
        f"/coordination/organisations/{pending.id}/reject",
        data={f"o{pending.id}-reason": "Please add a website or a public registration number."},
    )
    assert response.status_code == 302
    db.session.refresh(pending)
    assert pending.status == OrganisationStatus.REJECTED
    [message] = outbox.to("owner@example.org")
    assert "public registration number" in outbox.text(message)


def test_rejecting_needs_a_reason(client: FlaskClient, login: Any, pending: Any) -> None:
    login(make_user(role=Role.COORDINATOR))
    response = client.post(f"/coordination/organisations/{pending.id}/reject", data={})
    assert response.status_code == 422
    assert "Say why" in response.get_data(as_text=True)
    db.session.refresh(pending)
    assert pending.status == OrganisationStatus.PENDING


def test_members_cannot_verify(client: FlaskClient, login: Any, pending: Any) -> None:
    login(pending.memberships[0].user)
    assert client.post(f"/coordination/organisations/{pending.id}/verify").status_code == 403
    db.session.refresh(pending)
    assert pending.status == OrganisationStatus.PENDING


def test_an_edited_rejected_organisation_goes_back_to_the_queue(
    client: FlaskClient, login: Any
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner, status=OrganisationStatus.REJECTED)
    login(owner)
    client.post(
        f"/organisations/{organisation.id}/edit",
        data={
            "name": organisation.name,
            "kind": "sse_organisation",
            "description": "Now with the public registration number 12345 in the text.",
            "city": "Liverpool",
            "region": "Liverpool City Region",
            "country": "GB",
        },
    )
    db.session.refresh(organisation)
    assert organisation.status == OrganisationStatus.PENDING


def test_directory_filters_combine(client: FlaskClient) -> None:
    make_organisation(
        name="Athens Uni",
        kind=OrganisationKind.ACADEMIC_INSTITUTION,
        city="Athens",
        region="Attica",
        country="GR",
    )
    make_organisation(name="Athens Coop", city="Athens", region="Attica", country="GR")
    make_organisation(name="Liverpool Uni", kind=OrganisationKind.ACADEMIC_INSTITUTION)
    make_organisation(
        name="Pending Uni",
        kind=OrganisationKind.ACADEMIC_INSTITUTION,
        country="GR",
        status=OrganisationStatus.PENDING,
    )

    def names(query: str) -> list[str]:
        page = client.get(f"/organisations?{query}").get_data(as_text=True)
        return [
            n for n in ("Athens Uni", "Athens Coop", "Liverpool Uni", "Pending Uni") if n in page
        ]

    assert names("") == ["Athens Uni", "Athens Coop", "Liverpool Uni"]
    assert names("country=GR") == ["Athens Uni", "Athens Coop"]
    assert names("country=GR&kind=academic_institution") == ["Athens Uni"]
    assert names("region=attica") == ["Athens Uni", "Athens Coop"]
    assert names("q=uni") == ["Athens Uni", "Liverpool Uni"]
    assert names("q=100%25") == []


def test_directory_is_paginated(app: Any, client: FlaskClient) -> None:
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        make_organisation(name=f"Co-op {number}")
    first = client.get("/organisations").get_data(as_text=True)
    assert "Page 1 of 3" in first and "Co-op 0" in first and "Co-op 2" not in first
    last = client.get("/organisations?page=3").get_data(as_text=True)
    assert "Co-op 4" in last


def test_directory_refuses_an_unknown_filter_value(client: FlaskClient) -> None:
    response = client.get("/organisations?kind=cartel")
    assert response.status_code == 400
    assert "Choose one of the options offered." in response.get_data(as_text=True)


@pytest.mark.parametrize("decision", ["verify", "reject"])
def test_l3_a_stored_name_with_a_newline_does_not_block_the_decision(
    client: FlaskClient, login: Any, outbox: Outbox, decision: str
) -> None:
    owner = make_user(email="owner@example.org")
    organisation = make_organisation(
        owner=owner, status=OrganisationStatus.PENDING, name="Old Co-op\nBcc: x@example.org"
    )
    login(make_user(role=Role.COORDINATOR))
    response = client.post(
        f"/coordination/organisations/{organisation.id}/{decision}",
        data={f"o{organisation.id}-reason": "The website does not open."},
    )
    assert response.status_code == 302
    db.session.refresh(organisation)
    assert organisation.status != OrganisationStatus.PENDING
    [message] = outbox.to("owner@example.org")
    assert "Old Co-op Bcc: x@example.org" in message["Subject"]
    assert "x@example.org" not in message["X-Envelope-To"]
