"""L1 and M8: malformed or oversized import files get a clear 4xx message (or a CLI error),
nothing is saved, and the work and memory stay bounded."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.extensions import db
from matchmaker.interchange.csv_tables import tables_from_document
from matchmaker.interchange.document import SHOWN_PROBLEMS
from matchmaker.organisations.models import Organisation
from tests.factories import make_user
from tests.interchange.test_import_export import DOCUMENT


def _count_organisations() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) or 0


def _upload(client: FlaskClient, filename: str, data: bytes, dry_run: bool = False) -> Any:
    form: dict[str, Any] = {"file": (io.BytesIO(data), filename)}
    if dry_run:
        form["dry_run"] = "y"
    return client.post("/coordination/data/import", data=form, content_type="multipart/form-data")


def _zip(tables: dict[str, str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=compression) as zipped:
        for name, text in tables.items():
            zipped.writestr(f"{name}.csv", text)
    return archive.getvalue()


def _good_tables() -> dict[str, str]:
    return tables_from_document(
        {**DOCUMENT, "listings": [{**item, "status": "open"} for item in DOCUMENT["listings"]]}
    )


def _patch_headers(data: bytes, offset_local: int, offset_central: int, value: bytes) -> bytes:
    """Overwrite a field of every local and central header (e.g. flags, compression method)."""
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", offset_local), (b"PK\x01\x02", offset_central)):
        start = patched.find(signature)
        while start != -1:
            patched[start + offset : start + offset + len(value)] = value
            start = patched.find(signature, start + 4)
    return bytes(patched)


def _bad_crc_zip() -> bytes:
    data = bytearray(_zip(_good_tables(), compression=zipfile.ZIP_STORED))
    where = data.find(b"University of Liverpool")
    data[where] = ord("X")  # the stored bytes no longer match their CRC-32
    return bytes(data)


def _encrypted_zip() -> bytes:
    return _patch_headers(_zip(_good_tables()), 6, 8, b"\x01\x00")  # general purpose flag bit 0


def _unsupported_compression_zip() -> bytes:
    return _patch_headers(_zip(_good_tables()), 8, 10, b"\x63\x00")  # method 99 (AES)


def _deep_json() -> bytes:
    return b"[" * 200_000 + b"]" * 200_000


def _long_number_json() -> bytes:
    return b'{"organisations": [], "listings": [], "x": ' + b"7" * 5000 + b"}"


def _surrogate_json(field: str | None) -> bytes:
    """The sample document with a lone surrogate (valid JSON, not text) as a city, or as the
    name of an unknown field: either one failed the upload (a 500), stored or named on the
    page."""
    organisation = dict(DOCUMENT["organisations"][0])
    if field is None:
        organisation["\ud800"] = "x"
    else:
        organisation[field] = "Liver\ud800pool"
    return json.dumps({**DOCUMENT, "organisations": [organisation]}).encode()


def _long_cell_tables() -> dict[str, str]:
    tables = _good_tables()
    tables["listings"] += 'x1,uol,offer,"' + "t" * 200_000 + '",d,research-evaluation,local\n'
    return tables


MALFORMED_UPLOADS = [
    ("l1_deeply_nested_json", "data.json", _deep_json, "nests lists or objects too deeply"),
    ("l1_number_over_4300_digits", "data.json", _long_number_json, "number too long to read"),
    ("l1_zip_with_bad_crc", "data.zip", _bad_crc_zip, "is damaged in the zip"),
    ("l1_encrypted_zip_member", "data.zip", _encrypted_zip, "is encrypted"),
    ("l1_unsupported_compression", "data.zip", _unsupported_compression_zip, "cannot read"),
    ("l1_csv_cell_over_128_kb", "data.zip", lambda: _zip(_long_cell_tables()), "cannot be read"),
    ("l1_not_utf8", "data.json", lambda: b'{"organisations": "\xff\xfe"}', "is not UTF-8"),
    ("lone_surrogate_in_a_value", "data.json", lambda: _surrogate_json("city"), "lone surrogate"),
    ("lone_surrogate_in_a_key", "data.json", lambda: _surrogate_json(None), "lone surrogate"),
]


@pytest.mark.parametrize(
    "case, filename, make, message", MALFORMED_UPLOADS, ids=[c[0] for c in MALFORMED_UPLOADS]
)
def test_l1_malformed_uploads_are_explained_and_save_nothing(
    client: FlaskClient, login: Any, case: str, filename: str, make: Any, message: str
) -> None:
    login(make_user(role=Role.COORDINATOR))
    response = _upload(client, filename, make())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "nothing was imported" in page
    assert _count_organisations() == 0


@pytest.mark.parametrize(
    "case, write, message",
    [
        (
            "l1_deeply_nested_json",
            lambda p: (p / "data.json").write_bytes(_deep_json()),
            "nests lists",
        ),
        (
            "l1_number_over_4300_digits",
            lambda p: (p / "data.json").write_bytes(_long_number_json()),
            "number too long",
        ),
        (
            "l1_csv_cell_over_128_kb",
            lambda p: [(p / f"{n}.csv").write_text(t) for n, t in _long_cell_tables().items()],
            "cannot be read",
        ),
    ],
)
def test_l1_cli_explains_malformed_files_and_saves_nothing(
    app: Flask, tmp_path: Path, case: str, write: Any, message: str
) -> None:
    write(tmp_path)
    target = tmp_path / "data.json" if (tmp_path / "data.json").exists() else tmp_path
    result = app.test_cli_runner().invoke(args=["data", "import", str(target)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert _count_organisations() == 0


# M8: bounded work ---------------------------------------------------------------------------


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"IMPORT_MAX_BYTES": 512 * 1024, "IMPORT_MAX_RECORDS": 2000}


def test_m8_a_small_zip_that_unzips_past_the_limit_is_refused(
    client: FlaskClient, login: Any
) -> None:
    tables = _good_tables()
    row = tables["listings"].splitlines()[1]
    tables["listings"] += "\n".join([row] * 20_000) + "\n"  # about 2 MB unzipped
    bomb = _zip(tables)
    assert len(bomb) < 20_000
    login(make_user(role=Role.COORDINATOR))
    response = _upload(client, "bomb.zip", bomb, dry_run=True)
    assert response.status_code == 422
    assert "larger than 512 kB once unzipped" in response.get_data(as_text=True)
    assert _count_organisations() == 0


def test_m8_a_json_of_empty_objects_is_refused_by_its_size_with_little_memory(
    client: FlaskClient, login: Any
) -> None:
    document = json.dumps({"organisations": [{}] * 60_000, "listings": [{}] * 40_000}).encode()
    assert len(document) < 512 * 1024
    login(make_user(role=Role.COORDINATOR))
    tracemalloc.start()
    try:
        response = _upload(client, "empty.json", document, dry_run=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "has 100000 organisations, contacts and listings; at most 2000" in page
    assert len(page) < 50_000
    assert peak < 60 * 1024 * 1024


def test_m8_only_the_first_problems_are_listed_with_the_total(
    client: FlaskClient, login: Any, tmp_path: Path, app: Flask
) -> None:
    document = json.dumps({"organisations": [{}] * 300, "listings": [{}] * 300}).encode()
    login(make_user(role=Role.COORDINATOR))
    response = _upload(client, "empty.json", document, dry_run=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count("is required") == SHOWN_PROBLEMS
    assert "more problem(s)" in page and "only the first 100 are listed" in page
    # The heading counts every problem, not only the listed ones.
    heading = re.search(r"([\d,]+) problems: nothing was imported", page)
    assert heading is not None and int(heading.group(1).replace(",", "")) > 600
    (tmp_path / "empty.json").write_bytes(document)
    result = app.test_cli_runner().invoke(args=["data", "import", str(tmp_path / "empty.json")])
    assert result.exit_code == 1
    assert result.output.count("is required") == SHOWN_PROBLEMS
    assert "only the first 100 are listed" in result.output


def test_m8_csv_rows_past_the_limit_are_refused_while_reading(
    client: FlaskClient, login: Any
) -> None:
    tables = _good_tables()
    tables["contacts"] += "uol,Someone,,,\n" * 2500
    login(make_user(role=Role.COORDINATOR))
    response = _upload(client, "many.zip", _zip(tables), dry_run=True)
    assert response.status_code == 422
    assert "contacts.csv has more than 2000 rows" in response.get_data(as_text=True)
