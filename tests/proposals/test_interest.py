"""I'm interested: a member asks to be introduced to another organisation's listing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.matching.engine import run_full
from matchmaker.organisations.models import OrganisationKind, OrganisationStatus
from matchmaker.proposals import interest
from matchmaker.proposals.models import Proposal, ProposalStatus, ResponseDecision
from matchmaker.proposals.services import approve_proposal, respond
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in

MESSAGE = "We run evaluation courses and would like to meet you."


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    poster = make_user(email="poster@example.org")
    network = make_organisation(name="Social Enterprise Network", owner=poster)
    need = make_listing(
        organisation=network,
        themes=("research-evaluation",),
        title="Evaluation of our programmes",
        description="We need researchers to evaluate the social impact of our programmes.",
    )
    asker = make_user(email="asker@example.org")
    university = make_organisation(
        name="Curious University", owner=asker, kind=OrganisationKind.ACADEMIC_INSTITUTION
    )
    offer = make_listing(
        organisation=university,
        kind=ListingKind.OFFER,
        themes=("research-evaluation",),
        title="Impact evaluation",
        description="We evaluate the social impact of programmes with researchers.",
    )
    unverified = make_user(email="unverified@example.org")
    make_organisation(owner=unverified, status=OrganisationStatus.PENDING)
    return {
        "poster": poster,
        "network": network,
        "need": need,
        "asker": asker,
        "university": university,
        "offer": offer,
        "unverified": unverified,
    }


def _ask(client: FlaskClient, world: dict[str, Any], **change: Any) -> Any:
    data = {"listing": world["offer"].id, "message": MESSAGE, **change}
    return client.post(f"/listings/{world['need'].id}/interest", data=data)


@pytest.mark.parametrize(
    "who, expected",
    [(None, 302), ("unverified", 403), ("poster", 403), ("asker", 200)],
)
def test_who_may_ask_to_be_introduced(
    app: Flask, world: dict[str, Any], who: str | None, expected: int
) -> None:
    client = app.test_client() if who is None else signed_in(app, world[who])
    response = client.get(f"/listings/{world['need'].id}/interest")
    assert response.status_code == expected
    if who is None:
        assert "/login" in response.headers["Location"]
    page = client.get(f"/listings/{world['need'].id}").get_data(as_text=True)
    assert ("I&#39;m interested" in page or "I'm interested" in page) == (who == "asker")


def test_not_on_a_closed_listing(app: Flask, world: dict[str, Any]) -> None:
    client = signed_in(app, world["poster"])
    assert client.post(f"/listings/{world['need'].id}/close").status_code == 302
    assert (
        signed_in(app, world["asker"]).get(f"/listings/{world['need'].id}/interest").status_code
        == 403
    )


def test_request_reaches_the_review_queue_with_the_explanation(
    app: Flask, world: dict[str, Any]
) -> None:
    client = signed_in(app, world["asker"])
    response = _ask(client, world)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your request is with the coordinators" in page
    proposal = db.session.scalar(sa.select(Proposal))
    assert proposal.template == "requested"
    assert proposal.status == ProposalStatus.PENDING_REVIEW
    assert [p.listing_id for p in proposal.parties] == [world["need"].id, world["offer"].id]
    # The matcher's explanation of the pair is attached.
    assert proposal.score > 0 and any(i["rule"] == "shared_themes" for i in proposal.explanation)
    coordinator = signed_in(app, make_user(role=Role.COORDINATOR))
    queue = coordinator.get("/coordination/proposals?template=requested").get_data(as_text=True)
    assert "Requested by Curious University" in queue
    shown = coordinator.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert MESSAGE in shown and "Shared themes" in shown
    # The poster learns of it only as a count, without the name, until a coordinator approves.
    mine = signed_in(app, world["poster"]).get("/my/proposals").get_data(as_text=True)
    assert "1 possible partner found, waiting for a coordinator." in mine
    assert "Curious University" not in mine


def test_a_request_goes_through_the_double_opt_in(app: Flask, world: dict[str, Any]) -> None:
    assert _ask(signed_in(app, world["asker"]), world).status_code == 302
    proposal = db.session.scalar(sa.select(Proposal))
    with app.test_request_context():
        approve_proposal(
            proposal=proposal, actor=make_user(role=Role.COORDINATOR), expected_version=None
        )
        for organisation, user in ((world["network"], "poster"), (world["university"], "asker")):
            respond(
                proposal=proposal,
                organisation=organisation,
                actor=world[user],
                decision=ResponseDecision.ACCEPTED,
            )
    db.session.commit()
    assert proposal.status == ProposalStatus.AGREED


def test_the_matcher_keeps_a_pending_request(app: Flask, world: dict[str, Any]) -> None:
    assert _ask(signed_in(app, world["asker"]), world).status_code == 302
    run_full()
    db.session.commit()
    requested = db.session.scalar(sa.select(Proposal).where(Proposal.template == "requested"))
    assert requested.status == ProposalStatus.PENDING_REVIEW


def test_one_request_per_listing_and_organisation(app: Flask, world: dict[str, Any]) -> None:
    client = signed_in(app, world["asker"])
    assert _ask(client, world).status_code == 302
    again = _ask(client, world)
    assert again.status_code == 422
    assert "has already asked to be introduced to this listing" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1


def test_a_concurrent_duplicate_is_refused_without_an_error(
    app: Flask, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in(app, world["asker"])
    assert _ask(client, world).status_code == 302
    # As if the other request committed between this one's check and its insert.
    monkeypatch.setattr(interest, "already_requested", lambda **_: False)
    again = _ask(client, world)
    assert again.status_code == 422
    assert "has already asked to be introduced to this listing" in again.get_data(as_text=True)


def test_a_request_that_fails_after_its_insert_leaves_nothing(
    app: Flask, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The insert is in a savepoint, the first write of the request's transaction: releasing it
    must not save the proposal on its own (SQLite's driver had begun no transaction yet, so
    the savepoint began one and its release committed it)."""

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(interest, "record_event", broken)
    with pytest.raises(RuntimeError):
        _ask(signed_in(app, world["asker"]), world)
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


@pytest.mark.parametrize(
    "message, error",
    [
        ("", "Say in a few words why you are interested."),
        ("x" * 1001, "Keep the message under 1,000 characters."),
        ("Hello\u202eevil", "Remove the tabs and control characters from this text."),
        ("Hello\x00", "Remove the tabs and control characters from this text."),
    ],
)
def test_the_message_is_checked(
    app: Flask, world: dict[str, Any], message: str, error: str
) -> None:
    response = _ask(signed_in(app, world["asker"]), world, message=message)
    assert response.status_code == 422
    assert error in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Proposal)) is None


def test_a_message_may_have_several_lines(app: Flask, world: dict[str, Any]) -> None:
    assert (
        _ask(signed_in(app, world["asker"]), world, message="Hello,\r\nwe are keen.").status_code
        == 302
    )


def test_only_the_askers_own_listings_may_be_brought(app: Flask, world: dict[str, Any]) -> None:
    response = _ask(signed_in(app, world["asker"]), world, listing=world["need"].id)
    assert response.status_code == 422
    assert db.session.scalar(sa.select(Proposal)) is None
