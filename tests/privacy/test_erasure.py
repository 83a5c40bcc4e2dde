from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.accounts.models import Role, User
from matchmaker.core.models import AuditEvent
from matchmaker.core.outbox import queue_message
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingStatus
from matchmaker.organisations.models import MembershipRole, Organisation, OrganisationStatus
from matchmaker.privacy.erasure import ORGANISATION_CLOSED
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.concurrency import one_then_the_other
from tests.conftest import is_postgres
from tests.factories import PASSWORD, make_listing, make_organisation, make_user
from tests.privacy.scenario import EMAIL, NAME, World, member_with_everything
from tests.proposals.helpers import signed_in


def _every_text_value() -> list[tuple[str, str, Any]]:
    """(table, column, value) of every text value in every table of the database."""
    found = []
    inspector = sa.inspect(db.engine)
    with db.engine.connect() as connection:
        for table in inspector.get_table_names():
            result = connection.execute(sa.text(f'SELECT * FROM "{table}"'))  # noqa: S608
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, str | bytes | dict | list):
                        found.append((table, column, value))
    return found


def _traces(*needles: str) -> list[tuple[str, str]]:
    lowered = [n.lower() for n in needles]
    return [
        (table, column)
        for table, column, value in _every_text_value()
        if any(n in str(value).lower() for n in lowered)
    ]


def _erase(app: Flask, world: World) -> None:
    with app.test_request_context():
        # A mail to the member and one naming them to someone else, both still in the outbox.
        queue_message(
            recipients=[EMAIL],
            subject="Your digest",
            body_text=f"Hello {NAME}",
            body_html=f"<p>Hello {NAME}</p>",
            template="digest",
        )
        queue_message(
            recipients=[world.colleague.email],
            subject=f"{NAME} answered",
            body_text=f"{NAME} ({EMAIL}) accepted.",
            body_html=f"<p>{NAME} ({EMAIL}) accepted.</p>",
            template="proposal_agreed",
        )
    db.session.commit()
    assert _traces(EMAIL, NAME), "the scenario should leave traces to erase"
    client = signed_in(app, world.member)
    assert client.get("/account/erase").status_code == 200
    response = client.post("/account/erase", data={"password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # signed out


def test_erasing_an_account_leaves_no_trace_of_the_email_or_name(app: Flask) -> None:
    world = member_with_everything(app)
    _erase(app, world)
    db.session.expire_all()
    assert _traces(EMAIL, NAME) == []
    assert _traces("Quiroga") == []  # nor part of the name


def test_what_the_organisations_keep_after_an_erasure(app: Flask) -> None:
    world = member_with_everything(app)
    member_id = world.member.id
    _erase(app, world)
    db.session.expire_all()

    erased = db.session.get(User, member_id)
    assert erased is not None and erased.is_erased and not erased.is_active
    assert erased.display_name.startswith("former-member-")

    # The organisation with another member goes on; the colleague now owns it, and the need
    # they wrote stays, posted by a former member.
    shared = db.session.get(Organisation, world.shared.id)
    assert shared is not None and shared.status == OrganisationStatus.VERIFIED
    assert [(m.user_id, m.role) for m in shared.memberships] == [
        (world.colleague.id, MembershipRole.OWNER)
    ]
    need = db.session.get(Listing, world.need.id)
    assert need is not None and need.status == ListingStatus.OPEN
    page = signed_in(app, world.colleague).get(f"/listings/{need.id}").get_data(as_text=True)
    assert "a former member" in page
    # The agreed partnership stays, without the member's message.
    introduced = db.session.get(Proposal, world.introduced.id)
    assert introduced is not None and introduced.status == ProposalStatus.AGREED
    assert all(r.message is None for r in introduced.responses if r.responded_by_id == member_id)

    # The organisation of one is closed, its offer too, and the proposal waiting for review
    # is withdrawn with the reason.
    alone = db.session.get(Organisation, world.alone.id)
    assert alone is not None and alone.status == OrganisationStatus.CLOSED
    assert alone.memberships == [] and alone.contacts == []
    offer = db.session.get(Listing, world.offer_alone.id)
    assert offer is not None and offer.status == ListingStatus.CLOSED
    pending = db.session.get(Proposal, world.pending.id)
    assert pending is not None and pending.status == ProposalStatus.WITHDRAWN
    assert pending.withdrawn_reason == ORGANISATION_CLOSED

    # The old address signs nobody in.
    response = app.test_client().post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 422


def test_a_coordinator_sees_that_an_erasure_happened_not_what_was_erased(app: Flask) -> None:
    world = member_with_everything(app)
    member_id = world.member.id
    _erase(app, world)
    erase_event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "user:erase")
    ).one()
    assert erase_event.subject_id == member_id
    assert erase_event.details == {}
    # The member's earlier events are still there, under the pseudonym.
    assert db.session.scalar(
        sa.select(sa.func.count()).where(
            AuditEvent.actor_id == member_id, AuditEvent.action == "need:create"
        )
    )
    page = signed_in(app, world.coordinator).get("/coordination/audit?action=user:erase")
    assert "user:erase" in page.get_data(as_text=True)
    assert EMAIL not in page.get_data(as_text=True)


def test_erasing_needs_the_password(app: Flask) -> None:
    member = make_user()
    make_organisation(owner=member)
    client = signed_in(app, member)
    response = client.post("/account/erase", data={"password": "not-my-password"})
    assert response.status_code == 422
    assert "Your password is not correct." in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(User, member.id).is_erased  # type: ignore[union-attr]
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize("who", ["owner", "member", "stranger"])
def test_only_an_owner_closes_an_organisation(app: Flask, who: str) -> None:
    owner, member, stranger = make_user(), make_user(), make_user()
    organisation = make_organisation(owner=owner, members=[member])
    user = {"owner": owner, "member": member, "stranger": stranger}[who]
    client = signed_in(app, user)
    response = client.post(f"/organisations/{organisation.id}/close", data={"password": PASSWORD})
    assert response.status_code == {"owner": 302, "member": 403, "stranger": 403}[who]


def test_an_owner_closes_their_organisation_with_their_password(app: Flask) -> None:
    owner = make_user()
    organisation = make_organisation(
        owner=owner, contacts=[{"name": "Pat Contact", "email": "pat@example.org"}]
    )
    listing = make_listing(organisation=organisation)
    other = make_listing(kind=listing.kind)
    pending = Proposal(
        template="pair", score=50, explanation=[], fingerprint=f"pair:{listing.id}:{other.id}"
    )
    db.session.add(pending)
    db.session.flush()
    from matchmaker.proposals.models import ProposalParty

    pending.parties = [
        ProposalParty(organisation_id=organisation.id, listing_id=listing.id, role="need"),
        ProposalParty(
            organisation_id=other.organisation_id, listing_id=other.id, role="need", position=1
        ),
    ]
    db.session.commit()
    client = signed_in(app, owner)
    assert b"/close" in client.get(f"/organisations/{organisation.id}").data
    refused = client.post(f"/organisations/{organisation.id}/close", data={"password": "wrong"})
    assert refused.status_code == 422
    closed = client.post(f"/organisations/{organisation.id}/close", data={"password": PASSWORD})
    assert closed.status_code == 302
    db.session.expire_all()
    assert organisation.status == OrganisationStatus.CLOSED
    assert organisation.contacts == []
    assert db.session.get(Listing, listing.id).status == ListingStatus.CLOSED  # type: ignore[union-attr]
    withdrawn = db.session.get(Proposal, pending.id)
    assert withdrawn is not None and withdrawn.status == ProposalStatus.WITHDRAWN
    assert withdrawn.withdrawn_reason == ORGANISATION_CLOSED
    assert "This organisation is closed" in client.get(
        f"/organisations/{organisation.id}"
    ).get_data(as_text=True)
    assert (
        app.test_client().get(f"/murmurations/organisations/{organisation.id}.json").status_code
        == 404
    )
    assert client.get(f"/organisations/{organisation.id}/close").status_code == 403


def test_a_closed_organisations_listings_stay_closed(app: Flask) -> None:
    """Closing closes its listings; its members could still edit and reopen them (on their
    pages and by the API), though nobody may change the organisation itself any more."""
    from matchmaker.accounts import access_tokens
    from matchmaker.accounts.models import TokenScope

    owner, member = make_user(), make_user()
    organisation = make_organisation(owner=owner, members=[member])
    listing = make_listing(organisation=organisation, title="A need of the closed co-op")
    token = access_tokens.create_token(user=member, name="t", scope=TokenScope.WRITE).secret
    db.session.commit()
    owners = signed_in(app, owner)
    owners.post(f"/organisations/{organisation.id}/close", data={"password": PASSWORD})
    client = signed_in(app, member)
    assert client.get(f"/listings/{listing.id}/edit").status_code == 403
    assert client.post(f"/listings/{listing.id}/reopen").status_code == 403
    edited = client.post(f"/listings/{listing.id}/edit", data={"title": "Changed after"})
    assert edited.status_code == 403
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get(f"/api/v1/me/listings/{listing.id}", headers=headers).status_code == 200
    path = f"/api/v1/me/listings/{listing.id}"
    assert api.post(f"{path}/reopen", headers=headers).status_code == 403
    assert api.patch(path, json={"title": "Changed after"}, headers=headers).status_code == 403
    db.session.expire_all()
    saved = db.session.get(Listing, listing.id)
    assert saved is not None
    assert (saved.status, saved.title) == (ListingStatus.CLOSED, "A need of the closed co-op")


def _introduced(closing: Organisation, other: Organisation, status: ProposalStatus) -> Proposal:
    """A pair of a need of ``closing`` and an offer of ``other``, approved by a coordinator."""
    from matchmaker.db import utcnow
    from matchmaker.proposals.models import ProposalParty

    need, offer = make_listing(organisation=closing), make_listing(organisation=other)
    proposal = Proposal(
        template="pair",
        score=50,
        explanation=[],
        fingerprint=f"pair:{need.id}:{offer.id}",
        status=status,
        decided_at=utcnow(),
    )
    proposal.parties = [
        ProposalParty(organisation_id=closing.id, listing_id=need.id, role="need"),
        ProposalParty(organisation_id=other.id, listing_id=offer.id, role="offer", position=1),
    ]
    db.session.add(proposal)
    db.session.commit()
    return proposal


def _assert_ended_by_closing(*, ended: Proposal, agreed: Proposal) -> None:
    """``ended`` withdrawn because an organisation closed; the ``agreed`` partnership kept."""
    db.session.expire_all()
    assert (ended.status, ended.withdrawn_reason) == (
        ProposalStatus.WITHDRAWN,
        ORGANISATION_CLOSED,
    )
    assert agreed.status == ProposalStatus.AGREED


def _withdrawal_of(proposal: Proposal) -> AuditEvent | None:
    return db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "proposal:withdraw", AuditEvent.subject_id == proposal.id
        )
    )


def test_closing_ends_the_introductions_waiting_for_answers_and_tells_the_other_party(
    app: Flask,
) -> None:
    """An introduction waiting for answers ends when one of its organisations closes: withdrawn
    (nobody declined anyone), the other party told in its language and shown why on its page;
    neither side answers it any more. An agreed partnership stays, as history."""
    from matchmaker.accounts import access_tokens
    from matchmaker.accounts.models import TokenScope
    from matchmaker.notifications.models import Notification

    owner, member = make_user(), make_user()
    partner, colleague = make_user(), make_user(language="fr")
    closing = make_organisation(name="Closing Co-op", owner=owner, members=[member])
    other = make_organisation(
        name="Partner Trust",
        owner=partner,
        members=[colleague],
        contacts=[{"name": "Pat Partner", "email": "pat@partner.example"}],
    )
    proposal = _introduced(closing, other, ProposalStatus.APPROVED)
    agreed = _introduced(closing, other, ProposalStatus.AGREED)
    token = access_tokens.create_token(user=member, name="t", scope=TokenScope.WRITE).secret
    db.session.commit()
    owners = signed_in(app, owner)
    warned = owners.get(f"/organisations/{closing.id}/close").get_data(as_text=True)
    assert "Its introductions still waiting for answers end" in warned
    owners.post(f"/organisations/{closing.id}/close", data={"password": PASSWORD})
    _assert_ended_by_closing(ended=proposal, agreed=agreed)
    event = _withdrawal_of(proposal)
    assert event is not None and event.actor_id == owner.id
    assert event.details == {"reason": ORGANISATION_CLOSED, "organisation": "Closing Co-op"}

    told = {
        n.user_id: n.message
        for n in db.session.scalars(
            sa.select(Notification).where(
                Notification.kind == "proposal:ended", Notification.proposal_id == proposal.id
            )
        )
    }
    assert set(told) == {partner.id, colleague.id}  # the closing side closed it: not told
    assert told[partner.id] == (
        "Closing Co-op is closed, so the introduction has ended: Closing Co-op and Partner Trust."
    )
    assert told[colleague.id] == (  # in her language
        "Closing Co-op est fermée, la mise en relation a donc pris fin\u00a0: "
        "Closing Co-op et Partner Trust."
    )

    partners = signed_in(app, partner)
    page = partners.get(f"/proposals/{proposal.id}")
    assert page.status_code == 200
    assert "Closing Co-op is closed: this introduction has ended." in page.get_data(as_text=True)
    mine = partners.get("/my/proposals").get_data(as_text=True)
    assert "Ended: a party's organisation closed (1)" in mine
    answered = partners.post(f"/proposals/{proposal.id}/organisations/{other.id}/accept")
    assert answered.status_code == 403
    read = access_tokens.create_token(user=partner, name="r", scope=TokenScope.READ).secret
    db.session.commit()
    listed = app.test_client().get(
        "/api/v1/me/proposals?status=withdrawn", headers={"Authorization": f"Bearer {read}"}
    )
    assert [item["id"] for item in listed.get_json()["items"]] == [proposal.id]

    client = signed_in(app, member)
    accepted = client.post(f"/proposals/{proposal.id}/organisations/{closing.id}/accept")
    assert accepted.status_code == 403
    by_api = app.test_client().post(
        f"/api/v1/me/proposals/{proposal.id}/organisations/{closing.id}/accept",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert by_api.status_code == 409
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status == ProposalStatus.WITHDRAWN  # type: ignore[union-attr]
    assert "pat@partner.example" not in client.get(f"/proposals/{proposal.id}").get_data(
        as_text=True
    )


def test_introductions_of_organisations_closed_before_closing_ended_them_end_once(
    app: Flask,
) -> None:
    """Organisations closed before closing ended their introductions (an upgrade) left them
    waiting for answers nobody can give: one command ends them as closing does now, tells the
    other party, and leaves the rest alone; run again, it finds nothing."""
    from matchmaker.notifications.models import Notification

    partner = make_user()
    other = make_organisation(name="Partner Trust", owner=partner)
    closed_long_ago = make_organisation(name="Old Co-op", status=OrganisationStatus.CLOSED)
    stale = _introduced(closed_long_ago, other, ProposalStatus.APPROVED)
    agreed = _introduced(closed_long_ago, other, ProposalStatus.AGREED)
    live = _introduced(make_organisation(name="Open Co-op"), other, ProposalStatus.APPROVED)

    result = app.test_cli_runner().invoke(args=["proposals", "end-closed-introductions"])
    assert result.exit_code == 0, result.output
    assert "1 introductions of 1 closed organisations ended." in result.output
    _assert_ended_by_closing(ended=stale, agreed=agreed)
    assert db.session.get(Proposal, live.id).status == ProposalStatus.APPROVED  # type: ignore[union-attr]
    told = db.session.scalars(
        sa.select(Notification.message).where(
            Notification.kind == "proposal:ended", Notification.user_id == partner.id
        )
    ).all()
    assert told == [
        "Old Co-op is closed, so the introduction has ended: Old Co-op and Partner Trust."
    ]
    event = _withdrawal_of(stale)
    assert event is not None and event.actor_id is None  # the platform, not a person

    again = app.test_cli_runner().invoke(args=["proposals", "end-closed-introductions"])
    assert "0 introductions of 0 closed organisations ended." in again.output


def test_the_scrubber_takes_the_person_and_leaves_their_neighbours() -> None:
    from matchmaker.privacy.erasure import _Scrubber

    scrubber = _Scrubber(["ana@coop.example"], ["Ana"], "X")
    assert scrubber.text("Write to ana@coop.example. Ana says hi.") == "Write to X. X says hi."
    assert scrubber.text("Cc: diana@coop.example, Analysis by Anabel") == (
        "Cc: diana@coop.example, Analysis by Anabel"
    )
    assert scrubber.text("juliana.ana@coop.example") == "juliana.ana@coop.example"
    assert scrubber.html("<b>Ana &amp; co</b>") == "<b>X &amp; co</b>"
    assert scrubber.data({"by": ["ANA", 3]}) == {"by": ["X", 3]}


@pytest.mark.skipif(not is_postgres(), reason="needs real concurrent transactions")
def test_the_last_two_members_erasing_at_once_close_their_organisation(app: Flask) -> None:
    """Each counted the other as staying before the other's leaving was committed: both left,
    and the organisation stayed open (verified, its listings matched) with no member at all."""
    ann, bob = make_user(), make_user()
    organisation = make_organisation(owner=ann, members=[bob])
    listing = make_listing(organisation=organisation)
    db.session.commit()
    as_ann, as_bob = signed_in(app, ann), signed_in(app, bob)

    def erase(client: Any) -> Any:
        return lambda: client.post("/account/erase", data={"password": PASSWORD})

    first, second = one_then_the_other("after_flush", erase(as_ann), erase(as_bob))
    assert (first.status_code, second.status_code) == (302, 302)
    db.session.expire_all()
    assert organisation.memberships == []
    assert organisation.status == OrganisationStatus.CLOSED
    assert db.session.get(Listing, listing.id).status == ListingStatus.CLOSED


@pytest.mark.skipif(not is_postgres(), reason="needs real concurrent transactions")
def test_the_last_two_admins_erasing_at_once_leave_one(app: Flask) -> None:
    """Each counted two admins before the other's erasure was committed: none was left (as
    two admins taking the role from each other, accounts.services.set_role)."""
    ann, bob = make_user(role=Role.ADMIN), make_user(role=Role.ADMIN)
    db.session.commit()
    as_ann, as_bob = signed_in(app, ann), signed_in(app, bob)

    def erase(client: Any) -> Any:
        return lambda: client.post("/account/erase", data={"password": PASSWORD})

    first, second = one_then_the_other("after_flush", erase(as_ann), erase(as_bob))
    assert (first.status_code, second.status_code) == (302, 422)
    db.session.expire_all()
    admins = db.session.scalars(
        sa.select(User.id).where(User.role == Role.ADMIN, User.erased_at.is_(None))
    ).all()
    assert admins == [bob.id]
