"""The regression guard of issue #16: each main page makes as many SQL queries with many rows
to show as with few. A query per row (a relationship loaded lazily in a template, a count per
card) makes a page slower with every row; this test names the page that started doing so."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind, Scope
from matchmaker.matching.engine import run_full
from matchmaker.notifications.models import Notification
from matchmaker.organisations.models import Organisation, OrganisationKind, OrganisationStatus
from matchmaker.proposals import routes as proposal_routes
from tests.core.pager import walk
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in
from tests.territories.helpers import make_city_region, make_territorial_coordinator

# Visitors' pages and shared fragments come from the cache otherwise: here every page is built.
pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}


def _pages(busy: Organisation, listing_id: int) -> dict[str, tuple[str, bool]]:
    """Each main page: its address, and whether a coordinator asks for it."""
    return {
        "home": ("/", False),
        "directory": ("/organisations", False),
        "directory filtered": ("/organisations?kind=academic_institution&country=GB", False),
        "needs: search": ("/needs?q=kitchens", False),
        "needs: filters": ("/needs?theme=social-inclusion&country=GB&scope=regional", False),
        "offers: filters": (
            "/offers?theme=social-inclusion&organisation_kind=academic_institution",
            False,
        ),
        "challenges: search": ("/challenges?q=kitchens", False),
        "listing": (f"/listings/{listing_id}", False),
        "organisation": (f"/organisations/{busy.id}", False),
        "review queue": ("/coordination/proposals", True),
        "dashboard": ("/coordination/dashboard", True),
    }


def _add_rows(busy: Organisation, count: int) -> None:
    """``count`` needs of ``busy``, and as many offers and challenges of other organisations
    that the matcher pairs with them."""
    for number in range(count):
        make_listing(
            organisation=busy,
            title=f"Kitchens for the neighbourhood {number}",
            themes=("social-inclusion", "basic-needs"),
            scope=Scope.REGIONAL,
        )
        university = make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION)
        make_listing(
            organisation=university,
            kind=ListingKind.OFFER,
            title=f"Research on community kitchens {number}",
            themes=("social-inclusion", "research-evaluation"),
            scope=Scope.REGIONAL,
        )
        make_listing(kind=ListingKind.CHALLENGE, title=f"Kitchens in every school {number}")
    run_full()
    db.session.commit()


@contextmanager
def _counting(app: Flask, parameters: bool = False) -> Iterator[list[Any]]:
    """The SQL statements run meanwhile (with their parameters if asked)."""
    statements: list[Any] = []

    def count(_conn: Any, _cursor: Any, statement: str, sent: Any, *_args: Any) -> None:
        statements.append((statement, sent) if parameters else statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def _query_counts(
    app: Flask, pages: dict[str, tuple[str, bool]], visitor: FlaskClient, coordinator: FlaskClient
) -> tuple[dict[str, int], dict[str, str]]:
    counts, bodies = {}, {}
    for name, (path, signed) in pages.items():
        client = coordinator if signed else visitor
        client.get(path)  # the first request of a kind may load what later ones reuse
        with _counting(app) as statements:
            answer = client.get(path)
        assert answer.status_code == 200, (name, answer.status_code)
        counts[name], bodies[name] = len(statements), answer.get_data(as_text=True)
    return counts, bodies


def test_no_main_page_makes_a_query_per_row(app: Flask) -> None:
    busy = make_organisation(name="Kitchen cooperative")
    coordinator = signed_in(app, make_user(role=Role.COORDINATOR))
    visitor = app.test_client()
    # A need nobody answers, so the dashboard's unmet needs have a row from the start (a table
    # with no row loads nothing for its rows: from none to some is not a query per row).
    make_listing(title="A bakery's first oven", themes=("funding",), scope=Scope.LOCAL)
    _add_rows(busy, 1)
    listing_id = db.session.scalar(sa.text("SELECT max(id) FROM listings"))
    pages = _pages(busy, listing_id)
    few, few_bodies = _query_counts(app, pages, visitor, coordinator)

    _add_rows(busy, 7)
    many, many_bodies = _query_counts(app, pages, visitor, coordinator)

    # The pages do show more rows now, or the comparison would prove nothing.
    assert many_bodies["needs: search"].count("listing-card") > few_bodies["needs: search"].count(
        "listing-card"
    )
    assert len(many_bodies["review queue"]) > len(few_bodies["review queue"])
    assert len(many_bodies["organisation"]) > len(few_bodies["organisation"])
    grown = {name: (few[name], many[name]) for name in pages if many[name] > few[name]}
    assert not grown, f"queries with 1 row vs 7 rows shown: {grown}"


def test_a_territorys_pages_make_no_query_per_row(app: Flask) -> None:
    """The territory page, and a territorial coordinator's pages (their filter is one more
    condition, never a query per row)."""
    territory = make_city_region()
    coordinator = signed_in(app, make_territorial_coordinator(territory))
    visitor = app.test_client()
    busy = make_organisation(name="Kitchen cooperative")  # Liverpool: in the city region
    make_listing(title="A bakery's first oven", themes=("funding",), scope=Scope.LOCAL)
    make_organisation(name="Newcomers", status=OrganisationStatus.PENDING)
    _add_rows(busy, 1)
    pages = {
        "territory page": (f"/t/{territory.slug}", False),
        "review queue": ("/coordination/proposals", True),
        "verification queue": ("/coordination/organisations", True),
        "dashboard": ("/coordination/dashboard", True),
    }
    few, few_bodies = _query_counts(app, pages, visitor, coordinator)
    _add_rows(busy, 7)
    many, many_bodies = _query_counts(app, pages, visitor, coordinator)

    assert len(many_bodies["review queue"]) > len(few_bodies["review queue"])
    assert many_bodies["territory page"].count("listing-card") > few_bodies["territory page"].count(
        "listing-card"
    )
    grown = {name: (few[name], many[name]) for name in pages if many[name] > few[name]}
    assert not grown, f"queries with 1 row vs 7 rows shown: {grown}"


@pytest.mark.parametrize("app_config", [{}])  # the test suite's cache: pages are stored
def test_stored_pages_ask_the_database_nothing_while_nothing_changed(app: Flask) -> None:
    """Once stored, neither a visitor's page nor a coordinator's makes a query: the menu's
    counts, their territories and the page's content come from the cache, the coordinator's
    account and unread count from their process's copy (issue #16: these counts cost 24 ms a
    request at 50,000 listings). A new notification of theirs costs their next page the two
    queries that read their account and count again, and the page shows it."""
    busy = make_organisation(name="Kitchen cooperative")
    user = make_user(role=Role.COORDINATOR)
    coordinator = signed_in(app, user)
    visitor = app.test_client()
    _add_rows(busy, 2)
    listing_id = db.session.scalar(sa.text("SELECT max(id) FROM listings"))
    for name, (path, signed) in _pages(busy, listing_id).items():
        client = coordinator if signed else visitor
        client.get(path)
        with _counting(app) as statements:
            answer = client.get(path)
        assert answer.status_code == 200, (name, answer.status_code)
        assert statements == [], (name, statements)

    db.session.add(Notification(user_id=user.id, kind="test", message="News", url="/"))
    db.session.commit()
    with _counting(app) as statements:
        answer = coordinator.get("/coordination/proposals")
    assert len(statements) == 2, statements
    assert "1 unread" in answer.get_data(as_text=True)


def _skipped_rows(statement: str, parameters: Any) -> int:
    """The OFFSET of ``statement``: SQLite's dialect writes one (0) after every LIMIT."""
    found = re.search(r"OFFSET (\?|%\((\w+)\)s|\d+)", statement)
    if found is None:
        return 0
    if found.group(1) == "?":
        return int(parameters[statement[: found.start()].count("?")])
    if found.group(2):
        return int(parameters[found.group(2)])
    return int(found.group(1))


def _deepest(client: FlaskClient, path: str) -> str:
    """The address of the last page of the list at ``path``, through its Next links."""
    return walk(client, path, lambda body: [])[1]


@pytest.mark.parametrize(
    "path, signed",
    [
        ("/organisations", False),
        ("/organisations?kind=academic_institution", False),
        ("/needs", False),
        ("/offers?theme=social-inclusion", False),
        ("/challenges?sort=deadline", False),
        ("/coordination/proposals", True),
    ],
)
def test_a_deep_page_costs_what_the_first_page_costs(
    app: Flask, monkeypatch: pytest.MonkeyPatch, path: str, signed: bool
) -> None:
    """Issue #16's keyset pagination: the last of many pages makes as many queries as the
    first, and none of them skips rows with OFFSET (which reads every row before the page)."""
    app.config["PAGE_SIZE"] = 2
    monkeypatch.setattr(proposal_routes, "QUEUE_PAGE_SIZE", 2)
    busy = make_organisation(name="Kitchen cooperative")
    _add_rows(busy, 7)
    client = signed_in(app, make_user(role=Role.COORDINATOR)) if signed else app.test_client()
    deepest = _deepest(client, path)
    assert "cursor=" in deepest and deepest != path
    counts = {}
    for address in (path, deepest):
        client.get(address)
        with _counting(app, parameters=True) as statements:
            assert client.get(address).status_code == 200
        counts[address] = len(statements)
        assert all(_skipped_rows(*sql) == 0 for sql in statements), (address, statements)
    assert counts[deepest] == counts[path], counts


@pytest.mark.parametrize("path", ["/challenges?sort=deadline", "/challenges", "/needs"])
def test_a_list_reads_its_order_from_an_index(app: Flask, path: str) -> None:
    """The pages sorted by deadline or by newest read their rows in order from an index and stop
    at the page's end, rather than sorting every open listing of the kind first (challenges by
    deadline at 50,000 listings: 320 ms on SQLite without the index, 4 ms with it). SQLite's
    plan says so; PostgreSQL's planner chooses by table size, so its plan is not asked here."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    busy = make_organisation(name="Kitchen cooperative")
    _add_rows(busy, 3)
    with _counting(app, parameters=True) as statements:
        assert app.test_client().get(path).status_code == 200
    (page,) = [(sql, sent) for sql, sent in statements if "ORDER BY" in sql and "LIMIT" in sql]
    with db.engine.connect() as connection:
        plan = [
            row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + page[0], page[1])
        ]
    assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan
