"""The languages the app speaks, how a request's language is chosen, the localised lists
(countries) that forms and pages share, and the translation functions that keep names in their
own direction inside right-to-left sentences (:func:`gettext`, :func:`ngettext`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any

import flask_babel
from babel import Locale
from babel.lists import format_list as babel_format_list
from flask import Flask, current_app, g, has_request_context, request
from flask.sansio.app import App
from flask_babel import (
    LazyString,
    force_locale,
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
)
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

# Codes Babel lists among territories that are not ISO 3166-1 alpha-2 country codes.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "XK"}

# The cookie that keeps the language chosen in the switcher, for a signed-out visitor (and a
# member once signed out): a cookie of its own, not the session, so a visitor's pages need no
# session at all.
LANGUAGE_COOKIE = "language"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


def language_names() -> list[tuple[str, str]]:
    """Each configured language with its name in that language (what its readers look for)."""
    names = []
    for code in current_app.config["LANGUAGES"]:
        name = Locale.parse(code).get_display_name(code) or code
        names.append((code, name[:1].upper() + name[1:]))
    return names


def text_direction(code: str) -> str:
    """``rtl`` for Arabic, ``ltr`` for the others, as the ``dir`` attribute wants it."""
    return "rtl" if Locale.parse(code).character_order == "right-to-left" else "ltr"


# The languages of territories (matchmaker/territories registers them when its blueprint is
# registered: core knows nothing of features): the request's territory's, and a user's.
TERRITORY_LANGUAGES = "matchmaker.territory_languages"


def set_territory_languages(
    app: App,
    for_request: Callable[[], str | None],
    of_user: Callable[[Any], str | None],
) -> None:
    """Tell the language choice where a territory's default language comes from."""
    app.extensions[TERRITORY_LANGUAGES] = (for_request, of_user)


def territory_language() -> str | None:
    """The default language of the territory the request belongs to (the ``/t/<slug>`` page
    shown, or the signed-in user's territory), when territories are registered.
    :func:`select_locale` asks this after the user's own choice and before the browser's."""
    registered = current_app.extensions.get(TERRITORY_LANGUAGES)
    return registered[0]() if registered else None


def _territory_language_of(user: Any) -> str | None:
    registered = current_app.extensions.get(TERRITORY_LANGUAGES)
    return registered[1](user) if registered else None


def _chosen_language() -> str | None:
    """The signed-in user's setting, else what this browser chose in the switcher."""
    from matchmaker.core.lent_user import reading_user

    user = reading_user()
    if user.is_authenticated and user.language:
        return str(user.language)
    if "language_choice" in g:  # chosen in this very request (its cookie goes out with it)
        return g.language_choice
    return request.cookies.get(LANGUAGE_COOKIE)


def remember_language(response: BaseResponse, language: str | None) -> None:
    """Keep ``language`` as this browser's choice (None: the browser's own language again),
    from this request on."""
    g.language_choice = language
    if not language:
        response.delete_cookie(LANGUAGE_COOKIE, httponly=True, samesite="Lax")
        return
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def select_locale() -> Locale | None:
    """User's setting, else this browser's choice, else the territory's, else Accept-Language,
    else the default."""
    if not has_request_context():
        return None  # CLI commands use the default locale; mail is rendered in force_locale
    languages = current_app.config["LANGUAGES"]
    # One after the other: the territory's is looked up only for someone who chose none.
    for choice in (_chosen_language, territory_language):
        candidate = choice()
        if candidate in languages:
            return _locale(candidate)
    best = request.accept_languages.best_match(languages)
    return _locale(best or current_app.config["BABEL_DEFAULT_LOCALE"])


@lru_cache(maxsize=64)
def _locale(code: str) -> Locale:
    """The Locale of ``code``, made once: Flask-Babel parses a selector's string answer (or
    its default) again on every request (6 µs), and takes a Locale as it is."""
    return Locale.parse(code)


def language_of(user: Any) -> str:
    """The language to write to ``user`` in when they are not here to ask (mail): their
    setting, else their territory's, else the default."""
    languages = current_app.config["LANGUAGES"]
    language = getattr(user, "language", None)
    if language in languages:
        return str(language)
    if getattr(user, "id", None) is not None:
        language = _territory_language_of(user)
        if language in languages:
            return str(language)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


@contextmanager
def in_language_of(user: Any) -> Iterator[None]:
    """Render (mail subject and body, a stored notification) in ``user``'s language."""
    with force_locale(language_of(user)):
        yield


def collation_key(text: str) -> str:
    """A sort key that ignores case and accents: Å sorts with A, É with E (no ICU needed)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=16)
def _countries(locale_code: str) -> tuple[tuple[str, str], ...]:
    territories = Locale.parse(locale_code).territories
    pairs = [
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return tuple(sorted(pairs, key=lambda pair: collation_key(pair[1])))


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes with their names in the current locale, sorted by name."""
    return list(_countries(str(get_locale() or "en")))


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return dict(_countries(str(get_locale() or "en"))).get(code, code)


def is_country_code(code: str) -> bool:
    return code in dict(_countries("en"))


def format_number(value: object) -> object:
    """Numbers as the reader writes them (12 345,5 in French); anything else as it is."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return format_decimal(value)
    return value


# Unicode's FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE: what <bdi> is to HTML, for text
# that may end up in a flash message, a mail subject or an attribute.
_FIRST_STRONG_ISOLATE, _POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


@lru_cache(maxsize=32)
def _runs_right_to_left(code: str) -> bool:
    return Locale.parse(code).character_order == "right-to-left"


def isolated(value: Any) -> Any:
    """``value`` (a name, a place, a title put into a sentence) kept in its own direction when
    the reader's language runs right to left: in an Arabic sentence, a Latin organisation's name
    and the punctuation after it are not reordered with the words around them, and an Arabic
    name in an English sentence needs nothing. Numbers and left-to-right readers' text are
    returned as they are."""
    if isinstance(value, LazyString):
        value = str(value)
    if not isinstance(value, str):
        return value
    locale = get_locale()
    if locale is None or not _runs_right_to_left(str(locale)):
        return value
    if isinstance(value, Markup):
        return Markup("\u2068%s\u2069") % value  # safe text stays safe
    return f"{_FIRST_STRONG_ISOLATE}{value}{_POP_DIRECTIONAL_ISOLATE}"


def format_list(items: Iterable[Any]) -> str:
    """``items`` joined as the reader's language joins a list ("A, B and C"; "A, B και C";
    "A وB وC", where a comma would be "،"), each kept in its own direction. Names and theme
    names may hold commas themselves, so a plain ", " join would not say where one ends."""
    values = [str(isolated(item)) for item in items]
    if not values:
        return ""
    locale = get_locale()
    listed = babel_format_list(values, locale=str(locale or "en"))
    if locale is not None and locale.language == "es" and len(values) > 1:
        # Spanish "y" becomes "e" before an /i/ sound: "Formación e Información".
        last = values[-1].lstrip(_FIRST_STRONG_ISOLATE).casefold()
        if re.match(r"h?[ií](?![aeiouáéó])", last):
            head = listed[: len(listed) - len(values[-1])]
            if head.endswith(" y "):
                listed = f"{head[:-3]} e {values[-1]}"
    return listed


# Languages that separate the parts of a place ("Athens, Attica, Greece") with another comma.
_COMMAS = {"ar": "، ", "fa": "، ", "ur": "، "}


def comma() -> str:
    """The comma (and space) between the parts of a place in the reader's language."""
    locale = get_locale()
    return _COMMAS.get(locale.language if locale is not None else "", ", ")


# Between clauses: ";" is the question mark in Greek, whose semicolon is the raised dot.
_SEMICOLONS = {"el": "· ", "ar": "؛ ", "fa": "؛ ", "ur": "؛ "}


def semicolon() -> str:
    """The semicolon (and space) between the clauses of a sentence in the reader's language."""
    locale = get_locale()
    return _SEMICOLONS.get(locale.language if locale is not None else "", "; ")


def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's ``gettext``, each text put into the sentence :func:`isolated`."""
    return flask_babel.gettext(string, **{k: isolated(v) for k, v in variables.items()})


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Flask-Babel's ``ngettext``, each text put into the sentence :func:`isolated`."""
    return flask_babel.ngettext(
        singular, plural, num, **{k: isolated(v) for k, v in variables.items()}
    )


def _isolating(template_function: Any) -> Any:
    """A template's ``gettext`` or ``ngettext`` (Jinja's i18n extension, as Flask-Babel installs
    it) that puts each text into the sentence :func:`isolated`."""

    @pass_context
    def translate(context: Context, *args: Any, **variables: Any) -> Any:
        return template_function(context, *args, **{k: isolated(v) for k, v in variables.items()})

    return translate


def init_app(app: Flask) -> None:
    # Templates' _(), gettext(), ngettext(), {% trans %} and the context-marked pgettext() and
    # npgettext() all go through these.
    for name in ("gettext", "ngettext", "pgettext", "npgettext"):
        app.jinja_env.globals[name] = _isolating(app.jinja_env.globals[name])
    app.jinja_env.filters["country_name"] = country_name
    app.jinja_env.globals["comma"] = comma
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["number"] = format_number

    @app.context_processor
    def inject_locale() -> dict[str, object]:
        locale = str(get_locale() or "en")
        return {
            "current_locale": locale,
            "text_direction": text_direction(locale),
            "language_names": language_names,
        }
