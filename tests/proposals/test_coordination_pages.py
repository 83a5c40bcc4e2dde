from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.matching.models import MatchingSetting
from matchmaker.matching.settings import load_settings
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.factories import make_user

SETTINGS = {
    "shared_themes": 30,
    "proximity": 15,
    "complementary_kinds": 20,
    "sought_kind": 10,
    "mutual": 15,
    "shared_words": 10,
    "role_coverage": 15,
    "min_score": 40,
    "max_proposals_per_listing": 5,
}


@pytest.fixture
def demo(app: Flask) -> None:
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0


@pytest.mark.parametrize("role, status", [(Role.MEMBER, 403), (Role.COORDINATOR, 200)])
def test_only_coordinators_see_proposals_and_settings(
    client: FlaskClient, login: Any, demo: None, role: Role, status: int
) -> None:
    login(make_user(role=role))
    proposal = db.session.scalar(sa.select(Proposal))
    assert client.get("/coordination/proposals").status_code == status
    # A pending proposal does not exist for anyone but coordinators.
    assert client.get(f"/proposals/{proposal.id}").status_code == (404 if status == 403 else 200)
    assert client.get("/coordination/matching").status_code == status
    assert client.post("/coordination/matching", data={**SETTINGS, "save": "1"}).status_code in (
        (403,) if status == 403 else (302,)
    )


def test_a_proposal_page_explains_every_rule(client: FlaskClient, login: Any, demo: None) -> None:
    login(make_user(role=Role.COORDINATOR))
    proposal = db.session.scalar(
        sa.select(Proposal).where(Proposal.template == "knowledge_exchange_triad")
    )
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Knowledge-exchange triad (Liverpool model)" in page
    for item in proposal.explanation:
        assert f"+{item['points']}" in page
    for party in proposal.parties:
        assert party.listing.title.replace("'", "&#39;") in page


def test_preview_tells_what_would_change_and_changes_nothing(
    client: FlaskClient, login: Any, demo: None
) -> None:
    login(make_user(role=Role.COORDINATOR))
    pending = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Proposal)
        .where(Proposal.status == ProposalStatus.PENDING_REVIEW)
    )
    response = client.post(
        "/coordination/matching", data={**SETTINGS, "min_score": 90, "preview": "1"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"would add 0 proposals and drop {pending} pending ones" in page
    assert db.session.scalar(sa.select(MatchingSetting)) is None
    assert load_settings().min_score == 40


def test_saving_applies_the_settings_and_reruns(
    client: FlaskClient, login: Any, demo: None
) -> None:
    login(make_user(role=Role.COORDINATOR))
    response = client.post(
        "/coordination/matching",
        data={**SETTINGS, "min_score": 90, "save": "1"},
        follow_redirects=True,
    )
    assert "Settings saved (1 changed)" in response.get_data(as_text=True)
    assert load_settings().min_score == 90
    statuses = set(db.session.scalars(sa.select(Proposal.status)))
    assert statuses == {ProposalStatus.WITHDRAWN}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "settings:matching"))
    assert event.details == {"min_score": [40, 90]}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"shared_themes": 60}, "add up to 130"),
        ({"min_score": 101}, "Number must be between"),
        ({"proximity": "many"}, "Not a valid integer value"),
    ],
)
def test_bad_settings_are_refused(
    client: FlaskClient, login: Any, change: dict, message: str
) -> None:
    login(make_user(role=Role.COORDINATOR))
    response = client.post("/coordination/matching", data={**SETTINGS, **change, "save": "1"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(MatchingSetting)) is None
