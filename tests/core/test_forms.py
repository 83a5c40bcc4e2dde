"""The validators every feature's forms share."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField

from matchmaker.core.forms import SingleLine
from matchmaker.core.text import has_control_characters, single_line
from tests.factories import make_user


def _all_forms(cls: type[FlaskForm] = FlaskForm) -> set[type[FlaskForm]]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_forms(sub)
    return found


def test_l3_every_single_line_field_refuses_control_characters(app: Flask) -> None:
    missing = []
    checked = 0
    for form in _all_forms():
        if not form.__module__.startswith("matchmaker."):
            continue
        for name in dir(form):
            field = getattr(form, name)
            if not isinstance(field, UnboundField) or not issubclass(
                field.field_class, StringField
            ):
                continue
            if issubclass(field.field_class, (TextAreaField, PasswordField, HiddenField)):
                continue
            validators = field.kwargs.get("validators") or []
            checked += 1
            if not any(isinstance(v, SingleLine) for v in validators):
                missing.append(f"{form.__module__}.{form.__name__}.{name}")
    assert checked >= 15
    assert missing == []


@pytest.mark.parametrize(
    "value, refused",
    [
        ("Co-op\nBcc: everyone@example.org", True),
        ("Co-op\r", True),
        ("Co\top", True),
        ("Co-op\u202eevil", True),  # right-to-left override
        ("Co-op\x00", True),
        ("Αθήνα Κοινωνική Συνεταιριστική", False),
        ("جمعية طنجة", False),
        ("می\u200cخواهم", False),  # a zero-width non-joiner is part of Persian words
    ],
)
def test_l3_control_characters(value: str, refused: bool) -> None:
    assert has_control_characters(value) is refused
    assert not has_control_characters(single_line(value))


def test_l3_forms_refuse_a_newline_in_a_name(client: FlaskClient, login: Any) -> None:
    response = client.post(
        "/signup",
        data={
            "email": "new@example.org",
            "display_name": "Mallory\r\nBcc: everyone@example.org",
            "password": "long-enough-password",
            "confirm_password": "long-enough-password",
        },
    )
    assert response.status_code == 422
    assert "Keep this on one line" in response.get_data(as_text=True)

    login(make_user())
    response = client.post(
        "/organisations/new",
        data={
            "name": "Evil Co-op\nBcc: everyone@example.org",
            "kind": "sse_organisation",
            "description": "A cooperative that works on social inclusion.",
            "city": "Liverpool",
            "region": "Liverpool City Region",
            "country": "GB",
        },
    )
    assert response.status_code == 422
    assert "Keep this on one line" in response.get_data(as_text=True)
