"""Optimistic locking of the rows members edit in a form (listings, organisations).

Each such row has a ``version`` counter. The edit form carries the version it was read at; a
save compares it with the row's version under a row lock and, when another save came first,
raises :class:`EditConflict` instead of writing over a change its author never saw.

It is not SQLAlchemy's ``version_id_col`` (which proposals use): that makes *every* ORM write
of the row compare, so pausing a listing, verifying an organisation or a job's update would
fail whenever an edit was committed between its read and its write, although each writes
columns the other does not. Here only the edit forms and the API's updates compare; the
services that change what those forms show count the change with :func:`bump_version`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from matchmaker.core.arguments import parse_bounded_int
from matchmaker.core.errors import DomainError
from matchmaker.core.forms import show_domain_error
from matchmaker.extensions import db


class EditConflict(DomainError):
    """The row was saved by someone else since the form (or the API's ETag) was read."""


def sent_version(field: Any) -> int | None:
    """The version an edit form says it was read at, as the browser sent it: None when left
    out or not a usable number (tampered with), which saves without the check, as before. (Not
    the field's data: a form given the row fills a field the request left out from the row.)"""
    return parse_bounded_int(field.raw_data[0]) if field.raw_data else None


def current_version(row: Any) -> int:
    """The row's version as committed now, held until the transaction ends (PostgreSQL: the
    next save of the same row waits for this one, then reads the version it wrote; SQLite lets
    one writer at a time anyway)."""
    model = type(row)
    version: int = db.session.execute(
        sa.select(model.version).where(model.id == row.id).with_for_update(key_share=True)
    ).scalar_one()
    return version


def is_stale(row: Any, expected: int | None) -> bool:
    """Whether ``row`` changed since it was read at version ``expected`` (None: not compared,
    as for a form or a request that does not say which version it read)."""
    return expected is not None and current_version(row) != expected


def bump_version(row: Any) -> None:
    """Count one change to what the row's edit form shows. Counted by the database, so two
    writers that do not compare (a coordinator, a job) both count rather than write the same
    number."""
    model = type(row)
    db.session.execute(
        sa.update(model)
        .where(model.id == row.id)
        .values(version=model.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(row, ["version"])


def keep_entries(form: Any, conflict: EditConflict, row: Any) -> None:
    """After an :class:`EditConflict` (rolled back, ``row`` read again): the member's entries
    stay in ``form``, with the message and the version ``row`` has now, so that saving again
    is a decision taken with the saved values in view."""
    show_domain_error(form, conflict)
    form.version.data = str(row.version)
