"""Locale selection and the localised lists (countries) that forms and pages share."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale
from flask import Flask, current_app, has_request_context, request
from flask_babel import format_date, format_datetime, get_locale

# Codes Babel lists among territories that are not ISO 3166-1 alpha-2 country codes.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "XK"}


def select_locale() -> str | None:
    if not has_request_context():
        return None  # CLI commands and mail sent outside a request use the default locale
    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


@lru_cache(maxsize=8)
def _countries(locale_code: str) -> tuple[tuple[str, str], ...]:
    territories = Locale.parse(locale_code).territories
    pairs = [
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return tuple(sorted(pairs, key=lambda pair: pair[1]))


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes with their names in the current locale, sorted by name."""
    return list(_countries(str(get_locale() or "en")))


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return dict(_countries(str(get_locale() or "en"))).get(code, code)


def is_country_code(code: str) -> bool:
    return code in dict(_countries("en"))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime

    @app.context_processor
    def inject_locale() -> dict[str, object]:
        return {"current_locale": str(get_locale() or "en"), "unread_count": _unread_count}


def _unread_count() -> int:
    """Unread notifications of the signed-in user, for the navigation bar."""
    from flask_login import current_user

    from matchmaker.notifications.services import unread_count

    return unread_count(current_user) if current_user.is_authenticated else 0
