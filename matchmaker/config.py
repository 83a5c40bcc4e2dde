"""Settings read from ``MATCHMAKER_*`` environment variables.

Every setting has one place here. Production refuses to start without a secret key, so a
mis-deployed instance fails at boot rather than signing sessions with a guessable key.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("production", "development", "testing")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TRUE_WORDS = {"1", "true", "yes", "on"}


class ConfigError(RuntimeError):
    """The environment does not describe a usable configuration."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in TRUE_WORDS


def _on_this_host(url: str) -> bool:
    """Whether the service at ``url`` runs on this machine: a Unix socket or a loopback host."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _count(value: str | None, name: str) -> int:
    if value is None:
        return 0
    if not value.strip().isdigit():
        raise ConfigError(f"MATCHMAKER_{name} must be a whole number (of proxies), not {value!r}")
    return int(value)


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept in the instance folder, so development sessions survive restarts."""
    key_file = instance_path / "dev-secret-key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    return key


def load_config(env: Mapping[str, str], instance_path: Path) -> dict[str, Any]:
    """Translate the environment into Flask configuration keys."""

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(f"MATCHMAKER_{name}")
        return default if value is None or value == "" else value

    environment = get("ENV", "production")
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"MATCHMAKER_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}"
        )
    production = environment == "production"

    secret_key = get("SECRET_KEY")
    if secret_key is None:
        if production:
            raise ConfigError(
                "MATCHMAKER_SECRET_KEY is required in production: set it to a long random "
                "string (python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        secret_key = _dev_secret_key(instance_path)

    database_url = get("DATABASE_URL", f"sqlite:///{instance_path / 'matchmaker.sqlite3'}")
    assert database_url is not None

    log_format = get("LOG_FORMAT", "json" if production else "text")
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"MATCHMAKER_LOG_FORMAT must be json or text, not {log_format!r}")
    log_level = (get("LOG_LEVEL", "WARNING" if environment == "testing" else "INFO") or "").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(
            f"MATCHMAKER_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}"
        )

    ratelimit_enabled = _flag(get("RATELIMIT_ENABLED"), True)
    # Counters in memory:// are per process: with several gunicorn workers each keeps its own,
    # and a limit of 10 lets 10 per worker through. Production keeps them in Redis.
    ratelimit_storage = get(
        "RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0" if production else "memory://"
    )
    assert ratelimit_storage is not None
    if production and ratelimit_enabled and ratelimit_storage.startswith("memory://"):
        raise ConfigError(
            "MATCHMAKER_RATELIMIT_STORAGE_URL=memory:// is refused in production: each worker "
            "would count on its own. Use Redis, e.g. redis://127.0.0.1:6379/0."
        )

    # Shared fragments (core/caching.py): Redis in production, so every worker sees the same
    # fragments and the same invalidation; "simple" keeps them in each process.
    cache_url = get("CACHE_URL", "redis://127.0.0.1:6379/2" if production else "simple")
    assert cache_url is not None
    if production and cache_url == "simple":
        raise ConfigError(
            "MATCHMAKER_CACHE_URL=simple is refused in production: each worker would keep its "
            "own fragments and miss the others' invalidations. Use Redis, e.g. "
            "redis://127.0.0.1:6379/2."
        )

    mail_backend = get("MAIL_BACKEND", "console" if environment == "development" else "smtp")
    if mail_backend == "console":
        # Readable messages (decoded subject, text part, links) rather than raw MIME.
        mail_backend = "matchmaker.core.console_mail.EmailBackend"
    base_url = get("BASE_URL", "http://127.0.0.1:5000")
    murmurations_index = (get("MURMURATIONS_INDEX_URL") or "").rstrip("/") or None
    assert base_url is not None

    return {
        "MATCHMAKER_ENV": environment,
        "DEBUG": environment == "development",
        "TESTING": environment == "testing",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Mail (Flask-Mailman keys)
        "MAIL_BACKEND": mail_backend,
        "MAIL_SERVER": get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(get("MAIL_PORT", "25") or 25),
        "MAIL_USERNAME": get("MAIL_USERNAME"),
        "MAIL_PASSWORD": get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _flag(get("MAIL_USE_TLS"), False),
        "MAIL_USE_SSL": _flag(get("MAIL_USE_SSL"), False),
        "MAIL_DEFAULT_SENDER": get("MAIL_SENDER", "SSE Matchmaker <no-reply@localhost>"),
        "MAIL_TIMEOUT": 10,
        # Background jobs (Celery): a Redis URL such as redis://127.0.0.1:6379/0. Unset, jobs
        # run in this process right after the request commits (no worker needed).
        "BROKER_URL": get("BROKER_URL"),
        # Rate limiting (Flask-Limiter)
        "RATELIMIT_STORAGE_URI": ratelimit_storage,
        "RATELIMIT_ENABLED": ratelimit_enabled,
        "RATELIMIT_HEADERS_ENABLED": True,
        # If Redis is unreachable, count in memory for the moment rather than fail every request.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # How many proxies in front of the app set X-Forwarded-For / -Proto (0: none trusted).
        # Behind one nginx, 1: otherwise every visitor has the proxy's address, and a limit
        # keyed on the address locks everyone out at once.
        "PROXY_FIX_X_FOR": _count(get("PROXY_FIX_X_FOR"), "PROXY_FIX_X_FOR"),
        "PROXY_FIX_X_PROTO": _count(get("PROXY_FIX_X_PROTO"), "PROXY_FIX_X_PROTO"),
        # Shared fragments (Flask-Caching)
        "CACHE_TYPE": "SimpleCache" if cache_url == "simple" else "RedisCache",
        "CACHE_REDIS_URL": None if cache_url == "simple" else cache_url,
        "CACHE_KEY_PREFIX": "matchmaker:",
        # Each process keeps the cache's generations until Redis tells it they changed (client
        # tracking, core/tracked_keys.py); off, every request reads them with a round trip. On by
        # default only with Redis on this host, where the change is on every reader's socket
        # when its write returns (across a network it may still be on the wire).
        "CACHE_TRACKING": _flag(get("CACHE_TRACKING"), _on_this_host(cache_url)),
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag(get("SECURE_COOKIES"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag(get("SECURE_COOKIES"), production),
        # How long a sign-in lasts at most, checked on the server too (remember-me included).
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(get("LOGIN_MAX_AGE_DAYS", "14") or 14)),
        # Strict-Transport-Security on answers served over HTTPS.
        "HSTS": _flag(get("HSTS"), production),
        "WTF_CSRF_TIME_LIMIT": None,
        # Links in mail sent outside a request (CLI digests, reminders)
        "MATCHMAKER_BASE_URL": base_url.rstrip("/"),
        "PREFERRED_URL_SCHEME": "https" if base_url.startswith("https") else "http",
        # A Murmurations index node's API (e.g. https://index.murmurations.network/v2) that
        # `flask murmurations register` posts the profiles to; unset, nothing is sent anywhere.
        "MURMURATIONS_INDEX_URL": murmurations_index,
        # Tokens mailed to users
        "EMAIL_TOKEN_MAX_AGE": int(get("EMAIL_TOKEN_MAX_AGE", str(2 * 24 * 3600)) or 0),
        "RESET_TOKEN_MAX_AGE": int(get("RESET_TOKEN_MAX_AGE", "3600") or 0),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        # The app's languages; catalogs live in matchmaker/translations/<code>/LC_MESSAGES
        # (relative to the package, so the wheel ships them). `make translations` updates them.
        "LANGUAGES": ["en", "fr", "es", "pt", "el", "ar"],
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "PAGE_SIZE": 20,
        # A request whose body is larger than this is refused with 413 before it is read: no
        # form or API call comes near it. The views that take a file accept more (accepts_upload
        # in core/uploads.py): a logo form up to twice the logo's 2 MB, so a file a little too
        # large is told so on the form; the data import up to 20 MB.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "LOGO_MAX_REQUEST_BYTES": 4 * 1024 * 1024,
        "IMPORT_MAX_REQUEST_BYTES": 20 * 1024 * 1024,
        # An import holds at most this many organisations, contacts and listings, and its CSV
        # files at most this many bytes once unzipped: a tiny zip can expand a thousandfold.
        "IMPORT_MAX_RECORDS": int(get("IMPORT_MAX_RECORDS", "20000") or 20000),
        "IMPORT_MAX_BYTES": int(get("IMPORT_MAX_BYTES", str(50 * 1024 * 1024)) or 0),
        # scrypt with Werkzeug's default cost; the tests lower the cost to stay fast.
        "PASSWORD_HASH_METHOD": "scrypt",
        # Logs: JSON lines (production) or readable lines, from this level up
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": log_level,
        # Invitations mail strangers: limited per inviting user and per organisation.
        "RATELIMIT_INVITE_USER": "10 per hour; 30 per day",
        "RATELIMIT_INVITE_ORGANISATION": "20 per hour; 60 per day",
        # "I'm interested" requests fill the coordinators' queue: limited per user.
        "RATELIMIT_INTRODUCTION_REQUEST": "10 per hour; 30 per day",
        # Saving a search (each one is checked against every new listing): limited per user.
        "RATELIMIT_SAVE_SEARCH": "20 per hour; 50 per day",
        # Per signed-in user: mail to an address the user typed (a new confirmation link, an
        # email change), so one account cannot flood an inbox, nor ask address after address
        # whether another account uses it; the forms that check the password (changing it,
        # erasing the account, closing an organisation: one budget), so a borrowed session
        # cannot guess it.
        "RATELIMIT_ACCOUNT_MAIL": get("RATELIMIT_ACCOUNT_MAIL", "3 per hour; 10 per day"),
        "RATELIMIT_ACCOUNT_CHANGE": get("RATELIMIT_ACCOUNT_CHANGE", "10 per hour; 30 per day"),
        # Announcements mail every fitting member of a country or territory; logos are
        # decoded and redrawn (up to 25 megapixels each): limited per user.
        "RATELIMIT_ANNOUNCEMENT": "10 per hour; 30 per day",
        "RATELIMIT_LOGO": "20 per hour; 60 per day",
        # Similar listings, asked by the listing form at each pause in typing, compare the text
        # with every open listing in its language: limited per user.
        "RATELIMIT_SIMILAR": "60 per minute; 600 per hour",
        # Pages a client address may add to the visitors' page cache (core/caching.py): a
        # visitor reads far fewer new pages than this; one inventing query strings is stopped.
        "RATELIMIT_STORED_PAGES": get("RATELIMIT_STORED_PAGES", "120 per minute; 1000 per hour"),
        # Delivered mail and ended jobs are deleted this many days after (core/purge.py).
        "PURGE_AFTER_DAYS": int(get("PURGE_AFTER_DAYS", "30") or 30),
        # How long an invitation link works, in seconds.
        "INVITATION_MAX_AGE": int(get("INVITATION_MAX_AGE_DAYS", "7") or 7) * 24 * 3600,
        # Per client address: modest, since a school or an office shares one address.
        "RATELIMIT_LOGIN": get("RATELIMIT_LOGIN", "30 per minute; 300 per hour"),
        "RATELIMIT_SIGNUP": get("RATELIMIT_SIGNUP", "10 per minute; 100 per hour"),
        "RATELIMIT_RESET": get("RATELIMIT_RESET", "10 per minute; 100 per hour"),
        # Per account (the address typed in the form), whatever the client address: failed
        # log-ins only, so guessing one account's password is slow and others are untouched.
        "RATELIMIT_LOGIN_ACCOUNT": get("RATELIMIT_LOGIN_ACCOUNT", "5 per minute; 30 per hour"),
        "RATELIMIT_RESET_ACCOUNT": get("RATELIMIT_RESET_ACCOUNT", "3 per hour; 10 per day"),
        # The JSON API: per access token, or per client address for calls without one.
        "RATELIMIT_API": get("RATELIMIT_API", "300 per minute; 10000 per day"),
        # flask-smorest (matchmaker/api): the OpenAPI document's title and versions.
        "API_TITLE": "SSE Matchmaker API",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.1.0",
    }
