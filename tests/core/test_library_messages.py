"""No form shows a library's own sentence ("Not a valid integer value.", "Not a valid choice."):
every form is the product's Form, and bad input to any field of any form gets the product's
own words, in the reader's language."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import flask_wtf
import wtforms
from flask import Flask
from flask_babel import force_locale
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    DecimalField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
)

from matchmaker.core.forms import LIBRARY_MESSAGES, Form
from tests.core.test_forms import _all_forms


def _library_sentences() -> set[str]:
    """Every sentence WTForms and Flask-WTF pass through gettext, read from their source."""
    found = set()
    for package in (wtforms, flask_wtf):
        for path in Path(package.__file__).parent.rglob("*.py"):
            for call in re.finditer(
                r'\bn?gettext\(\s*((?:"[^"]*"\s*)+)(?:,\s*((?:"[^"]*"\s*)+))?', path.read_text()
            ):
                for group in call.groups():
                    if group:
                        found.add("".join(re.findall(r'"([^"]*)"', group)))
    return found


# Sentences about programming mistakes or CSRF tokens (tests/test_security.py), which no field
# of ours shows a person.
NOT_SHOWN = {
    "Choices cannot be None.",
    "Invalid field name '%s'.",
    "CSRF failed.",
    "CSRF token expired.",
    "CSRF token missing.",
    "Invalid CSRF Token.",
    "Invalid IP address.",
    "Invalid Mac address.",
    "Invalid UUID.",
    "File does not have an approved extension: {extensions}",
}

BAD = {
    IntegerField: "twelve",
    DecimalField: "12,5,0",
    FloatField: "twelve",
    DateField: "2027-02-31",
    SelectField: "not-a-choice",
    RadioField: "not-a-choice",
    SelectMultipleField: "not-a-choice",
}


def _product_forms() -> list[type[FlaskForm]]:
    return [f for f in _all_forms() if f.__module__.startswith("matchmaker.") and f is not Form]


def _required_keywords(form_class: type[FlaskForm]) -> dict[str, str]:
    """The keyword arguments its constructors require, with their annotations."""
    names = {}
    for cls in form_class.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None:
            continue
        for name, parameter in inspect.signature(init).parameters.items():
            if parameter.kind == parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
                names[name] = str(parameter.annotation)
    return names


def _instance(form_class: type[FlaskForm], data: MultiDict) -> FlaskForm:
    """The form filled with ``data``, given made-up values for what its constructor needs."""
    known: dict[str, Any] = {
        "countries": ["GB", "GR"],
        "themes": {"funding": "Funding"},
        "templates": {"pair": "Pair"},
        "challenges": True,
        "choices": [(1, "Our need")],
        "organisations": [SimpleNamespace(id=1, name="Our organisation")],
    }
    extra = {}
    for name, annotation in _required_keywords(form_class).items():
        extra[name] = known[name]
        if name == "themes" and "Mapping" not in annotation:
            extra[name] = [SimpleNamespace(slug="funding", name="Funding", label="Funding")]
    if hasattr(form_class, "build"):
        return form_class.build(formdata=data)
    return form_class(formdata=data, **extra)


def test_every_form_of_the_app_is_the_products_form(app: Flask) -> None:
    forms = _product_forms()
    assert len(forms) >= 25
    assert [f.__qualname__ for f in forms if not issubclass(f, Form)] == []


def test_every_library_sentence_has_the_products_words() -> None:
    assert _library_sentences() - NOT_SHOWN - set(LIBRARY_MESSAGES) == set()


def test_bad_input_in_any_field_gets_the_products_words(app: Flask) -> None:
    library = _library_sentences()
    shown: dict[str, list[str]] = {}
    checked = 0
    with app.test_request_context("/"):
        for form_class in _product_forms():
            probe = _instance(form_class, MultiDict())
            data = MultiDict()
            for field in probe:
                bad = next((v for t, v in BAD.items() if isinstance(field, t)), None)
                data[field.name] = bad if bad is not None else "x"
            form = _instance(form_class, data)
            form.validate()
            for name, errors in form.errors.items():
                checked += 1
                shown[f"{form_class.__name__}.{name}"] = [str(e) for e in errors]
    assert checked >= 40
    leaks = {
        field: errors
        for field, errors in shown.items()
        if any(error in library or re.sub(r"\d+", "%(n)d", error) in library for error in errors)
    }
    assert leaks == {}
    # The coercion sentences are the product's.
    every = [error for errors in shown.values() for error in errors]
    assert "Enter a whole number, like 12." in every
    assert "Choose one of the options offered." in every
    assert "Enter a real date, like 2027-03-31." in every


def test_the_products_words_are_in_the_readers_language(app: Flask) -> None:
    class Probe(Form):
        class Meta:
            csrf = False

        count = IntegerField("Count")
        colour = SelectField("Colour", choices={"red": "Red"})

    with app.test_request_context("/"), force_locale("fr"):
        form = Probe(formdata=MultiDict({"count": "twelve", "colour": "blue"}))
        form.validate()
        assert form.count.errors == ["Saisissez un nombre entier, par exemple 12."]
        assert form.colour.errors == ["Choisissez l'une des options proposées."]
