"""L2: numbers too large for the database answer 404 (or are ignored), never 500."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import AnyConverter, IntegerConverter

from matchmaker.accounts.models import Role
from tests.factories import make_listing, make_organisation, make_user

HUGE_NUMBERS = ["99999999999999999999", "2147483648", "9" * 5000]


def _urls_with_huge_ids(app: Flask, huge: str) -> list[tuple[str, str]]:
    """Every rule with an ``<int:...>`` part, each int part set to ``huge``."""
    found = []
    for rule in app.url_map.iter_rules():
        converters = rule._converters
        if not any(isinstance(c, IntegerConverter) for c in converters.values()):
            continue

        def value(match: re.Match[str], converters: dict[str, Any] = converters) -> str:
            converter = converters[match.group(1)]
            if isinstance(converter, IntegerConverter):
                return huge
            if isinstance(converter, AnyConverter):
                return sorted(converter.items)[0]
            return "x"

        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", value, rule.rule)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            found.append((method, path))
    return found


@pytest.mark.parametrize("huge", HUGE_NUMBERS)
def test_l2_every_int_url_answers_404_for_ids_beyond_the_database(
    app: Flask, client: FlaskClient, login: Callable[..., Any], huge: str
) -> None:
    login(make_user(role=Role.ADMIN))
    urls = _urls_with_huge_ids(app, huge)
    assert len(urls) >= 20
    answers = {
        (method, path): client.open(path, method=method).status_code for method, path in urls
    }
    assert {where: code for where, code in answers.items() if code != 404} == {}


@pytest.mark.parametrize(
    "path",
    [
        "/needs",
        "/offers",
        "/challenges",
        "/organisations",
        "/coordination/proposals",
        "/coordination/audit",
        "/admin/users",
    ],
)
def test_l2_page_numbers_beyond_the_last_page_answer_404(
    client: FlaskClient, login: Callable[..., Any], path: str
) -> None:
    login(make_user(role=Role.ADMIN))
    assert client.get(f"{path}?page=99999999999999999999").status_code == 404
    assert client.get(f"{path}?page={'9' * 5000}").status_code == 404
    # Ordinary and nonsense page numbers still show a page.
    assert client.get(f"{path}?page=2").status_code == 200
    assert client.get(f"{path}?page=0").status_code == 200
    assert client.get(f"{path}?page=two").status_code == 200


def test_l2_anonymous_visitors_get_404_for_huge_page_and_ids(client: FlaskClient) -> None:
    assert client.get("/needs?page=99999999999999999999").status_code == 404
    assert client.get("/organisations?page=99999999999999999999").status_code == 404
    assert client.get("/listings/99999999999999999999").status_code == 404
    assert client.get("/organisations/99999999999999999999").status_code == 404


def test_l2_similar_listings_ignore_an_exclude_id_beyond_the_database(
    client: FlaskClient, login: Callable[..., Any]
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner)
    make_listing(organisation=organisation, title="Evaluation of community energy projects")
    login(owner)
    response = client.get(
        "/listings/similar?kind=need&q=community+energy+evaluation&exclude=99999999999999999999"
    )
    assert response.status_code == 200
    assert "community energy" in response.get_data(as_text=True)


def test_a_search_term_with_a_nul_byte_is_searched_as_words_not_refused(
    app: Flask, client: FlaskClient, login: Any
) -> None:
    # PostgreSQL refuses a NUL byte in any text parameter: the audit search answered 500.
    login(make_user(role=Role.COORDINATOR))
    response = client.get("/coordination/audit?action=a%00b&actor=x%00&subject=%01")
    assert response.status_code == 200
    with app.test_request_context("/?q=%20co-op%00%0aAthens%20"):
        from matchmaker.core.arguments import text_arg

        assert text_arg("q") == "co-op Athens"
