"""The import format takes a city by name (any language or script) or by GeoNames id; a dry
run names every unknown place by its position."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.interchange.csv_tables import document_from_tables, tables_from_document
from matchmaker.interchange.services import export_document, import_document
from matchmaker.organisations.models import Organisation


def _organisation(ref: str, **place: Any) -> dict[str, Any]:
    return {
        "ref": ref,
        "name": f"Organisation {ref}",
        "kind": "sse_organisation",
        "description": "A social enterprise.",
        "region": "Somewhere",
        "country": "GR",
        **place,
    }


def test_a_city_by_name_in_any_script_or_by_geonames_id(app: Flask) -> None:
    document = {
        "organisations": [
            _organisation("a", city="Αθήνα"),
            _organisation("b", geonames_id=264371),
            _organisation("c", city="Piraeus", geonames_id="255274"),
        ],
        "listings": [],
    }
    import_document(document)
    db.session.commit()
    rows = db.session.execute(
        sa.select(Organisation.name, Organisation.city, Organisation.geonames_id).order_by(
            Organisation.name
        )
    ).all()
    assert [tuple(row) for row in rows] == [
        ("Organisation a", "Αθήνα", 264371),
        ("Organisation b", "Athens", 264371),
        ("Organisation c", "Piraeus", 255274),
    ]
    exported = export_document()["organisations"]
    assert [o["geonames_id"] for o in exported] == [264371, 264371, 255274]
    # And through the CSV tables, where the id is text.
    again = document_from_tables(tables_from_document(export_document()), max_rows=100)
    assert [o["geonames_id"] for o in again["organisations"]] == ["264371", "264371", "255274"]
    import_document(again)


def test_a_dry_run_names_every_unknown_place_by_its_position(app: Flask, tmp_path: Path) -> None:
    document = {
        "organisations": [
            _organisation("ok", city="Athens"),
            _organisation("typo", city="Atlantis"),
            _organisation("far", geonames_id=2644210),  # Liverpool, not in GR
            _organisation("none", geonames_id=1),
            _organisation("text", geonames_id="twelve"),
        ],
        "listings": [],
    }
    path = tmp_path / "places.json"
    path.write_text(json.dumps(document))
    result = app.test_cli_runner().invoke(args=["data", "import", "--dry-run", str(path)])
    assert result.exit_code != 0
    assert 'organisations[1].city: unknown place "Atlantis" in GR' in result.output
    assert "organisations[2].geonames_id: Liverpool (2644210) is not in GR" in result.output
    assert "organisations[3].geonames_id: " in result.output
    assert "organisations[4].geonames_id: " in result.output
    assert "organisations[0]" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0
