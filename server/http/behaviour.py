"""HTTP behaviour of every route, in one place: content negotiation, ETag/304, caching, CORS.

- **Codings.** `choose_coding` reads Accept-Encoding with werkzeug (q-values: `gzip;q=0`
  refuses gzip; a named coding outranks `*`); bodies go out as br (when the `brotli` package is
  installed), gzip or identity, always with `Vary: Accept-Encoding`.
- **Validators.** One ETag per representation: the identity body has the route's tag, the
  gzip body the same tag with `-gzip`, the brotli body with `-br`. If-None-Match matches any
  representation of the resource (werkzeug parses it), and the 304 repeats the tag the client
  holds.
- **Per build.** `cached` answers what depends only on the build and the request: a 304
  before any work, else a lookup in `CACHE`, which keeps each body with its compressed
  variants (made once, on first demand), least recently used first out, bounded by
  `RESPONSE_CACHE_BYTES`. The key always holds the build's stamp, so a new build is a miss.
- **Fast path.** `FastPath` (WSGI middleware in front of Flask) replays a 200 that `cached`
  made, byte for byte with its headers, to the next GET of the same URL (scheme, host, prefix,
  path, query) and coding while the build that made it is still the one served, before any
  routing or request context; a 304 when If-None-Match names it. Misses go to Flask.
- `finish` (installed on the app) negotiates whatever a route answered on its own.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.http import parse_accept_header, parse_etags, quote_etag, unquote_etag

try:  # optional: brotli is offered only when the package is installed
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

COMPRESSIBLE = {
    "application/json", "application/geo+json", "application/vnd.oai.openapi+json",
    "text/html", "text/csv", "text/plain", "text/css", "text/javascript",
    "application/javascript", "application/vnd.google-earth.kml+xml", "image/svg+xml",
    "application/geopackage+sqlite3", "application/vnd.mapbox-vector-tile",
}
MIN_COMPRESS_BYTES = 1024
EXPOSED = "ETag, Content-Disposition, Link, X-Atlas-Built-At, X-Atlas-Documents"
SUFFIX = {"gzip": "-gzip", "br": "-br"}
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024


def etag(*parts: object) -> str:
    """A strong validator from what determines the body (build, path, query, host)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8", "replace")).hexdigest()
    return f'"{digest[:32]}"'


def variant_tag(tag: str, coding: str) -> str:
    """The ETag of one representation: `"x"` (identity), `"x-gzip"`, `"x-br"`."""
    return tag if coding == "identity" else tag[:-1] + SUFFIX[coding] + '"'


def held_tag(if_none_match: str | None, tag: str, coding: str) -> str | None:
    """The ETag a 304 repeats when If-None-Match names any representation of `tag`'s resource
    (identity, gzip or br; weak or strong), else None. werkzeug reads the header (quoted
    commas, `W/`, `*`); the client's own tag is repeated, the one of `coding` first; `*` gets
    `tag`."""
    if not if_none_match:
        return None
    held = parse_etags(if_none_match)
    if held.star_tag:
        return tag
    for each in dict.fromkeys((coding, "identity", *SUFFIX)):
        value, _ = unquote_etag(variant_tag(tag, each))
        if held.contains_weak(value):  # If-None-Match compares weakly (RFC 9110 13.1.2)
            return quote_etag(value, weak=not held.is_strong(value))
    return None


def matches(if_none_match: str | None, tag: str) -> bool:
    return held_tag(if_none_match, tag, "identity") is not None


@functools.lru_cache(maxsize=256)
def choose_coding(accept_encoding: str | None) -> str:
    """The coding a client's Accept-Encoding gets: its best-rated of br (when the package is
    installed) and gzip, else identity. werkzeug reads the header: q-values (`gzip;q=0`
    refuses gzip), a named coding outranks `*`, an item with a malformed q is left out.
    Remembered per header value: clients send a handful of them."""
    offered = ("br", "gzip") if brotli is not None else ("gzip",)
    return parse_accept_header(accept_encoding).best_match(offered, default="identity")


def gzip_body(body: bytes, level: int = 6) -> bytes:
    return gzip.compress(body, compresslevel=level, mtime=0)


def compress(body: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip_body(body)
    if coding == "br" and brotli is not None:
        return brotli.compress(body, quality=5 if len(body) > 1 << 20 else 9)
    return body


def compressible(media_type: str | None) -> bool:
    return (media_type or "").split(";")[0].strip().lower() in COMPRESSIBLE


@dataclass
class Body:
    """One body and its compressed variants, each made once when first asked for."""

    identity: bytes
    media_type: str | None = None
    variants: dict[str, bytes] = field(default_factory=dict)

    def coding_for(self, accept_encoding: str | None) -> str:
        if len(self.identity) < MIN_COMPRESS_BYTES or not compressible(self.media_type):
            return "identity"
        return choose_coding(accept_encoding)

    def coded(self, coding: str) -> bytes:
        if coding == "identity":
            return self.identity
        body = self.variants.get(coding)
        if body is None:  # two threads may both compress once: harmless, same bytes
            body = self.variants[coding] = compress(self.identity, coding)
        return body

    @property
    def nbytes(self) -> int:
        return len(self.identity) + sum(map(len, self.variants.values()))


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

    def put(self, key: tuple, entry: tuple[int, dict, Body], limit: int) -> None:
        size = entry[2].nbytes
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
                size = entry[2].nbytes
                self._total += size - self._sizes[key]
                self._sizes[key] = size
            self._trim(limit)

    def _trim(self, limit: int) -> None:
        while self._total > limit and self._items:
            key, _ = self._items.popitem(last=False)
            self._total -= self._sizes.pop(key)

    def trim(self, limit: int) -> None:
        with self._lock:
            self._sizes = {k: e[2].nbytes for k, e in self._items.items()}
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
            return sum(e[2].nbytes for e in self._items.values())


CACHE = ResponseCache()


def _limit() -> int:
    return int(current_app.config.get("RESPONSE_CACHE_BYTES", DEFAULT_CACHE_BYTES))


def _cache_control(status: int, max_age: int | None) -> str:
    if status != 200:
        return "no-store"
    if max_age is None:
        max_age = int(current_app.config.get("API_CACHE_SECONDS", 300))
    return f"public, max-age={max_age}"


def not_modified(held: str, cache_control: str) -> Response:
    response = Response(status=304)
    response.headers["ETag"] = held
    response.headers["Cache-Control"] = cache_control
    response.vary.add("Accept-Encoding")
    response.atlas_negotiated = True  # type: ignore[attr-defined]
    return response


def respond(status: int, headers: dict, body: bytes | Body, tag: str | None = None, *,
            max_age: int | None = None, cache_control: str | None = None) -> Response:
    """The one way an answer goes out: coding chosen from Accept-Encoding, the ETag of that
    representation, Vary, Cache-Control, and a 304 when the client already holds it."""
    if not isinstance(body, Body):
        body = Body(body, headers.get("Content-Type"))
    elif body.media_type is None:
        body.media_type = headers.get("Content-Type")
    control = cache_control or _cache_control(status, max_age)
    coding = body.coding_for(request.headers.get("Accept-Encoding")) if status == 200 else "identity"
    if status == 200 and tag is not None:
        held = held_tag(request.headers.get("If-None-Match"), tag, coding)
        if held is not None:
            return not_modified(held, control)
    response = Response(body.coded(coding), status=status)
    for key, value in headers.items():
        response.headers[key] = value
    if coding != "identity":
        response.headers["Content-Encoding"] = coding
    if status == 200 and tag is not None:
        response.headers["ETag"] = variant_tag(tag, coding)
    if compressible(response.mimetype):
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = control
    response.atlas_negotiated = True  # type: ignore[attr-defined]
    return response


def cached(key: tuple, make: Callable[[], tuple[int, dict, bytes]], *,
           max_age: int | None = None, cache_control: str | None = None) -> Response:
    """An answer that depends only on `key` (which must hold the build's stamp and every
    request detail the body uses): 304 before any work, else made once and kept.

    A 200 from here is replayed by `FastPath` as it went out (after the app's hooks): the
    caller returns it unchanged, and the body depends on nothing but the URL, the coding and
    the build."""
    tag = etag(*key)
    control = cache_control or _cache_control(200, max_age)
    held = held_tag(request.headers.get("If-None-Match"), tag,
                    choose_coding(request.headers.get("Accept-Encoding")))
    if held is not None:
        return not_modified(held, control)
    entry = CACHE.get(key)
    if entry is None:
        status, headers, raw = make()
        entry = (status, headers, Body(raw, headers.get("Content-Type")))
        if status == 200:
            CACHE.put(key, entry, _limit())
    status, headers, body = entry
    size = body.nbytes
    response = respond(status, headers, body, tag if status == 200 else None,
                       cache_control=control if status == 200 else None)
    if status == 200 and body.nbytes != size:  # a new variant was made: keep the bound
        CACHE.grew(key, _limit())
    if status == 200:
        _mark_replayable(tag, control, headers)
    return response


def _mark_replayable(tag: str, control: str, headers: dict) -> None:
    """Tell `FastPath` (on the way out) that this 200 may be replayed, and for which build."""
    stamp = _pinned_stamp()
    if stamp is not None:
        request.environ[REPLAYABLE] = CachedMark(stamp, tag, control,
                                                 frozenset(h.lower() for h in headers))


# ---------------------------------------------------------------------------------------------
# Cache-hit fast path

REPLAYABLE = "atlas.replayable"  # environ key: how FastPath may replay this 200 (a mark below)
# What a 304 does not repeat from the 200: the representation's own headers (a 304 sets its
# ETag, Cache-Control and Vary anew) and the route's (a 304 is answered before they are made).
_REPRESENTATION = frozenset({"content-type", "content-length", "content-encoding", "etag", "vary",
                             "cache-control"})


def _pinned_stamp() -> Any:
    """The stamp of the build this request is answered from (pinned by the store), if any."""
    store = current_app.extensions.get("atlas_store")
    return store.snapshot().stamp if store is not None else None


def _kept_nbytes(headers: list[tuple[str, str]]) -> int:
    """What a replay holds besides its body, roughly (CPython objects: each header's tuple and
    strings, the key): so many tiny answers cannot outgrow the bound."""
    return 600 + sum(160 + len(k) + len(v) for k, v in headers)


@dataclass(frozen=True)
class CachedMark:
    """Set by `cached` on a 200: replayed as it went out, with the same 304s."""

    stamp: Any  # the build the body was made from (the store's stamp)
    tag: str  # the resource's ETag (identity representation)
    control: str  # its Cache-Control
    route_headers: frozenset[str]  # lower-case names the route set itself

    def replay(self, status: str, headers: list[tuple[str, str]], body: bytes) -> Replay:
        skip = _REPRESENTATION | self.route_headers
        return Replay(self.stamp, self.tag, self.control, status, list(headers), body,
                      [(k, v) for k, v in headers if k.lower() not in skip])


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

    @property
    def nbytes(self) -> int:
        return len(self.body) + _kept_nbytes(self.headers)

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
    `limit` bytes (bodies, the CACHE's own objects, so mostly shared, and the headers around
    them), oldest out."""

    def __init__(self, app: Callable, serving: Callable[[], Any], limit: int) -> None:
        self.app, self.serving, self.limit = app, serving, limit
        self._items: dict[tuple, Replay] = {}  # reads take no lock: a dict
        self._nbytes = 0  # lookup is atomic
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
        size = replay.nbytes
        if size > self.limit // 4:  # as CACHE: too large to keep without pushing out the rest
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._nbytes += size - (old.nbytes if old else 0)
            self._items[key] = replay
            while self._nbytes > self.limit and self._items:
                self._nbytes -= self._items.pop(next(iter(self._items))).nbytes

    @property
    def nbytes(self) -> int:
        return self._nbytes


# ---------------------------------------------------------------------------------------------
# Flask glue


def finish(response: Response) -> Response:
    """Negotiate an answer a route made on its own (templates, jsonify, exports): compress a
    200 when the client accepts it, tag the coding on its ETag, add Vary."""
    if getattr(response, "atlas_negotiated", False) or response.direct_passthrough:
        return response
    if not compressible(response.mimetype) or "Content-Encoding" in response.headers:
        return response
    response.vary.add("Accept-Encoding")
    if response.status_code != 200 or response.is_streamed:
        return response
    body = response.get_data()
    if len(body) < MIN_COMPRESS_BYTES:
        return response
    coding = choose_coding(request.headers.get("Accept-Encoding"))
    if coding == "identity":
        return response
    response.set_data(compress(body, coding))
    response.headers["Content-Encoding"] = coding
    value, weak = response.get_etag()
    if value and not value.endswith(tuple(SUFFIX.values())):  # the route's tag, not a variant's
        response.set_etag(value + SUFFIX[coding], bool(weak))
    return response


def _cors(response: Response) -> None:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match, Accept-Encoding"
        response.headers["Access-Control-Max-Age"] = "86400"


def install(blueprint: Blueprint, methods: Iterable[str] = ("GET", "HEAD", "OPTIONS")) -> None:
    """CORS (read-only, any origin: the data is public) for a blueprint's answers."""
    allowed = set(methods)

    @blueprint.after_request
    def _after(response: Response) -> Response:
        if request.method in allowed:
            _cors(response)
        return response


def install_app(app: Flask, serving: Callable[[], Any]) -> None:
    """Every answer of the app goes through `finish` (the routes' own go through `respond`), and
    `FastPath` replays the cached ones. Install before ProxyFix wraps the app, so the fast
    path sees the forwarded scheme, host and prefix."""
    app.after_request(finish)
    limit = int(app.config.get("RESPONSE_CACHE_BYTES", DEFAULT_CACHE_BYTES))
    app.wsgi_app = app.extensions["atlas_fastpath"] = FastPath(  # type: ignore[method-assign]
        app.wsgi_app, serving, limit)
