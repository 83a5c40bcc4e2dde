from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.core import paging
from matchmaker.core.models import AuditEvent
from matchmaker.core.paging import encode_cursor
from matchmaker.extensions import db
from matchmaker.organisations.models import OrganisationKind, OrganisationStatus
from tests.conftest import Outbox
from tests.core.pager import links, walk, walk_there_and_back
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


@pytest.mark.parametrize("decision", ["verify", "reject"])
def test_a_closed_organisation_is_neither_verified_nor_refused(
    client: FlaskClient, login: Any, outbox: Outbox, decision: str
) -> None:
    """The queue never lists a closed organisation, but a decision sent to its address was
    taken: verified, its owners' closing was undone and its page public again; refused, it
    was open to its owners' edits again (and they were mailed)."""
    owner = make_user(email="owner@example.org")
    closed = make_organisation(owner=owner, status=OrganisationStatus.CLOSED, name="Gone Co-op")
    login(make_user(role=Role.COORDINATOR))
    response = client.post(
        f"/coordination/organisations/{closed.id}/{decision}",
        data={f"o{closed.id}-reason": "Please add a website or a public registration number."},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Gone Co-op is closed: it is neither verified nor refused." in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(type(closed), closed.id).status == OrganisationStatus.CLOSED
    assert outbox.to("owner@example.org") == []
    visitor = client.application.test_client()
    assert visitor.get(f"/organisations/{closed.id}").status_code == 404


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


def test_the_directory_finds_a_name_whatever_its_capitals(client: FlaskClient) -> None:
    make_organisation(name="École des Communs", city="Lyon", region="Rhône", country="FR")
    make_organisation(name="Δήμος Αθηναίων", city="Athens", region="Attica", country="GR")
    for query, name in [
        ("école", "École des Communs"),
        ("ÉCOLE", "École des Communs"),
        ("δήμος", "Δήμος Αθηναίων"),
    ]:
        page = client.get("/organisations", query_string={"q": query}).get_data(as_text=True)
        assert name in page, query


def _coops(body: str) -> list[str]:
    return re.findall(r'dir="auto">(Co-op [^<]*)</a>', body)


def test_directory_pages_walk_every_organisation_once_forward_and_back(
    app: Any, client: FlaskClient
) -> None:
    app.config["PAGE_SIZE"] = 2
    for name in ["Co-op 0", "Co-op 1", "Co-op 2", "Co-op 3"]:
        make_organisation(name=name)
    # Two organisations of the same name (in two countries): the id puts them in order.
    make_organisation(name="Co-op 1", country="IE", city="Dublin", region="Leinster")
    make_organisation(name="Co-op 2 university", kind=OrganisationKind.ACADEMIC_INSTITUTION)

    pages, last = walk_there_and_back(client, "/organisations?kind=sse_organisation", _coops)
    assert pages == [["Co-op 0", "Co-op 1"], ["Co-op 1", "Co-op 2"], ["Co-op 3"]]
    assert "kind=sse_organisation" in last  # the filter survives paging


def test_organisations_added_while_paging_neither_repeat_nor_vanish(
    app: Any, client: FlaskClient
) -> None:
    app.config["PAGE_SIZE"] = 2
    for name in ("Co-op b", "Co-op d", "Co-op f", "Co-op h"):
        make_organisation(name=name)
    added = iter(["Co-op a", "Co-op c", "Co-op g"])

    def add() -> None:
        make_organisation(name=next(added, "Co-op z"))

    pages, _last = walk(client, "/organisations", _coops, between=add)
    seen = [name for page in pages for name in page]
    # Those added behind the reader are not shown again; those ahead are, in order.
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert {"Co-op b", "Co-op d", "Co-op f", "Co-op h"} <= set(seen)


def test_directory_counts_up_to_a_cap(app: Any, client: FlaskClient, monkeypatch: Any) -> None:
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    for number in range(3):
        make_organisation(name=f"Co-op {number}")
    assert "3 organisations" in client.get("/organisations").get_data(as_text=True)
    make_organisation(name="Co-op 3")
    body = client.get("/organisations?kind=sse_organisation").get_data(as_text=True)
    assert "More than 3 organisations" in body


def test_directory_serves_old_page_numbers_and_refuses_a_tampered_cursor(
    app: Any, client: FlaskClient
) -> None:
    app.config["PAGE_SIZE"] = 2
    for number in range(5):
        make_organisation(name=f"Co-op {number}")
    old = client.get("/organisations?page=2").get_data(as_text=True)
    assert _coops(old) == ["Co-op 2", "Co-op 3"]
    # From an old page number on, the links are cursors again.
    assert _coops(client.get(links(old)["next"]).get_data(as_text=True)) == ["Co-op 4"]
    assert _coops(client.get(links(old)["prev"]).get_data(as_text=True)) == ["Co-op 0", "Co-op 1"]

    tampered = [
        "not-a-cursor",
        encode_cursor({"after": [1]}),  # one value for a two-column order
        encode_cursor({"after": ["Co-op 1", "b"]}),  # text for an id
        encode_cursor({"after": ["Co-op 1", True]}),
        encode_cursor({"sideways": ["Co-op 1", 1]}),
        "x" * 600,
    ]
    for cursor in tampered:
        answer = client.get(f"/organisations?cursor={cursor}")
        assert answer.status_code == 400, cursor
        assert "This page link is not one this list gave out" in answer.get_data(as_text=True)
    too_deep = client.get("/organisations?page=6000")
    assert too_deep.status_code == 400
    assert "cannot be paged this deep" in too_deep.get_data(as_text=True)


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


def test_directory_pages_through_long_names_in_any_script(app: Any, client: FlaskClient) -> None:
    # The cursor carries the name: a 200-character Greek name still makes a link that works.
    app.config["PAGE_SIZE"] = 1
    long_name = "Κοινωνική Συνεταιριστική Επιχείρηση " * 5 + "Αθήνας"
    make_organisation(name=long_name[:200])
    make_organisation(name="Ωμέγα συνεταιρισμός")
    first = client.get("/organisations").get_data(as_text=True)
    following = client.get(links(first)["next"])
    assert following.status_code == 200
    assert "Ωμέγα συνεταιρισμός" in following.get_data(as_text=True)


def test_an_old_page_number_at_the_depth_bound_still_links_on_by_key(
    app: Any, client: FlaskClient, monkeypatch: Any
) -> None:
    app.config["PAGE_SIZE"] = 2
    monkeypatch.setattr(paging, "MAX_OFFSET", 2)
    for number in range(6):
        make_organisation(name=f"Co-op {number}")
    old = client.get("/organisations?page=2").get_data(as_text=True)
    assert _coops(old) == ["Co-op 2", "Co-op 3"]
    assert _coops(client.get(links(old)["next"]).get_data(as_text=True)) == ["Co-op 4", "Co-op 5"]


def test_walking_back_past_rows_gone_meanwhile_lands_on_the_first_page(
    app: Any, client: FlaskClient
) -> None:
    app.config["PAGE_SIZE"] = 2
    for number in range(3):
        make_organisation(name=f"Co-op {number}")
    # Before the first organisation there is nothing: the first page, with its Next link.
    cursor = encode_cursor({"before": ["Co-op 0", 1]})
    answer = client.get(f"/organisations?cursor={cursor}")
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert _coops(body) == ["Co-op 0", "Co-op 1"]
    assert "next" in links(body) and "prev" not in links(body)


def test_a_cursor_holding_two_directions_is_refused(client: FlaskClient) -> None:
    make_organisation(name="Co-op 0")
    cursor = encode_cursor({"after": ["Co-op 0", 1], "before": ["Co-op 0", 1]})
    answer = client.get(f"/organisations?cursor={cursor}")
    assert answer.status_code == 400
    assert "This page link is not one this list gave out" in answer.get_data(as_text=True)
