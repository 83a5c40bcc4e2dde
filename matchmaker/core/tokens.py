"""Signed, expiring tokens for links sent by email."""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class InvalidToken(Exception):
    """The link is damaged, was made for something else, or has expired."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"matchmaker.{purpose}")


def make_token(purpose: str, data: Any) -> str:
    return _serializer(purpose).dumps(data)


def read_token(purpose: str, token: str, max_age: int) -> Any:
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise InvalidToken(expired=True) from error
    except BadSignature as error:
        raise InvalidToken() from error
