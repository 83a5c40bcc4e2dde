import logging
import re
from pathlib import Path

import pytest

from matchmaker import PROJECT_ROOT
from matchmaker.config import ConfigError, load_config


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MATCHMAKER_SECRET_KEY"):
        load_config({}, tmp_path)


def test_production_settings_are_safe(tmp_path: Path) -> None:
    config = load_config({"MATCHMAKER_SECRET_KEY": "s" * 40}, tmp_path)
    assert config["DEBUG"] is False
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["MAIL_BACKEND"] == "smtp"
    assert config["PASSWORD_HASH_METHOD"] == "scrypt"
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'matchmaker.sqlite3'}"


def test_development_prints_mail_and_keeps_a_generated_key(tmp_path: Path) -> None:
    env = {"MATCHMAKER_ENV": "development"}
    first = load_config(env, tmp_path)
    assert first["MAIL_BACKEND"] == "matchmaker.core.console_mail.EmailBackend"  # readable
    assert first["DEBUG"] is True
    assert load_config(env, tmp_path)["SECRET_KEY"] == first["SECRET_KEY"]


def test_settings_come_from_matchmaker_variables(tmp_path: Path) -> None:
    config = load_config(
        {
            "MATCHMAKER_SECRET_KEY": "k" * 40,
            "MATCHMAKER_DATABASE_URL": "postgresql+psycopg://u@db/x",
            "MATCHMAKER_MAIL_SERVER": "smtp.example.org",
            "MATCHMAKER_MAIL_PORT": "587",
            "MATCHMAKER_MAIL_USE_TLS": "true",
            "MATCHMAKER_MAIL_SENDER": "hello@example.org",
            "MATCHMAKER_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
        },
        tmp_path,
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/x"
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_TLS"]) == (
        "smtp.example.org",
        587,
        True,
    )
    assert config["MAIL_DEFAULT_SENDER"] == "hello@example.org"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MATCHMAKER_ENV"):
        load_config({"MATCHMAKER_ENV": "staging"}, tmp_path)


def test_logs_are_json_in_production_and_readable_in_development(tmp_path: Path) -> None:
    production = load_config({"MATCHMAKER_SECRET_KEY": "k" * 40}, tmp_path)
    development = load_config({"MATCHMAKER_ENV": "development"}, tmp_path)
    assert (production["LOG_FORMAT"], production["LOG_LEVEL"]) == ("json", "INFO")
    assert development["LOG_FORMAT"] == "text"
    chosen = load_config(
        {
            "MATCHMAKER_SECRET_KEY": "k" * 40,
            "MATCHMAKER_LOG_FORMAT": "text",
            "MATCHMAKER_LOG_LEVEL": "debug",
        },
        tmp_path,
    )
    assert (chosen["LOG_FORMAT"], chosen["LOG_LEVEL"]) == ("text", "DEBUG")


@pytest.mark.parametrize(("name", "value"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud")])
def test_unknown_log_settings_are_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"MATCHMAKER_{name}"):
        load_config({"MATCHMAKER_SECRET_KEY": "k" * 40, f"MATCHMAKER_{name}": value}, tmp_path)


def test_every_setting_is_documented_in_the_deployment_guide() -> None:
    source = (PROJECT_ROOT / "matchmaker" / "config.py").read_text()
    guide = (PROJECT_ROOT / "docs" / "deploy.md").read_text()
    settings = set(re.findall(r'\bget\(\s*"([A-Z0-9_]+)"', source))
    assert {"SECRET_KEY", "DATABASE_URL"} <= settings
    assert sorted(name for name in settings if f"`MATCHMAKER_{name}`" not in guide) == []


def test_the_cache_is_redis_in_production_and_in_process_elsewhere(tmp_path: Path) -> None:
    production = {"MATCHMAKER_SECRET_KEY": "k" * 40}
    config = load_config(production, tmp_path)
    assert config["CACHE_TYPE"] == "RedisCache"
    assert config["CACHE_REDIS_URL"] == "redis://127.0.0.1:6379/2"
    assert load_config({"MATCHMAKER_ENV": "development"}, tmp_path)["CACHE_TYPE"] == "SimpleCache"
    with pytest.raises(ConfigError, match="MATCHMAKER_CACHE_URL"):
        load_config({**production, "MATCHMAKER_CACHE_URL": "simple"}, tmp_path)
    # Client tracking by default only where the invalidation is on the reader's socket when the
    # write returns: Redis on this host.
    assert config["CACHE_TRACKING"] is True
    untracked = load_config({**production, "MATCHMAKER_CACHE_TRACKING": "false"}, tmp_path)
    assert untracked["CACHE_TRACKING"] is False

    def tracking(url: str, flag: str = "") -> bool:
        env = {**production, "MATCHMAKER_CACHE_URL": url, "MATCHMAKER_CACHE_TRACKING": flag}
        return bool(load_config(env, tmp_path)["CACHE_TRACKING"])

    assert tracking("redis://localhost:6379/2") and tracking("redis://[::1]:6379/2")
    assert tracking("unix:///run/redis/redis.sock?db=2")
    assert not tracking("redis://cache.internal:6379/2")
    assert not tracking("rediss://10.0.0.5:6380/2")
    assert tracking("redis://cache.internal:6379/2", "true")


def test_production_without_a_broker_warns_what_it_costs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a broker, jobs run in the request that causes them: in production that makes a
    password reset's answer time tell whether an account has the address. Said at start."""
    from matchmaker import NO_BROKER_IN_PRODUCTION, create_app

    monkeypatch.setenv("MATCHMAKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("MATCHMAKER_SECRET_KEY", "k" * 40)
    production = {
        "MATCHMAKER_ENV": "production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    with caplog.at_level(logging.WARNING):
        create_app({**production, "BROKER_URL": None})
    assert NO_BROKER_IN_PRODUCTION in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app({**production, "BROKER_URL": "redis://127.0.0.1:6379/15"})
        create_app({**production, "MATCHMAKER_ENV": "development", "BROKER_URL": None})
    assert NO_BROKER_IN_PRODUCTION not in caplog.text
