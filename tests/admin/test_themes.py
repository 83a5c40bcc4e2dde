from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role
from matchmaker.extensions import db
from matchmaker.listings.models import Theme
from tests.factories import make_user


def _theme(slug: str) -> Theme:
    return db.session.scalar(sa.select(Theme).where(Theme.slug == slug))


@pytest.mark.parametrize(
    "role, status", [(Role.MEMBER, 403), (Role.COORDINATOR, 403), (Role.ADMIN, 200)]
)
def test_only_admins_manage_themes(
    client: FlaskClient, login: Any, role: Role, status: int
) -> None:
    login(make_user(role=role))
    assert client.get("/admin/themes").status_code == status
    response = client.post(
        "/admin/themes", data={"new-slug": "circular-economy", "new-name": "Circular economy"}
    )
    assert (response.status_code == 302) == (status == 200)


def test_admin_adds_renames_retires_and_restores(client: FlaskClient, login: Any) -> None:
    login(make_user(role=Role.ADMIN))
    client.post(
        "/admin/themes", data={"new-slug": "circular-economy", "new-name": "Circular economy"}
    )
    theme = _theme("circular-economy")
    assert theme.name == "Circular economy"
    client.post(
        f"/admin/themes/{theme.id}",
        data={
            f"t{theme.id}-name": "Circular and green economy",
            f"t{theme.id}-description": "Reuse.",
        },
    )
    client.post(f"/admin/themes/{theme.id}/retire")
    db.session.refresh(theme)
    assert theme.name == "Circular and green economy" and theme.is_retired
    client.post(f"/admin/themes/{theme.id}/restore")
    db.session.refresh(theme)
    assert not theme.is_retired


@pytest.mark.parametrize(
    "slug, message", [("Not A Slug", "Use lower-case letters"), ("funding", "already exists")]
)
def test_bad_theme_input_is_refused(
    client: FlaskClient, login: Any, slug: str, message: str
) -> None:
    login(make_user(role=Role.ADMIN))
    response = client.post("/admin/themes", data={"new-slug": slug, "new-name": "Something"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_a_theme_saved_unchanged_records_nothing(client: FlaskClient, login: Any) -> None:
    """The audit trail holds what changed: a save that changes nothing adds no empty entry
    (the page says it is saved, as for a listing or an organisation)."""
    from matchmaker.core.models import AuditEvent

    login(make_user(role=Role.ADMIN))
    theme = _theme("funding")

    def save(name: str) -> str:
        response = client.post(
            f"/admin/themes/{theme.id}",
            data={f"t{theme.id}-name": name, f"t{theme.id}-description": theme.description},
            follow_redirects=True,
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def updates() -> int:
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "theme:update", AuditEvent.subject_id == theme.id)
        )

    assert "Theme saved." in save(theme.name)
    assert updates() == 0
    save("Funding and finance")
    assert updates() == 1
