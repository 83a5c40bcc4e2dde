"""Fixtures: a migrated test database (SQLite, or PostgreSQL when
MATCHMAKER_TEST_DATABASE_URL is set), a real SMTP sink, the app, a client and log-in."""

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
from matchmaker.extensions import db
from tests.factories import PASSWORD

TEST_DATABASE_URL = os.environ.get("MATCHMAKER_TEST_DATABASE_URL")


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


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


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
    app = create_app(test_config(database_url, smtp_sink.port))
    with app.app_context():
        upgrade()
        rows = {}
        for table in db.metadata.sorted_tables:
            found = [dict(r._mapping) for r in db.session.execute(sa.select(table))]
            if found:
                rows[table.name] = found
        db.session.remove()
        db.engine.dispose()
    return rows


def clean_database(reference: dict[str, list[dict[str, Any]]]) -> None:
    """Empty every table and put the reference data back: each test starts clean."""
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
        for table in reversed(tables):
            if table.name in reference:
                connection.execute(table.insert(), reference[table.name])
                if connection.dialect.name == "postgresql" and "id" in table.c:
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


@pytest.fixture
def app(
    database_url: str,
    reference_rows: dict[str, list[dict[str, Any]]],
    smtp_sink: SMTPSink,
    app_config: dict[str, Any],
) -> Iterator[Flask]:
    application = create_app(test_config(database_url, smtp_sink.port, **app_config))
    application.test_client_class = IsolatedClient
    with application.app_context():
        yield application
        db.session.remove()
        clean_database(reference_rows)
        db.engine.dispose()


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
