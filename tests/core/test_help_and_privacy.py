"""Issue 14: a help page (how matching works, what each status means) and a privacy page, both
public and linked from every page's footer."""

from __future__ import annotations

from flask.testing import FlaskClient

from matchmaker.matching.rules import RULES
from matchmaker.proposals.models import STATUS_LABELS


def test_the_help_page_explains_matching_and_every_status(client: FlaskClient) -> None:
    response = client.get("/help")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for rule in RULES.values():
        assert str(rule.label) in page
    for label in STATUS_LABELS.values():
        assert f"<dt>{label}</dt>" in page


def test_the_privacy_page_says_who_sees_contacts(client: FlaskClient) -> None:
    page = client.get("/privacy").get_data(as_text=True)
    assert "only once every party has accepted" in page
    assert "a hash of your password" in page


def test_both_are_in_every_pages_footer_and_translated(client: FlaskClient) -> None:
    footer = client.get("/needs").get_data(as_text=True).split('class="site-footer"')[1]
    assert 'href="/help"' in footer and 'href="/privacy"' in footer
    french = client.get("/help", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "<h1>Aide</h1>" in french
