"""Who may call an API operation: anyone (public reads), or the holder of a personal access
token with the right scope, and for coordination a coordinator's token. The session cookie is
never read here, so a browser cannot be tricked into calling the API (no CSRF to guard)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from matchmaker.accounts import access_tokens
from matchmaker.accounts.models import AccessToken, User
from matchmaker.api.problems import fail
from matchmaker.core.auth import authenticates_itself, public

F = TypeVar("F", bound=Callable[..., Any])

BEARER_SCHEME = "bearerAuth"
NEEDS_TOKEN = _l("Send a valid access token in the header Authorization: Bearer <token>.")
READ_ONLY_TOKEN = _l("This token may only read. Make one that may write on your account page.")
COORDINATORS_ONLY = _l("Only coordinators may use this.")


class Access(enum.Enum):
    PUBLIC = "public"
    READ = "read"  # a member's token, any scope
    WRITE = "write"  # a member's token that may write
    REVIEW = "review"  # a coordinator's token, any scope
    DECIDE = "decide"  # a coordinator's token that may write


def presented_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip() or None


def current_token() -> AccessToken | None:
    """The live token this request carries, looked up once per request."""
    if "api_token" not in g:
        secret = presented_secret()
        g.api_token = access_tokens.authenticate(secret) if secret else None
    token: AccessToken | None = g.api_token
    return token


def api_user() -> User:
    """The user whose token the current (authenticated) operation runs for."""
    token = current_token()
    assert token is not None, "api_user() outside an operation that needs a token"
    return token.user


def rate_limit_key() -> str:
    """Each token has its own budget; calls without a (valid) token share their address's."""
    token = current_token()
    if token is not None:
        return f"api-token:{token.id}"
    # No token, or a wrong one: limited by address, whatever token is tried.
    return f"api-address:{get_remote_address()}"


def _check(access: Access) -> None:
    token = current_token()
    if token is None:
        fail(401, str(NEEDS_TOKEN), headers={"WWW-Authenticate": 'Bearer realm="api"'})
    if access in (Access.WRITE, Access.DECIDE) and not token.can_write:
        fail(403, str(READ_ONLY_TOKEN))
    if access in (Access.REVIEW, Access.DECIDE) and not token.user.is_coordinator:
        fail(403, str(COORDINATORS_ONLY))
    # The token's "last used" time (written at most once a minute) is kept even if the
    # operation fails later.
    access_tokens.keep_last_use()


def guarded(view: F, access: Access) -> F:
    """``view`` behind the check ``access`` asks for, marked for the app's deny-by-default."""
    if access is Access.PUBLIC:
        return public(view)

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _check(access)
        return view(*args, **kwargs)

    return authenticates_itself(wrapped)  # type: ignore[return-value]
