"""Each organisation stores its region folded as the matcher folds it (organisations.
region_folded): whatever path writes the region, and for the rows that were there before."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade

from matchmaker.extensions import db
from matchmaker.interchange.services import import_document
from matchmaker.organisations.models import Organisation, OrganisationKind
from matchmaker.organisations.services import create_organisation, update_organisation
from matchmaker.places.names import place_key
from tests.factories import make_listing, make_organisation, make_user
from tests.interchange.test_import_export import DOCUMENT

BEFORE = "1e7c4a9d3b52"


def _folded(organisation: Organisation) -> str:
    db.session.flush()
    db.session.expire(organisation)
    return organisation.region_folded


def test_the_services_keep_the_folded_region(app: Flask) -> None:
    owner = make_user()
    with app.test_request_context():
        organisation = create_organisation(
            creator=owner,
            name="Coopérative",
            kind=OrganisationKind.SSE_ORGANISATION,
            description="A cooperative.",
            city="Paris",
            region=" Île-de-France ",
            country="FR",
        )
        assert _folded(organisation) == "île-de-france"
        update_organisation(organisation=organisation, actor=owner, region="ÖSTERGÖTLAND")
        assert _folded(organisation) == "östergötland"
        # A change to anything else leaves it as it is.
        update_organisation(organisation=organisation, actor=owner, description="Another.")
        assert _folded(organisation) == "östergötland"


def test_an_import_keeps_the_folded_region(app: Flask) -> None:
    document = json.loads(json.dumps(DOCUMENT))
    document["organisations"][0]["region"] = "Greater  MERSEYSIDE"
    import_document(document)
    db.session.commit()
    organisation = db.session.scalar(
        sa.select(Organisation).where(Organisation.name == "University of Liverpool")
    )
    assert organisation.region_folded == "greater merseyside"
    document["organisations"][0]["region"] = "Ñuble"
    import_document(document)
    db.session.commit()
    assert _folded(organisation) == "ñuble"


def test_a_row_inserted_outside_the_orm_is_folded_too(app: Flask) -> None:
    """As bench/synthetic.py inserts its organisations: the column's default folds them."""
    db.session.execute(
        sa.insert(Organisation.__table__),
        [
            {
                "name": f"Bulk {number}",
                "kind": "sse_organisation",
                "city": "Atlantis",
                "region": region,
                "country": "GR",
            }
            for number, region in enumerate(["Αττική", "ΚΡΗΤΗ"])
        ],
    )
    found = db.session.execute(
        sa.select(Organisation.region_folded).order_by(Organisation.name)
    ).scalars()
    assert list(found) == ["αττική", "κρητη"]


def test_the_filters_find_a_region_whatever_its_capitals(client: FlaskClient) -> None:
    """SQLite's lower() left "Île-de-France" as it was: neither the directory nor the search
    found its organisations when asked for it in other capitals."""
    organisation = make_organisation(
        name="Paris Coop", city="Atlantis", region="Île-de-France", country="FR"
    )
    make_listing(organisation=organisation, title="Kitchen for the neighbourhood")
    make_organisation(name="Lyon Coop", city="Lyon", region="Auvergne-Rhône-Alpes", country="FR")
    for asked in ("Île-de-France", "ÎLE-DE-FRANCE", "île-de-france "):
        directory = client.get("/organisations", query_string={"region": asked})
        assert "Paris Coop" in directory.get_data(as_text=True)
        assert "Lyon Coop" not in directory.get_data(as_text=True)
        needs = client.get("/needs", query_string={"region": asked})
        assert "Kitchen for the neighbourhood" in needs.get_data(as_text=True)


def test_the_migration_folds_the_existing_regions(app: Flask) -> None:
    downgrade(revision=BEFORE)
    regions = {
        "Greek": "Αττική",
        "French": " Île-de-France ",
        "Swedish": "ÖSTERGÖTLAND",
        "German": "Straße  der Zukunft",
        "None written": "",
    }
    with db.engine.begin() as connection:
        for name, region in regions.items():
            connection.execute(
                sa.text(
                    "INSERT INTO organisations (name, kind, description, city, region, country,"
                    " status, created_at, updated_at) VALUES (:name, 'sse_organisation', '',"
                    " 'Atlantis', :region, 'GR', 'verified', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"name": name, "region": region},
            )
    upgrade()
    with db.engine.connect() as connection:
        found: dict[str, Any] = dict(
            connection.execute(sa.text("SELECT name, region_folded FROM organisations")).all()
        )
    assert found == {
        "Greek": "αττική",
        "French": "île-de-france",
        "Swedish": "östergötland",
        "German": "strasse der zukunft",
        "None written": "",
    }
    assert found == {name: place_key(region) for name, region in regions.items()}
    downgrade(revision=BEFORE)
    upgrade()
