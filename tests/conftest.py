"""Fixtures: a migrated test database (SQLite, or PostgreSQL when
MATCHMAKER_TEST_DATABASE_URL is set), a real SMTP sink, the app, a client and log-in.

Speed (``make test`` runs under pytest-xdist, one process a core): each process has a database
of its own (an SQLite file in its temporary folder; on PostgreSQL, the database named in
MATCHMAKER_TEST_DATABASE_URL with ``_gw0``, ``_gw1``... appended, created and dropped here), built
once by the migrations. Building the app costs a third of a second (its 113 routes and the API's
OpenAPI document), more than most tests, so each process builds one app per configuration and
hands it to every test, restoring what a test may change (its config, the fragment cache, the
rate limiter's counters). A test that changes the app itself (adds a route) asks for an app of
its own: ``@pytest.mark.fresh_app``. After each test every table is emptied and the migrations'
reference rows put back, with DELETE rather than TRUNCATE: on tables this small PostgreSQL's
TRUNCATE took half a second a test, DELETE a few milliseconds.
"""

from __future__ import annotations

import email
import email.policy
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from matchmaker import create_app
from matchmaker.extensions import cache, db, limiter
from tests.factories import PASSWORD

TEST_DATABASE_URL = os.environ.get("MATCHMAKER_TEST_DATABASE_URL")


# The modules whose tests take longest (each a minute or more of CPU in --durations): they start
# first, so the other tests fill the xdist workers around them instead of one worker finishing
# alone with the exhaustive fuzz.
LONG_FIRST = (
    "tests/test_fuzz.py",
    "tests/test_package.py",
    "tests/matching/test_properties.py",
    "tests/api/test_openapi_conformance.py",
    "tests/matching/test_incremental_property.py",
    "tests/test_query_counts.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        return LONG_FIRST.index(path) if path in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: the order within each module is kept


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SMTPSink:
    """A real SMTP server on loopback that keeps every message it receives."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"


@dataclass
class Outbox:
    sink: SMTPSink

    def __len__(self) -> int:
        return len(self.sink.messages)

    def __getitem__(self, index: int) -> EmailMessage:
        return self.sink.messages[index]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.sink.messages if address in m["X-Envelope-To"]]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]

    def link(self, message: EmailMessage, marker: str) -> str:
        """The first link in ``message`` whose path contains ``marker``, as a local path."""
        for word in self.text(message).split():
            if marker in word and word.startswith("http"):
                parts = urlsplit(word)
                return f"{parts.path}?{parts.query}" if parts.query else parts.path
        raise AssertionError(f"no link with {marker!r} in:\n{self.text(message)}")


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SMTPSink]:
    sink = SMTPSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


def worker_database_url(base_url: str, worker: str) -> str:
    """This xdist worker's PostgreSQL database: the base database's name with ``_<worker>``."""
    url = sa.make_url(base_url)
    return url.set(database=f"{url.database}_{worker}").render_as_string(hide_password=False)


def _admin(base_url: str, statement: str) -> None:
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(statement))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database this test process uses: under xdist, one per worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not TEST_DATABASE_URL:
        # tmp_path_factory's folder is already the worker's own.
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    if not worker:
        yield TEST_DATABASE_URL
        return
    url = worker_database_url(TEST_DATABASE_URL, worker)
    name = sa.make_url(url).database
    _admin(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(TEST_DATABASE_URL, f'CREATE DATABASE "{name}"')
    yield url
    for application in _apps.values():
        with application.app_context():
            db.engine.dispose()
    _admin(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_config(database_url: str, smtp_port: int, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "MATCHMAKER_ENV": "testing",
        "TESTING": True,
        "DEBUG": False,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_USE_TLS": False,
        "MATCHMAKER_BASE_URL": "http://localhost",
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
    }
    config.update(overrides)
    return config


def reset_schema(database_url: str) -> None:
    """Start from an empty database so the migrations build every table."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        else:
            tables = connection.execute(
                sa.text("SELECT name FROM sqlite_master WHERE type='table'")
            ).scalars()
            for name in list(tables):
                if not name.startswith("sqlite_"):
                    connection.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def reference_rows(database_url: str, smtp_sink: SMTPSink) -> dict[str, list[dict[str, Any]]]:
    """Migrate the test database once; keep the rows the migrations wrote (reference data)."""
    from flask_migrate import upgrade

    reset_schema(database_url)
    app = shared_app(test_config(database_url, smtp_sink.port))
    with app.app_context():
        upgrade()
        rows = {}
        for table in db.metadata.sorted_tables:
            found = [dict(r._mapping) for r in db.session.execute(sa.select(table))]
            if found:
                rows[table.name] = found
        db.session.remove()
    return rows


# Every sequence of the schema back to its start, as TRUNCATE ... RESTART IDENTITY does.
RESTART_SEQUENCES = (
    "SELECT setval(c.oid, s.seqstart, false) FROM pg_class c"
    " JOIN pg_sequence s ON s.seqrelid = c.oid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema()"
)


def clean_database(reference: dict[str, list[dict[str, Any]]]) -> None:
    """Empty every table and put the reference data back: each test starts clean.

    DELETE, children first (on PostgreSQL in one round trip), then every sequence starts again:
    what TRUNCATE ... RESTART IDENTITY did, which took 0.44 s a test here against 0.026 s (it
    makes new files for every table)."""
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # Table names from the models, not from input.
            deletes = "".join(f'DELETE FROM "{t.name}";' for t in tables)  # noqa: S608
            connection.exec_driver_sql(deletes)
            connection.exec_driver_sql(RESTART_SEQUENCES)
        else:
            for table in tables:
                connection.execute(table.delete())
        for table in reversed(tables):
            if table.name in reference:
                connection.execute(table.insert(), reference[table.name])
                if postgres and "id" in table.c:
                    # The rows came back with their ids: move the sequence past them.
                    highest = sa.select(sa.func.max(table.c.id)).scalar_subquery()
                    sequence = sa.func.pg_get_serial_sequence(table.name, "id")
                    connection.execute(sa.select(sa.func.setval(sequence, highest)))


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change the app's configuration."""
    return {}


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, so ``g``, the logged-in user and the database
    session are not shared with the test or with other clients, as in production."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


# This process's apps, one per configuration, and the process-wide state each one set up.
_apps: dict[str, Flask] = {}
_process_state: dict[int, dict[str, Any]] = {}
_installed: list[Flask] = []


def build_app(config: dict[str, Any]) -> Flask:
    application = create_app(config)
    application.test_client_class = IsolatedClient
    # The rate limiter is one object for every app, configured by the last create_app(): keep
    # what this app made of it, to put back when a test uses this app after another.
    _process_state[id(application)] = dict(vars(limiter))
    _installed[:] = [application]
    return application


def shared_app(config: dict[str, Any]) -> Flask:
    """This process's app for ``config``, built the first time it is asked for."""
    key = repr(sorted(config.items()))
    if key not in _apps:
        _apps[key] = build_app(config)
    return _apps[key]


def install(application: Flask) -> None:
    """Make ``application`` the one the process-wide extensions (the rate limiter, Celery's
    current app) serve, as if it had just been created."""
    if _installed != [application]:
        vars(limiter).clear()
        vars(limiter).update(_process_state[id(application)])
        _installed[:] = [application]
    application.extensions["celery"].set_current()


@pytest.fixture
def app(
    request: pytest.FixtureRequest,
    database_url: str,
    reference_rows: dict[str, list[dict[str, Any]]],
    smtp_sink: SMTPSink,
    app_config: dict[str, Any],
) -> Iterator[Flask]:
    config = test_config(database_url, smtp_sink.port, **app_config)
    fresh = request.node.get_closest_marker("fresh_app") is not None
    application = build_app(config) if fresh else shared_app(config)
    install(application)
    saved_config = dict(application.config)
    with application.app_context():
        cache.clear()
        if limiter.enabled and limiter.initialized:
            limiter.reset()  # counters start from nothing, as in a new app
        try:
            yield application
        finally:
            db.session.remove()
            clean_database(reference_rows)
            if fresh:
                db.engine.dispose()
    application.config.clear()
    application.config.update(saved_config)


@pytest.fixture
def short_busy_timeout(app: Flask) -> Iterator[int]:
    """SQLite's busy timeout of this test's connections, a fifth of a second (not 5 s): for
    tests of a write refused while another holds the write lock, which would each wait it."""
    import matchmaker

    def connections_waiting(milliseconds: int) -> None:
        db.session.remove()
        matchmaker.SQLITE_BUSY_TIMEOUT_MS = milliseconds
        db.engine.dispose()  # the pool's connections are made again, with the PRAGMA

    usual = matchmaker.SQLITE_BUSY_TIMEOUT_MS
    connections_waiting(200)
    try:
        yield 200
    finally:
        connections_waiting(usual)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def outbox(smtp_sink: SMTPSink) -> Outbox:
    smtp_sink.messages.clear()
    return Outbox(smtp_sink)


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., Any]:
    def do_login(user: Any, password: str = PASSWORD, remember: bool = False) -> Any:
        response = client.post(
            "/login",
            data={"email": user.email, "password": password, "remember": "y" if remember else ""},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do_login


def is_postgres() -> bool:
    return bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))
