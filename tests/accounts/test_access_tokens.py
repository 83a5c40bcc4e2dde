"""Personal access tokens on the account page: made, shown once, stored hashed, revoked."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from matchmaker.accounts import access_tokens
from matchmaker.accounts.models import AccessToken, TokenScope
from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from tests.factories import make_user

SECRET = re.compile(r'id="new-token" type="text" readonly value="(mm_[A-Za-z0-9_-]+)"')


def _create(client: FlaskClient, name: str = "Our website", scope: str = "read") -> Any:
    return client.post("/account/tokens", data={"tk-name": name, "tk-scope": scope})


def test_a_new_token_is_shown_once_and_only_its_digest_is_kept(
    client: FlaskClient, login: Any
) -> None:
    user = make_user()
    login(user)
    response = _create(client, scope="write")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    secret = SECRET.search(page).group(1)
    assert "it will not be shown again" in page

    token = db.session.scalars(sa.select(AccessToken)).one()
    assert (token.user_id, token.name, token.scope) == (user.id, "Our website", TokenScope.WRITE)
    assert token.token_hash == access_tokens.digest(secret) != secret
    assert secret not in str(db.session.execute(sa.select(AccessToken.__table__)).all())

    again = client.get("/account").get_data(as_text=True)
    assert secret not in again
    assert "Our website" in again and f"{secret[:9]}…" in again
    assert (
        db.session.scalar(
            sa.select(AuditEvent.action).where(AuditEvent.subject_type == "access_token")
        )
        == "token:create"
    )


def test_a_token_name_is_required_and_unique_among_live_tokens(
    client: FlaskClient, login: Any
) -> None:
    login(make_user())
    assert _create(client, name="").status_code == 422
    assert _create(client, name="Site").status_code == 200
    response = _create(client, name="Site")
    assert response.status_code == 422
    assert "already have a token with this name" in response.get_data(as_text=True)
    bad_scope = _create(client, name="Other", scope="admin")
    assert bad_scope.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(AccessToken.id))) == 1


def test_authenticate_accepts_a_live_token_and_notes_its_use(app: Any) -> None:
    user = make_user()
    new = access_tokens.create_token(user=user, name="CLI", scope=TokenScope.READ)
    db.session.commit()
    assert new.token.last_used_at is None

    found = access_tokens.authenticate(new.secret)
    assert found is not None and found.user_id == user.id
    first_use = found.last_used_at
    assert first_use is not None
    # Used again within the minute: not written again.
    assert access_tokens.authenticate(new.secret).last_used_at == first_use
    found.last_used_at = first_use - timedelta(minutes=5)
    assert access_tokens.authenticate(new.secret).last_used_at > first_use - timedelta(minutes=5)

    assert access_tokens.authenticate(new.secret + "x") is None
    assert access_tokens.authenticate("not-a-token") is None
    assert access_tokens.authenticate("mm_" + "a" * 500) is None
    user.is_active_account = False
    assert access_tokens.authenticate(new.secret) is None


def test_revoking_a_token_ends_it_and_only_its_owner_may(client: FlaskClient, login: Any) -> None:
    owner, other = make_user(), make_user()
    mine = access_tokens.create_token(user=owner, name="Laptop script", scope=TokenScope.READ)
    theirs = access_tokens.create_token(user=other, name="Theirs", scope=TokenScope.READ)
    db.session.commit()
    login(owner)

    assert client.post(f"/account/tokens/{theirs.token.id}/revoke").status_code == 404
    response = client.post(f"/account/tokens/{mine.token.id}/revoke", follow_redirects=True)
    assert "is revoked" in response.get_data(as_text=True)
    assert "Laptop script" not in client.get("/account").get_data(as_text=True)

    db.session.expire_all()
    assert access_tokens.authenticate(mine.secret) is None
    assert access_tokens.authenticate(theirs.secret) is not None


def test_the_scope_select_is_valid_html(client: FlaskClient, login: Any) -> None:
    """A `required` select whose first option is a real choice is invalid HTML (Nu checker)."""
    login(make_user())
    page = client.get("/account").get_data(as_text=True)
    (select,) = re.findall(r"<select[^>]*name=\"tk-scope\"[^>]*>", page)
    assert "required" not in select


def test_an_unconfirmed_account_makes_no_token(client: FlaskClient, login: Any) -> None:
    """Anyone may sign up with someone else's address and sign in before it is confirmed. A
    token made then would outlive the owner's taking the account back (a password reset ends
    every session, not the API's tokens): the squatter would read and write, through the API,
    the organisations the real owner joins later. Tokens are for confirmed addresses only."""
    squatter = make_user(confirmed=False)
    login(squatter)
    response = _create(client)
    assert response.status_code == 422
    assert "Please confirm your email address" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AccessToken.id))) == 0


def test_a_token_of_an_unconfirmed_account_is_refused(app: Any) -> None:
    """One made before this rule, or on an account whose address is no longer confirmed."""
    user = make_user(confirmed=False)
    secret = access_tokens.PREFIX + "x" * 43
    db.session.add(
        AccessToken(
            user=user,
            name="Old",
            scope=TokenScope.WRITE,
            token_hash=access_tokens.digest(secret),
            hint=secret[: access_tokens.HINT_LENGTH],
        )
    )
    db.session.commit()
    assert access_tokens.authenticate(secret) is None
    user.confirm_email()
    db.session.commit()
    assert access_tokens.authenticate(secret) is not None


def test_a_password_reset_revokes_every_token(client: FlaskClient, outbox: Any) -> None:
    """A reset is how someone takes back an account they lost: it ends every session, and the
    API's tokens are sessions too (made by whoever held the account meanwhile, perhaps)."""
    user = make_user(email="taken-back@example.org")
    first = access_tokens.create_token(user=user, name="Mine", scope=TokenScope.READ)
    planted = access_tokens.create_token(user=user, name="Planted", scope=TokenScope.WRITE)
    db.session.commit()
    assert access_tokens.authenticate(planted.secret) is not None

    client.post("/forgot-password", data={"email": user.email})
    link = outbox.link(outbox.to(user.email)[-1], "/reset-password/")
    new = "another-long-password"
    assert client.post(link, data={"password": new, "confirm_password": new}).status_code == 302
    db.session.expire_all()  # read what the request committed
    assert access_tokens.authenticate(planted.secret) is None
    assert access_tokens.authenticate(first.secret) is None
    assert access_tokens.active_tokens(user) == []
    revoked = db.session.scalars(
        sa.select(AuditEvent.details).where(AuditEvent.action == "token:revoke")
    ).all()
    assert sorted(details["name"] for details in revoked) == ["Mine", "Planted"]
