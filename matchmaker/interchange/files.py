"""Reading an import file (a JSON document, a zip of CSV files, a folder of CSV files) within
the limits set by ``IMPORT_MAX_BYTES`` and ``IMPORT_MAX_RECORDS``.

Every way a file can be malformed ends as :class:`UnreadableFile` with a message for the
person who sent it: deep nesting, numbers Python refuses to parse, damaged, encrypted or
oddly compressed zip members, cells over the CSV reader's limit, text that is not UTF-8,
lone surrogates escaped in JSON.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from flask import current_app

from matchmaker.core.i18n import gettext as _
from matchmaker.interchange.csv_tables import TABLES, document_from_tables
from matchmaker.interchange.document import UnreadableFile

# Compression methods Python's zipfile reads (stored, deflate, bzip2, lzma).
READABLE_COMPRESSION = {
    zipfile.ZIP_STORED,
    zipfile.ZIP_DEFLATED,
    zipfile.ZIP_BZIP2,
    zipfile.ZIP_LZMA,
}
ENCRYPTED_FLAG = 0x1
SURROGATE = re.compile("[\ud800-\udfff]")
# How JSON writes one (or half of a pair): only a document with such an escape is walked.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _max_bytes() -> int:
    return int(current_app.config["IMPORT_MAX_BYTES"])


def _max_records() -> int:
    return int(current_app.config["IMPORT_MAX_RECORDS"])


def _too_large() -> UnreadableFile:
    size = f"{_max_bytes() // 1024:,} kB"
    return UnreadableFile(
        _(
            "The file is larger than %(size)s once unzipped; split it into smaller files.",
            size=size,
        )
    )


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            _("%(name)s is not UTF-8 text (byte %(at)d).", name=name, at=error.start)
        ) from error


def read_json(data: bytes) -> Any:
    """The JSON document in ``data``."""
    if len(data) > _max_bytes():
        raise _too_large()
    text = _decode(data, _("The file"))
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableFile(
            _("The file is not valid JSON: %(error)s", error=str(error))
        ) from error
    except RecursionError as error:
        raise UnreadableFile(
            _("The file nests lists or objects too deeply to be an interchange document.")
        ) from error
    except ValueError as error:  # an integer of more than 4,300 digits
        raise UnreadableFile(
            _("The file holds a number too long to read: %(error)s", error=str(error))
        ) from error
    if SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(document):
        raise UnreadableFile(
            _(
                "The file holds an escaped character that is not text (a lone surrogate, such "
                "as \\ud800): save it again as UTF-8 from the program that wrote it."
            )
        )
    return document


def _has_lone_surrogate(document: Any) -> bool:
    """Whether a key or a value of ``document`` holds a lone surrogate. JSON can escape one
    (``"\\ud800"``) although no UTF-8 text holds it: stored, or named in a problem on the
    page, it failed the request (a 500). Walked without recursion: the document may be as deep
    as the JSON reader allows."""
    waiting = [document]
    while waiting:
        item = waiting.pop()
        if isinstance(item, dict):
            waiting.extend(item)
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)
        elif isinstance(item, str) and SURROGATE.search(item):
            return True
    return False


def tables_from_zip(data: bytes) -> dict[str, str]:
    """The CSV texts in a zip, by table name, unzipped no further than the size limit."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as error:
        raise UnreadableFile(_("The file is not a zip archive of CSV files.")) from error
    budget = _max_bytes()
    tables = {}
    for info in archive.infolist():
        name = Path(info.filename).name
        if not (name.endswith(".csv") and name[:-4] in TABLES):
            continue
        if info.flag_bits & ENCRYPTED_FLAG:
            raise UnreadableFile(_("%(name)s is encrypted; zip it without a password.", name=name))
        if info.compress_type not in READABLE_COMPRESSION:
            raise UnreadableFile(
                _(
                    "%(name)s is compressed in a way we cannot read; zip it again with the usual "
                    "(deflate) method.",
                    name=name,
                )
            )
        try:
            with archive.open(info) as member:
                raw = member.read(budget + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
            raise UnreadableFile(
                _("%(name)s is damaged in the zip: %(error)s", name=name, error=str(error))
            ) from error
        if len(raw) > budget:
            raise _too_large()
        budget -= len(raw)
        tables[name[:-4]] = _decode(raw, name)
    return tables


def tables_from_directory(path: Path) -> dict[str, str]:
    """The CSV texts in a folder, by table name."""
    budget = _max_bytes()
    tables = {}
    for name in TABLES:
        file = path / f"{name}.csv"
        if not file.exists():
            continue
        size = file.stat().st_size
        if size > budget:
            raise _too_large()
        budget -= size
        tables[name] = _decode(file.read_bytes(), file.name)
    return tables


def read_upload(filename: str, data: bytes) -> Any:
    """The document in an uploaded file: a zip of CSV files, or JSON."""
    if filename.lower().endswith(".zip"):
        return document_from_tables(tables_from_zip(data), max_rows=_max_records())
    return read_json(data)


def read_path(path: Path) -> Any:
    """The document in a JSON file, or in a folder of CSV files."""
    if path.is_dir():
        return document_from_tables(tables_from_directory(path), max_rows=_max_records())
    if path.stat().st_size > _max_bytes():
        raise _too_large()
    return read_json(path.read_bytes())
