"""The generations read through Redis's client tracking (core/tracked_keys.py): kept by the
process without a round trip, and never older than Redis's once another client's write of them
has returned, through a real Redis on 127.0.0.1.

``MATCHMAKER_TEST_REDIS_URL`` names the Redis database (``redis://127.0.0.1:6379/5`` unless
told); the tests write only keys under a prefix of their own and delete them. Without a Redis
answering there, they are skipped.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from cachelib.serializers import RedisSerializer
from flask import Flask

from matchmaker.core import caching
from matchmaker.core.tracked_keys import TrackedKeys
from tests.core import test_caching

REDIS_URL = os.environ.get("MATCHMAKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
# This process's keys (pytest-xdist runs several processes on the same database).
PREFIX = f"test-tracking-{secrets.token_hex(4)}:"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not _redis_answers(), reason=f"no Redis answering at {REDIS_URL}")

serializer = RedisSerializer()


@pytest.fixture
def writer() -> Iterator[redis.Redis]:
    """Another client of the same Redis (another process's cache client)."""
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    for key in client.scan_iter(f"{PREFIX}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def tracked() -> Iterator[TrackedKeys]:
    keys = TrackedKeys(REDIS_URL, (f"{PREFIX}a", f"{PREFIX}b"), serializer.loads)
    yield keys
    keys._close()


@pytest.fixture
def kept(writer: redis.Redis, tracked: TrackedKeys) -> TrackedKeys:
    """``tracked`` after it read a = "one" and b = "two" (and keeps them)."""
    _write(writer, a="one", b="two")
    assert tracked.get() == ("one", "two")
    return tracked


def _write(writer: redis.Redis, **values: str) -> None:
    """What start_new_generation does: the write, then the fence."""
    for name, value in values.items():
        writer.set(f"{PREFIX}{name}", serializer.dumps(value))
    TrackedKeys.fence(writer)


def _count_round_trips(tracked: TrackedKeys) -> list[tuple[Any, ...]]:
    """The commands the tracked connection sends from now on."""
    sent: list[tuple[Any, ...]] = []
    connection = tracked._connection
    assert connection is not None
    send = connection.send_command

    def counting(*args: Any, **kwargs: Any) -> None:
        sent.append(args)
        send(*args, **kwargs)

    connection.send_command = counting  # type: ignore[method-assign]
    return sent


def test_kept_values_cost_no_round_trip(kept: TrackedKeys) -> None:
    sent = _count_round_trips(kept)
    for _ in range(50):
        assert kept.get() == ("one", "two")
    assert sent == []


def test_another_clients_write_is_seen_on_the_very_next_read(
    writer: redis.Redis, tracked: TrackedKeys
) -> None:
    _write(writer, a="a0", b="b0")
    assert tracked.get() == ("a0", "b0")
    sent = _count_round_trips(tracked)
    for round_ in range(1, 201):
        _write(writer, **({"a": f"a{round_}"} if round_ % 2 else {"b": f"b{round_}"}))
        values = tracked.get()
        assert values[round_ % 2 == 0] == f"{'ab'[round_ % 2 == 0]}{round_}"
        assert tracked.get() == values  # and then kept
    assert len(sent) == 200  # one MGET after each write, none in between


def test_a_missing_key_is_read_again(writer: redis.Redis, tracked: TrackedKeys) -> None:
    _write(writer, a="one")
    assert tracked.get() == ("one", None)
    _write(writer, b="two")
    assert tracked.get() == ("one", "two")


def test_a_broken_connection_forgets_what_it_kept(writer: redis.Redis, kept: TrackedKeys) -> None:
    connection = kept._connection
    assert connection is not None
    connection.send_command("CLIENT", "ID")
    writer.client_kill_filter(_id=connection.read_response())
    # Written while no connection of the reader's is tracked: no invalidation reaches it.
    _write(writer, a="three")
    assert kept.get() == ("three", "two")
    assert kept.get() == ("three", "two")


def test_kept_values_are_read_again_after_their_max_age(kept: TrackedKeys) -> None:
    sent = _count_round_trips(kept)
    kept.max_age = 0.0
    assert kept.get() == ("one", "two")
    assert len(sent) == 1


def test_a_forked_process_reads_on_a_connection_of_its_own(kept: TrackedKeys) -> None:
    parents = kept._connection
    kept._pid = -1  # as in a child: os.getpid() is no longer the reader's
    assert kept.get() == ("one", "two")
    assert kept._connection is not parents
    assert parents is not None and parents._sock is not None  # the parent's left alone
    parents.disconnect()


# The app with its cache in Redis, as in production -------------------------------------------


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": PREFIX,
        "CACHE_TRACKING": True,  # what production makes of a Redis on this host
    }


def test_the_app_reads_its_generations_through_tracking(app: Flask, writer: redis.Redis) -> None:
    tracked = app.extensions["tracked_generations"]
    assert isinstance(tracked, TrackedKeys)
    with app.app_context():
        accounts = caching.accounts_generation()
        data = caching.data_generation()
    # Another process starts a new accounts generation: this one sees it on its next request.
    writer.set(f"{PREFIX}{caching.ACCOUNTS_GENERATION_KEY}", serializer.dumps("renewed"))
    TrackedKeys.fence(writer)
    with app.app_context():
        assert caching.accounts_generation() == "renewed" != accounts
        assert caching.data_generation() == data
    # This process starts one: seen at once too.
    with app.app_context():
        caching.start_new_generation()
    with app.app_context():
        assert caching.data_generation() not in (data, "renewed")


def test_a_redis_that_refuses_tracking_is_read_each_request(
    app: Flask, writer: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Redis older than 6 (no HELLO 3) or one whose ACL refuses CLIENT: the pages still come
    from the cache, the generations read with a round trip, and a change is still seen."""
    tracked = app.extensions["tracked_generations"]

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise redis.ResponseError("unknown command 'HELLO'")

    monkeypatch.setattr(tracked, "_connected", refuse)
    with app.app_context():
        generation = caching.accounts_generation()
    assert "tracked_generations" not in app.extensions
    writer.set(f"{PREFIX}{caching.ACCOUNTS_GENERATION_KEY}", serializer.dumps("renewed"))
    with app.app_context():
        assert caching.accounts_generation() == "renewed" != generation
    assert app.test_client().get("/").status_code == 200


def test_every_message_on_the_tracked_connection_forgets_the_values(
    tracked: TrackedKeys, writer: redis.Redis
) -> None:
    """Even one a parser gave as an answer rather than a push: only invalidations come unasked."""
    writer.set(f"{PREFIX}a", serializer.dumps("one"))
    writer.set(f"{PREFIX}b", serializer.dumps("two"))
    assert tracked.get() == ("one", "two")
    tracked._on_invalidation = lambda _message: None  # type: ignore[method-assign]
    assert tracked._connection is not None
    tracked._connection._parser.set_invalidation_push_handler(tracked._on_invalidation)
    writer.set(f"{PREFIX}a", serializer.dumps("three"))
    TrackedKeys.fence(writer)
    assert tracked.get() == ("three", "two")


def test_tracking_can_be_turned_off(app: Flask) -> None:
    assert caching.tracked_generations(app) is not None
    app.config["CACHE_TRACKING"] = False  # MATCHMAKER_CACHE_TRACKING=false
    assert caching.tracked_generations(app) is None


def test_a_demoted_coordinator_loses_the_pages_at_once_with_the_cache_in_redis(
    app: Flask,
) -> None:
    test_caching.test_a_coordinator_who_loses_the_role_loses_the_pages_at_once(app)


def test_signing_out_ends_other_sessions_at_once_with_the_cache_in_redis(app: Flask) -> None:
    test_caching.test_signing_out_in_one_browser_ends_the_kept_sessions_of_the_others(app)
