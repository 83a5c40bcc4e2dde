"""Requests while another transaction holds SQLite's write lock, as a full matcher run does
from its first write to its commit (tens of seconds at scale). Reads answer; a write waits the
busy timeout (5 s), then is told to come back (503, Retry-After), nothing saved. Before, both
were a server error: a token's "last used" time made even an API read a write."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.accounts import access_tokens
from matchmaker.accounts.models import AccessToken, TokenScope
from matchmaker.extensions import db
from matchmaker.listings.models import Listing
from tests.conftest import is_postgres
from tests.factories import make_listing, make_organisation, make_user
from tests.proposals.helpers import signed_in

pytestmark = pytest.mark.skipif(is_postgres(), reason="SQLite's database-wide write lock")

BUSY = (
    "The database is busy with a long update (the matcher's run, most often). "
    "Nothing was saved: please try again in a minute."
)


@contextmanager
def write_lock_held() -> Iterator[None]:
    """Another connection holds the database's write lock, as a full run does."""
    db.session.commit()
    holder = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


def test_an_api_read_answers_while_a_run_holds_the_database(app: Flask) -> None:
    owner = make_user()
    listing = make_listing(organisation=make_organisation(owner=owner), title="Mentors")
    new = access_tokens.create_token(user=owner, name="dashboard", scope=TokenScope.READ)
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {new.secret}"}

    with write_lock_held():
        started = time.monotonic()
        response = client.get("/api/v1/me/listings", headers=headers)
        took = time.monotonic() - started

    assert response.status_code == 200, response.get_data(as_text=True)
    # At once: not after the busy timeout (5 s), which every request of the token waited for
    # as long as the run lasted (its "last used" time never written, always due).
    assert took < 2.5
    # The connection went back to the pool waiting as long as before, for its next user.
    assert db.session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    db.session.rollback()
    assert [item["id"] for item in response.get_json()["items"]] == [listing.id]
    db.session.expire_all()
    # The use could not be recorded then; the next one is.
    assert db.session.get(AccessToken, new.token.id).last_used_at is None
    assert client.get("/api/v1/me/listings", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.get(AccessToken, new.token.id).last_used_at is not None


def test_a_write_while_a_run_holds_the_database_is_asked_to_come_back(
    app: Flask, caplog: pytest.LogCaptureFixture, short_busy_timeout: int
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner)
    page = signed_in(app, owner)
    new = access_tokens.create_token(user=owner, name="sync", scope=TokenScope.WRITE)
    db.session.commit()
    need = {
        "title": "Evaluation of our work-integration programme",
        "description": "We need researchers to evaluate the social impact of our programme.",
        "themes": ["research-evaluation"],
        "scope": "regional",
    }

    with write_lock_held():
        posted = page.post(
            f"/organisations/{organisation.id}/listings/new/need", data={**need, "expires_on": ""}
        )
        sent = app.test_client().post(
            "/api/v1/me/listings",
            json={**need, "kind": "need", "organisation_id": organisation.id},
            headers={"Authorization": f"Bearer {new.secret}"},
        )

    assert posted.status_code == 503
    assert posted.headers["Retry-After"] == "60"
    assert BUSY in posted.get_data(as_text=True)
    assert sent.status_code == 503 and sent.headers["Retry-After"] == "60"
    assert sent.get_json()["detail"] == BUSY
    # Each refusal is logged (a warning, not a server error's traceback), for operators.
    refused = [r.getMessage() for r in caplog.records if "the database is busy" in r.getMessage()]
    assert refused == [
        f"POST /organisations/{organisation.id}/listings/new/need refused: "
        "the database is busy (database is locked)",
        "POST /api/v1/me/listings refused: the database is busy (database is locked)",
    ]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Listing)) == 0
    # Once the run is over, the same request goes through.
    again = page.post(
        f"/organisations/{organisation.id}/listings/new/need", data={**need, "expires_on": ""}
    )
    assert again.status_code == 302
