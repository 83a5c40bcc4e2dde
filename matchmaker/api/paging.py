"""Cursor pagination: each page says where the next one starts (``next_cursor``), as an
opaque string the client sends back. Most lists page by keyset (the sort key of the last row
seen), so rows added meanwhile neither repeat nor vanish; the orders a row cannot be compared
by (search relevance) page by position. The cursor and the keyset condition are core/paging.py's,
shared with the HTML lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from matchmaker.api.problems import ApiProblem
from matchmaker.core.paging import (
    MAX_CURSOR_LENGTH,
    MAX_OFFSET,
    BadCursor,
    Key,
    after,
    decode_cursor,
    encode_cursor,
    key_values,
    order_by,
)
from matchmaker.extensions import db

__all__ = ["Key", "PageArgs", "keyset_page", "page_schema", "position_page"]

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
BAD_CURSOR = _l("This cursor is not one this list gave out; start again without it.")


class PageArgs(ma.Schema):
    cursor = ma.fields.String(
        validate=ma.validate.Length(max=MAX_CURSOR_LENGTH),
        metadata={"description": "The `next_cursor` of the previous page."},
    )
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": "How many items per page."},
    )


def _decode(cursor: str) -> dict[str, Any]:
    try:
        return decode_cursor(cursor)
    except BadCursor as error:
        raise _bad_cursor() from error


def _bad_cursor() -> ApiProblem:
    return ApiProblem(
        422,
        str(BAD_CURSOR),
        errors=[{"field": "cursor", "location": "query", "message": str(BAD_CURSOR)}],
    )


def keyset_page(
    statement: sa.Select[Any],
    *,
    keys: Sequence[Key],
    row_key: Callable[[Any], Sequence[Any]],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """One page of ``statement`` (not yet ordered) in the order of ``keys``."""
    if cursor:
        data = _decode(cursor)
        try:
            values = key_values(keys, data.get("after"))
        except BadCursor as error:
            raise _bad_cursor() from error
        statement = statement.where(after(keys, values))
    rows = list(db.session.scalars(statement.order_by(*order_by(keys)).limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = row_key(rows[-1])
        next_cursor = encode_cursor({"after": [k.dump(v) for k, v in zip(keys, last, strict=True)]})
    return {"items": rows, "next_cursor": next_cursor}


def position_page(statement: sa.Select[Any], *, cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of an already ordered ``statement``, by position."""
    offset = 0
    if cursor:
        offset = _decode(cursor).get("offset")  # type: ignore[assignment]
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 < offset <= MAX_OFFSET:
            raise _bad_cursor()
    rows = list(db.session.scalars(statement.offset(offset).limit(limit + 1)).unique())
    more = len(rows) > limit and offset + limit <= MAX_OFFSET
    return {
        "items": rows[:limit],
        "next_cursor": encode_cursor({"offset": offset + limit}) if more else None,
    }


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """``{"items": [...], "next_cursor": "..." | null}`` around ``item``."""
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item), required=True),
            "next_cursor": ma.fields.String(
                required=True,
                allow_none=True,
                metadata={"description": "Send it as `cursor` for the next page; null at the end."},
            ),
        },
    )
