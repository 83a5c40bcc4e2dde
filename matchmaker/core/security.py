"""Security headers on every response, the check that keeps ``next`` redirects on this site, and
the CSRF token's rotation at sign-in."""

from __future__ import annotations

import copy
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Request, Response, current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature

from matchmaker.core.local_entries import LocalEntries
from matchmaker.extensions import limiter

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# One year; HTTPS only (the header is ignored on plain HTTP anyway, and sent only over HTTPS).
HSTS = "max-age=31536000"


# What every answer carries.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    # One scan of the headers for all of them (a stored page's answer has none of them yet);
    # a value the view set itself stays.
    present = {name.lower() for name, _value in headers.items()}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if request.is_secure and current_app.config["HSTS"]:
        headers.setdefault("Strict-Transport-Security", HSTS)
    # What a signed-in person sees carries personal data (accounts, contact people, exports):
    # no browser or proxy cache keeps it for the next person at the same computer. An answer
    # that declares itself public (a verified organisation's logo) is the same for everyone.
    if (
        request.endpoint != "static"
        and current_user.is_authenticated
        and not ("cache-control" in present and response.cache_control.public)
    ):
        headers["Cache-Control"] = "no-store"
    return response


def rotate_csrf_token() -> None:
    """A new CSRF token for a new sign-in: one seen or planted before it is worth nothing after."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)


# Signed CSRF tokens a process keeps: this many at most, each this long at most (seconds).
SIGNED_CSRF_TOKENS, SIGNED_CSRF_TOKEN_REUSE = 1024, 60.0
# An app's memo of them (``app.extensions``): the key that signed and the raw token -> (the
# signed token, when it was signed).
SIGNED_CSRF_TOKENS_EXTENSION = "signed_csrf_tokens"


def signed_csrf_token() -> str:
    """The reader's CSRF token for a form, as Flask-WTF's ``generate_csrf()`` gives it: the raw
    token of their session, signed with the secret key and the time.

    A signed-in reader asks for page after page with the same raw token, and signing it was 6 %
    of a stored coordinator page: the token signed for it less than a minute ago is given
    again, and only while it keeps nine tenths of its validity (``WTF_CSRF_TIME_LIMIT``; the app
    sets none). A new sign-in gives a new raw token (:func:`rotate_csrf_token`).
    """
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field in g or field not in session:  # signed in this request already, or a new raw token
        return str(generate_csrf())
    secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    key = f"{secret!s}\x00{session[field]!s}"
    limit = config.get("WTF_CSRF_TIME_LIMIT", 3600)
    memo: LocalEntries = current_app.extensions[SIGNED_CSRF_TOKENS_EXTENSION]
    found = memo.get(key)
    if found is not None and (limit is None or time.time() - found[1] < limit / 10):
        setattr(g, field, found[0])
        return found[0]
    token = str(generate_csrf())
    memo.set(key, (token, time.time()))
    return token


def safe_next_path(target: str | None) -> str | None:
    """``target`` as a path on this site, or None when it could lead anywhere else.

    The value returned is the one checked, rebuilt from its parts: a check on one spelling and a
    redirect to another is how ``http:/evil.example`` or ``/\\evil.example`` slip through, since
    browsers read backslashes as slashes and forgive missing ones after the scheme.
    """
    if not target or any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in target):
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # "Invalid IPv6 URL": a bracket in what would be the host ("//[x")
        return None
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    path = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    return path if path.startswith("/") and not path.startswith("//") else None


def configured_limit(name: str) -> str:
    """The rate limit the setting ``name`` holds, for ``limiter.limit(lambda: ...)``."""
    return str(current_app.config.get(name, "1000 per second"))


def current_user_key() -> str:
    """The rate-limit key of the signed-in user, whatever address or session they come from."""
    return f"user:{getattr(current_user, 'id', 'anonymous')}"


# Every form that checks the signed-in user's password (changing it or the email address,
# erasing the account, closing an organisation) tells whether a guess was right: one budget per
# user covers them all, so a stolen session cannot guess without end, nor buy more guesses by
# moving between forms.
password_checks = limiter.shared_limit(
    lambda: configured_limit("RATELIMIT_ACCOUNT_CHANGE"),
    scope="password-check",
    key_func=current_user_key,
    methods=["POST"],
)


# Session cookies a process keeps the verified data of: this many at most, each this long at most.
VERIFIED_SESSION_COOKIES, VERIFIED_SESSION_COOKIE_TIMEOUT = 1024, 300.0


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, but a request that sent no session cookie (a signed-out
    visitor's) gets its empty session without building the signing serializer first, and a
    cookie this process verified lately is not verified again (:meth:`verified_data`)."""

    def __init__(self) -> None:
        # cookie -> (the signing keys, its data, when it was signed): see verified_data.
        self._verified = LocalEntries(VERIFIED_SESSION_COOKIES, VERIFIED_SESSION_COOKIE_TIMEOUT)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        return self.session_class(self.verified_data(app, cookie) or {})

    def verified_data(self, app: Flask, cookie: str) -> dict[str, Any] | None:
        """What Flask's serializer reads from ``cookie``: its data when the signature holds and
        it is no older than the session lifetime, else None.

        A signed-in reader sends the same cookie with every request until their session changes,
        and checking its signature was a tenth of a stored coordinator page: the data of a cookie
        verified lately is kept (five minutes at most), by the cookie's whole text and with the
        keys that verified it, and its age is checked again on each use as the serializer checks
        it. Each caller gets its own copy (a session is changed in place).
        """
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        max_age = int(app.permanent_session_lifetime.total_seconds())
        found = self._verified.get(cookie)
        if found is not None and found[0] == keys and 0 <= int(time.time()) - found[2] <= max_age:
            return own_copy(found[1])
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data, signed_at = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return None
        self._verified.set(cookie, (keys, data, int(signed_at.timestamp())))
        return own_copy(data)


# Values a session copy may share with the kept data: nothing can change them in place.
_UNCHANGEABLE = (str, int, float, bool, type(None))


def own_copy(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a session's ``data`` its request may change in place: ``copy.deepcopy``, or
    the same in a shallow copy when every value is a string, a number or None (a signed-in
    reader's usual session; deepcopy walked it value by value, 1 % of a stored page)."""
    if all(type(value) in _UNCHANGEABLE for value in data.values()):
        return dict(data)
    return copy.deepcopy(data)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessionInterface()
    app.extensions[SIGNED_CSRF_TOKENS_EXTENSION] = LocalEntries(
        SIGNED_CSRF_TOKENS, SIGNED_CSRF_TOKEN_REUSE
    )
    app.after_request(set_security_headers)
