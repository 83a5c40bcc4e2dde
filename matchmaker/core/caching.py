"""Fragments that many requests share (home counts, theme lists, filter choices, dashboard
figures), kept by Flask-Caching: in the process in development and tests, in Redis in
production (``MATCHMAKER_CACHE_URL``), so every worker sees the same fragments and the same
invalidation.

Invalidation: every key carries the *data generation*, a random token kept in the cache. A
commit that wrote to a table fragments are built from starts a new generation, and every
fragment built before it is never read again (it expires on its own). A session that has
written and not committed yet neither reads nor stores fragments: it builds them from what it
sees. Every key carries the reader's language, so no one is served another language's labels;
fragments hold public data only, never what one person may see and another may not.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Hashable
from functools import wraps
from itertools import chain
from typing import Any, TypeVar

from flask import Flask, Response, g, has_app_context, make_response, request, session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from matchmaker.extensions import cache, db

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The tables shared fragments are built from: a write to any of them starts a new generation.
SHARED_TABLES = frozenset(
    {
        "organisations",
        "contact_people",
        "listings",
        "listing_themes",
        "listing_sought_kinds",
        "themes",
        "proposals",
        "proposal_parties",
        "outcomes",
        "territories",
        "territory_coordinators",
    }
)
GENERATION_KEY = "data-generation"
# In session.info: this transaction wrote to a shared table.
WROTE_SHARED_DATA = "wrote_shared_data"
# Whatever invalidation misses (a date passing, a write outside the ORM) lasts this long at most.
DEFAULT_TIMEOUT = 300


def shared_fragment(
    name: str, build: Callable[[], T], *key_parts: Hashable, per_language: bool = True
) -> T:
    """``build()``'s value, from the cache when this generation and language already built it.

    ``key_parts`` name what else the value depends on (a filter, a page); the value must pickle
    (plain data: no ORM objects, no lazy strings). A value that holds no words of the app's
    (``per_language=False``) is shared by every language, and can be read while the request's
    language is being chosen.
    """
    if db.session.info.get(WROTE_SHARED_DATA):
        return build()
    try:
        language = str(get_locale() or "en") if per_language else "*"
        key = ":".join(["fragment", name, language, data_generation(), *map(str, key_parts)])
        found = cache.get(key)
    except RedisError:
        logger.warning("The cache is unreachable; building %s without it", name, exc_info=True)
        return build()
    if found is not None:
        return found[0]
    value = build()
    try:
        cache.set(key, (value,), timeout=DEFAULT_TIMEOUT)
    except RedisError:
        logger.warning("The cache is unreachable; %s not stored", name, exc_info=True)
    return value


def shared_html(name: str, render: Callable[[], str], *key_parts: Hashable) -> Markup:
    """HTML that ``render`` draws from an autoescaping template, as a shared fragment, for
    pages where everyone allowed to see it sees the same (what every coordinator sees)."""
    return Markup(shared_fragment(name, render, *key_parts))  # noqa: S704 (autoescaped)


# Stands for the visitor's own CSRF token in a stored page (the language switcher's form).
TOKEN_PLACEHOLDER = "\x00csrf-token\x00"  # noqa: S105 (not a secret: stands for one)


def for_visitors(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """A public page as every signed-out visitor sees it, built once a generation and language.

    Signed-out visitors of a page with the same address and language see the same page but for
    their CSRF token, which is put back into the stored page for each of them (see
    :func:`page_for_visitor`); signed-in users, and visitors with a message waiting to be shown,
    get the page built for them. Answers carry an ETag of the page without the token, so a
    browser that has the page asks with If-None-Match and gets 304.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if current_user.is_authenticated or "_flashes" in session:
            return view(*args, **kwargs)
        try:
            key = ":".join(
                ["page", str(get_locale() or "en"), data_generation(), request.full_path]
            )
            stored = None if db.session.info.get(WROTE_SHARED_DATA) else cache.get(key)
        except RedisError:
            logger.warning("The cache is unreachable; page built without it", exc_info=True)
            return view(*args, **kwargs)
        if stored is None:
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200 or response.direct_passthrough:
                return response
            body = response.get_data(as_text=True)
            token = g.get("csrf_token")
            stored = (body.replace(token, TOKEN_PLACEHOLDER) if token else body, response.mimetype)
            try:
                cache.set(key, stored, timeout=DEFAULT_TIMEOUT)
            except RedisError:
                logger.warning("The cache is unreachable; page not stored", exc_info=True)
        template, mimetype = stored
        response = Response(page_for_visitor(template), mimetype=mimetype)
        # The page holds this visitor's token: their browser may keep it, no shared cache may.
        response.cache_control.private = True
        response.cache_control.no_cache = True
        response.set_etag(hashlib.sha256(template.encode()).hexdigest()[:32])
        response.vary.update(("Cookie", "Accept-Language"))
        return response.make_conditional(request)

    return wrapper


def page_for_visitor(template: str) -> str:
    """A stored page with this visitor's CSRF token where the placeholder stands."""
    if TOKEN_PLACEHOLDER not in template:
        return template
    return template.replace(TOKEN_PLACEHOLDER, generate_csrf())


def data_generation() -> str:
    """The current generation, read once an app context (a request, a job)."""
    if "data_generation" not in g:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            # Never set, or evicted: a new token, so nothing built before can be read again.
            cache.add(GENERATION_KEY, secrets.token_hex(8), timeout=0)
            generation = cache.get(GENERATION_KEY)
        g.data_generation = str(generation)
    return str(g.data_generation)


def start_new_generation() -> None:
    """Every shared fragment built so far is out of date."""
    g.pop("data_generation", None)
    try:
        cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=0)
    except RedisError:
        # The fragments expire within DEFAULT_TIMEOUT; until then they may be out of date.
        logger.error("The cache is unreachable; shared fragments are not invalidated")


def note_shared_write() -> None:
    """The session writes shared data in a way its events do not see (bulk inserts on its
    connection): its commit starts a new generation all the same."""
    db.session.info[WROTE_SHARED_DATA] = True


def _writes_shared_table(instance: object) -> bool:
    return getattr(instance, "__tablename__", None) in SHARED_TABLES


def _note_flush(session: Session, _context: UOWTransaction) -> None:
    # After a flush the session still lists what it wrote as new, dirty and deleted.
    if any(map(_writes_shared_table, chain(session.new, session.dirty, session.deleted))):
        session.info[WROTE_SHARED_DATA] = True


def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is None or getattr(table, "name", None) in SHARED_TABLES:
            state.session.info[WROTE_SHARED_DATA] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(WROTE_SHARED_DATA, False) and has_app_context():
        start_new_generation()


def _after_rollback(session: Session) -> None:
    session.info.pop(WROTE_SHARED_DATA, None)


_LISTENERS: list[tuple[str, Callable[..., Any]]] = [
    ("after_flush", _note_flush),
    ("do_orm_execute", _note_statement),
    ("after_commit", _after_commit),
    ("after_rollback", _after_rollback),
]


def init_app(app: Flask) -> None:
    cache.init_app(app)
    for name, listener in _LISTENERS:
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
