"""The CSV form of the interchange document: one file per table, for spreadsheets.

organisations.csv, contacts.csv (one row per contact person, ``organisation`` holds the
organisation's ref) and listings.csv. Lists (themes, sought_kinds) are separated by ";".
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

from matchmaker.core.spreadsheets import csv_text, restore_cell
from matchmaker.interchange.document import (
    CONTACT_COLUMNS,
    FORMAT,
    LISTING_COLUMNS,
    ORGANISATION_COLUMNS,
)

CONTACT_TABLE_COLUMNS = ("organisation", *CONTACT_COLUMNS)
TABLES = {
    "organisations": ORGANISATION_COLUMNS,
    "contacts": CONTACT_TABLE_COLUMNS,
    "listings": LISTING_COLUMNS,
}
LIST_COLUMNS = {"themes", "sought_kinds"}


class CSVError(ValueError):
    """The CSV files cannot be read as tables."""


def _rows(text: str, table: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [
        c
        for c in ("ref", "name")
        if table == "organisations" and c not in (reader.fieldnames or [])
    ]
    if missing:
        raise CSVError(f"{table}.csv: missing column(s) {', '.join(missing)}")
    return [
        {k: restore_cell((v or "").strip()) for k, v in row.items() if k is not None}
        for row in reader
    ]


def document_from_tables(tables: dict[str, str]) -> dict[str, Any]:
    """Build the interchange document from the texts of the CSV files (by table name)."""
    if "organisations" not in tables and "listings" not in tables:
        raise CSVError("expected organisations.csv and/or listings.csv")
    organisations = []
    by_ref: dict[str, dict[str, Any]] = {}
    for row in _rows(tables.get("organisations", ""), "organisations"):
        record: dict[str, Any] = {k: (v or None) for k, v in row.items()}
        record["contacts"] = []
        organisations.append(record)
        by_ref[row.get("ref", "")] = record
    for row in _rows(tables.get("contacts", ""), "contacts"):
        owner = by_ref.get(row.pop("organisation", ""))
        if owner is not None:
            owner["contacts"].append({k: (v or None) for k, v in row.items()})
    listings = []
    for row in _rows(tables.get("listings", ""), "listings"):
        record = {}
        for key, value in row.items():
            if key in LIST_COLUMNS:
                record[key] = [part.strip() for part in value.split(";") if part.strip()]
            else:
                record[key] = value or None
        listings.append(record)
    return {"format": FORMAT, "organisations": organisations, "listings": listings}


def tables_from_document(document: dict[str, Any]) -> dict[str, str]:
    """Write the document as CSV texts, by table name."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for organisation in document["organisations"]:
        rows["organisations"].append({c: organisation.get(c) for c in ORGANISATION_COLUMNS})
        for contact in organisation.get("contacts", []):
            rows["contacts"].append({"organisation": organisation["ref"], **contact})
    for listing in document["listings"]:
        row = {c: listing.get(c) for c in LISTING_COLUMNS}
        for column in LIST_COLUMNS:
            row[column] = ";".join(listing.get(column) or [])
        rows["listings"].append(row)
    return {
        name: csv_text(columns, ([row.get(c) for c in columns] for row in rows[name]))
        for name, columns in TABLES.items()
    }


def tables_from_directory(path: Path) -> dict[str, str]:
    return {
        name: (path / f"{name}.csv").read_text(encoding="utf-8")
        for name in TABLES
        if (path / f"{name}.csv").exists()
    }


def tables_from_zip(data: bytes) -> dict[str, str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise CSVError("the file is not a zip archive of CSV files") from error
    tables = {}
    for info in archive.infolist():
        name = Path(info.filename).name
        if name.endswith(".csv") and name[:-4] in TABLES:
            if info.file_size > 50 * 1024 * 1024:
                raise CSVError(f"{name} is larger than 50 MB")
            tables[name[:-4]] = archive.read(info).decode("utf-8-sig")
    return tables
