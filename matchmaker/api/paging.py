"""Cursor pagination: each page says where the next one starts (``next_cursor``), as an
opaque string the client sends back. Most lists page by keyset (the sort key of the last row
seen), so rows added meanwhile neither repeat nor vanish; the orders a row cannot be compared
by (search relevance) page by position."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from matchmaker.api.problems import ApiProblem
from matchmaker.core.arguments import MAX_ID
from matchmaker.extensions import db

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_OFFSET = 10_000
BAD_CURSOR = _l("This cursor is not one this list gave out; start again without it.")


class PageArgs(ma.Schema):
    cursor = ma.fields.String(
        validate=ma.validate.Length(max=500),
        metadata={"description": "The `next_cursor` of the previous page."},
    )
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": "How many items per page."},
    )


@dataclass(frozen=True)
class Key:
    """One column of a keyset order, and how its values travel in a cursor."""

    column: Any
    descending: bool = False
    is_datetime: bool = False

    def dump(self, value: Any) -> Any:
        return value.isoformat() if self.is_datetime and value is not None else value

    def load(self, value: Any) -> Any:
        if self.is_datetime:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("cursor times carry their offset")
            return moment
        return value


def _encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def _decode(cursor: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeError):
        data = None
    if not isinstance(data, dict):
        raise _bad_cursor()
    return data


def _bad_cursor() -> ApiProblem:
    return ApiProblem(
        422,
        str(BAD_CURSOR),
        errors=[{"field": "cursor", "location": "query", "message": str(BAD_CURSOR)}],
    )


def _storable(value: Any) -> bool:
    """A cursor value the database can compare: a number within an integer column's range, a
    time, or text that can be stored (PostgreSQL refuses a NUL byte and lone surrogates)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= MAX_ID
    if isinstance(value, str):
        return not any(char == "\x00" or "\ud800" <= char <= "\udfff" for char in value)
    return isinstance(value, datetime)


def _after(keys: Sequence[Key], values: Sequence[Any]) -> Any:
    """Rows strictly after ``values`` in the order ``keys`` (no NULLs in key columns)."""
    conditions = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        conditions.append(sa.and_(*equal, beyond))
    return sa.or_(*conditions)


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
        raw = data.get("after")
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise _bad_cursor()
        try:
            values = [key.load(value) for key, value in zip(keys, raw, strict=True)]
        except (TypeError, ValueError) as error:
            raise _bad_cursor() from error
        if not all(_storable(value) for value in values):
            raise _bad_cursor()
        statement = statement.where(_after(keys, values))
    order = [key.column.desc() if key.descending else key.column.asc() for key in keys]
    rows = list(db.session.scalars(statement.order_by(*order).limit(limit + 1)).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = row_key(rows[-1])
        next_cursor = _encode({"after": [k.dump(v) for k, v in zip(keys, last, strict=True)]})
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
        "next_cursor": _encode({"offset": offset + limit}) if more else None,
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
