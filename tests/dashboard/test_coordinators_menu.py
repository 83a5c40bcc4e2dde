"""Issue 14: the coordinators' menu is grouped, and counts what waits for them."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.organisations.models import OrganisationStatus
from tests.factories import make_organisation, make_user


def _menu(page: str) -> str:
    return page.split('site-menu">')[1].split("</details>")[0]


def test_the_coordinators_menu_counts_what_waits(client: FlaskClient, login: Any) -> None:
    make_organisation(status=OrganisationStatus.PENDING)
    make_organisation(status=OrganisationStatus.PENDING)
    login(make_user(role=Role.COORDINATOR))
    menu = _menu(client.get("/").get_data(as_text=True))
    coordination = menu.split("Coordination")[1]
    verification = coordination.split("Review")[0]
    assert '<span class="count" aria-hidden="true">2</span>' in verification
    assert '<span class="visually-hidden">2 waiting</span>' in verification
    assert "Dashboard" in coordination and "Administration" not in menu


def test_members_see_no_coordination_group(client: FlaskClient, login: Any) -> None:
    login(make_user())
    menu = _menu(client.get("/").get_data(as_text=True))
    assert "Coordination" not in menu and "Verification" not in menu
