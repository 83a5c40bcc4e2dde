"""The home page shows the platform at work: figures overall and by country, and agreed
partnerships whose parties all agreed to show them (names and themes, never contacts)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.extensions import db
from matchmaker.organisations.models import OrganisationKind, OrganisationStatus
from matchmaker.proposals.models import ProposalResponse, ProposalStatus
from tests.factories import make_listing, make_organisation
from tests.proposals.test_review_and_introductions import _approve, _as, world

__all__ = ["world"]  # the fixture, shared with the review tests


def _accept(app: Flask, user: Any, proposal: Any, organisation: Any, show: bool) -> None:
    data = {f"r{organisation.id}-show_publicly": "y"} if show else {}
    response = _as(app, user).post(
        f"/proposals/{proposal.id}/organisations/{organisation.id}/accept", data=data
    )
    assert response.status_code == 302


def _home(app: Flask) -> str:
    return app.test_client().get("/").get_data(as_text=True)


@pytest.mark.parametrize(("network_shows", "university_shows"), [(True, False), (False, True)])
def test_a_partnership_is_shown_only_when_every_party_agreed_to_show_it(
    app: Flask, world: dict, network_shows: bool, university_shows: bool
) -> None:
    proposal = world["proposal"]
    _approve(_as(app, world["coordinator"]), proposal)
    _accept(app, world["network_owner"], proposal, world["network"], network_shows)
    _accept(app, world["uni_owner"], proposal, world["university"], university_shows)
    db.session.refresh(proposal)
    assert proposal.status == ProposalStatus.AGREED
    page = _home(app)
    assert "Partnerships appear here once every party has agreed to show them." in page
    assert '<span class="stat">1</span> partnership agreed' in page  # counted all the same


def test_an_agreed_partnership_everyone_agreed_to_show_is_on_the_home_page_without_contacts(
    app: Flask, world: dict
) -> None:
    proposal = world["proposal"]
    assert "Partnerships appear here" in _home(app)
    _approve(_as(app, world["coordinator"]), proposal)
    _accept(app, world["network_owner"], proposal, world["network"], True)
    assert "Partnerships appear here" in _home(app)  # not agreed yet
    _accept(app, world["uni_owner"], proposal, world["university"], True)
    responses = db.session.query(ProposalResponse).all()
    assert all(response.is_shown_publicly for response in responses)
    page = _home(app)
    section = page.split('id="recent-partnerships"')[1].split("</section>")[0]
    assert "Social Enterprise Network" in section
    assert "University of Liverpool" in section
    assert "Research, evaluation and impact measurement" in section
    assert "Knowledge exchange between academia and practice" in section
    for private in ("rosie.contact@example.org", "Rosie Jolly", "alan.contact@example.org"):
        assert private not in page
    # A party that is closed later takes the partnership off the home page.
    world["university"].status = OrganisationStatus.CLOSED
    db.session.commit()
    assert "University of Liverpool" not in _home(app).split('id="recent-partnerships"')[1]


def test_a_declining_party_cannot_consent_to_being_shown(app: Flask, world: dict) -> None:
    proposal = world["proposal"]
    _approve(_as(app, world["coordinator"]), proposal)
    network = world["network"]
    _as(app, world["network_owner"]).post(
        f"/proposals/{proposal.id}/organisations/{network.id}/decline",
        data={f"r{network.id}-message": "Not now.", f"r{network.id}-show_publicly": "y"},
    )
    response = db.session.query(ProposalResponse).one()
    assert not response.is_shown_publicly


def test_the_home_page_counts_organisations_listings_and_partnerships_by_country(
    client: FlaskClient,
) -> None:
    athens = make_organisation(name="City of Athens", country="GR", city="Athens", region="Attica")
    make_organisation(
        name="Technical University of Athens",
        country="GR",
        city="Athens",
        region="Attica",
        kind=OrganisationKind.ACADEMIC_INSTITUTION,
    )
    make_organisation(name="Liverpool network")
    make_organisation(name="Waiting", status=OrganisationStatus.PENDING)
    make_listing(organisation=athens)
    make_listing(organisation=athens)
    page = client.get("/").get_data(as_text=True)
    assert '<span class="stat">3</span> verified organisations' in page
    assert '<span class="stat">2</span> open needs, offers and challenges' in page
    assert '<span class="stat">0</span> partnerships agreed' in page
    table = page.split("<summary>By country</summary>")[1].split("</table>")[0]
    greece = table.split("Greece</a></th>")[1].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in greece.split("<td>")[1:]] == ["2", "2", "0"]
    assert table.index("Greece") < table.index("United Kingdom")


def test_the_home_page_counts_them_by_territory_too(client: FlaskClient) -> None:
    from tests.territories.helpers import make_territory

    make_territory()  # Attica
    athens = make_organisation(name="City of Athens", country="GR", city="Athens", region="Attica")
    make_organisation(name="Piraeus cooperative", country="GR", city="Piraeus", region="Attica")
    make_organisation(name="Thessaloniki network", country="GR", city="Thessaloniki")
    make_organisation(name="Liverpool network")
    make_listing(organisation=athens)
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    table = page.split("<summary>By territory</summary>")[1].split("</table>")[0]
    attica = table.split('href="/t/attica" dir="auto">Attica</a></th>')[1].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in attica.split("<td>")[1:]] == ["2", "1", "0"]


def test_the_figures_by_territory_take_as_many_queries_for_four_territories_as_for_one(
    app: Flask,
) -> None:
    """Each territory is a column of the same three counts, never three queries of its own;
    territories may overlap, and each counts what lies in it."""
    import sqlalchemy as sa

    from matchmaker.proposals.showcase import figures_by_territory
    from tests.territories.helpers import make_territory

    athens = make_organisation(name="City of Athens", country="GR", city="Athens", region="Attica")
    make_organisation(name="Piraeus cooperative", country="GR", city="Piraeus", region="Attica")
    make_listing(organisation=athens)
    make_territory()  # Attica

    def counted() -> tuple[int, list[tuple[str, int, int]]]:
        statements: list[str] = []

        def listen(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", listen)
        try:
            rows = figures_by_territory()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listen)
        return len(statements), [(t.slug, f.organisations, f.open_listings) for t, f in rows]

    one, rows = counted()
    assert rows == [("attica", 2, 1)]
    make_territory(slug="greece", name="Greece", subdivisions=("GR-I", "GR-B"))
    make_territory(slug="macedonia", name="Central Macedonia", subdivisions=("GR-B",))
    make_territory(slug="lcr", name="Liverpool City Region", language="en", subdivisions=())
    four, rows = counted()
    assert four == one
    assert sorted(rows) == [
        ("attica", 2, 1),
        ("greece", 2, 1),
        ("lcr", 0, 0),
        ("macedonia", 0, 0),
    ]
