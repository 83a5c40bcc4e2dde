"""The CSV form of the interchange document: one file per table, for spreadsheets.

organisations.csv, contacts.csv (one row per contact person, ``organisation`` holds the
organisation's ref) and listings.csv. Lists (themes, sought_kinds) are separated by ";".
"""

from __future__ import annotations

import csv
import io
from typing import Any

from matchmaker.core.spreadsheets import csv_text, restore_cell
from matchmaker.interchange.document import (
    CONTACT_COLUMNS,
    FORMAT,
    LISTING_COLUMNS,
    ORGANISATION_COLUMNS,
    UnreadableFile,
)

CONTACT_TABLE_COLUMNS = ("organisation", *CONTACT_COLUMNS)
TABLES = {
    "organisations": ORGANISATION_COLUMNS,
    "contacts": CONTACT_TABLE_COLUMNS,
    "listings": LISTING_COLUMNS,
}
LIST_COLUMNS = {"themes", "sought_kinds"}


class CSVError(UnreadableFile):
    """The CSV files cannot be read as tables."""


def _rows(text: str, table: str, max_rows: int) -> list[dict[str, str]]:
    """The rows of one table, read one at a time and refused past ``max_rows``."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows: list[dict[str, str]] = []
    try:
        missing = [
            c
            for c in ("ref", "name")
            if table == "organisations" and c not in (reader.fieldnames or [])
        ]
        if missing:
            raise CSVError(f"{table}.csv: missing column(s) {', '.join(missing)}")
        for row in reader:
            if len(rows) == max_rows:
                raise CSVError(
                    f"{table}.csv has more than {max_rows} rows; split it into smaller files"
                )
            rows.append(
                {k: restore_cell((v or "").strip()) for k, v in row.items() if k is not None}
            )
    except csv.Error as error:  # e.g. a cell over the reader's 128 kB limit
        raise CSVError(f"{table}.csv, line {reader.line_num}: cannot be read ({error})") from error
    return rows


def document_from_tables(tables: dict[str, str], *, max_rows: int) -> dict[str, Any]:
    """Build the interchange document from the texts of the CSV files (by table name)."""
    if "organisations" not in tables and "listings" not in tables:
        raise CSVError("expected organisations.csv and/or listings.csv")
    organisations = []
    by_ref: dict[str, dict[str, Any]] = {}
    for row in _rows(tables.get("organisations", ""), "organisations", max_rows):
        record: dict[str, Any] = {k: (v or None) for k, v in row.items()}
        record["contacts"] = []
        organisations.append(record)
        by_ref[row.get("ref", "")] = record
    for row in _rows(tables.get("contacts", ""), "contacts", max_rows):
        owner = by_ref.get(row.pop("organisation", ""))
        if owner is not None:
            owner["contacts"].append({k: (v or None) for k, v in row.items()})
    listings = []
    for row in _rows(tables.get("listings", ""), "listings", max_rows):
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
