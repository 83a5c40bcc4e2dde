from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.matching.explanations import label as rule_label
from matchmaker.matching.templates import TEMPLATES
from matchmaker.proposals.models import Outcome, OutcomeKind, Proposal, ProposalStatus
from tests.factories import make_listing, make_organisation, make_user


@pytest.fixture
def demo(app: Flask) -> None:
    app.test_cli_runner().invoke(args=["demo", "load"])
    # Two pairs: the first agreed; declined, a later one whose rules differ both ways (so the
    # rates by rule show 0 %, 50 % and 100 %) and whose need keeps another live proposal.
    everything = list(db.session.scalars(sa.select(Proposal).order_by(Proposal.id)))
    pairs = [p for p in everything if p.template == "pair"]

    def rules(proposal: Proposal) -> set[str]:
        return {item["rule"] for item in proposal.explanation}

    def need(proposal: Proposal) -> int:
        return proposal.parties[0].listing_id

    agreed = pairs[0]
    declined = next(
        p
        for p in pairs[1:]
        if rules(p) - rules(agreed)
        and rules(agreed) - rules(p)
        and sum(need(p) in {party.listing_id for party in other.parties} for other in everything)
        > 1
    )
    agreed.status, agreed.decided_at = ProposalStatus.AGREED, utcnow()
    declined.status, declined.decided_at = ProposalStatus.DECLINED, utcnow()
    proposals = [agreed]
    db.session.add(
        Outcome(proposal=proposals[0], kind=OutcomeKind.FIRST_MEETING, happened_on=utcnow().date())
    )
    db.session.commit()


def test_only_coordinators_see_the_dashboard(client: FlaskClient, login: Any, demo: None) -> None:
    login(make_user())
    assert client.get("/coordination/dashboard").status_code == 403
    assert client.get("/coordination/dashboard/by_theme.csv").status_code == 403


def _section(page: str, name: str) -> str:
    start = page.index(f'<section aria-labelledby="{name}"')
    return page[start : page.index("</section>", start)]


def _table_rows(section: str) -> list[list[str]]:
    body = section[section.index("<tbody>") : section.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)] for row in rows]


def _chart(section: str) -> list[tuple[str, float, str]]:
    """(label, bar width in % of its line, value) of each bar."""
    return [
        (label, float(width), value)
        for label, width, value in re.findall(
            r'class="chart-label"[^>]*>(.*?)</span>.*?<svg class="chart-bar" width="([\d.]+)%"'
            r'.*?class="chart-value">(.*?)</span>',
            section,
        )
    ]


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
    assert page.count('class="chart"') >= 4
    assert page.count("<script") == 1  # the site script only: charts need none
    assert "Attica (GR)" in page

    # Each bar is a row of the table below it: same label, same value, the largest the longest.
    statuses = _section(page, "by_status")
    rows = _table_rows(statuses)
    bars = _chart(statuses)
    shown = [row for row in rows if int(row[1]) > 0]
    assert [(label, value) for label, _width, value in bars] == [(r[0], r[1]) for r in rows]
    assert ("Agreed", "1") in [(r[0], r[1]) for r in shown]
    assert max(width for _label, width, _value in bars) == 85.0
    assert [width for _label, width, value in bars if value == "0"] == [0.0] * (
        len(rows) - len(shown)
    )

    # The rates come from the two decided proposals: one agreed, one declined.
    agreed, declined = (
        db.session.scalars(sa.select(Proposal).where(Proposal.status == status)).one()
        for status in (ProposalStatus.AGREED, ProposalStatus.DECLINED)
    )
    assert agreed.template == declined.template == "pair"
    assert _table_rows(_section(page, "acceptance_by_template")) == [
        [TEMPLATES["pair"].label, "1", "1", "50%"]
    ]
    fired_in_agreed = {item["rule"] for item in agreed.explanation}
    fired_in_declined = {item["rule"] for item in declined.explanation}
    expected = {
        rule_label(rule): (
            "50%" if rule in fired_in_agreed & fired_in_declined
            else "100%" if rule in fired_in_agreed
            else "0%"
        )
        for rule in fired_in_agreed | fired_in_declined
    }  # fmt: skip
    by_rule = {row[0]: row[3] for row in _table_rows(_section(page, "acceptance_by_rule"))}
    assert by_rule == expected
    assert {"50%", "100%", "0%"} <= set(by_rule.values())  # the demo exercises all three


def test_every_table_exports_as_csv(client: FlaskClient, login: Any, demo: None) -> None:
    login(make_user(role=Role.COORDINATOR))
    response = client.get("/coordination/dashboard/by_status.csv")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
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
                client.get("/coordination/dashboard/unmet_needs.csv").get_data().decode("utf-8-sig")
            )
        )
    )
    titles = [row[0] for row in rows[1:]]
    assert "Housing, food and work for people in social vulnerability" in titles
    assert "A performative research agenda for the city-region's social economy" not in titles


def test_long_tables_show_their_first_rows_and_leave_the_rest_to_the_csv(
    client: FlaskClient, login: Any, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("matchmaker.dashboard.routes.PAGE_ROWS", 2)
    login(make_user(role=Role.COORDINATOR))
    page = client.get("/coordination/dashboard").get_data(as_text=True)
    regions = client.get("/coordination/dashboard/by_region.csv").get_data(as_text=True)
    total = len(list(csv.reader(io.StringIO(regions)))) - 1
    assert total > 2
    assert f"The first 2 rows of {total}; the CSV file has them all." in page


def test_a_region_is_one_row_however_its_organisations_write_it(
    client: FlaskClient, login: Any
) -> None:
    """As the matcher counts regions: the gazetteer's region where it placed the city
    ("Attica" and "Αττική"), else the region as written, whatever its case and spaces."""
    for city, region in [
        ("Athens", "Attica"),
        ("Αθήνα", "Αττική"),
        ("Piraeus", "Attica"),
        ("Villeneuve-sur-Nulle-Part", "Île-de-France"),
        ("Villeneuve-sur-Nulle-Part", "ÎLE-DE-FRANCE"),
        ("Villeneuve-sur-Nulle-Part", "Île-de-France "),
    ]:
        country = "FR" if "France" in region or "FRANCE" in region else "GR"
        make_listing(organisation=make_organisation(city=city, region=region, country=country))
    login(make_user(role=Role.COORDINATOR))
    regions = client.get("/coordination/dashboard/by_region.csv").get_data().decode("utf-8-sig")
    rows = [row[0:1] + row[-1:] for row in csv.reader(io.StringIO(regions))][1:]
    # Named as most of its organisations write it.
    assert rows == [["Attica (GR)", "3"], ["Île-de-France (FR)", "3"]]


def test_a_region_is_named_by_its_organisations_not_by_their_listings(
    client: FlaskClient, login: Any
) -> None:
    """One organisation with many open listings does not outvote the others' spelling: two
    organisations write "Île-de-France", one writes "ÎLE-DE-FRANCE" and has three listings."""
    shouting = make_organisation(
        city="Villeneuve-sur-Nulle-Part", region="ÎLE-DE-FRANCE", country="FR"
    )
    for kind in (ListingKind.NEED, ListingKind.OFFER, ListingKind.NEED):
        make_listing(organisation=shouting, kind=kind)
    for _ in range(2):
        make_listing(
            organisation=make_organisation(
                city="Villeneuve-sur-Nulle-Part", region="Île-de-France", country="FR"
            )
        )
    login(make_user(role=Role.COORDINATOR))
    regions = client.get("/coordination/dashboard/by_region.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(regions)))
    # Needs, offers and challenges of the region: 4, 1 and 0, 5 in all.
    assert rows[1] == ["Île-de-France (FR)", "4", "1", "0", "5"]
