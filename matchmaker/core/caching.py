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

Each process also keeps the entries it read or built lately (:class:`LocalEntries`) in front of
Redis: a key names its generation, so a local entry is as current as the stored one, and a
request reads Redis for the generations only, not once a fragment. A signed-out visitor's
page goes further: the process trusts the generation it read less than
``VISITOR_GENERATION_MAX_AGE`` ago, so a visitor's page costs no round trip at all; a change
made in another process reaches visitors' pages within that second (at once in the process
that made it).

The generations themselves cost no round trip either, and are never older than Redis's: with the
cache in Redis, each process reads them on a connection of its own that Redis tracks
(:class:`~matchmaker.core.tracked_keys.TrackedKeys`, RESP3 client tracking) and keeps them
until Redis pushes it an invalidation, which every read takes off the socket first (a
non-blocking poll). A coordinator demoted or signed out loses access on their next request, in
any process: the write of the new generation returns (:func:`start_new_generation`,
:func:`start_new_accounts_generation`) only after one more command of the writer's, and by then
Redis has written the invalidation to the socket of every process that read the old one (on one
host, into its receive buffer: the next poll sees it). What can still see the old generation is
what could with a round trip per request: a request that read it between the database's
commit and that return. Across hosts the invalidation may still be on the wire then: a
reader elsewhere sees it after the network's one-way delay (a lost packet: TCP's retransmission,
200 ms or more), where a round trip would already see the new value. A connection that breaks
is made anew and forgets what it kept (an invalidation sent to it is lost); what is kept is read
again after ``TrackedKeys.max_age`` seconds anyway (a Redis host gone without a word).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable, Hashable
from functools import wraps
from itertools import chain
from typing import Any, NamedTuple, TypeVar

from cachelib.serializers import RedisSerializer
from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_app_context,
    make_response,
    request,
    session,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many
from markupsafe import Markup
from redis.exceptions import RedisError, ResponseError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from matchmaker.core.lent_user import attach_lent_user
from matchmaker.core.local_entries import LocalEntries
from matchmaker.core.security import signed_csrf_token
from matchmaker.core.tracked_keys import TrackedKeys
from matchmaker.extensions import cache, db, limiter

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The tables shared fragments are built from: a write to any of them starts a new generation.
SHARED_TABLES = frozenset(
    {
        "organisations",
        "contact_people",
        "memberships",
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
# A signed-in user's own entries (their account's row, their unread count) come from the users'
# and notifications tables: a write to either starts a new accounts generation.
ACCOUNTS_TABLES = frozenset({"users", "notifications"})
ACCOUNTS_GENERATION_KEY = "accounts-generation"
# In session.info: this transaction wrote to a shared table.
WROTE_SHARED_DATA = "wrote_shared_data"
# In session.info: this transaction wrote to an account or a notification.
WROTE_ACCOUNTS = "wrote_accounts"
# Whatever invalidation misses (a date passing, a write outside the ORM) lasts this long at most.
DEFAULT_TIMEOUT = 300
# A process keeps an entry it read or built this long, and this many entries at most.
LOCAL_TIMEOUT = 60
LOCAL_ENTRIES = 512
# A visitor's page may be built from a generation this old (seconds), read by this process.
VISITOR_GENERATION_MAX_AGE = 1.0


def _local() -> LocalEntries | None:
    """This process's entries, or None when the app stores nothing (NullCache)."""
    local: LocalEntries | None = current_app.extensions.get("local_cache_entries")
    return local


def cached(key: str) -> Any:
    """The value stored under ``key``: this process's copy, else the cache's."""
    local = _local()
    found = local.get(key) if local is not None else None
    if found is None:
        found = cache.get(key)
        if found is not None and local is not None:
            local.set(key, found)
    return found


def store(key: str, value: Any) -> None:
    cache.set(key, value, timeout=DEFAULT_TIMEOUT)
    local = _local()
    if local is not None:
        local.set(key, value)


def shared_fragment(
    name: str, build: Callable[[], T], *key_parts: Hashable, per_language: bool = True
) -> T:
    """``build()``'s value, from the cache when this generation and language already built it.

    ``key_parts`` name what else the value depends on (a filter, a page); the value must pickle
    (plain data: no ORM objects, no lazy strings). A value that holds no words of the app's
    (``per_language=False``) is shared by every language, and can be read while the request's
    language is being chosen.
    """
    if wrote_shared_data():
        return build()
    try:
        language = str(get_locale() or "en") if per_language else "*"
        key = ":".join(["fragment", name, language, data_generation(), *map(str, key_parts)])
        found = cached(key)
    except RedisError:
        logger.warning("The cache is unreachable; building %s without it", name, exc_info=True)
        return build()
    if found is not None:
        return found[0]
    value = build()
    try:
        store(key, (value,))
    except RedisError:
        logger.warning("The cache is unreachable; %s not stored", name, exc_info=True)
    return value


def shared_html(name: str, render: Callable[[], str], *key_parts: Hashable) -> Markup:
    """HTML that ``render`` draws from an autoescaping template, as a shared fragment, for
    pages where everyone allowed to see it sees the same (what every coordinator sees)."""
    return Markup(shared_fragment(name, render, *key_parts))  # noqa: S704 (autoescaped)


# Marks a view wrapped by for_visitors or for_audience (a page stored for many readers).
STORED_PAGE_ATTR = "_matchmaker_stored_page"
AUDIENCE_PAGE_ATTR = "_matchmaker_audience_page"
# Flask-Limiter's settings for limits on every page (extensions.py gives the limiter none).
LIMITS_FOR_EVERY_PAGE = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")

# The parts of a page that are each person's own (their unread count), by name: drawn for
# them, or, in a page stored for many people, a marker put back for each reader.
PERSONAL_PARTS: dict[str, Callable[[], Markup]] = {}
# In g: this request draws a page to be stored for everyone of its audience.
DRAWING_FOR_AUDIENCE = "drawing_for_audience"


def personal_part(name: str) -> Callable[[Callable[[], Markup]], Callable[[], Markup]]:
    """Declare ``render`` a part of pages that is the reader's own: in a page stored for an
    audience (:func:`for_audience`) it stands as a marker, drawn for each reader when served."""

    def decorator(render: Callable[[], Markup]) -> Callable[[], Markup]:
        PERSONAL_PARTS[name] = render

        @wraps(render)
        def part() -> Markup:
            if g.get(DRAWING_FOR_AUDIENCE):
                return Markup(f"\x00{name}\x00")  # noqa: S704 (a marker, no text)
            return render()

        return part

    return decorator


# The part of a stored page that is the reader's own CSRF token (a page with a form they may
# use), and the marker that stands for it.
TOKEN_PART = "csrf-token"  # noqa: S105 (not a secret: the name of one)
TOKEN_PLACEHOLDER = f"\x00{TOKEN_PART}\x00"
# The form of stored pages (StoredPage): in their keys with the names of the personal parts
# (page_format), so a process never reads an entry that another version of the app stored in
# another form or with parts this one does not draw.
PAGE_FORMAT = "pieces-1"


class StoredPage(NamedTuple):
    """A page stored for many readers, cut where each reader's own parts go.

    ``pieces`` alternate the page's own text, encoded once (bytes), and the names of the parts
    drawn for each reader (str: their CSRF token, their unread count). Serving it joins the
    pieces: no scan of the page for markers and no encoding of the whole page a request, which
    were a twentieth of a stored coordinator page's time (34 KB, 50 µs of 700 µs).
    """

    pieces: tuple[bytes | str, ...]
    mimetype: str
    # Of the page without anyone's token or parts: for visitors' pages only, whose own part is
    # their token. A coordinator's page is never answered 304 (their unread count may differ).
    etag: str


def page_format() -> str:
    """What a stored page's key says of its form: the pieces' format and the parts drawn."""
    return ":".join([PAGE_FORMAT, *sorted(PERSONAL_PARTS)])


def cut_page(body: str, mimetype: str) -> StoredPage:
    """``body``, drawn with the reader's token and markers for their parts (see
    :func:`personal_part`), as a :class:`StoredPage`. The ETag is the page's text without anyone's
    token or parts."""
    token = g.get("csrf_token")
    template = body.replace(token, TOKEN_PLACEHOLDER) if token else body
    names = "|".join(re.escape(name) for name in [TOKEN_PART, *PERSONAL_PARTS])
    split = re.split(f"\x00({names})\x00", template)
    # re.split alternates text (even indexes) and the names it cut at (odd ones).
    pieces = tuple(
        piece if index % 2 else piece.encode() for index, piece in enumerate(split) if piece
    )
    etag = hashlib.sha256(template.encode()).hexdigest()[:32]
    return StoredPage(pieces, mimetype, etag)


def page_for_reader(page: StoredPage) -> bytes:
    """A stored page with this reader's CSRF token and own parts where their names stand."""
    return b"".join(
        piece if isinstance(piece, bytes) else _reader_part(piece) for piece in page.pieces
    )


def _reader_part(name: str) -> bytes:
    if name == TOKEN_PART:
        return signed_csrf_token().encode()
    return str(PERSONAL_PARTS[name]()).encode()


def for_visitors(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """A public page as every signed-out visitor sees it, built once a generation and language.

    Signed-out visitors of a page with the same address and language see the same page but for
    their CSRF token, which is put back into the stored page for each of them (see
    :func:`page_for_reader`); signed-in users, and visitors with a message waiting to be shown,
    get the page built for them. Answers carry an ETag of the page without the token, so a
    browser that has the page asks with If-None-Match and gets 304.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if current_user.is_authenticated or "_flashes" in session:
            return view(*args, **kwargs)
        try:
            generation = data_generation(max_age=VISITOR_GENERATION_MAX_AGE)
            language = str(get_locale() or "en")
            parts = ["visitor-page", page_format(), language, generation, request.full_path]
            key = ":".join(parts)
            stored = None if wrote_shared_data() else cached(key)
        except RedisError:
            logger.warning("The cache is unreachable; page built without it", exc_info=True)
            return view(*args, **kwargs)
        if stored is None:
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200 or response.direct_passthrough:
                return response
            stored = cut_page(response.get_data(as_text=True), response.mimetype or "text/html")
            try:
                if may_store_page():
                    store(key, stored)
            except RedisError:
                logger.warning("The cache is unreachable; page not stored", exc_info=True)
        response = Response(page_for_reader(stored), mimetype=stored.mimetype)
        # The page holds this visitor's token: their browser may keep it, no shared cache may.
        response.cache_control.private = True
        response.cache_control.no_cache = True
        response.set_etag(stored.etag)
        response.vary.update(("Cookie", "Accept-Language"))
        return response.make_conditional(request)

    setattr(wrapper, STORED_PAGE_ATTR, True)
    return wrapper


def may_store_page() -> bool:
    """Whether the visitor's client address may add one more page to the cache
    (``RATELIMIT_STORED_PAGES``). Every query string is a page of its own (``?q=`` anything):
    without a budget, one address could fill the cache, and the Redis server it shares with
    the rate-limit counters and the job queue. Past it, the page is built and served, not
    stored. Counted in the rate limiter's storage; always yes when rate limits are off."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    budget = parse_many(current_app.config["RATELIMIT_STORED_PAGES"])
    address = get_remote_address()
    return all(limiter.limiter.hit(item, "stored-page", address) for item in budget)


@limiter.request_filter
def is_stored_page_request() -> bool:
    """Flask-Limiter's filter: a GET of a page stored for visitors or for an audience (the
    coordinators' pages) skips the rate-limit check.

    These pages have no limits of their own, so the check found none and cost a tenth of a
    visitor's request (and 4 % of a coordinator's under gunicorn); a stored page costs less to
    serve than the check did. Defaults or application-wide
    limits, when configured, apply to them as to every page: the filter then lets them through.
    Every POST (sign-in, registration, every form) is checked as before. A stored page's view
    must not carry a ``@limiter.limit`` of its own, nor sit in a limited blueprint: this filter
    would skip it (tests/core/test_caching.py checks every stored view).
    """
    if not _reads_a_view_marked(STORED_PAGE_ATTR):
        return False
    config = current_app.config
    return not any(config.get(name) for name in LIMITS_FOR_EVERY_PAGE)


def skip_rate_limit_check_for_stored_pages(app: Flask) -> bool:
    """Have Flask-Limiter's check before each request skipped at once for a stored page's GET
    (:func:`is_stored_page_request`), instead of running and finding the request filtered.

    With the filter alone, the limiter still walked its exemptions and limits for these
    requests: 6 % of a stored coordinator page's instructions (2.99 M -> 2.81 M a request,
    bench/web_instructions.py --callgrind). The check is the one Flask-Limiter registers as a
    before-request function (``Limiter._check_request_limit``, not a public name): if a new
    version registers another, nothing is wrapped, the filter still skips the limits, and
    this returns False (tests/test_signed_in_rate_limits.py fails, so the upgrade is
    noticed).
    """
    check = limiter._check_request_limit
    functions = app.before_request_funcs.get(None, [])
    if check not in functions:
        return False

    @wraps(check)
    def check_unless_stored_page() -> None:
        if not is_stored_page_request():
            check()

    functions[functions.index(check)] = check_unless_stored_page
    return True


def for_audience(
    audience: Callable[[], str],
) -> Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]:
    """A signed-in page as everyone ``audience()`` names alike sees it (coordinators of the same
    role and territories), built once a generation, language and address.

    The reader's own parts are put back into the stored page for them: their CSRF token and each
    :func:`personal_part` (their unread count). Readers with a message waiting, or who have not
    confirmed their address (the page asks them to), get the page built for them. Put it below
    the view's permission checks: it decides who sees the same page, not who may see it.
    """

    def decorator(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        def built(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            attach_lent_user(db.session)  # the view may change or follow the user
            return view(*args, **kwargs)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if "_flashes" in session or not current_user.is_email_confirmed:
                return built(*args, **kwargs)
            if wrote_shared_data():
                return built(*args, **kwargs)
            try:
                language = str(get_locale() or "en")
                parts = ["audience-page", page_format(), audience(), language, data_generation()]
                key = ":".join([*parts, request.full_path])
                stored = cached(key)
            except RedisError:
                logger.warning("The cache is unreachable; page built without it", exc_info=True)
                return built(*args, **kwargs)
            if stored is None:
                g.setdefault(DRAWING_FOR_AUDIENCE, True)
                try:
                    response = make_response(built(*args, **kwargs))
                finally:
                    g.pop(DRAWING_FOR_AUDIENCE, None)
                if response.direct_passthrough:
                    return response
                page = cut_page(response.get_data(as_text=True), response.mimetype or "text/html")
                if response.status_code != 200:
                    response.set_data(page_for_reader(page))
                    return response
                stored = page
                try:
                    store(key, stored)
                except RedisError:
                    logger.warning("The cache is unreachable; page not stored", exc_info=True)
            return Response(page_for_reader(stored), mimetype=stored.mimetype)

        setattr(wrapper, STORED_PAGE_ATTR, True)
        setattr(wrapper, AUDIENCE_PAGE_ATTR, True)
        return wrapper

    return decorator


def is_audience_page_request() -> bool:
    """A GET of a page stored for an audience (:func:`for_audience`): its signed-in user is lent
    (core/lent_user.py) until the request needs the database."""
    return _reads_a_view_marked(AUDIENCE_PAGE_ATTR)


def _reads_a_view_marked(mark: str) -> bool:
    """The request is a GET (or HEAD) of a view marked ``mark`` (for_visitors, for_audience)."""
    if request.method not in ("GET", "HEAD"):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, mark, False))


def data_generation(max_age: float = 0.0) -> str:
    """The current generation, read once an app context (a request, a job). With ``max_age``,
    the generation this process read or started less than ``max_age`` seconds ago will do."""
    if "data_generation" not in g:
        memo = current_app.extensions.get("data_generation")
        if max_age and memo is not None and time.monotonic() - memo[1] < max_age:
            g.data_generation = memo[0]
            return str(memo[0])
        generation = _generations()[0]
        if generation is None:
            # Never set, or evicted: a new token, so nothing built before can be read again.
            cache.add(GENERATION_KEY, secrets.token_hex(8), timeout=0)
            generation = cache.get(GENERATION_KEY)
        g.data_generation = str(generation)
        if _local() is not None:
            current_app.extensions["data_generation"] = (g.data_generation, time.monotonic())
    return str(g.data_generation)


def start_new_generation() -> None:
    """Every shared fragment built so far is out of date."""
    g.pop("data_generation", None)
    current_app.extensions.pop("data_generation", None)
    try:
        cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=0)
        _fence()
    except RedisError:
        # The fragments expire within DEFAULT_TIMEOUT; until then they may be out of date.
        logger.error("The cache is unreachable; shared fragments are not invalidated")


def wrote_shared_data() -> bool:
    """The request's session wrote shared data it has not committed yet. A request that has
    not opened a session (a visitor's stored page) has written nothing: asking its session
    would open one, and closing it costs as much again."""
    return db.session.registry.has() and bool(db.session.info.get(WROTE_SHARED_DATA))


def personal_entry(name: str, user_id: int, build: Callable[[], T]) -> T:
    """``build()``'s value for user ``user_id`` (their account's row, their unread count), kept
    by this process until an account or a notification changes anywhere: the *accounts
    generation*, read with the data generation (:func:`_generations`). A request then loads no row
    of its user. Never put in the shared cache (it is one person's), and kept only where every
    process sees the same generation (:func:`keeps_personal_entries`)."""
    local = _local()
    if local is None or not keeps_personal_entries() or _wrote_accounts():
        return build()
    try:
        key = ":".join(["personal", name, str(user_id), accounts_generation()])
    except RedisError:
        logger.warning("The cache is unreachable; %s read from the database", name, exc_info=True)
        return build()
    found = local.get(key)
    if found is None:
        found = (build(),)
        local.set(key, found)
    return found[0]


def _wrote_accounts() -> bool:
    """The request's session changed an account it has not committed yet (asked without opening
    a session, as :func:`wrote_shared_data`)."""
    return db.session.registry.has() and bool(db.session.info.get(WROTE_ACCOUNTS))


def keeps_personal_entries() -> bool:
    """Whether a process may keep users' own entries: when the cache is Redis, which every
    process (web workers, job workers, the command line) renews the accounts generation in, or
    in tests (one process). With a cache of its own, a process would miss another's change
    (an admin taking a role away through another worker)."""
    return bool(current_app.config.get("CACHE_TYPE") == "RedisCache" or current_app.testing)


def accounts_generation() -> str:
    """The current accounts generation, read once a request; the data generation comes with
    it when this request has not read it yet."""
    if "accounts_generation" not in g:
        data, accounts = _generations()
        if accounts is None:
            # Never set, or evicted: a new token, so nothing kept before can be read again.
            cache.add(ACCOUNTS_GENERATION_KEY, secrets.token_hex(8), timeout=0)
            accounts = cache.get(ACCOUNTS_GENERATION_KEY)
        if data is not None and "data_generation" not in g:
            g.data_generation = str(data)
        g.accounts_generation = str(accounts)
    return str(g.accounts_generation)


def start_new_accounts_generation() -> None:
    """Every user's entry kept by any process is out of date."""
    g.pop("accounts_generation", None)
    try:
        cache.set(ACCOUNTS_GENERATION_KEY, secrets.token_hex(8), timeout=0)
        _fence()
    except RedisError:
        # Kept entries last LOCAL_TIMEOUT at most; until then they may be out of date.
        logger.error("The cache is unreachable; users' kept entries are not invalidated")


def _generations() -> tuple[Any, Any]:
    """The data generation and the accounts generation as the cache holds them now (None when
    missing): kept by this process while Redis says neither changed, when the cache is Redis."""
    tracked: TrackedKeys | None = current_app.extensions.get("tracked_generations")
    if tracked is not None:
        try:
            data, accounts = tracked.get()
            return data, accounts
        except ResponseError:
            # A Redis without RESP3 or client tracking (older than 6, or CLIENT refused by its
            # ACL): this process reads them with a round trip a request from now on.
            logger.warning("Redis refused client tracking; generations read each request")
            current_app.extensions.pop("tracked_generations", None)
    data, accounts = cache.get_many(GENERATION_KEY, ACCOUNTS_GENERATION_KEY)
    return data, accounts


def _fence() -> None:
    """After a generation's write: every process that kept the old one has its invalidation
    on its socket when this returns (see :meth:`TrackedKeys.fence`)."""
    if "tracked_generations" in current_app.extensions:
        TrackedKeys.fence(cache.cache._write_client)  # type: ignore[attr-defined]


def tracked_generations(app: Flask) -> TrackedKeys | None:
    """The connection this process reads the generations on, when the cache is Redis (and
    ``CACHE_TRACKING`` is not turned off: then every request reads them with a round trip)."""
    url = app.config.get("CACHE_REDIS_URL")
    if app.config.get("CACHE_TYPE") != "RedisCache" or not url:
        return None
    if not app.config.get("CACHE_TRACKING", True):
        return None
    prefix = app.config.get("CACHE_KEY_PREFIX") or ""
    keys = (prefix + GENERATION_KEY, prefix + ACCOUNTS_GENERATION_KEY)
    return TrackedKeys(url, keys, RedisSerializer().loads)


def note_shared_write() -> None:
    """The session writes shared data in a way its events do not see (bulk inserts on its
    connection): its commit starts a new generation all the same."""
    db.session.info[WROTE_SHARED_DATA] = True


# What a transaction that wrote to these tables renews when it commits (flag in session.info).
_WRITE_FLAGS = ((WROTE_SHARED_DATA, SHARED_TABLES), (WROTE_ACCOUNTS, ACCOUNTS_TABLES))


def _note_tables(session: Session, names: set[str | None] | None) -> None:
    """``names`` were written to (None: a statement whose table is unknown, maybe any)."""
    for flag, tables in _WRITE_FLAGS:
        if names is None or not tables.isdisjoint(names):
            session.info[flag] = True


def _note_flush(session: Session, _context: UOWTransaction) -> None:
    # After a flush the session still lists what it wrote as new, dirty and deleted.
    written = chain(session.new, session.dirty, session.deleted)
    _note_tables(session, {getattr(instance, "__tablename__", None) for instance in written})


def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _note_tables(state.session, None if table is None else {getattr(table, "name", None)})


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: nothing is visible to others until the commit
    wrote_shared, wrote_accounts = (session.info.pop(flag, False) for flag, _ in _WRITE_FLAGS)
    if wrote_shared and has_app_context():
        start_new_generation()
    if wrote_accounts and has_app_context():
        start_new_accounts_generation()


def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back: what the transaction wrote before it still counts
    for flag, _ in _WRITE_FLAGS:
        session.info.pop(flag, None)


_LISTENERS: list[tuple[str, Callable[..., Any]]] = [
    ("after_flush", _note_flush),
    ("do_orm_execute", _note_statement),
    ("after_commit", _after_commit),
    ("after_rollback", _after_rollback),
]


def init_app(app: Flask) -> None:
    cache.init_app(app)
    if app.config.get("CACHE_TYPE") not in ("NullCache", "null"):
        # Keys hold the data generation, so an entry never goes out of date but by its
        # timeout (what invalidation misses: a date passing).
        app.extensions["local_cache_entries"] = LocalEntries(LOCAL_ENTRIES, LOCAL_TIMEOUT)
    tracked = tracked_generations(app)
    if tracked is not None:
        app.extensions["tracked_generations"] = tracked
    for name, listener in _LISTENERS:
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
