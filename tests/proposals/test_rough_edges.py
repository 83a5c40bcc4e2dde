"""Issue 14's rough edges on proposals: opening one marks its notifications read, and a decision
or an answer that fails leaves the browser on an address that still works."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.notifications.models import Notification
from tests.proposals.test_review_and_introductions import _approve, _as, world

__all__ = ["world"]


def _unread(user_id: int) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
    )


def test_opening_a_proposal_marks_its_notifications_read(app: Flask, world: dict) -> None:
    proposal = world["proposal"]
    _approve(_as(app, world["coordinator"]), proposal)
    rosie, alan = world["network_owner"], world["uni_owner"]
    assert [n.proposal_id for n in _unread(rosie.id)] == [proposal.id]
    assert _unread(alan.id)

    client = _as(app, rosie)
    assert "1 unread" in client.get("/").get_data(as_text=True)
    assert client.get(f"/proposals/{proposal.id}").status_code == 200
    assert _unread(rosie.id) == []
    assert "unread" not in client.get("/").get_data(as_text=True)
    assert _unread(alan.id), "another party's notifications stay as they are"


def test_a_failed_decline_shows_the_proposal_page_and_its_address_works(
    app: Flask, world: dict
) -> None:
    proposal = world["proposal"]
    _approve(_as(app, world["coordinator"]), proposal)
    rosie = _as(app, world["network_owner"])
    url = f"/proposals/{proposal.id}/organisations/{world['network'].id}/decline"
    response = rosie.post(url, data={f"r{world['network'].id}-message": "x" * 2001})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Why the matcher proposes it" in page or "Social Enterprise Network" in page
    # Reloading that address (or opening it again) shows the proposal, not "method not allowed".
    again = rosie.get(url)
    assert again.status_code == 303
    assert again.headers["Location"] == f"/proposals/{proposal.id}"
    assert rosie.get(again.headers["Location"]).status_code == 200


def test_a_decision_address_opened_again_leads_to_the_proposal(app: Flask, world: dict) -> None:
    proposal = world["proposal"]
    coordinator = _as(app, world["coordinator"])
    for action in ("approve", "reject"):
        response = coordinator.get(f"/coordination/proposals/{proposal.id}/{action}")
        assert response.status_code == 303
        assert response.headers["Location"] == f"/proposals/{proposal.id}"
