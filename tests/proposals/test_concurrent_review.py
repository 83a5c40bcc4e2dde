"""Two coordinators decide the same proposal at the same moment, through the review pages:
exactly one decision is saved, and only the winner's mail is ever sent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from matchmaker.accounts.models import Role
from matchmaker.core.models import AuditEvent, OutboxMessage
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.matching.engine import run_full
from matchmaker.notifications.models import Notification
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.concurrency import waiting_for_a_lock
from tests.conftest import Outbox, is_postgres
from tests.factories import PASSWORD, make_listing, make_organisation, make_user


@pytest.fixture
def proposal(app: Flask) -> Proposal:
    network = make_organisation(owner=make_user(email="rosie@example.org"))
    university = make_organisation(
        owner=make_user(email="alan@example.org"), kind=OrganisationKind.ACADEMIC_INSTITUTION
    )
    make_listing(organisation=network, themes=("research-evaluation",))
    make_listing(organisation=university, kind=ListingKind.OFFER, themes=("research-evaluation",))
    run_full()
    db.session.commit()
    found = db.session.scalar(sa.select(Proposal))
    assert found is not None
    return found


@pytest.fixture
def both_read_before_either_writes() -> Iterator[None]:
    """Hold each deciding request at its first write until the other has read the proposal
    too, so both decide on version 1: the race the optimistic lock is there for. On
    PostgreSQL the first to write holds the proposal's row (services.lock_proposal) and the
    other waits for it before writing: held until the other waits for that lock."""
    waited: set[int] = set()

    def wait_for_the_other(session: Session, *_: Any) -> None:
        thread = threading.get_ident()
        if threading.current_thread().name.startswith("coordinator") and thread not in waited:
            waited.add(thread)
            deadline = time.monotonic() + 20
            while len(waited) < 2 and not (is_postgres() and waiting_for_a_lock()):
                assert time.monotonic() < deadline, "the other request never came"
                time.sleep(0.02)

    sa.event.listen(Session, "before_flush", wait_for_the_other)
    yield
    sa.event.remove(Session, "before_flush", wait_for_the_other)


def _as(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_two_coordinators_decide_at_once_and_only_the_winner_is_saved_and_mailed(
    app: Flask, proposal: Proposal, outbox: Outbox, both_read_before_either_writes: None
) -> None:
    coordinators = {
        email: make_user(email=email, role=Role.COORDINATOR)
        for email in ("ann@example.org", "sam@example.org")
    }
    clients = {email: _as(app, email) for email in coordinators}
    version = proposal.version
    outbox.sink.messages.clear()
    responses: dict[str, Any] = {}

    def approve(email: str) -> None:
        responses[email] = clients[email].post(
            f"/coordination/proposals/{proposal.id}/approve",
            data={"approve-version": version, "approve-note": f"Introduced by {email}."},
        )

    threads = [
        threading.Thread(target=approve, args=(email,), name=f"coordinator-{email}")
        for email in coordinators
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    db.session.expire_all()
    saved = db.session.get(Proposal, proposal.id)
    assert (saved.status, saved.version) == (ProposalStatus.APPROVED, version + 1)
    winner = next(e for e, user in coordinators.items() if user.id == saved.decided_by_id)
    loser = next(e for e in coordinators if e != winner)
    assert responses[winner].status_code == 302
    assert responses[loser].status_code == 303  # back to the proposal, told who decided
    decisions = db.session.scalars(
        sa.select(AuditEvent.actor_id).where(AuditEvent.action == "proposal:approve")
    ).all()
    assert decisions == [coordinators[winner].id]
    # The loser's notifications and mail were rolled back with its decision: never sent.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2
    assert sorted(m["X-Envelope-To"] for m in outbox.sink.messages) == [
        "alan@example.org",
        "rosie@example.org",
    ]
    for message in outbox.sink.messages:
        assert f"Introduced by {winner}." in outbox.text(message)
        assert loser not in outbox.text(message)
