from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.proposals.models import Outcome, OutcomeKind, Proposal, ProposalStatus
from tests.factories import make_user


@pytest.fixture
def demo(app: Flask) -> None:
    app.test_cli_runner().invoke(args=["demo", "load"])
    proposals = list(db.session.scalars(sa.select(Proposal).order_by(Proposal.id)))
    proposals[0].status = ProposalStatus.AGREED
    proposals[0].decided_at = utcnow()
    proposals[1].status = ProposalStatus.DECLINED
    proposals[1].decided_at = utcnow()
    db.session.add(
        Outcome(proposal=proposals[0], kind=OutcomeKind.FIRST_MEETING, happened_on=utcnow().date())
    )
    db.session.commit()


def test_only_coordinators_see_the_dashboard(client: FlaskClient, login: Any, demo: None) -> None:
    login(make_user())
    assert client.get("/coordination/dashboard").status_code == 403
    assert client.get("/coordination/dashboard/by_theme.csv").status_code == 403


def test_dashboard_draws_charts_with_tables_behind_them(
    client: FlaskClient, login: Any, demo: None
) -> None:
    login(make_user(role=Role.COORDINATOR))
    page = client.get("/coordination/dashboard").get_data(as_text=True)
    for title in (
        "Open listings by theme",
        "Open listings by region",
        "Proposals by status",
        "Acceptance by template",
        "Acceptance of proposals where each rule fired",
        "Outcomes by template",
        "Median days from proposal to decision",
        "Unmet needs",
    ):
        assert title in page
    assert page.count("<svg") >= 4
    assert page.count("<script") == 1  # the site script only: charts need none
    assert "Attica (GR)" in page
    assert "50%" in page or "100%" in page or "0%" in page


def test_every_table_exports_as_csv(client: FlaskClient, login: Any, demo: None) -> None:
    login(make_user(role=Role.COORDINATOR))
    response = client.get("/coordination/dashboard/by_status.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Status", "Proposals"]
    counts = {row[0]: int(row[1]) for row in rows[1:]}
    assert counts["Agreed"] == 1 and counts["Declined"] == 1
    assert client.get("/coordination/dashboard/nothing.csv").status_code == 404


def test_unmet_needs_lists_needs_without_live_proposals(
    client: FlaskClient, login: Any, demo: None
) -> None:
    login(make_user(role=Role.COORDINATOR))
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/coordination/dashboard/unmet_needs.csv").get_data(as_text=True)
            )
        )
    )
    titles = [row[0] for row in rows[1:]]
    assert "Housing, food and work for people in social vulnerability" in titles
    assert "A performative research agenda for the city-region's social economy" not in titles
