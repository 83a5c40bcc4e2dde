"""Odd values in every form field and query parameter of the main pages, sent as a member and
as a coordinator: the app may refuse them (4xx) but never fails (500).

The forms are found by reading the pages themselves, so a new form or field is fuzzed without
touching this file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matchmaker.accounts.models import Role
from matchmaker.extensions import db
from matchmaker.listings.models import Listing
from tests.factories import make_user
from tests.proposals.test_review_and_introductions import _approve, _as, world

__all__ = ["world"]

ODD_VALUES = [
    "",
    " ",
    "0",
    "-1",
    "99999999999999999999",
    "9" * 5000,
    "1e309",
    "NaN",
    "' OR '1'='1",
    "1; DROP TABLE users; --",
    '"><script>alert(1)</script>',
    "{{7*7}}",
    "%s%s%s%n",
    "../../etc/passwd",
    "\x00",
    "a\x00b",
    "line\r\nInjected: header",
    "\u202eevil",
    "\ud7ff\ufffd",
    "x" * 100_000,
    '=HYPERLINK("http://evil.example")',
    "2026-02-30",
    "9999-12-31",
    "http://evil.example/",
    "javascript:alert(1)",
    "9" * 400,
    "http://[x",
    "//[x",
]
# A blank choice, huge numbers (past what a float holds, past what int() reads), NUL, a 100 kB
# search, an impossible date and an address whose host urlsplit refuses.
SHARPEST_VALUES = [
    " ",
    "99999999999999999999",
    "9" * 400,
    "9" * 5000,
    "a\x00b",
    "x" * 100_000,
    "2026-02-30",
    "//[x",
]
odd_text = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.integers().map(str),
)


@dataclass
class Form:
    page: str
    method: str
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)


class FormParser(HTMLParser):
    """Every form of a page, with its fields and their current (or first offered) values."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            action = found.get("action") or self.page
            self.forms.append(Form(self.page, found.get("method", "get").upper(), action))
        elif not self.forms:
            return
        elif tag in ("input", "textarea", "select") and found.get("name"):
            if found.get("type") in ("submit", "file"):
                return
            values = self.forms[-1].fields.setdefault(found["name"], [])
            if tag == "select":
                self._select = found["name"]
            elif found.get("type") not in ("checkbox", "radio") or "checked" in found:
                values.append(found.get("value", ""))
        elif tag == "option" and self._select:
            values = self.forms[-1].fields[self._select]
            if not values:
                values.append(found.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


MEMBER_PAGES = [
    "/",
    "/needs",
    "/offers",
    "/challenges",
    "/organisations",
    "/organisations/new",
    "/my/organisations",
    "/my/proposals",
    "/account",
    "/notifications",
    "/organisations/{network}",
    "/organisations/{network}/edit",
    "/organisations/{network}/members",
    "/organisations/{network}/listings/new/need",
    "/organisations/{network}/listings/new/offer",
    "/listings/{listing}",
    "/listings/{listing}/edit",
    "/proposals/{proposal}",
]
COORDINATOR_PAGES = [
    "/coordination/proposals",
    "/coordination/organisations",
    "/coordination/data",
    "/coordination/dashboard",
    "/coordination/matching",
    "/coordination/audit",
    "/admin/users",
    "/admin/themes",
    "/admin/territories",
    "/announcements",
    "/announcements/new",
    "/proposals/{proposal}",
    "/organisations/{network}",
]
# Forms that end the session the fuzzer works in.
SKIPPED_ACTIONS = ("/logout",)


def _forms(client: FlaskClient, pages: list[str], ids: dict[str, int]) -> list[Form]:
    """The forms of ``pages``, each once: a form on every page (the header's language switcher)
    is the same request wherever it stands, and fuzzing it on each page only took time."""
    forms: dict[tuple[str, str, tuple[str, ...]], Form] = {}
    for template in pages:
        page = template.format(**ids)
        response = client.get(page)
        assert response.status_code == 200, page
        parser = FormParser(page)
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            path = urlsplit(form.action).path
            if form.fields and not path.endswith(SKIPPED_ACTIONS):
                forms.setdefault((form.method, path, tuple(sorted(form.fields))), form)
    return list(forms.values())


def _ids(world: dict[str, Any]) -> dict[str, int]:
    listing = db.session.scalar(
        sa.select(Listing.id).where(Listing.organisation_id == world["network"].id)
    )
    return {"network": world["network"].id, "listing": listing, "proposal": world["proposal"].id}


def _send(client: FlaskClient, form: Form, name: str, value: str) -> int:
    data = {key: values[:1] for key, values in form.fields.items()}
    data[name] = [value]
    path = urlsplit(form.action).path
    if form.method == "GET":
        response = client.get(path, query_string=data)
    else:
        response = client.post(path, data=data)
    return response.status_code


@pytest.fixture
def session(app: Flask, world: dict[str, Any], who: str) -> tuple[FlaskClient, list[Form]]:
    """The test's client, signed in as a member or as a coordinator, and the forms of that
    person's pages (only theirs: reading the other's pages too only took time)."""
    _approve(_as(app, world["coordinator"]), world["proposal"])
    ids = _ids(world)
    if who == "member":
        member = _as(app, world["network_owner"])
        return member, _forms(member, MEMBER_PAGES, ids)
    coordinator = _as(app, make_user(role=Role.ADMIN))
    return coordinator, _forms(coordinator, COORDINATOR_PAGES, ids)


FUZZ_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("who", ["member", "coordinator"])
@FUZZ_SETTINGS
@given(data=st.data())
def test_odd_values_in_any_field_never_fail(
    session: tuple[FlaskClient, list[Form]], who: str, data: st.DataObject
) -> None:
    client, forms = session
    assert len(forms) >= 8
    form = data.draw(st.sampled_from(forms), label="form")
    names = sorted({*form.fields, "page"} if form.method == "GET" else form.fields)
    name = data.draw(st.sampled_from(names), label="field")
    value = data.draw(odd_text, label="value")
    status = _send(client, form, name, value)
    assert status < 500, (form.method, form.action, name, value)


@pytest.mark.parametrize("who", ["member", "coordinator"])
def test_every_field_of_every_form_survives_each_odd_value(
    session: tuple[FlaskClient, list[Form]], who: str
) -> None:
    """The exhaustive pass: each field, each of the values that broke pages before."""
    client, forms = session
    failures = []
    for form in forms:
        for name in sorted(form.fields):
            for value in SHARPEST_VALUES:
                status = _send(client, form, name, value)
                if status >= 500:
                    failures.append((form.method, form.action, name, value[:40], status))
    assert failures == []


@pytest.mark.parametrize("who", ["member", "coordinator"])
def test_every_field_of_every_form_survives_a_file_or_a_json_value(
    session: tuple[FlaskClient, list[Form]], who: str
) -> None:
    """What no HTML form sends: a file in place of the field's text, and a JSON body holding a
    number, a list or an object for it (Flask-WTF reads both)."""
    client, forms = session
    failures = []
    for form in forms:
        if form.method != "POST":
            continue
        path = urlsplit(form.action).path
        base = {key: values[0] if values else "" for key, values in form.fields.items()}
        for name in sorted(form.fields):
            upload = {**base, name: (io.BytesIO(b"not text \x00\xff"), "x.txt")}
            sent = [client.post(path, data=upload, content_type="multipart/form-data")]
            for value in (12, ["a", "b"], {"a": 1}, None, True):
                sent.append(client.post(path, json={**base, name: value}))
            failures += [(path, name, r.status_code) for r in sent if r.status_code >= 500]
        not_an_object = client.post(path, json=[1, 2])
        if not_an_object.status_code >= 500:
            failures.append((path, "(a list)", not_an_object.status_code))
    assert failures == []
