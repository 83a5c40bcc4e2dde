"""L4: one party's answer sent several times, at once or one after another, is recorded once
and every request gets the answer the first one got: never a 500."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.proposals.models import ProposalResponse, ResponseDecision
from tests.conftest import is_postgres
from tests.proposals.test_review_and_introductions import _approve, _as, world

__all__ = ["world"]


def _responses() -> list[ProposalResponse]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ProposalResponse)))


def test_l4_an_answer_sent_again_gets_the_first_answer(app: Flask, world: dict) -> None:
    proposal = world["proposal"]
    _approve(_as(app, world["coordinator"]), proposal)
    rosie = _as(app, world["network_owner"])
    url = f"/proposals/{proposal.id}/organisations/{world['network'].id}/accept"
    first, again = rosie.post(url), rosie.post(url)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    page = rosie.get(again.headers["Location"]).get_data(as_text=True)
    assert "You accepted on behalf of Social Enterprise Network" in page
    assert len(_responses()) == 1


def test_l4_an_answer_that_loses_the_race_gets_the_first_answer(app: Flask, world: dict) -> None:
    """Another request records the same answer between this one's check and its insert: the
    unique (proposal, organisation) key refuses the second row, and the request still ends
    like the first."""
    proposal = world["proposal"]
    _approve(_as(app, world["coordinator"]), proposal)
    network = world["network"]
    rosie = _as(app, world["network_owner"])

    def other_request_answers_first(session: Any, _context: Any, _instances: Any) -> None:
        if not any(isinstance(item, ProposalResponse) for item in session.new):
            return
        with db.engine.begin() as other:
            other.execute(
                sa.insert(ProposalResponse).values(
                    proposal_id=proposal.id,
                    organisation_id=network.id,
                    decision=ResponseDecision.ACCEPTED,
                    responded_by_id=world["network_member"].id,
                    created_at=utcnow(),
                )
            )

    sa.event.listen(sa.orm.Session, "before_flush", other_request_answers_first, once=True)
    try:
        response = rosie.post(f"/proposals/{proposal.id}/organisations/{network.id}/accept")
    finally:
        if sa.event.contains(sa.orm.Session, "before_flush", other_request_answers_first):
            sa.event.remove(sa.orm.Session, "before_flush", other_request_answers_first)
    assert response.status_code == 302
    page = rosie.get(response.headers["Location"]).get_data(as_text=True)
    assert "You accepted on behalf of Social Enterprise Network" in page
    assert [r.responded_by_id for r in _responses()] == [world["network_member"].id]


@pytest.mark.skipif(not is_postgres(), reason="needs real concurrent transactions")
def test_l4_eight_concurrent_accepts_by_one_member_are_recorded_once(
    app: Flask, world: dict
) -> None:
    proposal = world["proposal"]
    _approve(_as(app, world["coordinator"]), proposal)
    clients = [_as(app, world["network_owner"]) for _ in range(8)]
    url = f"/proposals/{proposal.id}/organisations/{world['network'].id}/accept"
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def accept(client: Any) -> None:
        start.wait()
        statuses.append(client.post(url).status_code)

    threads = [threading.Thread(target=accept, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 8
    assert len(_responses()) == 1
