"""Answers per build: `cached` answers what depends only on the build and the request — a 304
before any work, else a lookup in `CACHE`, which keeps each body with its compressed variants
(made once, on first demand), least recently used first out, bounded by
`RESPONSE_CACHE_BYTES` (keys and headers counted with the bodies). Map pages are kept apart
in `PAGES`, a quarter of the bound, so browsing many views never pushes out the API's
answers. The key always holds the build's stamp, so a new build is a miss.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import Response, current_app, request

from server.http.fastpath import mark_replayable
from server.http.negotiation import (
    Body,
    choose_coding,
    default_cache_control,
    etag,
    held_tag,
    not_modified,
    respond,
)
from server.http.sizes import exact, held, page_share

DEFAULT_CACHE_BYTES = 64 * 1024 * 1024


class ResponseCache:
    """Answers per build, least recently used first out, bounded by their bytes (all codings).

    The bytes are kept as a running total (each entry's as last counted), so keeping an answer
    costs the same with ten entries or a hundred thousand (a different URL per request — a
    million features, many users — fills the cache with small answers)."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple, tuple[int, dict, Body]] = OrderedDict()
        self._sizes: dict[tuple, int] = {}  # bytes of each entry as last counted
        self._total = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple):
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return entry

    @staticmethod
    def cost(key: tuple, entry: tuple[int, dict, Body]) -> int:
        """The entry's bytes: its body and variants, its headers and its key."""
        return entry[2].nbytes + held(entry[1]) + held(key)

    def put(self, key: tuple, entry: tuple[int, dict, Body], limit: int) -> None:
        size = self.cost(key, entry)
        if size > limit // 4:  # too large to keep: would push out everything else
            return
        with self._lock:
            self._items[key] = entry
            self._total += size - self._sizes.get(key, 0)
            self._sizes[key] = size
            self._trim(limit)

    def grew(self, key: tuple, limit: int) -> None:
        """Count the variants (codings) made for `key`'s body since it was kept, and trim."""
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                size = self.cost(key, entry)
                self._total += size - self._sizes[key]
                self._sizes[key] = size
            self._trim(limit)

    def _trim(self, limit: int) -> None:
        while self._total > limit and self._items:
            key, _ = self._items.popitem(last=False)
            self._total -= self._sizes.pop(key)

    def trim(self, limit: int) -> None:
        with self._lock:
            self._sizes = {k: self.cost(k, e) for k, e in self._items.items()}
            self._total = sum(self._sizes.values())
            self._trim(limit)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._sizes.clear()
            self._total = 0

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(self.cost(k, e) for k, e in self._items.items())


CACHE = ResponseCache()  # API answers, downloads, documents, geometry: three quarters of the bound
PAGES = ResponseCache()  # map pages (one per view structure, ~1.4 MB each): a quarter


def _limit(page: bool = False) -> int:
    total = int(current_app.config.get("RESPONSE_CACHE_BYTES", DEFAULT_CACHE_BYTES))
    return page_share(total) if page else total - page_share(total)


def cached(key: tuple, make: Callable[[], tuple[int, dict, bytes]], *,
           max_age: int | None = None, cache_control: str | None = None,
           page: bool = False) -> Response:
    """An answer that depends only on `key` (which must hold the build's stamp and every
    request detail the body uses): 304 before any work, else made once and kept.

    A 200 from here is replayed by `FastPath` as it went out (after the app's hooks): the
    caller returns it unchanged, and the body depends on nothing but the URL, the coding and
    the build. `page`: a map page, kept within the pages' share of the bound."""
    store = PAGES if page else CACHE
    tag = etag(*key)
    control = cache_control or default_cache_control(200, max_age)
    held = held_tag(request.headers.get("If-None-Match"), tag,
                    choose_coding(request.headers.get("Accept-Encoding")))
    if held is not None:
        return not_modified(held, control)
    entry = store.get(key)
    if entry is None:
        status, headers, raw = make()
        entry = (status, headers, Body(exact(raw) if status == 200 else raw, headers.get("Content-Type")))
        if status == 200:
            store.put(key, entry, _limit(page))
    status, headers, body = entry
    size = body.nbytes
    response = respond(status, headers, body, tag if status == 200 else None,
                       cache_control=control if status == 200 else None)
    if status == 200 and body.nbytes != size:  # a new variant was made: keep the bound
        store.grew(key, _limit(page))
    if status == 200:
        mark_replayable(tag, control, headers, page)
    return response
