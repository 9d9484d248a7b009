"""Renders (print maps, offline pages, decks) kept and rationed per process.

A render costs a core for a second or more; the API answers in a millisecond. So renders
take at most `slots` request threads at once (the others stay free for everything else), a
request for a render already under way waits for that one instead of making its own, and a
request that finds every slot taken answers 503 with Retry-After at once rather than queue
behind them. Finished renders are kept, least recently used first out, within a byte bound
that counts their keys too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future

from server.http.sizes import held

RETRY_AFTER_SECONDS = 5  # what a busy answer tells a client to wait: about one render


class Busy(RuntimeError):
    """Every render slot of this process is taken by another view."""

    def __init__(self, slots: int):
        super().__init__(f"{slots} export(s) are being drawn in this process; "
                         f"ask again in {RETRY_AFTER_SECONDS} s")
        self.retry_after = RETRY_AFTER_SECONDS


class Renders:
    """Made once per key, at most `slots` at a time, kept within `limit` bytes."""

    def __init__(self) -> None:
        self._kept: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._running: dict[Hashable, Future[bytes]] = {}
        self._lock = threading.Lock()
        self.made = 0  # renders made (not kept ones nor shared ones): for tests and benchmarks

    def get_or_make(self, key: Hashable, make: Callable[[], bytes], limit: int, slots: int) -> bytes:
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
            running = self._running.get(key)
            if running is None:
                if len(self._running) >= slots:
                    raise Busy(slots)
                running = self._running[key] = Future()
                mine = True
            else:
                mine = False
        if not mine:
            return running.result()  # the same view is being drawn: share it
        try:
            body = make()  # outside the lock: renders of different views run side by side
        except BaseException as exc:
            with self._lock:
                del self._running[key]
            running.set_exception(exc)
            raise
        with self._lock:  # kept and no longer running in one step: no gap to start it again
            self.made += 1
            self._keep(key, body, limit)
            del self._running[key]
        running.set_result(body)
        return body

    def _keep(self, key: Hashable, body: bytes, limit: int) -> None:
        cost = len(body) + held(key)
        if cost > limit // 4 or key in self._kept:
            return  # one render must not push out all the others
        self._kept[key] = body
        self._size += cost
        while self._size > limit and self._kept:
            old_key, old = self._kept.popitem(last=False)
            self._size -= len(old) + held(old_key)

    @property
    def nbytes(self) -> int:
        return self._size

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._size = 0
