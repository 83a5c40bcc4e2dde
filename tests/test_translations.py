"""The catalogs: one per configured language, every message translated (no fuzzy ones), the
placeholders kept, and the compiled .mo files the app and the wheel use match the .po files.

That every marked string *is* in the catalogs is checked by `make check-translations` (CI),
which runs pybabel's own extraction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from matchmaker.config import load_config

CATALOGS = Path(__file__).resolve().parents[1] / "matchmaker" / "translations"
LANGUAGES = load_config({"MATCHMAKER_SECRET_KEY": "x"}, Path("/nonexistent"))["LANGUAGES"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def _catalog(language: str) -> Catalog:
    with (CATALOGS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def _messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def test_every_language_has_a_catalog_with_the_same_messages() -> None:
    english = {(message.context, message.id) for message in _messages(_catalog("en"))}
    assert len(english) > 500
    for language in LANGUAGES:
        messages = {(message.context, message.id) for message in _messages(_catalog(language))}
        assert messages == english, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_not_fuzzy(language: str) -> None:
    catalog = _catalog(language)
    untranslated = [
        message.id
        for message in _messages(catalog)
        if message.fuzzy
        or not message.string
        or (isinstance(message.string, tuple) and not all(message.string))
    ]
    assert untranslated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders_and_plural_forms(language: str) -> None:
    catalog = _catalog(language)
    problems = []
    for message in _messages(catalog):
        problems += [f"{message.id}: {error}" for error in message.check(catalog)]
        if isinstance(message.id, tuple):
            if len(message.string) != catalog.num_plurals:
                problems.append(f"{message.id}: {len(message.string)} plural forms")
            allowed = set(PLACEHOLDER.findall(" ".join(message.id)))
            # A plural form may leave the number out ("one result"), never add a placeholder.
            problems += [
                f"{message.id}: {form}"
                for form in message.string
                if not set(PLACEHOLDER.findall(form)) <= allowed
            ]
        elif sorted(PLACEHOLDER.findall(message.string)) != sorted(PLACEHOLDER.findall(message.id)):
            problems.append(f"{message.id}: {message.string}")
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_matches_the_po_file(language: str) -> None:
    """`make translations` compiles the .mo files; a .po edited without it fails here."""
    with (CATALOGS / language / "LC_MESSAGES" / "messages.mo").open("rb") as mo:
        compiled = _as_dict(m for m in read_mo(mo) if m.id)
    assert compiled == _as_dict(_messages(_catalog(language)))


def _as_dict(messages: Iterable[Message]) -> dict[object, object]:
    def frozen(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    # A message with a context (pgettext) is another message than the same words without one.
    return {(message.context, frozen(message.id)): frozen(message.string) for message in messages}
