from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.organisations.models import (
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)
from tests.concurrency import one_then_the_other
from tests.conftest import Outbox, is_postgres
from tests.factories import make_organisation, make_user
from tests.proposals.helpers import signed_in

NEW_ORGANISATION = {
    "name": "Wirral Food Cooperative",
    "kind": "sse_organisation",
    "description": "A food cooperative that runs community kitchens across the Wirral.",
    "website": "https://wirral-food.example.org",
    "city": "Birkenhead",
    "region": "Liverpool City Region",
    "country": "GB",
    "contact_name": "Jo Bloggs",
    "contact_position": "Co-ordinator",
    "contact_email": "jo@example.org",
    "contact_phone": "+44 151 000 0000",
}


def test_confirmed_user_registers_an_organisation_and_owns_it(
    client: FlaskClient, login: Any
) -> None:
    user = make_user()
    login(user)
    response = client.post("/organisations/new", data=NEW_ORGANISATION)
    assert response.status_code == 302
    organisation = db.session.scalar(sa.select(Organisation))
    assert organisation.status == OrganisationStatus.PENDING
    assert organisation.kind == OrganisationKind.SSE_ORGANISATION
    assert [(m.user_id, m.role) for m in organisation.memberships] == [
        (user.id, MembershipRole.OWNER)
    ]
    assert organisation.contacts[0].position == "Co-ordinator"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "waits for a coordinator" in page


def test_unconfirmed_user_cannot_register_an_organisation(client: FlaskClient, login: Any) -> None:
    login(make_user(confirmed=False))
    response = client.post("/organisations/new", data=NEW_ORGANISATION)
    assert response.status_code == 403
    assert "confirm your email" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Organisation)) is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"country": "XX"}, "Choose one of the options offered."),
        ({"kind": "cartel"}, "Choose one of the options offered."),
        ({"description": "Too short"}, "Write 20 to 5000 characters here."),
        ({"website": "javascript:alert(1)"}, "Enter a full address"),
        ({"name": ""}, "Enter the name"),
        ({"contact_name": "", "contact_email": "jo@example.org"}, "Enter the name of the person"),
    ],
)
def test_bad_organisation_input_is_explained_and_kept(
    client: FlaskClient, login: Any, change: dict[str, str], message: str
) -> None:
    login(make_user())
    response = client.post("/organisations/new", data={**NEW_ORGANISATION, **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert "Birkenhead" in page
    assert db.session.scalar(sa.select(Organisation)) is None


def test_same_name_in_the_same_country_is_refused(client: FlaskClient, login: Any) -> None:
    make_organisation(name="Wirral Food Cooperative", country="GB")
    login(make_user())
    response = client.post(
        "/organisations/new", data={**NEW_ORGANISATION, "name": "wirral food cooperative"}
    )
    assert response.status_code == 422
    assert "already registered in this country" in response.get_data(as_text=True)


def test_same_name_in_another_case_is_refused_in_every_language(
    client: FlaskClient, login: Any
) -> None:
    make_organisation(name="Δήμος Αθηναίων", country="GR")
    login(make_user())
    response = client.post(
        "/organisations/new",
        data={
            **NEW_ORGANISATION,
            "name": "ΔΉΜΟΣ ΑΘΗΝΑΊΩΝ",
            "city": "Athens",
            "region": "Attica",
            "country": "GR",
        },
    )
    assert response.status_code == 422
    assert "already registered in this country" in response.get_data(as_text=True)


def test_country_is_chosen_by_name(client: FlaskClient, login: Any) -> None:
    login(make_user())
    page = client.get("/organisations/new").get_data(as_text=True)
    assert '<option value="GR">Greece</option>' in page
    assert '<option value="MA">Morocco</option>' in page
    assert 'value="EU"' not in page


# Who may see and change what ------------------------------------------------------------


@pytest.fixture
def owned() -> dict[str, Any]:
    owner = make_user()
    member = make_user()
    outsider = make_user()
    coordinator = make_user(role=Role.COORDINATOR)
    organisation = make_organisation(
        owner=owner,
        members=[member],
        contacts=[
            {
                "name": "Pat",
                "position": "Director",
                "email": "pat@example.org",
                "phone": "+30 210 000",
            }
        ],
    )
    other = make_organisation(owner=outsider)
    return {
        "owner": owner,
        "member": member,
        "outsider": outsider,
        "coordinator": coordinator,
        "organisation": organisation,
        "other": other,
    }


OWNER_ONLY_POSTS = [
    ("/organisations/{id}/edit", {**NEW_ORGANISATION, "name": "Renamed"}),
    ("/organisations/{id}/contacts", {"contact_name": "New person"}),
    ("/organisations/{id}/contacts/{contact}/delete", {}),
    ("/organisations/{id}/members/invite", {"email": "x@example.org"}),
    ("/organisations/{id}/members/{membership}/remove", {}),
]


@pytest.mark.parametrize("who", ["member", "outsider", "coordinator"])
@pytest.mark.parametrize("url, data", OWNER_ONLY_POSTS)
def test_only_owners_change_an_organisation(
    client: FlaskClient, login: Any, owned: dict[str, Any], who: str, url: str, data: dict
) -> None:
    organisation = owned["organisation"]
    member_row = next(m for m in organisation.memberships if m.role == MembershipRole.MEMBER)
    target = url.format(
        id=organisation.id, contact=organisation.contacts[0].id, membership=member_row.id
    )
    login(owned[who])
    assert client.post(target, data=data).status_code == 403
    db.session.expire_all()
    assert organisation.name != "Renamed"
    assert len(organisation.contacts) == 1
    assert len(organisation.memberships) == 2


@pytest.mark.parametrize("url, data", OWNER_ONLY_POSTS)
def test_owner_changes_their_organisation(
    client: FlaskClient, login: Any, owned: dict[str, Any], url: str, data: dict, outbox: Outbox
) -> None:
    organisation = owned["organisation"]
    member_row = next(m for m in organisation.memberships if m.role == MembershipRole.MEMBER)
    target = url.format(
        id=organisation.id, contact=organisation.contacts[0].id, membership=member_row.id
    )
    login(owned["owner"])
    assert client.post(target, data=data).status_code == 302


def test_edit_page_is_for_owners_only(client: FlaskClient, login: Any, owned: dict) -> None:
    organisation = owned["organisation"]
    login(owned["member"])
    assert client.get(f"/organisations/{organisation.id}/edit").status_code == 403


def test_owner_cannot_touch_another_organisations_contacts(
    client: FlaskClient, login: Any, owned: dict
) -> None:
    other = owned["other"]
    other.contacts  # noqa: B018
    from matchmaker.organisations.models import ContactPerson

    contact = ContactPerson(organisation=other, name="Other person")
    db.session.add(contact)
    db.session.commit()
    login(owned["owner"])
    url = f"/organisations/{owned['organisation'].id}/contacts/{contact.id}/delete"
    assert client.post(url).status_code == 404
    assert db.session.get(ContactPerson, contact.id) is not None


def test_editing_records_what_changed(client: FlaskClient, login: Any, owned: dict) -> None:
    organisation = owned["organisation"]
    login(owned["owner"])
    client.post(
        f"/organisations/{organisation.id}/edit", data={**NEW_ORGANISATION, "name": "Renamed"}
    )
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "organisation:update")
    )
    # The organisation is verified: its new name waits for a coordinator.
    assert event.details["pending_changes"][1]["name"] == "Renamed"
    assert event.details["description"][1] == NEW_ORGANISATION["description"]
    assert event.actor_id == owned["owner"].id


def test_contact_details_are_never_public(client: FlaskClient, login: Any, owned: dict) -> None:
    url = f"/organisations/{owned['organisation'].id}"
    anonymous = client.get(url).get_data(as_text=True)
    assert "Pat" in anonymous and "Director" in anonymous
    assert "pat@example.org" not in anonymous and "+30 210 000" not in anonymous
    login(owned["outsider"])
    assert "pat@example.org" not in client.get(url).get_data(as_text=True)
    client.post("/logout")
    login(owned["member"])
    assert "pat@example.org" in client.get(url).get_data(as_text=True)


def test_pending_organisations_are_hidden_from_others(client: FlaskClient, login: Any) -> None:
    owner = make_user()
    pending = make_organisation(owner=owner, status=OrganisationStatus.PENDING, name="Hidden Co")
    assert client.get(f"/organisations/{pending.id}").status_code == 404
    assert "Hidden Co" not in client.get("/organisations").get_data(as_text=True)
    login(owner)
    assert client.get(f"/organisations/{pending.id}").status_code == 200


# Members and invitations -----------------------------------------------------------------


def test_owner_invites_a_member_who_accepts(
    app: Any, client: FlaskClient, login: Any, owned: dict, outbox: Outbox
) -> None:
    organisation = owned["organisation"]
    login(owned["owner"])
    response = client.post(
        f"/organisations/{organisation.id}/members/invite", data={"email": "Invitee@example.org"}
    )
    assert response.status_code == 302
    [message] = outbox.to("invitee@example.org")
    link = outbox.link(message, "/invitations/")
    invitee = make_user(email="invitee@example.org", confirmed=False)
    other_browser = app.test_client()
    other_browser.post("/login", data={"email": invitee.email, "password": "correct-horse-battery"})
    assert organisation.name in other_browser.get(link).get_data(as_text=True)
    assert other_browser.post(link).status_code == 302
    db.session.expire_all()
    assert invitee.id in [m.user_id for m in organisation.memberships]
    assert invitee.is_email_confirmed
    # An invitation works once.
    assert other_browser.post(link).status_code == 302
    assert len([m for m in organisation.memberships if m.user_id == invitee.id]) == 1


def test_invitation_is_for_the_invited_address_only(
    app: Any, client: FlaskClient, login: Any, owned: dict, outbox: Outbox
) -> None:
    organisation = owned["organisation"]
    login(owned["owner"])
    client.post(
        f"/organisations/{organisation.id}/members/invite", data={"email": "right@example.org"}
    )
    link = outbox.link(outbox[0], "/invitations/")
    client.post("/logout")
    login(owned["outsider"])
    response = client.post(link)
    assert response.status_code == 403
    assert "Sign in with that address" in response.get_data(as_text=True)
    db.session.expire_all()
    assert owned["outsider"].id not in [m.user_id for m in organisation.memberships]


def test_a_user_may_belong_to_several_organisations(client: FlaskClient, login: Any) -> None:
    user = make_user()
    make_organisation(owner=user, name="First Co")
    make_organisation(members=[user], name="Second Co")
    login(user)
    page = client.get("/my/organisations").get_data(as_text=True)
    assert "First Co" in page and "Second Co" in page


def test_the_last_owner_cannot_be_removed(client: FlaskClient, login: Any, owned: dict) -> None:
    organisation = owned["organisation"]
    owner_row = next(m for m in organisation.memberships if m.role == MembershipRole.OWNER)
    login(owned["owner"])
    response = client.post(
        f"/organisations/{organisation.id}/members/{owner_row.id}/remove", follow_redirects=True
    )
    assert "keeps at least one owner" in response.get_data(as_text=True)
    assert db.session.get(Membership, owner_row.id) is not None


def test_members_see_the_member_list_but_outsiders_do_not(
    client: FlaskClient, login: Any, owned: dict
) -> None:
    url = f"/organisations/{owned['organisation'].id}/members"
    login(owned["outsider"])
    assert client.get(url).status_code == 403
    client.post("/logout")
    login(owned["member"])
    page = client.get(url)
    assert page.status_code == 200
    assert "Invite a member" not in page.get_data(as_text=True)


@pytest.mark.skipif(not is_postgres(), reason="needs real concurrent transactions")
def test_two_owners_removing_each_other_at_once_leave_one(app: Flask) -> None:
    """Each counted two owners before the other's removal was committed: none was left."""
    ann, bob = make_user(), make_user()
    organisation = make_organisation(owner=ann, members=[bob])
    rows = {m.user_id: m for m in organisation.memberships}
    rows[bob.id].role = MembershipRole.OWNER
    db.session.commit()
    as_ann, as_bob = signed_in(app, ann), signed_in(app, bob)

    def remove(client: FlaskClient, user: Any) -> Any:
        url = f"/organisations/{organisation.id}/members/{rows[user.id].id}/remove"
        return lambda: client.post(url)

    first, second = one_then_the_other("after_flush", remove(as_ann, bob), remove(as_bob, ann))
    assert (first.status_code, second.status_code) == (302, 302)
    db.session.expire_all()
    assert [m.user_id for m in organisation.memberships] == [ann.id]
