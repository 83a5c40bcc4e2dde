"""The validators every feature's forms share."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from hypothesis import given, settings
from hypothesis import strategies as st
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField

from matchmaker.accounts.models import User
from matchmaker.core.forms import SingleLine
from matchmaker.core.text import has_control_characters, single_line
from matchmaker.extensions import db
from tests.factories import make_user


def _all_forms(cls: type[FlaskForm] = FlaskForm) -> set[type[FlaskForm]]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_forms(sub)
    return found


def _declared_fields() -> Iterator[tuple[type[FlaskForm], str, UnboundField]]:
    """Every field declared on the app's forms: (form, name, field)."""
    for form in _all_forms():
        if not form.__module__.startswith("matchmaker."):
            continue
        for name in dir(form):
            field = getattr(form, name)
            if isinstance(field, UnboundField):
                yield form, name, field


def test_l3_every_single_line_field_refuses_control_characters(app: Flask) -> None:
    missing = []
    checked = 0
    for form, name, field in _declared_fields():
        if not issubclass(field.field_class, StringField):
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


# Line breaks, tabs, NUL, other C0 and C1 controls, bidirectional overrides and isolates, a
# zero-width space, a byte-order mark, a soft hyphen: what a pasted text may hide.
ODD = "\r\n\t\x00\x0b\x1f\x7f\x85\u202e\u2066\u200b\ufeff\u00ad\u2028"


def _plainly_has_control_characters(value: str, *, line_breaks: bool = False) -> bool:
    """The rule character by character, without text.has_control_characters' check in C."""
    allowed = "\r\n" if line_breaks else ""
    return any(
        unicodedata.category(char) in ("Cc", "Cf") and char not in "\u200c\u200d" + allowed
        for char in value
    )


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.characters(codec=None), max_size=40)
    | st.text(st.sampled_from(ODD + "ab \u00a0\u200c\u200dΑج"), max_size=20),
    st.booleans(),
)
def test_the_check_in_c_finds_what_the_plain_rule_finds(value: str, line_breaks: bool) -> None:
    assert has_control_characters(value, line_breaks=line_breaks) == (
        _plainly_has_control_characters(value, line_breaks=line_breaks)
    )


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


def test_every_validator_says_the_products_own_sentence(app: Flask) -> None:
    """Issue 14: a field's error is written for this product ("Describe what you need or
    offer: 20 to 5,000 characters."), never the library's default ("Field must be between
    20 and 5000 characters long.")."""
    from wtforms import validators as v

    worded = (v.Length, v.DataRequired, v.InputRequired, v.NumberRange, v.Email, v.EqualTo)
    worded += (v.Regexp, v.AnyOf, v.NoneOf, v.URL)
    missing = []
    checked = 0
    for form, name, field in _declared_fields():
        for validator in field.kwargs.get("validators") or []:
            if isinstance(validator, worded):
                checked += 1
                if not getattr(validator, "message", None):
                    missing.append(f"{form.__name__}.{name}: {type(validator).__name__}")
    assert checked >= 40
    assert missing == []


SIGN_UP = {
    "email": "new@example.org",
    "display_name": "New Member",
    "password": "long-enough-password",
    "confirm_password": "long-enough-password",
}


@pytest.mark.parametrize("field", sorted(SIGN_UP))
def test_a_file_sent_in_place_of_text_is_not_read(client: FlaskClient, field: str) -> None:
    """Flask-WTF hands every field the uploaded files under its name: a file in place of the
    email address or the name reached the validators (len() of a file, a 500)."""
    data: dict[str, Any] = {**SIGN_UP, field: (io.BytesIO(b"not text"), "x.txt")}
    response = client.post("/signup", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert db.session.scalar(sa.select(User)) is None
    login = {"email": (io.BytesIO(b"x"), "x.txt"), "password": "long-enough-password"}
    assert client.post("/login", data=login, content_type="multipart/form-data").status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        "new@example.org",
        12,
        {**SIGN_UP, "email": 12},
        {**SIGN_UP, "display_name": {"a": 1}},
        {**SIGN_UP, "password": True},
    ],
    ids=["list", "string", "number", "number in a field", "object in a field", "true"],
)
def test_a_json_body_holds_nothing_but_text_for_a_form(client: FlaskClient, body: Any) -> None:
    """Flask-WTF reads a JSON body as form data, whatever it holds: a body that is not an
    object failed building the form, and a number or an object in a field failed the
    validators (a 500 either way)."""
    response = client.post("/signup", json=body)
    assert response.status_code == 422
    assert db.session.scalar(sa.select(User)) is None


def test_a_json_body_of_text_still_fills_a_form(client: FlaskClient) -> None:
    assert client.post("/signup", json=SIGN_UP).status_code == 200
    assert db.session.scalar(sa.select(User.email)) == "new@example.org"
