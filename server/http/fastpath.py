"""The cache-hit fast path: `FastPath` (WSGI middleware in front of Flask) replays a 200 that
`server.http.cache.cached` made, byte for byte with its headers, to the next GET of the same URL
(scheme, host, prefix, path, query) and coding while the build that made it is still the one
served, before any routing or request context; a 304 when If-None-Match names it. Misses go to
Flask. No library does this: see docs/handwritten.md.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request

from server.http.negotiation import choose_coding, held_tag
from server.http.sizes import held, page_share

REPLAYABLE = "atlas.replayable"  # environ key: how FastPath may replay this 200 (a mark below)
# What a 304 does not repeat from the 200: the representation's own headers (a 304 sets its
# ETag, Cache-Control and Vary anew) and the route's (a 304 is answered before they are made).
_REPRESENTATION = frozenset({"content-type", "content-length", "content-encoding", "etag", "vary",
                             "cache-control"})


def _pinned_stamp() -> Any:
    """The stamp of the build this request is answered from (pinned by the store), if any."""
    store = current_app.extensions.get("atlas_store")
    return store.snapshot().stamp if store is not None else None


@dataclass(frozen=True)
class CachedMark:
    """Set by `cached` on a 200: replayed as it went out, with the same 304s."""

    stamp: Any  # the build the body was made from (the store's stamp)
    tag: str  # the resource's ETag (identity representation)
    control: str  # its Cache-Control
    route_headers: frozenset[str]  # lower-case names the route set itself
    page: bool = False  # a map page: kept within the pages' share of the bound

    def replay(self, status: str, headers: list[tuple[str, str]], body: bytes) -> Replay:
        skip = _REPRESENTATION | self.route_headers
        return Replay(self.stamp, self.tag, self.control, status, list(headers), body,
                      [(k, v) for k, v in headers if k.lower() not in skip], self.page)


@dataclass(frozen=True)
class Replay:
    """One 200 as it went out, and what a 304 for it repeats."""

    stamp: Any
    tag: str
    control: str
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    kept: list[tuple[str, str]]  # CORS, CSP, nosniff, …: what the app's hooks added
    page: bool

    def cost(self, key: tuple) -> int:
        """Its bytes kept under `key`: body, headers (both lists), the key; so many tiny
        answers, or long Hosts, cannot outgrow the bound."""
        return len(self.body) + held(self.headers) + held(self.kept) + held(key) + 200

    def answer(self, if_none_match: str | None, coding: str,
               start_response: Callable) -> list[bytes]:
        held = held_tag(if_none_match, self.tag, coding)
        if held is None:
            start_response(self.status, list(self.headers))
            return [self.body]
        start_response("304 NOT MODIFIED", [("ETag", held),
                                            ("Cache-Control", self.control),
                                            ("Vary", "Accept-Encoding"), *self.kept])
        return []


def request_key(environ: dict, coding: str) -> tuple:
    """Every request detail a replayed body may use: scheme, host and prefix (absolute links,
    after ProxyFix when it is installed outside), path and raw query, and the coding."""
    return (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"), environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""), coding)


class FastPath:
    """WSGI middleware: replays the 200s `cached` made (and their 304s) without entering Flask:
    no request context, no routing, no hooks.

    `serving` returns the stamp of the build a request would be answered from now (None when
    a new file waits to be loaded): an answer is replayed only while it equals the stamp the
    answer was made from, so a new build is served from its first request on. Bounded by
    `limit` bytes (bodies, the CACHE's own objects, so mostly shared, and the headers and keys
    around them), oldest out; map pages within their share of it (`page_share`), so many map
    views do not push out the API's replays."""

    def __init__(self, app: Callable, serving: Callable[[], Any], limit: int) -> None:
        self.app, self.serving, self.limit = app, serving, limit
        self._items: dict[tuple, Replay] = {}  # reads take no lock: a dict
        # per share (False: answers, True: map pages): keys oldest first, bytes, bound
        self._order: dict[bool, dict[tuple, int]] = {False: {}, True: {}}
        self._bytes = {False: 0, True: 0}
        self._limits = {False: limit - page_share(limit), True: page_share(limit)}
        self._lock = threading.Lock()
        self.hits = 0  # approximate under threads; for tests and curiosity

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        coding = choose_coding(environ.get("HTTP_ACCEPT_ENCODING"))
        key = request_key(environ, coding)
        replay = self._items.get(key)
        if replay is not None and replay.stamp == self.serving():
            self.hits += 1
            return replay.answer(environ.get("HTTP_IF_NONE_MATCH"), coding, start_response)
        return self._through(key, environ, start_response)

    def _through(self, key: tuple, environ: dict, start_response: Callable) -> Iterable[bytes]:
        seen: list = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen[:] = [status, headers]
            return start_response(status, headers, exc_info)

        out = self.app(environ, capture)
        mark = environ.get(REPLAYABLE)
        if mark is None or not seen or not seen[0].startswith("200 "):
            return out
        try:  # a cached body is one bytes object already: joining it does not copy
            body = b"".join(out)
        finally:
            if hasattr(out, "close"):
                out.close()
        self._put(key, mark.replay(seen[0], seen[1], body))
        return [body]

    def _put(self, key: tuple, replay: Replay) -> None:
        share, size = replay.page, replay.cost(key)
        limit = self._limits[share]
        if size > limit // 4:  # as CACHE: too large to keep without pushing out the rest
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes[old.page] -= self._order[old.page].pop(key)
            self._items[key] = replay
            order = self._order[share]
            order[key] = size
            self._bytes[share] += size
            while self._bytes[share] > limit and order:
                oldest = next(iter(order))
                self._bytes[share] -= order.pop(oldest)
                del self._items[oldest]

    @property
    def nbytes(self) -> int:
        return self._bytes[False] + self._bytes[True]


def mark_replayable(tag: str, control: str, headers: dict, page: bool = False) -> None:
    """Tell `FastPath` (on the way out) that this 200 may be replayed, and for which build."""
    stamp = _pinned_stamp()
    if stamp is not None:
        request.environ[REPLAYABLE] = CachedMark(stamp, tag, control,
                                                 frozenset(h.lower() for h in headers), page)
