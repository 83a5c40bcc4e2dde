from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role, User
from matchmaker.admin import routes as admin_routes
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from tests.concurrency import one_then_the_other
from tests.conftest import is_postgres
from tests.core.pager import walk_there_and_back
from tests.factories import make_user
from tests.proposals.helpers import signed_in


@pytest.mark.parametrize(
    "role, status", [(Role.MEMBER, 403), (Role.COORDINATOR, 403), (Role.ADMIN, 200)]
)
def test_only_admins_manage_users(client: FlaskClient, login: Any, role: Role, status: int) -> None:
    login(make_user(role=role))
    assert client.get("/admin/users").status_code == status


def test_admin_changes_a_role_and_it_is_audited(client: FlaskClient, login: Any) -> None:
    admin = make_user(role=Role.ADMIN)
    member = make_user(email="promote@example.org")
    login(admin)
    response = client.post(
        f"/admin/users/{member.id}/role", data={f"u{member.id}-role": "coordinator"}
    )
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.role == Role.COORDINATOR
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user:role"))
    assert event.details == {"before": "member", "after": "coordinator"}
    assert event.actor_id == admin.id


def test_member_cannot_change_roles(client: FlaskClient, login: Any) -> None:
    member = make_user()
    login(member)
    assert (
        client.post(
            f"/admin/users/{member.id}/role", data={f"u{member.id}-role": "admin"}
        ).status_code
        == 403
    )
    db.session.refresh(member)
    assert member.role == Role.MEMBER


def test_unknown_role_is_refused(client: FlaskClient, login: Any) -> None:
    admin = make_user(role=Role.ADMIN)
    member = make_user()
    login(admin)
    response = client.post(f"/admin/users/{member.id}/role", data={f"u{member.id}-role": "emperor"})
    assert response.status_code == 400
    assert "Choose one of the listed roles" in response.get_data(as_text=True)


def test_the_last_admin_keeps_the_role(client: FlaskClient, login: Any) -> None:
    admin = make_user(role=Role.ADMIN)
    login(admin)
    response = client.post(
        f"/admin/users/{admin.id}/role", data={f"u{admin.id}-role": "member"}, follow_redirects=True
    )
    assert "The last admin cannot lose the admin role" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role == Role.ADMIN


def test_cli_creates_the_first_admin(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "admin",
            "First@Example.org",
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "first@example.org"))
    assert user.role == Role.ADMIN and user.is_email_confirmed
    again = runner.invoke(
        args=["users", "create", "first@example.org", "--password", "a-long-password"]
    )
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_cli_refuses_a_short_password(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", "x@example.org", "--password", "short"]
    )
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


def test_the_users_list_pages_by_address(
    client: FlaskClient, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_routes, "USERS_PAGE_SIZE", 2)
    login(make_user(role=Role.ADMIN, email="admin@example.org"))
    for letter in "edcba":
        make_user(email=f"{letter}@coop.example.org")

    def emails(body: str) -> list[str]:
        return re.findall(r"<td>([a-z]@coop\.example\.org)</td>", body)

    pages, last = walk_there_and_back(client, "/admin/users?q=coop", emails)
    assert pages == [
        ["a@coop.example.org", "b@coop.example.org"],
        ["c@coop.example.org", "d@coop.example.org"],
        ["e@coop.example.org"],
    ]
    assert "q=coop" in last


@pytest.mark.skipif(not is_postgres(), reason="needs real concurrent transactions")
def test_two_admins_taking_the_role_from_each_other_at_once_leave_one(app: Flask) -> None:
    """Each counted two admins before the other's change was committed: none was left."""
    ann, bob = make_user(role=Role.ADMIN), make_user(role=Role.ADMIN)
    as_ann, as_bob = signed_in(app, ann), signed_in(app, bob)

    def demote(client: FlaskClient, user: User) -> Any:
        return lambda: client.post(
            f"/admin/users/{user.id}/role", data={f"u{user.id}-role": "member"}
        )

    first, second = one_then_the_other("after_flush", demote(as_ann, bob), demote(as_bob, ann))
    assert (first.status_code, second.status_code) == (302, 302)
    db.session.expire_all()
    assert db.session.scalars(sa.select(User.id).where(User.role == Role.ADMIN)).all() == [ann.id]
