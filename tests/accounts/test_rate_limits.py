from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from matchmaker import create_app
from matchmaker.config import ConfigError, load_config
from matchmaker.extensions import db
from tests.conftest import IsolatedClient, SMTPSink
from tests.conftest import test_config as app_settings
from tests.factories import PASSWORD, make_user


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_LOGIN": "3 per minute",
        "RATELIMIT_SIGNUP": "2 per minute",
        "RATELIMIT_RESET": "2 per minute",
    }


@pytest.mark.parametrize(
    "url, data, allowed",
    [
        ("/login", {"email": "a@example.org", "password": "wrong-password"}, 3),
        ("/signup", {"email": "not-valid"}, 2),
        ("/forgot-password", {"email": "a@example.org"}, 2),
    ],
)
def test_sensitive_forms_are_rate_limited(
    client: FlaskClient, url: str, data: dict[str, str], allowed: int
) -> None:
    for _ in range(allowed):
        assert client.post(url, data=data).status_code != 429
    response = client.post(url, data=data)
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)
    # Reading the page is not limited.
    assert client.get(url).status_code == 200


# M5: behind a proxy, one attacker must not lock everyone out -------------------------------

PROXY = {"REMOTE_ADDR": "10.0.0.1"}  # every request comes through this reverse proxy


@pytest.fixture
def proxied_app(database_url: str, smtp_sink: SMTPSink) -> Iterator[Callable[[int], Flask]]:
    """Apps behind ``trusted_proxies`` proxies, with rate limits on; their database connections
    are closed afterwards (a connection left to the garbage collector warns in a later test)."""
    made: list[Flask] = []

    def make(trusted_proxies: int) -> Flask:
        app = create_app(
            app_settings(
                database_url,
                smtp_sink.port,
                RATELIMIT_ENABLED=True,
                RATELIMIT_LOGIN="4 per minute",
                RATELIMIT_LOGIN_ACCOUNT="3 per minute",
                PROXY_FIX_X_FOR=trusted_proxies,
            )
        )
        app.test_client_class = IsolatedClient
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _log_in(client: FlaskClient, email: str, password: str, client_address: str | None) -> int:
    headers = {"X-Forwarded-For": client_address} if client_address else {}
    response = client.post(
        "/login",
        data={"email": email, "password": password},
        headers=headers,
        environ_base=PROXY,
    )
    return response.status_code


def test_m5_failed_logins_for_one_account_do_not_lock_out_another_behind_the_proxy(
    app: Flask, proxied_app: Callable[[int], Flask]
) -> None:
    victim = make_user(email="victim@example.org")
    bystander = make_user(email="bystander@example.org")
    client = proxied_app(1).test_client()
    # An attacker guesses the victim's password from many client addresses.
    answers = [_log_in(client, victim.email, f"guess-{n}", f"203.0.113.{n}") for n in range(1, 6)]
    assert answers == [422, 422, 422, 429, 429]
    # Even the right password waits: the account's guesses are counted, not the address.
    assert _log_in(client, victim.email, PASSWORD, "198.51.100.7") == 429
    # Someone else, behind the same proxy, signs in at once.
    assert _log_in(client, bystander.email, PASSWORD, "198.51.100.8") == 302


def test_m5_successful_logins_do_not_count_against_the_account(
    app: Flask, proxied_app: Callable[[int], Flask]
) -> None:
    user = make_user(email="regular@example.org")
    proxied = proxied_app(1)
    for n in range(1, 5):
        client = proxied.test_client()
        assert _log_in(client, user.email, PASSWORD, f"198.51.100.{n}") == 302


@pytest.mark.parametrize("trusted_proxies, blocked", [(1, False), (0, True)])
def test_m5_x_forwarded_for_is_believed_only_when_configured(
    app: Flask, proxied_app: Callable[[int], Flask], trusted_proxies: int, blocked: bool
) -> None:
    client = proxied_app(trusted_proxies).test_client()
    # One client address uses up its limit, spread over accounts so no account limit applies.
    for n in range(4):
        assert _log_in(client, f"nobody{n}@example.org", "guess", "203.0.113.9") == 422
    assert _log_in(client, "nobody9@example.org", "guess", "203.0.113.9") == 429
    # Another address gets through only when the proxy's X-Forwarded-For is trusted; without a
    # trusted proxy the header is the client's own claim and changes nothing.
    status = _log_in(client, "nobody10@example.org", "guess", "198.51.100.1")
    assert status == (429 if blocked else 422)


def test_m5_production_refuses_rate_limit_counters_in_memory(tmp_path: Path) -> None:
    production = {"MATCHMAKER_SECRET_KEY": "k" * 40}
    assert load_config(production, tmp_path)["RATELIMIT_STORAGE_URI"].startswith("redis://")
    with pytest.raises(ConfigError, match="memory://"):
        load_config({**production, "MATCHMAKER_RATELIMIT_STORAGE_URL": "memory://"}, tmp_path)
    development = {"MATCHMAKER_ENV": "development", "MATCHMAKER_RATELIMIT_STORAGE_URL": "memory://"}
    assert load_config(development, tmp_path)["RATELIMIT_STORAGE_URI"] == "memory://"
    with pytest.raises(ConfigError, match="PROXY_FIX_X_FOR"):
        load_config({**production, "MATCHMAKER_PROXY_FIX_X_FOR": "one"}, tmp_path)
