"""The security baseline, checked across the whole URL map."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule

from matchmaker.core.auth import is_public_endpoint, is_self_authenticating_endpoint
from tests.factories import PASSWORD, make_user

# Endpoints a signed-out visitor may use: the public pages, and the links mailed to people.
EXPECTED_PUBLIC = {
    "static",
    "core.home",
    "core.healthz",
    "core.help_page",
    "core.privacy",
    "accounts.signup",
    "accounts.login",
    "accounts.confirm_email",
    "accounts.forgot_password",
    "accounts.reset_password",
    "accounts.confirm_email_change",
    "accounts.set_language",  # the header's language switcher, signed in (saved on the account)
    "accounts.choose_language",  # the header's language switcher, signed out (a cookie)
    "organisations.directory",
    "organisations.show",
    "organisations.logo",  # a verified organisation's logo, as public as its page
    "listings.browse",
    "listings.show",
    # The JSON API's open data and its documentation
    "api.openapi",
    "api.docs",
    "public.list_themes",
    "public.list_organisations",
    "public.get_organisation",
    "public.list_listings",
    "public.get_listing",
    "announcements.browse",
    "announcements.show",
    # Murmurations profiles: read by other SSE maps and the Murmurations index
    "murmurations.organisation_profile",
    "murmurations.listing_profile",
    "murmurations.index",
    # A territory's page (/t/<slug>)
    "territories.show",
}


def _example_url(rule: Rule) -> str:
    values: dict[str, Any] = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]
        if isinstance(converter, IntegerConverter):
            values[argument] = 1
        elif type(converter).__name__ == "AnyConverter":
            values[argument] = sorted(converter.items)[0]
        else:
            values[argument] = "x"
    built = rule.build(values, append_unknown=False)
    assert built is not None, rule.rule
    return built[1]


def test_only_the_intended_endpoints_are_public(app: Flask) -> None:
    with app.test_request_context():
        public = {
            rule.endpoint for rule in app.url_map.iter_rules() if is_public_endpoint(rule.endpoint)
        }
    assert public == EXPECTED_PUBLIC


def test_every_other_endpoint_sends_an_anonymous_client_to_sign_in(
    app: Flask, client: FlaskClient
) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXPECTED_PUBLIC:
            continue
        url = _example_url(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            with app.test_request_context():
                token_only = is_self_authenticating_endpoint(rule.endpoint)
            if token_only:
                # The API asks for a token instead of sending anyone to a sign-in page.
                assert response.status_code == 401, (rule.endpoint, method)
                assert response.content_type == "application/problem+json"
                continue
            assert response.status_code == 302, (rule.endpoint, method, response.status_code)
            assert response.headers["Location"].startswith("/login"), rule.endpoint
            checked += 1
    assert checked >= 15


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_every_post_is_refused_without_a_csrf_token(csrf_app: Flask, login: Any) -> None:
    client = csrf_app.test_client()
    user = make_user()
    # Sign in through the form, with its token, to prove the check covers signed-in POSTs too.
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert (
        client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    posts = [rule for rule in csrf_app.url_map.iter_rules() if "POST" in (rule.methods or set())]
    assert len(posts) >= 10
    for rule in posts:
        response = client.post(_example_url(rule), data={})
        with csrf_app.test_request_context():
            token_only = is_self_authenticating_endpoint(rule.endpoint)
        if token_only:
            # No CSRF token needed there, because the session cookie is worth nothing there.
            assert response.status_code == 401, (rule.endpoint, response.status_code)
            continue
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        assert "expired or was not sent from this site" in response.get_data(as_text=True)


def test_logout_needs_a_post_with_a_token(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    user = make_user()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200
    home = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/account").status_code == 302


def test_security_headers_on_every_response(client: FlaskClient) -> None:
    for url in ("/", "/login", "/no-such-page", "/healthz", "/static/css/app.css"):
        with client.get(url) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_templates_have_no_inline_scripts(app: Flask) -> None:
    from pathlib import Path

    templates = Path(app.template_folder or "")
    offending = []
    for path in templates.rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=", text):
            offending.append(str(path))
    assert offending == []


def test_session_cookie_is_httponly_and_lax(client: FlaskClient, login: Any) -> None:
    response = login(make_user())
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/organisations", "/organisations"),
        ("https://evil.example.com/", "/"),
        ("//evil.example.com/", "/"),
        ("/\\evil.example.com", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirects_stay_on_this_site(client: FlaskClient, target: str, expected: str) -> None:
    user = make_user()
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


@pytest.mark.parametrize(
    "target, expected",
    [
        ("http:/evil.example/phish", "/"),
        ("http:///evil.example", "/"),
        ("https:evil.example", "/"),
        ("//evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        (" //evil.example", "/"),
        ("http://localhost/account", "/"),
        ("//[evil.example", "/"),
        ("http://[::1/account", "/"),
        ("/organisations?q=coop#top", "/organisations?q=coop#top"),
    ],
)
def test_m1_login_redirects_only_to_the_path_it_checked(
    client: FlaskClient, login: Any, target: str, expected: str
) -> None:
    user = make_user()
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == expected
    # Signed in already, the login page sends on to the same checked value.
    assert client.get("/login", query_string={"next": target}).headers["Location"] == expected


@pytest.mark.parametrize(
    "target", ["//[evil.example", "http://[::1/account", "/organisations?q=coop"]
)
def test_a_language_switch_sends_back_only_to_a_checked_path(
    client: FlaskClient, target: str
) -> None:
    """urlsplit raises ValueError ("Invalid IPv6 URL") for a bracket where a host would be: the
    signed-out language switcher (a GET any link can make) failed on it (a 500)."""
    response = client.get("/language", query_string={"language": "fr", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == ("/" if "[" in target else target)


def _csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_l5_csrf_token_is_rotated_at_login(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    user = make_user()
    before = _csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": before})
    after = _csrf_token(client.get("/").get_data(as_text=True))
    assert after != before
    # A token learnt before signing in does not work after it.
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    assert client.get("/account").status_code == 200


def test_l5_pages_with_personal_data_are_not_stored(client: FlaskClient, login: Any) -> None:
    from matchmaker.accounts.models import Role

    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    login(make_user(role=Role.COORDINATOR))
    for url in (
        "/account",
        "/my/organisations",
        "/coordination/data/export.json",
        "/coordination/data/export/organisations.csv",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url


@pytest.mark.parametrize("app_config", [{"HSTS": True}])
def test_l5_hsts_is_sent_over_https_when_set(client: FlaskClient) -> None:
    assert (
        "max-age="
        in client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"]
    )
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_l5_hsts_is_off_unless_set(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://localhost")
    assert "Strict-Transport-Security" not in response.headers


def _upload_body(field: str, name: str, size: int) -> dict[str, Any]:
    """A multipart body holding one file of ``size`` bytes, built here: the test client's own
    encoder leaves a temporary file open for large bodies (warnings are errors)."""
    boundary = "----body-limit-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return {
        "data": head + b"{" * size + f"\r\n--{boundary}--\r\n".encode(),
        "content_type": f"multipart/form-data; boundary={boundary}",
    }


@pytest.mark.parametrize("url", ["/login", "/signup", "/forgot-password", "/language"])
def test_l6_a_form_refuses_a_large_body_before_reading_it(csrf_app: Flask, url: str) -> None:
    """Every view read bodies of up to 20 MB, the data import's limit, before the CSRF check
    (which reads the form) could refuse them: anyone could make the sign-in page read and
    spool 20 MB a request. Only the views that take a file read more than a form's worth."""
    client = csrf_app.test_client()
    response = client.post(url, **_upload_body("file", "big.bin", 2 * 1024 * 1024))
    assert response.status_code == 413
    assert "larger than we accept" in response.get_data(as_text=True)


def test_l6_the_data_import_still_reads_a_large_file(client: FlaskClient, login: Any) -> None:
    from matchmaker.accounts.models import Role

    login(make_user(role=Role.COORDINATOR))
    response = client.post(
        "/coordination/data/import", **_upload_body("file", "partners.json", 5 * 1024 * 1024)
    )
    # Read, and refused for what it holds (not valid JSON), not for its size.
    assert response.status_code == 422
    assert "larger than we accept" not in response.get_data(as_text=True)
