"""Values read from URLs and query strings, bounded to what the database can hold.

Ids are PostgreSQL ``integer`` columns: a larger number in a URL can never name a row, and
passed on to the database it overflows (a 500 on SQLite and PostgreSQL alike). The ``int`` URL
converter is replaced app-wide by one that answers 404 for such numbers, and query arguments
(``page``, ids) go through :func:`int_arg`; free-text query arguments through :func:`text_arg`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, Map, ValidationError

from matchmaker.core.text import single_line

# The largest value of a PostgreSQL ``integer`` column (every id in the schema).
MAX_ID = 2**31 - 1
# No listing shows more pages than this; deeper pages answer 404 instead of overflowing OFFSET.
MAX_PAGE = 100_000


def parse_bounded_int(value: str | None, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """``value`` as an integer within ``low..high``, or None (too long, not a number, out of range).

    The length is checked first: Python refuses to parse numbers of over 4,300 digits.
    """
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > len(str(high)):
        return None
    number = int(value)
    return number if low <= number <= high else None


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that only matches ids a row can have; anything larger is a 404."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        if parse_bounded_int(value, low=self.min or 0, high=self.max or MAX_ID) is None:
            raise ValidationError()
        return int(super().to_python(value))


def int_arg(name: str, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """The query argument ``name`` as a bounded integer; None when absent or unusable."""
    return parse_bounded_int(request.args.get(name), low=low, high=high)


def text_arg(name: str, *, max_length: int = 200) -> str:
    """The query argument ``name``, stripped and cut to ``max_length`` characters.

    Search terms end up in LIKE patterns, which databases refuse past a length (SQLite at
    50,000 bytes); no real search is longer than a line. Control characters become spaces:
    PostgreSQL refuses a NUL byte in any text parameter.
    """
    return single_line(request.args.get(name, ""))[:max_length]


def page_arg() -> int:
    """The ``page`` query argument: 1 when absent or not a number, 404 beyond :data:`MAX_PAGE`."""
    raw = request.args.get("page", "").strip()
    if not (raw.isascii() and raw.isdigit()) or not raw.strip("0"):
        return 1
    page = parse_bounded_int(raw, low=1, high=MAX_PAGE)
    if page is None:
        abort(404)
    return page


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
