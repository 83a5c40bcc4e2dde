"""Pages of long lists that cost the same at any depth.

A page says where the next one starts as an opaque *cursor*: the sort key of its last row (and
the id, which breaks ties), so the next page asks for the rows after that key and the database
reads only the rows it shows, never every row before them as OFFSET does. Rows added or removed
meanwhile neither repeat nor vanish. "Previous" carries the key of the first row shown and asks
for the rows before it. Orders a row cannot be compared by (search relevance) page by position,
to a bounded depth.

The JSON API (api/paging.py) and the HTML lists (:func:`page_of`) share the cursor's encoding
and the keyset condition kept here.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask import abort, request
from flask_babel import lazy_gettext as _l

from matchmaker.core.arguments import MAX_ID, page_arg
from matchmaker.extensions import db

# Position paging (relevance order, old ``?page=N`` links) reads at most this many rows deep.
MAX_OFFSET = 10_000
# A list counts its rows up to this many, and says "more than" beyond.
COUNT_CAP = 1_000
# Long enough for the longest sort key a list has (a 200-character name, 4 bytes a character).
MAX_CURSOR_LENGTH = 2_000
BAD_PAGE_LINK = _l(
    "This page link is not one this list gave out; start again from the list's first page."
)
TOO_DEEP = _l("This list cannot be paged this deep; add search words or filters to narrow it down.")


class BadCursor(ValueError):
    """A cursor this application did not give out (mistyped, cut short or tampered with)."""


@dataclass(frozen=True)
class Key:
    """One column (or expression) of a keyset order, and how its values travel in a cursor:
    times and dates as ISO text, numbers and text as they are, each checked against the
    column's type when read back (a value of another type is a tampered cursor).

    ``read`` takes a row's value for the key; by default the mapped attribute of the same name.
    """

    column: Any
    descending: bool = False
    read: Callable[[Any], Any] | None = None

    @property
    def value_type(self) -> type:
        column_type = self.column.type
        if isinstance(column_type, sa.TypeDecorator):
            column_type = column_type.impl_instance
        python_type: type = column_type.python_type
        return python_type

    def dump(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value

    def load(self, value: Any) -> Any:
        expected = self.value_type
        if issubclass(expected, date):
            if not isinstance(value, str):
                raise TypeError("times and dates travel as text")
            if expected is datetime:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    raise ValueError("cursor times carry their offset")
                # In UTC, as the database compares them (OverflowError at the ends of time).
                return moment.astimezone(UTC)
            return date.fromisoformat(value)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise TypeError(f"{expected.__name__} expected")
        return value

    def value_of(self, row: Any) -> Any:
        return self.read(row) if self.read is not None else getattr(row, self.column.key)

    def reversed(self) -> Key:
        return replace(self, descending=not self.descending)


def order_by(keys: Sequence[Key]) -> list[Any]:
    """The ORDER BY of ``keys``."""
    return [key.column.desc() if key.descending else key.column.asc() for key in keys]


def encode_cursor(data: dict[str, Any]) -> str:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    # RecursionError: arrays nested deeper than Python's recursion limit, which a cursor of
    # MAX_CURSOR_LENGTH characters holds.
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise BadCursor(cursor)
    return data


def _storable(value: Any) -> bool:
    """A cursor value the database can compare: a number within an integer column's range, a
    time or date, or text that can be stored (PostgreSQL refuses a NUL byte and lone
    surrogates)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= MAX_ID
    if isinstance(value, str):
        return not any(char == "\x00" or "\ud800" <= char <= "\udfff" for char in value)
    return isinstance(value, date)


def key_values(keys: Sequence[Key], raw: Any) -> list[Any]:
    """The values a cursor holds for ``keys``, checked: :class:`BadCursor` if unusable."""
    if not isinstance(raw, list) or len(raw) != len(keys):
        raise BadCursor(raw)
    try:
        values = [key.load(value) for key, value in zip(keys, raw, strict=True)]
    except (TypeError, ValueError, OverflowError) as error:
        raise BadCursor(raw) from error
    if not all(_storable(value) for value in values):
        raise BadCursor(raw)
    return values


def after(keys: Sequence[Key], values: Sequence[Any]) -> Any:
    """Rows strictly after ``values`` in the order ``keys`` (no NULLs in key columns)."""
    if len({key.descending for key in keys}) == 1:
        return _row_after(keys, values)
    return _spelled_out_after(keys, values)


def _spelled_out_after(keys: Sequence[Key], values: Sequence[Any]) -> Any:
    """a > x, or a = x and b > y, …; with the first key's bound also stated on its own, so an
    index on it is read from there (with the OR alone, PostgreSQL scanned from the index's
    start and filtered: more rows the deeper the page)."""
    conditions = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        conditions.append(sa.and_(*equal, beyond))
    first = keys[0]
    bound = first.column <= values[0] if first.descending else first.column >= values[0]
    return sa.and_(bound, sa.or_(*conditions))


def _row_after(keys: Sequence[Key], values: Sequence[Any]) -> Any:
    """Keys all in one direction compared as a row, ``(a, b) > (x, y)``: both engines read an
    index on them from that point on (PostgreSQL: 0.2 ms for page 500 of the needs at 50,000
    listings, 16 ms spelled out, when many listings share a time)."""
    row = sa.tuple_(*(key.column for key in keys))
    point = sa.tuple_(
        *(sa.literal(value, key.column.type) for key, value in zip(keys, values, strict=True))
    )
    return row < point if keys[0].descending else row > point


def dumped(keys: Sequence[Key], row: Any) -> list[Any]:
    """A row's key values as a cursor holds them."""
    return [key.dump(key.value_of(row)) for key in keys]


@dataclass(frozen=True)
class CursorPage:
    """One page of an HTML list: its rows, the cursors of its neighbours, and the count of
    every row the list holds, up to :data:`COUNT_CAP` (``count_is_capped`` past it).

    ``has_previous`` with no ``previous_cursor`` means the previous page is the first one.
    """

    items: list[Any]
    has_previous: bool
    previous_cursor: str | None
    next_cursor: str | None
    total: int
    count_is_capped: bool


def capped_count(statement: sa.Select[Any], cap: int = COUNT_CAP) -> int:
    """How many rows ``statement`` holds, counted up to ``cap + 1`` at most: the work stays
    the same however many rows match."""
    rows = statement.order_by(None).limit(cap + 1).subquery()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(rows)) or 0)


def _requested_cursor(per_page: int) -> dict[str, Any]:
    """What the ``cursor`` argument (or an old ``page`` number) asks for; 400 if unusable."""
    cursor = request.args.get("cursor", "")
    if not cursor:
        page = page_arg()
        return {"offset": (page - 1) * per_page} if page > 1 else {}
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise BadCursor(cursor)
        data = decode_cursor(cursor)
        # In the form given out (one of "after", "before" or "offset", encoded as this list
        # encodes it): a page's address is also its key in the visitors' page cache, so the
        # same cursor written another way is not taken. The values are checked when read.
        if len(data) != 1 or set(data) - {"after", "before", "offset"}:
            raise BadCursor(cursor)
        if encode_cursor(data) != cursor:
            raise BadCursor(cursor)
        return data
    except BadCursor:
        abort(400, description=str(BAD_PAGE_LINK))


def page_of(
    statement: sa.Select[Any],
    *,
    per_page: int,
    keys: Sequence[Key] | None = None,
    count: bool = True,
) -> CursorPage:
    """The page of ``statement`` that the request's ``cursor`` asks for (the first without one).

    With ``keys`` the list pages by keyset in their order (``statement``'s own order is
    replaced); without, it keeps ``statement``'s order and pages by position, no deeper than
    :data:`MAX_OFFSET` rows. An old ``?page=N`` link is served by position, as deep.
    Unusable cursors answer 400 with :data:`BAD_PAGE_LINK`, too deep ones with :data:`TOO_DEEP`.
    Lists that show no count ask ``count=False`` and save its query.
    """
    requested = _requested_cursor(per_page)
    counted = capped_count(statement) if count else 0
    total = min(counted, COUNT_CAP)
    capped = counted > COUNT_CAP
    try:
        if "offset" in requested or keys is None:
            if set(requested) - {"offset"}:
                raise BadCursor(requested)
            rows, has_previous, previous, more = _by_position(
                statement, requested.get("offset", 0), per_page, keys
            )
        else:
            rows, has_previous, previous, more = _by_key(statement, requested, per_page, keys)
    except BadCursor:
        abort(400, description=str(BAD_PAGE_LINK))
    return CursorPage(rows, has_previous, previous, more, total, capped)


def _by_position(
    statement: sa.Select[Any], offset: Any, per_page: int, keys: Sequence[Key] | None
) -> tuple[list[Any], bool, str | None, str | None]:
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise BadCursor(offset)
    if offset > MAX_OFFSET:
        abort(400, description=str(TOO_DEEP))
    if keys is not None:
        statement = statement.order_by(None).order_by(*order_by(keys))
    rows = list(db.session.scalars(statement.offset(offset).limit(per_page + 1)).unique())
    # By position a list goes no deeper than MAX_OFFSET; from an old page link on a list with
    # keys, the next pages are found by key, at any depth.
    more = len(rows) > per_page and (keys is not None or offset + per_page <= MAX_OFFSET)
    rows = rows[:per_page]
    if keys is not None and rows:
        # From here on, the neighbours are found by key.
        following = encode_cursor({"after": dumped(keys, rows[-1])}) if more else None
        previous = encode_cursor({"before": dumped(keys, rows[0])}) if offset else None
        return rows, offset > 0, previous, following
    following = encode_cursor({"offset": offset + per_page}) if more else None
    back = offset - per_page
    previous = encode_cursor({"offset": back}) if back > 0 else None
    return rows, offset > 0, previous, following


def _by_key(
    statement: sa.Select[Any], requested: dict[str, Any], per_page: int, keys: Sequence[Key]
) -> tuple[list[Any], bool, str | None, str | None]:
    backwards = "before" in requested
    unpaged = statement
    statement = statement.order_by(None)
    if backwards:
        values = key_values(keys, requested["before"])
        reverse = [key.reversed() for key in keys]
        statement = statement.where(after(reverse, values)).order_by(*order_by(reverse))
    elif "after" in requested:
        values = key_values(keys, requested["after"])
        statement = statement.where(after(keys, values)).order_by(*order_by(keys))
    elif requested:
        raise BadCursor(requested)
    else:
        statement = statement.order_by(*order_by(keys))
    rows = list(db.session.scalars(statement.limit(per_page + 1)).unique())
    if backwards and not rows:
        # Every row before the page we came from has gone meanwhile: the first page.
        return _by_key(unpaged, {}, per_page, keys)
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
    # Walking back, there are rows after these (the page we came from); walking on, before.
    has_previous = more if backwards else bool(requested)
    has_next = True if backwards else more
    previous = encode_cursor({"before": dumped(keys, rows[0])}) if has_previous and rows else None
    following = encode_cursor({"after": dumped(keys, rows[-1])}) if has_next and rows else None
    return rows, has_previous, previous, following


def paging_args() -> dict[str, str]:
    """The request's arguments a pager's links carry on (filters, search words), without its
    own (``cursor``, an old ``page``)."""
    return {
        key: value
        for key, value in request.args.items()
        if key not in ("cursor", "page") and not key.startswith("_") and value
    }
