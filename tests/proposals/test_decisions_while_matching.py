"""A coordinator decides, or a party answers, while another transaction holds the proposal: in
practice a full matcher run, which holds the proposals it rewrites from when it locks them
(engine._lock_planned) until it commits, some 15 s at 20,000 listings (bench/decision_wait.py).
The request waits a bounded time (services.LOCK_WAIT_MS on PostgreSQL; on SQLite, where the
run holds the database's write lock, its busy_timeout), then shows the page again with its form
as sent and says why (409); nothing is saved, and the run goes on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker import SQLITE_BUSY_TIMEOUT_MS
from matchmaker.accounts.models import Role
from matchmaker.extensions import db
from matchmaker.matching.engine import run_full
from matchmaker.proposals import services
from matchmaker.proposals.models import Proposal, ProposalStatus, ResponseDecision
from tests.concurrency import FIRST, held_at
from tests.conftest import is_postgres
from tests.factories import make_user
from tests.proposals.helpers import signed_in
from tests.proposals.test_concurrent_review import proposal

__all__ = ["proposal"]  # a fixture: a research need and a university's offer, proposed

postgres_only = pytest.mark.skipif(not is_postgres(), reason="needs row locks")

BUSY = "The matcher is updating this proposal right now. Nothing was saved: try again in a minute."


def answered_within(sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> float:
    """The bounded wait, with room for a loaded machine: far below a run's hold at scale."""
    return (services.LOCK_WAIT_MS if is_postgres() else sqlite_busy_timeout_ms) / 1000 + 3


def _timed(request: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """``request`` started in a thread of its own; its response and how long it took."""
    result: dict[str, Any] = {}

    def send() -> None:
        started = time.monotonic()
        result["response"] = request()
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=send, name="person")
    thread.start()
    return thread, result


def test_an_approval_during_a_full_run_is_answered_at_once_and_the_run_goes_on(
    app: Flask, short_busy_timeout: int, proposal: Proposal
) -> None:
    """On PostgreSQL it waited for the run to commit (past gunicorn's 30 s at 20,000
    listings on a loaded machine), then was told the proposal had changed, the note it
    carried lost; on SQLite, a server error after 5 s ("database is locked"). On SQLite the
    approval waits the busy timeout, shortened here (short_busy_timeout) to a fifth of a
    second."""
    coordinator = signed_in(app, make_user(role=Role.COORDINATOR))
    # The next run finds its score changed: it rescores it, holding it until it commits.
    db.session.execute(sa.update(Proposal).values(score=Proposal.score - 1))
    db.session.commit()
    version, proposal_id = proposal.version, proposal.id

    def full_run() -> None:
        with app.app_context():
            run_full()
            db.session.commit()

    with held_at("before_commit") as hold:
        run = threading.Thread(target=full_run, name=FIRST)
        run.start()
        assert hold.reached.wait(30), "the run never got to its commit"
        person, result = _timed(
            lambda: coordinator.post(
                f"/coordination/proposals/{proposal_id}/approve",
                data={"approve-version": version, "approve-note": "Met them at the fair."},
            )
        )
        person.join(answered_within(short_busy_timeout))
        waited = person.is_alive()
        hold.release.set()
        run.join(60)
        person.join(60)
    assert not waited, "the approval waited for the run to commit"
    response = result["response"]
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert BUSY in page
    assert "Met them at the fair." in page  # what was entered, to send again
    db.session.expire_all()
    saved = db.session.get(Proposal, proposal_id)
    assert saved is not None
    # The run went on: it rescored the proposal, which waits for a decision still.
    assert (saved.status, saved.version) == (ProposalStatus.PENDING_REVIEW, version + 1)
    assert saved.decided_by_id is None


@contextmanager
def row_held(proposal_id: int) -> Iterator[None]:
    """Another transaction holds the proposal's row (as a run does) until the block ends."""
    with db.engine.connect() as connection, connection.begin():
        connection.execute(
            sa.select(Proposal.id).where(Proposal.id == proposal_id).with_for_update(key_share=True)
        )
        yield


@postgres_only
def test_a_rejection_on_a_held_proposal_is_answered_in_bounded_time(
    app: Flask, proposal: Proposal
) -> None:
    coordinator = signed_in(app, make_user(role=Role.COORDINATOR))
    data = {
        "reject-version": proposal.version,
        "reject-reason": "other",
        "reject-note": "Already partners since May.",
    }
    with row_held(proposal.id):
        person, result = _timed(
            lambda: coordinator.post(f"/coordination/proposals/{proposal.id}/reject", data=data)
        )
        person.join(answered_within())
        waited = person.is_alive()
    person.join(30)
    assert not waited, "the rejection waited for the other transaction to end"
    assert result["seconds"] >= services.LOCK_WAIT_MS / 1000 - 0.1  # it did wait, briefly
    response = result["response"]
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert BUSY in page
    assert "Already partners since May." in page
    # Sent again once it is free, it is saved.
    again = coordinator.post(f"/coordination/proposals/{proposal.id}/reject", data=data)
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status == ProposalStatus.REJECTED  # type: ignore[union-attr]


@postgres_only
def test_an_answer_on_a_held_proposal_is_answered_in_bounded_time(
    app: Flask, proposal: Proposal
) -> None:
    coordinator = signed_in(app, make_user(role=Role.COORDINATOR))
    approved = coordinator.post(
        f"/coordination/proposals/{proposal.id}/approve",
        data={"approve-version": proposal.version},
    )
    assert approved.status_code == 302
    db.session.expire_all()
    party = next(p.organisation for p in proposal.parties)
    member = signed_in(app, party.memberships[0].user)
    path = f"/proposals/{proposal.id}/organisations/{party.id}/decline"
    data = {f"r{party.id}-message": "We have no time this year."}
    with row_held(proposal.id):
        person, result = _timed(lambda: member.post(path, data=data))
        person.join(answered_within())
        waited = person.is_alive()
    person.join(30)
    assert not waited, "the answer waited for the other transaction to end"
    response = result["response"]
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert BUSY in page
    assert "We have no time this year." in page
    again = member.post(path, data=data)
    assert again.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Proposal, proposal.id)
    assert saved is not None
    assert [r.decision for r in saved.responses] == [ResponseDecision.DECLINED]
