from __future__ import annotations

import html
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.listings.models import Theme
from matchmaker.matching.models import MatchingSetting
from matchmaker.matching.rules import RULES
from matchmaker.matching.settings import DEFAULTS, load_settings
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.factories import make_user

SETTINGS = DEFAULTS.as_dict()
NO_WEIGHTS = {name: 0 for name in RULES}


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
    text = html.unescape(page)
    for item in proposal.explanation:
        assert f"+{item['points']}" in page
        label = RULES[item["rule"]].label if item["rule"] in RULES else "every role"
        assert str(label) in text
    for party in proposal.parties:
        assert party.listing.title in text
    # Themes by their names, never their slugs.
    [shared] = [item for item in proposal.explanation if item["rule"] == "shared_themes"]
    slugs = {slug for link in shared["links"] for slug in link["params"]["themes"]}
    for theme in db.session.scalars(sa.select(Theme).where(Theme.slug.in_(slugs))):
        assert theme.name in text and theme.slug not in text


def test_an_explanation_stored_as_sentences_still_reads(
    client: FlaskClient, login: Any, demo: None
) -> None:
    # Proposals written before explanations were stored as rule ids and parameters.
    login(make_user(role=Role.COORDINATOR))
    proposal = db.session.scalar(sa.select(Proposal).where(Proposal.template == "pair"))
    proposal.explanation = [
        {"rule": "shared_themes", "points": proposal.score, "reason": "Shares 1 of 1 themes."}
    ]
    db.session.commit()
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Shares 1 of 1 themes." in page and "Shared themes (rarer themes count more)" in page
    explained = client.application.test_cli_runner().invoke(
        args=["match", "explain", str(proposal.id)]
    )
    assert "Shares 1 of 1 themes." in explained.output


def test_the_settings_page_has_a_field_for_every_rule(client: FlaskClient, login: Any) -> None:
    login(make_user(role=Role.COORDINATOR))
    page = html.unescape(client.get("/coordination/matching").get_data(as_text=True))
    for name, rule in RULES.items():
        assert f'name="{name}"' in page and str(rule.label) in page


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
        "/coordination/matching",
        data={**SETTINGS, "min_score": 90, "preview": "1"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/coordination/jobs/" in response.request.path
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
        (NO_WEIGHTS, "At least one rule needs some weight"),
        ({"min_score": 101}, "Give a number from 0 to 100."),
        # Past 308 digits NumberRange's math.isnan overflowed turning it into a float (a 500).
        ({"min_score": "9" * 400}, "Give a number from 0 to 100."),
        ({"proximity": "many"}, "Enter a whole number, like 12."),
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
