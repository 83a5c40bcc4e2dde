from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingStatus
from matchmaker.matching import engine as matcher
from matchmaker.matching.engine import ADVISORY_LOCK_KEY
from matchmaker.matching.models import MatcherRun
from matchmaker.proposals.models import Proposal, ProposalStatus
from tests.conftest import is_postgres
from tests.proposals.test_review_and_introductions import _as, world

__all__ = ["world"]

pytestmark = pytest.mark.skipif(not is_postgres(), reason="advisory locks are PostgreSQL's")


def test_a_second_run_says_another_is_under_way(app: Flask) -> None:
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as other:
        other.execute(sa.select(sa.func.pg_advisory_lock(ADVISORY_LOCK_KEY)))
        result = app.test_cli_runner().invoke(args=["match", "run"])
        assert result.exit_code != 0
        assert "Another matcher run is under way" in result.output
        other.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
    engine.dispose()
    assert app.test_cli_runner().invoke(args=["match", "run"]).exit_code == 0


def test_wait_runs_after_the_other_run(app: Flask) -> None:
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    other = engine.connect()
    other.execute(sa.select(sa.func.pg_advisory_lock(ADVISORY_LOCK_KEY)))
    release = threading.Timer(
        0.5, lambda: other.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
    )
    release.start()
    result = app.test_cli_runner().invoke(args=["match", "run", "--wait"])
    release.join()
    other.close()
    engine.dispose()
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatcherRun)) == 1


def test_the_matcher_never_withdraws_what_a_coordinator_approved_meanwhile(
    app: Flask, world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The matcher plans from what it read, then writes: a proposal approved (its parties
    introduced) between the two was written back as withdrawn."""
    proposal_id = world["proposal"].id
    coordinator = _as(app, world["coordinator"])
    listing_id = world["proposal"].listing_ids[0]
    db.session.execute(
        sa.update(Listing).where(Listing.id == listing_id).values(status=ListingStatus.PAUSED)
    )
    db.session.commit()
    db.session.remove()  # the matcher starts from nothing read, as a job does
    write, approved = matcher.apply, []

    def approved_meanwhile(*args: Any, **kwargs: Any) -> None:
        if not approved:  # the listing's own plan; then those of the listings it freed
            response = coordinator.post(
                f"/coordination/proposals/{proposal_id}/approve", data={"approve-version": 1}
            )
            approved.append(response.status_code)
        write(*args, **kwargs)

    monkeypatch.setattr(matcher, "apply", approved_meanwhile)
    run = matcher.match_listing(db.session.get(Listing, listing_id))
    db.session.commit()
    assert approved == [302]
    assert run is not None and run.proposals_withdrawn == 0
    db.session.expire_all()
    saved = db.session.get(Proposal, proposal_id)
    assert (saved.status, saved.withdrawn_at) == (ProposalStatus.APPROVED, None)
