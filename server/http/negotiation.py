"""Content negotiation and validators: which coding a client gets, the ETag of each
representation, and the one way an answer goes out (`respond`).

- **Codings.** `choose_coding` reads Accept-Encoding with werkzeug (q-values: `gzip;q=0`
  refuses gzip; a named coding outranks `*`); bodies go out as br (when the `brotli` package is
  installed), gzip or identity, always with `Vary: Accept-Encoding`.
- **Validators.** One ETag per representation: the identity body has the route's tag, the
  gzip body the same tag with `-gzip`, the brotli body with `-br`. If-None-Match matches any
  representation of the resource (werkzeug parses it), and the 304 repeats the tag the client
  holds.
- `finish` (installed on the app) negotiates whatever a route answered on its own.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from dataclasses import dataclass, field

from flask import Response, current_app, request
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
SUFFIX = {"gzip": "-gzip", "br": "-br"}


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


def default_cache_control(status: int, max_age: int | None) -> str:
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
    control = cache_control or default_cache_control(status, max_age)
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
