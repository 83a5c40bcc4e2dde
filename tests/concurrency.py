"""Two requests at the same moment, in a chosen order and without sleeping (PostgreSQL).

The first request is held at a chosen point of its transaction (its first flush, or its
commit) while the second runs; the second is let go on until it has finished or waits for a
lock the first holds, which PostgreSQL shows in ``pg_stat_activity``; then the first goes on.
Without a lock the second reads what the first has not committed yet (the race); with one,
it waits and reads what the first decided.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from matchmaker.extensions import db

FIRST = "first-request"
WAITING = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def waiting_for_a_lock() -> int:
    with db.engine.connect() as connection:
        return int(connection.exec_driver_sql(WAITING).scalar_one())


@dataclass
class Hold:
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def held_at(event: str) -> Iterator[Hold]:
    """Hold the thread named ``FIRST`` at its first Session ``event`` ("after_flush",
    "before_commit"): it sets ``reached`` there and waits for ``release``."""
    hold = Hold()

    def wait_there(session: Session, *_: Any) -> None:
        if threading.current_thread().name == FIRST and not hold.reached.is_set():
            hold.reached.set()
            assert hold.release.wait(30), "never released"

    sa.event.listen(Session, event, wait_there)
    try:
        yield hold
    finally:
        hold.release.set()
        sa.event.remove(Session, event, wait_there)


def one_then_the_other(
    event: str, first: Callable[[], Any], second: Callable[[], Any]
) -> tuple[Any, Any]:
    """Run ``first`` until its ``event``, then ``second`` until it ends or waits for a lock,
    then let ``first`` go on; both results (a request's response)."""
    results: dict[str, Any] = {}
    with held_at(event) as hold:
        one = threading.Thread(target=lambda: results.update(first=first()), name=FIRST)
        one.start()
        assert hold.reached.wait(30), "the first request never got there"
        two = threading.Thread(target=lambda: results.update(second=second()), name="second")
        two.start()
        deadline = time.monotonic() + 30
        while two.is_alive() and not waiting_for_a_lock():
            assert time.monotonic() < deadline, "the second request neither ended nor waited"
            two.join(0.02)
        hold.release.set()
        one.join(60)
        two.join(60)
    assert not one.is_alive() and not two.is_alive()
    return results.get("first"), results.get("second")
