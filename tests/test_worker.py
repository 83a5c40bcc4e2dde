"""Jobs and mail through a real Celery worker on Redis (``pytest -m worker``, run by .ci/run).

Set ``MATCHMAKER_TEST_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/1``) to run these; the
fixture starts ``celery -A matchmaker.jobs worker`` on the test database with an SMTP sink of
its own, and stops it at the end. Without the variable they are skipped: the rest of the suite
runs jobs in-process (eager mode).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.accounts.models import Role, User
from matchmaker.core.jobs import enqueue
from matchmaker.core.models import MessageStatus, OutboxMessage
from matchmaker.core.outbox import DELIVER_DUE
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, ListingKind
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import ProposalParty
from tests.conftest import SMTPSink, free_port
from tests.factories import PASSWORD, make_listing, make_organisation, make_user

BROKER_URL = os.environ.get("MATCHMAKER_TEST_BROKER_URL")
ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.worker,
    # One Celery worker on one queue: the module's tests run in one xdist worker, in order.
    pytest.mark.xdist_group("celery-worker"),
    pytest.mark.skipif(not BROKER_URL, reason="set MATCHMAKER_TEST_BROKER_URL to a Redis URL"),
]


class RestartableSink:
    """An SMTP sink on a fixed port that can be stopped (the mail server is down) and started
    again."""

    def __init__(self) -> None:
        self.sink = SMTPSink(port=free_port())
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.sink.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="module")
def worker_smtp() -> Iterator[RestartableSink]:
    smtp = RestartableSink()
    smtp.start()
    yield smtp
    smtp.stop()


@pytest.fixture(scope="module")
def worker(
    database_url: str,
    reference_rows: dict[str, Any],
    worker_smtp: RestartableSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[subprocess.Popen[bytes]]:
    assert BROKER_URL is not None
    Celery(broker=BROKER_URL).control.purge()  # nothing left over from an earlier run
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        **os.environ,
        "MATCHMAKER_ENV": "testing",
        "MATCHMAKER_SECRET_KEY": "test-secret-key-not-for-production",
        "MATCHMAKER_DATABASE_URL": database_url,
        "MATCHMAKER_BROKER_URL": BROKER_URL,
        "MATCHMAKER_MAIL_SERVER": "127.0.0.1",
        "MATCHMAKER_MAIL_PORT": str(worker_smtp.sink.port),
        "MATCHMAKER_BASE_URL": "http://localhost",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "celery", "-A", "matchmaker.jobs", "worker"]
    options = ["--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, *options, "-n", f"test-{os.getpid()}@%h"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "ready." in log.read_text(), what="the worker to start", seconds=60)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        print(log.read_text())


@pytest.fixture
def app_config(worker_smtp: RestartableSink) -> dict[str, Any]:
    return {"BROKER_URL": BROKER_URL, "MAIL_PORT": worker_smtp.sink.port}


@pytest.fixture
def sink(worker_smtp: RestartableSink, worker: Any) -> SMTPSink:
    worker_smtp.sink.messages.clear()
    return worker_smtp.sink


def wait_for(condition: Callable[[], Any], *, what: str, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


def _messages() -> list[OutboxMessage]:
    db.session.rollback()  # see what the worker committed
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def _as(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
    return client


def test_the_worker_delivers_a_sign_up_mail(
    app: Flask, client: FlaskClient, sink: SMTPSink
) -> None:
    response = client.post(
        "/signup",
        data={
            "email": "new@example.org",
            "display_name": "Nia Newcomer",
            "password": "a-long-password",
            "confirm_password": "a-long-password",
        },
    )
    assert response.status_code == 200
    wait_for(lambda: sink.messages, what="the confirmation mail")
    [message] = sink.messages
    assert "new@example.org" in message["X-Envelope-To"]
    wait_for(lambda: _messages()[0].status == MessageStatus.SENT, what="the message marked sent")


def test_with_smtp_down_the_request_succeeds_and_the_mail_follows_once(
    app: Flask, worker_smtp: RestartableSink, sink: SMTPSink
) -> None:
    make_user(email="forgetful@example.org")
    worker_smtp.stop()
    try:
        response = app.test_client().post(
            "/forgot-password", data={"email": "forgetful@example.org"}
        )
        assert response.status_code == 200
        wait_for(
            lambda: _messages() and _messages()[0].attempts == 1,
            what="the worker's first attempt",
        )
        [message] = _messages()
        assert message.status == MessageStatus.PENDING and message.last_error
    finally:
        worker_smtp.start()
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    enqueue(DELIVER_DUE)  # what the scheduler sends every 30 seconds
    enqueue(DELIVER_DUE)  # twice: the message still goes out once
    wait_for(lambda: sink.messages, what="the mail once the server is back")
    wait_for(lambda: _messages()[0].status == MessageStatus.SENT, what="the message marked sent")
    time.sleep(1)
    assert len(sink.messages) == 1


def test_the_worker_matches_a_posted_listing(app: Flask, sink: SMTPSink) -> None:
    university = make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION)
    make_listing(organisation=university, kind=ListingKind.OFFER, themes=("research-evaluation",))
    member = make_user()
    organisation = make_organisation(owner=member)
    response = _as(app, member).post(
        f"/organisations/{organisation.id}/listings/new/need",
        data={
            "title": "Evaluation of our work-integration programme",
            "description": "We need researchers to evaluate the social impact of our work.",
            "themes": ["research-evaluation"],
            "scope": "regional",
            "expires_on": "",
        },
    )
    assert response.status_code == 302
    need_id = db.session.scalar(sa.select(Listing.id).where(Listing.kind == ListingKind.NEED))

    def proposals() -> int:
        db.session.rollback()
        statement = sa.select(sa.func.count()).select_from(ProposalParty)
        return db.session.scalar(statement.where(ProposalParty.listing_id == need_id)) or 0

    wait_for(proposals, what="the worker to match the new need")


def test_a_full_run_from_the_page_runs_on_the_worker(app: Flask, sink: SMTPSink) -> None:
    make_listing(themes=("research-evaluation",))
    make_listing(
        organisation=make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION),
        kind=ListingKind.OFFER,
        themes=("research-evaluation",),
    )
    coordinator = _as(app, make_user(role=Role.COORDINATOR))
    job_page = coordinator.post("/coordination/matching/run").headers["Location"]
    wait_for(
        lambda: (
            "Done: 2 listings considered, 1 proposals added"
            in coordinator.get(job_page).get_data(as_text=True)
        ),
        what="the job page to show the run's outcome",
    )
