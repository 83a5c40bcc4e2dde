from __future__ import annotations

import json

from flask import Flask

from tests.privacy.scenario import EMAIL, NAME, member_with_everything
from tests.proposals.helpers import signed_in

KINDS = (
    "memberships",
    "organisations_owned",
    "listings_written",
    "introductions_requested",
    "proposal_answers",
    "outcomes_recorded",
    "notifications",
    "saved_searches",
    "access_tokens",
    "audit_events",
)


def test_a_member_downloads_every_kind_of_record_held_about_them(app: Flask) -> None:
    world = member_with_everything(app)
    client = signed_in(app, world.member)
    assert b"/account/data.json" in client.get("/account").data

    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.data)

    assert data["account"]["email"] == EMAIL
    assert data["account"]["display_name"] == NAME
    for kind in KINDS:
        assert data[kind], f"nothing under {kind}"
    assert {m["organisation"] for m in data["memberships"]} == {
        "Cooperativa Norte",
        "Norte Training Collective",
    }
    assert any(c["email"] == EMAIL for o in data["organisations_owned"] for c in o["contacts"])
    assert {listing["id"] for listing in data["listings_written"]} == {
        world.need.id,
        world.offer_alone.id,
    }
    assert data["introductions_requested"][0]["proposal_id"] == world.introduced.id
    assert data["proposal_answers"][0]["decision"] == "accepted"
    assert data["outcomes_recorded"][0]["kind"] == "first_meeting"
    assert data["saved_searches"][0]["q"] == "research"
    # A token by its name, never the token or its digest.
    assert data["access_tokens"][0]["name"] == f"{NAME}'s laptop"
    assert set(data["access_tokens"][0]) == {
        "name",
        "scope",
        "created_at",
        "last_used_at",
        "revoked_at",
    }
    actions = {event["action"] for event in data["audit_events"]}
    assert {"need:create", "proposal:request", "proposal:accept", "organisation:invite"} <= actions
    # Nobody else's account is in it.
    assert world.colleague.email not in response.get_data(as_text=True)
    assert world.coordinator.email not in response.get_data(as_text=True)


def test_a_coordinator_finds_their_decisions_in_their_download(app: Flask) -> None:
    world = member_with_everything(app)
    data = signed_in(app, world.coordinator).get("/account/data.json").get_json()
    assert [d["proposal_id"] for d in data["proposal_decisions"]] == [world.introduced.id]
    assert data["listings_written"] == []


def test_the_download_needs_a_signed_in_member(app: Flask) -> None:
    response = app.test_client().get("/account/data.json")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
