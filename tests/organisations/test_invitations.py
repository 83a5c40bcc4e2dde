"""M3 and M7: invitations end when they should, and cannot be used to send mail in bulk."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.extensions import db
from matchmaker.organisations.models import (
    Invitation,
    InvitationStatus,
    Membership,
    MembershipRole,
    OrganisationStatus,
)
from tests.concurrency import one_then_the_other
from tests.conftest import Outbox, is_postgres
from tests.factories import PASSWORD, make_organisation, make_user


def _browser(app: Flask, user: Any) -> FlaskClient:
    browser = app.test_client()
    browser.post("/login", data={"email": user.email, "password": PASSWORD})
    return browser


def _invite(client: FlaskClient, organisation: Any, email: str) -> Any:
    return client.post(f"/organisations/{organisation.id}/members/invite", data={"email": email})


def _member_ids(organisation: Any) -> list[int]:
    db.session.expire_all()
    return [m.user_id for m in organisation.memberships]


def test_m3_a_removed_member_cannot_rejoin_through_an_older_invitation(
    app: Flask, client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner)
    login(owner)
    _invite(client, organisation, "invitee@example.org")
    _invite(client, organisation, "invitee@example.org")
    first, second = (outbox.link(m, "/invitations/") for m in outbox.to("invitee@example.org"))
    invitee = make_user(email="invitee@example.org")
    invitee_browser = _browser(app, invitee)
    assert invitee_browser.post(second).status_code == 302
    assert invitee.id in _member_ids(organisation)

    membership = next(m for m in organisation.memberships if m.user_id == invitee.id)
    client.post(f"/organisations/{organisation.id}/members/{membership.id}/remove")
    assert invitee.id not in _member_ids(organisation)

    invitee_browser.post(first)
    assert invitee.id not in _member_ids(organisation)


def test_m3_removing_a_member_revokes_the_invitations_waiting_for_them(
    client: FlaskClient, login: Any
) -> None:
    owner, member = make_user(), make_user(email="member@example.org")
    organisation = make_organisation(owner=owner, members=[member])
    waiting = Invitation(organisation=organisation, email="member@example.org", invited_by=owner)
    db.session.add(waiting)
    db.session.commit()
    membership = next(m for m in organisation.memberships if m.role == MembershipRole.MEMBER)
    login(owner)
    client.post(f"/organisations/{organisation.id}/members/{membership.id}/remove")
    db.session.refresh(waiting)
    assert waiting.status == InvitationStatus.REVOKED


def test_m3_owners_see_and_revoke_waiting_invitations(
    app: Flask, client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    owner, member = make_user(), make_user()
    organisation = make_organisation(owner=owner, members=[member])
    login(owner)
    _invite(client, organisation, "invitee@example.org")
    invitation = db.session.query(Invitation).one()
    revoke = f"/organisations/{organisation.id}/invitations/{invitation.id}/revoke"
    page = client.get(f"/organisations/{organisation.id}/members").get_data(as_text=True)
    assert "invitee@example.org" in page
    assert revoke in page

    # A member who is not an owner may not revoke it.
    assert _browser(app, member).post(revoke).status_code == 403
    assert client.post(revoke).status_code == 302
    db.session.refresh(invitation)
    assert invitation.status == InvitationStatus.REVOKED
    page = client.get(f"/organisations/{organisation.id}/members").get_data(as_text=True)
    assert revoke not in page

    invitee = make_user(email="invitee@example.org")
    _browser(app, invitee).post(outbox.link(outbox[0], "/invitations/"))
    assert invitee.id not in _member_ids(organisation)


def test_m3_invitations_expire_after_a_week_by_default(
    app: Flask, client: FlaskClient, login: Any, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner)
    login(owner)
    _invite(client, organisation, "late@example.org")
    link = outbox.link(outbox[0], "/invitations/")
    assert "7 days" in outbox.text(outbox[0])
    invitee = make_user(email="late@example.org")
    sent = time.time()
    monkeypatch.setattr(time, "time", lambda: sent + 8 * 24 * 3600)
    response = _browser(app, invitee).post(link, follow_redirects=True)
    assert "This invitation has expired" in response.get_data(as_text=True)
    assert invitee.id not in _member_ids(organisation)


def test_m7_only_verified_organisations_invite(
    client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner, status=OrganisationStatus.PENDING)
    login(owner)
    assert _invite(client, organisation, "someone@example.org").status_code == 403
    assert len(outbox) == 0
    page = client.get(f"/organisations/{organisation.id}/members").get_data(as_text=True)
    assert "once a coordinator has verified the organisation" in page


def test_m7_invitation_subject_carries_no_name_a_user_wrote(
    client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    owner = make_user(display_name="Free iPhones")
    organisation = make_organisation(owner=owner, name="Click here to claim")
    login(owner)
    _invite(client, organisation, "someone@example.org")
    [message] = outbox.to("someone@example.org")
    assert "Free iPhones" not in message["Subject"]
    assert "Click here" not in message["Subject"]
    assert "Click here to claim" in outbox.text(message)


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_INVITE_USER": "3 per hour",
            "RATELIMIT_INVITE_ORGANISATION": "4 per hour",
        }
    ],
)
def test_m7_invitations_are_limited_per_user_and_per_organisation(app: Flask) -> None:
    busy, helper = make_user(), make_user()
    first = make_organisation(owner=busy)
    second = make_organisation(owner=busy)
    shared = make_organisation(owner=helper)
    busy_browser, helper_browser = _browser(app, busy), _browser(app, helper)

    # Per user, across organisations.
    for organisation in (first, first, second):
        assert _invite(busy_browser, organisation, "a@example.org").status_code == 302
    assert _invite(busy_browser, second, "b@example.org").status_code == 429

    # Per organisation, across users.
    other_owner = make_user()
    shared.memberships.append(Membership(user=other_owner, role=MembershipRole.OWNER))
    db.session.commit()
    other_browser = _browser(app, other_owner)
    for _ in range(3):
        assert _invite(helper_browser, shared, "c@example.org").status_code == 302
    assert _invite(other_browser, shared, "d@example.org").status_code == 302
    assert _invite(other_browser, shared, "e@example.org").status_code == 429


@pytest.mark.skipif(not is_postgres(), reason="needs real concurrent transactions")
def test_an_invitation_accepted_twice_at_once_adds_the_member_once(
    app: Flask, client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    """A double click on Accept: the second request read the invitation still waiting (the
    first had not committed) and added the member again, which the unique key on membership
    refused with a server error."""
    owner = make_user()
    organisation = make_organisation(owner=owner)
    login(owner)
    _invite(client, organisation, "invitee@example.org")
    link = outbox.link(outbox[0], "/invitations/")
    invitee = _browser(app, make_user(email="invitee@example.org"))
    first, second = one_then_the_other(
        "before_commit", lambda: invitee.post(link), lambda: invitee.post(link)
    )
    assert first.status_code == 302
    assert first.headers["Location"] == f"/organisations/{organisation.id}"
    assert second.status_code == 302  # told the invitation was used, not a server error
    db.session.expire_all()
    members = db.session.scalars(
        sa.select(Membership.user_id).where(Membership.organisation_id == organisation.id)
    ).all()
    assert len(members) == 2


def test_m7_invitations_end_when_the_organisation_is_no_longer_verified(
    app: Flask, client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    """Sent while it was verified, an invitation no longer lets anyone join once a coordinator
    took the organisation's verification back: only verified organisations invite."""
    from matchmaker.accounts.models import Role
    from matchmaker.organisations.services import reject_organisation

    owner = make_user()
    organisation = make_organisation(owner=owner)
    login(owner)
    assert _invite(client, organisation, "invitee@example.org").status_code == 302
    link = outbox.link(outbox.to("invitee@example.org")[0], "/invitations/")
    with app.test_request_context():
        reject_organisation(
            organisation=organisation,
            actor=make_user(role=Role.COORDINATOR),
            reason="Not who they claim to be.",
        )
    db.session.commit()

    invitee = make_user(email="invitee@example.org")
    _browser(app, invitee).post(link)
    assert invitee.id not in _member_ids(organisation)


def test_an_invitation_of_an_organisation_no_longer_verified_lets_nobody_in(
    app: Flask, client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    """One still pending from before taking the verification back revoked them (data of an
    earlier version): refused when it is used, whatever its row says."""
    from matchmaker.organisations.models import OrganisationStatus

    owner = make_user()
    organisation = make_organisation(owner=owner)
    login(owner)
    assert _invite(client, organisation, "invitee@example.org").status_code == 302
    link = outbox.link(outbox.to("invitee@example.org")[0], "/invitations/")
    organisation.status = OrganisationStatus.REJECTED  # as the earlier version left it
    db.session.commit()

    invitee = make_user(email="invitee@example.org")
    page = _browser(app, invitee).post(link, follow_redirects=True).get_data(as_text=True)
    assert "This invitation has expired or was already used." in page
    assert invitee.id not in _member_ids(organisation)
