"""The same sign-up sent twice at once (a double click): one account, one confirmation mail,
and the same answer to both, never a server error."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.accounts.models import User
from matchmaker.core.models import OutboxMessage
from matchmaker.extensions import db
from tests.concurrency import one_then_the_other
from tests.conftest import is_postgres

pytestmark = pytest.mark.skipif(not is_postgres(), reason="needs real concurrent transactions")

FORM = {
    "email": "twice@example.org",
    "display_name": "Twice",
    "password": "a long enough password",
    "confirm_password": "a long enough password",
}


def test_the_same_sign_up_twice_at_once_makes_one_account(app: Flask) -> None:
    """The second request found no account (the first had not committed hers), then its
    insert met the first one's in the unique index on the address: a server error."""
    one, two = app.test_client(), app.test_client()
    first, second = one_then_the_other(
        "before_commit",
        lambda: one.post("/signup", data=FORM),
        lambda: two.post("/signup", data=FORM),
    )
    assert (first.status_code, second.status_code) == (200, 200)
    assert "twice@example.org" in second.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert db.session.scalars(sa.select(OutboxMessage.template)).all() == ["confirm_email"]
