"""Answers and decisions that meet: two parties answering at once, a decision on a page the
matcher changed meanwhile. Each ends as if they had come one after the other: no answer
lost, no server error (overlapping approvals: test_coverage.py; the matcher and a
coordinator's decision: tests/matching/test_concurrency.py)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db
from matchmaker.notifications.models import Notification
from matchmaker.organisations.models import Organisation
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.concurrency import one_then_the_other
from tests.conftest import is_postgres
from tests.factories import PASSWORD
from tests.proposals.test_review_and_introductions import _approve, _as, world

postgres_only = pytest.mark.skipif(not is_postgres(), reason="needs real concurrent transactions")

__all__ = ["world"]


def _count(model: Any, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


@postgres_only
def test_two_parties_accepting_at_once_agree_and_are_told_once(app: Flask, world: dict) -> None:
    """Each answer was counted against the answers committed before it: the second party's,
    sent while the first one's was being saved, did not see it, and the proposal stayed
    introduced for ever with every party having accepted."""
    proposal = world["proposal"]
    _approve(_as(app, world["coordinator"]), proposal)
    rosie, alan = _as(app, world["network_owner"]), _as(app, world["uni_owner"])

    def accept(client: Any, organisation: Any) -> Any:
        return lambda: client.post(
            f"/proposals/{proposal.id}/organisations/{organisation.id}/accept"
        )

    first, second = one_then_the_other(
        "before_commit", accept(rosie, world["network"]), accept(alan, world["university"])
    )
    assert (first.status_code, second.status_code) == (302, 302)
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status == ProposalStatus.AGREED
    assert _count(AuditEvent, AuditEvent.action == "proposal:agree") == 1
    # Each member of each party told once that contacts are shared.
    assert _count(Notification, Notification.kind == "proposal:agreed") == 3


@postgres_only
def test_an_answer_sent_while_another_party_declines_is_refused(app: Flask, world: dict) -> None:
    proposal = world["proposal"]
    _approve(_as(app, world["coordinator"]), proposal)
    network, university = world["network"], world["university"]
    rosie, alan = _as(app, world["network_owner"]), _as(app, world["uni_owner"])
    declined, accepted = one_then_the_other(
        "before_commit",
        lambda: alan.post(
            f"/proposals/{proposal.id}/organisations/{university.id}/decline",
            data={f"r{university.id}-message": "No capacity this year."},
        ),
        lambda: rosie.post(f"/proposals/{proposal.id}/organisations/{network.id}/accept"),
    )
    assert declined.status_code == 302
    # Refused as any answer to an ended introduction is, not recorded on the declined one.
    assert accepted.status_code == 403
    db.session.expire_all()
    saved = db.session.get(Proposal, proposal.id)
    assert saved.status == ProposalStatus.DECLINED
    assert [r.organisation_id for r in saved.responses] == [university.id]


def test_a_decision_on_a_proposal_the_matcher_scored_again_meanwhile_says_so(
    app: Flask, world: dict
) -> None:
    """The version on the page is not the proposal's any more, though it still waits (the
    matcher scored it again, e.g. a full run that held it while the coordinator's first try
    was answered "busy"): the page shows it as it is now and says so, with the coordinator's
    note kept and the version now, so that sending it again decides it. It had said "is
    waiting for review; it cannot be decided now", then redirected, the note lost."""
    proposal = world["proposal"]
    db.session.execute(
        sa.update(Proposal).where(Proposal.id == proposal.id).values(version=2, score=55)
    )
    db.session.commit()
    coordinator = _as(app, world["coordinator"])
    url = f"/coordination/proposals/{proposal.id}/approve"
    note = "Both teams asked to meet before the summer."
    response = coordinator.post(url, data={"approve-version": 1, "approve-note": note})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert (
        "This proposal changed while you were reading it (the matcher scored it again). "
        "Read it again, then decide." in page
    )
    assert note in page
    assert 'name="approve-version" type="hidden" value="2"' in page
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status == ProposalStatus.PENDING_REVIEW
    again = coordinator.post(url, data={"approve-version": 2, "approve-note": note})
    assert again.status_code == 302
    db.session.expire_all()
    approved = db.session.get(Proposal, proposal.id)
    assert approved is not None
    assert (approved.status, approved.decision_note) == (ProposalStatus.APPROVED, note)


@postgres_only
def test_an_organisation_closing_while_its_proposal_is_approved_ends_the_introduction(
    app: Flask, world: dict
) -> None:
    """Closing withdraws the organisation's pending proposals and ends its introductions, as
    it read them: an approval committed meanwhile made its write find another version
    (StaleDataError), a 500 for the owner. Closing waits for the approval, then ends the
    introduction it made (the other party is told)."""
    proposal_id, university_id = world["proposal"].id, world["university"].id
    coordinator, alan = _as(app, world["coordinator"]), _as(app, world["uni_owner"])
    approved, closed = one_then_the_other(
        "after_flush",
        lambda: coordinator.post(
            f"/coordination/proposals/{proposal_id}/approve", data={"approve-version": 1}
        ),
        lambda: alan.post(f"/organisations/{university_id}/close", data={"password": PASSWORD}),
    )
    assert (approved.status_code, closed.status_code) == (302, 302)
    db.session.expire_all()
    assert db.session.get(Organisation, university_id).is_closed
    saved = db.session.get(Proposal, proposal_id)
    assert (saved.status, saved.decided_by_id) == (
        ProposalStatus.WITHDRAWN,
        world["coordinator"].id,
    )
    assert _count(Notification, Notification.kind == "proposal:ended") == 2
