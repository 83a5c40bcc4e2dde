"""A few Redis keys whose values a process keeps, told by Redis when they change: server-assisted
client-side caching (RESP3 ``CLIENT TRACKING``) on one connection of the process's own.

redis-py's own client-side cache (``Redis(protocol=3, cache_config=...)``) refuses servers
older than Redis 7.4, and keeps one cache for a whole pool of connections, each tracked on its
own; this one needs Redis 6 or later (``CLIENT TRACKING`` with RESP3) and reads on one
connection, so the order of the server's answers and its invalidations on that connection is
the order in which Redis executed the commands.

How a read goes:

1. The connection is made by this process (a process forked from another makes its own: a
   gunicorn or Celery worker never shares the socket of its parent) with ``HELLO 3`` and
   ``CLIENT TRACKING ON``. Every connect, and every disconnect, forgets the values kept: an
   invalidation sent to a connection that is gone is lost, so nothing read on it is trusted.
   Values are also read again after ``max_age`` seconds, with a ``timeout`` on the answer: a
   connection whose server vanished without closing it (a host that crashed) would otherwise
   be polled, silent, forever.
2. Each read first takes every invalidation waiting on the socket without blocking (a
   ``poll`` of the socket, no round trip); any invalidation (of these keys, or ``FLUSHDB``)
   forgets the values.
3. When values are kept, they are the answer. Otherwise one ``MGET`` reads them all; Redis
   remembers that this connection read them, and the first write of any of them from any
   client sends this connection an invalidation. An answer holding a missing key is not kept.

What a reader can rely on: Redis queues the invalidation on the reader's connection while it
executes the write, before the writer's reply, and writes both to their sockets in the same
pass of its event loop, before it waits for more input (an invalidation is a few dozen bytes,
at most one a key between two reads: it never waits for room in the socket). A command the
writer sends after it had the reply is therefore read in a later pass: once the writer has the
answer to it (:meth:`fence`), the invalidation has been handed to the reader's socket; on one
host (loopback or a Unix socket) it is then in the reader's receive buffer, and the reader's
next poll sees it. A read that polled before that may still answer the old value, as a round
trip sent before the write would have. Across hosts the invalidation may still be on the
network when the fence returns.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis import ConnectionPool, Redis
from redis._parsers import _RESP3Parser
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class TrackedKeys:
    """The values of ``keys`` (decoded by ``decode``), read from the Redis at ``url`` and kept
    by this process until Redis tells it one changed."""

    def __init__(
        self,
        url: str,
        keys: Sequence[str],
        decode: Callable[[Any], Any],
        max_age: float = 10.0,
        timeout: float = 5.0,
    ) -> None:
        self.url, self.keys, self.decode = url, tuple(keys), decode
        self.max_age, self.timeout = max_age, timeout
        self._read_at = 0.0
        # A threaded server (the development one, gthread workers) shares the connection.
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._connection: AbstractConnection | None = None
        self._values: tuple[Any, ...] | None = None

    def get(self) -> tuple[Any, ...]:
        """The keys' values (None for a missing key), as Redis holds them now."""
        with self._lock:
            try:
                return self._read()
            except (RedisConnectionError, RedisTimeoutError):
                # Redis restarted, or closed an idle connection: once more on a new one.
                self._close()
                try:
                    return self._read()
                except Exception:
                    self._close()
                    raise
            except Exception:
                self._close()
                raise

    def _read(self) -> tuple[Any, ...]:
        connection = self._connected()
        while connection.can_read(timeout=0):
            connection.read_response(push_request=True)
            # Nothing comes unasked on this connection but invalidations: whatever came (even
            # through a parser that does not tell pushes from answers) forgets the values.
            self._values = None
        if self._values is not None and time.monotonic() - self._read_at < self.max_age:
            return self._values
        read_at = time.monotonic()
        connection.send_command("MGET", *self.keys)
        values = tuple(map(self.decode, connection.read_response()))
        self._read_at = read_at
        # An invalidation read before the answer is older than it: the answer stands. An
        # answer with a missing key is not kept, nor is anything kept before it.
        self._values = values if None not in values else None
        return values

    def _connected(self) -> AbstractConnection:
        if self._connection is None or self._pid != os.getpid():
            # A forked process leaves its parent's connection alone and makes its own.
            self._connection, self._values = None, None
            # The URL's own timeouts, if it names any, win.
            timeouts = {"socket_timeout": self.timeout, "socket_connect_timeout": self.timeout}
            # redis-py's own RESP3 parser, which hands pushes to the handler (hiredis < 3.2
            # would give them as answers).
            pool = ConnectionPool.from_url(
                self.url, protocol=3, parser_class=_RESP3Parser, **timeouts
            )
            connection = pool.make_connection()
            assert isinstance(connection, AbstractConnection)
            connection.register_connect_callback(self._on_connect)
            connection.connect()
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def _on_connect(self, connection: AbstractConnection) -> None:
        """Every (re)connection: tracking on, nothing kept from before."""
        self._values = None
        connection.send_command("CLIENT", "TRACKING", "ON")
        connection.read_response()
        connection._parser.set_invalidation_push_handler(self._on_invalidation)

    def _on_invalidation(self, _message: Any) -> None:
        # Only these keys are read on this connection: any invalidation (or a flush) is theirs.
        self._values = None

    def _close(self) -> None:
        self._values = None
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            connection.disconnect()

    @staticmethod
    def fence(client: Redis) -> None:
        """Called by a writer after its write: when it returns, Redis has handed the write's
        invalidations to the readers' sockets (they were written in the event-loop pass that
        ended before this command was read)."""
        client.ping()
