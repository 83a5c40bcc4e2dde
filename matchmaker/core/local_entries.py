"""What a process keeps of what it read or worked out lately (shared cache entries, verified
session cookies, signed CSRF tokens): by key, for a while, the least recently used dropped first."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any


class LocalEntries:
    """Values by key, each kept ``timeout`` seconds at most and ``size`` of them at most, the
    least recently used dropped first."""

    def __init__(self, size: int, timeout: float) -> None:
        self.size, self.timeout = size, timeout
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        # A threaded server (the development one, gthread workers) shares the entries.
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.timeout, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
