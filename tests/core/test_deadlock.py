"""A request that PostgreSQL fails to break a deadlock (it and another transaction each waited
for a lock the other held). The other transaction went on; the request's work can simply be
sent again. Before, the person saw a server error ("something went wrong", 500) for it."""

from __future__ import annotations

import secrets
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.listings import services
from matchmaker.listings.models import Listing
from tests.concurrency import waiting_for_a_lock
from tests.conftest import is_postgres
from tests.factories import make_organisation, make_user
from tests.proposals.helpers import signed_in

pytestmark = pytest.mark.skipif(not is_postgres(), reason="PostgreSQL's deadlock detection")

BUSY = (
    "The database is busy with a long update (the matcher's run, most often). "
    "Nothing was saved: please try again in a minute."
)

LOCK = sa.text("SELECT pg_advisory_xact_lock(:key)")


def test_a_request_failed_to_break_a_deadlock_is_asked_to_send_it_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner)
    page = signed_in(app, owner)
    db.session.commit()
    # Two locks of this test's own (another test may run at the same time on this server).
    mine, theirs = secrets.randbelow(2**40), secrets.randbelow(2**40) + 2**40
    they_hold = threading.Event()
    other: dict[str, Any] = {}

    def other_transaction() -> None:
        """Holds ``theirs``, then waits for ``mine``: checks for a deadlock only after 10 s,
        so that the request, checking after 50 ms, is the transaction PostgreSQL fails."""
        with app.app_context(), db.engine.connect() as connection:
            connection.exec_driver_sql("SET deadlock_timeout = '10s'")
            connection.execute(LOCK, {"key": theirs})
            they_hold.set()
            assert request_holds.wait(30)
            connection.execute(LOCK, {"key": mine})
            connection.commit()
            other["finished"] = True

    request_holds = threading.Event()
    create_listing = services.create_listing

    def deadlocked(**kwargs: Any) -> Listing:
        listing = create_listing(**kwargs)
        db.session.flush()  # the listing's row is written, in the request's transaction
        db.session.execute(sa.text("SET LOCAL deadlock_timeout = '50ms'"))
        db.session.execute(LOCK, {"key": mine})
        request_holds.set()
        while not waiting_for_a_lock():  # the other transaction waits for ``mine``
            thread.join(0.02)
        db.session.execute(LOCK, {"key": theirs})  # and this one for ``theirs``
        return listing

    monkeypatch.setattr(services, "create_listing", deadlocked)
    thread = threading.Thread(target=other_transaction)
    thread.start()
    assert they_hold.wait(30)
    need = {
        "title": "Evaluation of our work-integration programme",
        "description": "We need researchers to evaluate the social impact of our programme.",
        "themes": ["research-evaluation"],
        "scope": "regional",
        "expires_on": "",
    }
    posted = page.post(f"/organisations/{organisation.id}/listings/new/need", data=need)
    thread.join(30)

    assert posted.status_code == 503, posted.get_data(as_text=True)[:500]
    assert posted.headers["Retry-After"] == "60"
    assert BUSY in posted.get_data(as_text=True)
    assert other == {"finished": True}  # the other transaction went on once this one gave up
    refused = [r.getMessage() for r in caplog.records if "the database is busy" in r.getMessage()]
    assert len(refused) == 1 and "deadlock detected" in refused[0]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Listing)) == 0
    # Sent again, it goes through.
    monkeypatch.setattr(services, "create_listing", create_listing)
    again = page.post(f"/organisations/{organisation.id}/listings/new/need", data=need)
    assert again.status_code == 302
    assert db.session.scalar(sa.select(Listing.title)) == need["title"]
