"""HTTP behaviour shared by the API and the downloads: ETag/304, Cache-Control, gzip, CORS.

The pure functions (`etag`, `matches`, `gzip_body`, `accepts_gzip`) know nothing of Flask;
`respond` and `install` adapt them to a blueprint. Installed per blueprint, so the rest of
the app (maps, pages) keeps its own caching rules.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable

from flask import Blueprint, Response, current_app, request

COMPRESSIBLE = {
    "application/json", "application/geo+json", "application/vnd.oai.openapi+json",
    "text/html", "text/csv", "text/plain", "application/vnd.google-earth.kml+xml",
    "application/geopackage+sqlite3",
}
MIN_GZIP_BYTES = 1024
EXPOSED = "ETag, Content-Disposition, Link, X-Atlas-Built-At, X-Atlas-Documents"


def etag(*parts: object) -> str:
    """A strong validator from what determines the body (build, path, query, host)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8", "replace")).hexdigest()
    return f'"{digest[:32]}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    return tag.removesuffix("-gzip")


def matches(if_none_match: str | None, tag: str) -> bool:
    """Does an If-None-Match header match `tag` (weakly, either content coding)?"""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return _opaque(tag) in {_opaque(t) for t in if_none_match.split(",")}


def accepts_gzip(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def gzip_body(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=5, mtime=0)


def respond(status: int, headers: dict, body: bytes, tag: str | None = None) -> Response:
    """A response with caching headers; 304 when the client already has this version."""
    if tag is not None and status == 200 and matches(request.headers.get("If-None-Match"), tag):
        response = Response(status=304)
        response.headers["ETag"] = tag
    else:
        response = Response(body, status=status)
        for key, value in headers.items():
            response.headers[key] = value
        if tag is not None and status == 200:
            response.headers["ETag"] = tag
    if status == 200:
        seconds = int(current_app.config.get("API_CACHE_SECONDS", 300))
        response.headers["Cache-Control"] = f"public, max-age={seconds}"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


def _compress(response: Response) -> None:
    if (response.status_code != 200 or response.direct_passthrough
            or "Content-Encoding" in response.headers
            or response.mimetype not in COMPRESSIBLE):
        return
    response.vary.add("Accept-Encoding")
    if not accepts_gzip(request.headers.get("Accept-Encoding")):
        return
    body = response.get_data()
    if len(body) < MIN_GZIP_BYTES:
        return
    response.set_data(gzip_body(body))
    response.headers["Content-Encoding"] = "gzip"
    tag = response.headers.get("ETag")
    if tag and not tag.endswith('-gzip"'):
        response.headers["ETag"] = tag[:-1] + '-gzip"'


def _cors(response: Response) -> None:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match, Accept-Encoding"
        response.headers["Access-Control-Max-Age"] = "86400"


def install(blueprint: Blueprint, methods: Iterable[str] = ("GET", "HEAD", "OPTIONS")) -> None:
    """CORS (read-only, any origin: the data is public) and gzip for a blueprint's answers."""
    allowed = set(methods)

    @blueprint.after_request
    def _after(response: Response) -> Response:
        if request.method in allowed:
            _cors(response)
        _compress(response)
        return response
