"""Static assets: fingerprinted URLs and a /static route with precompressed, immutable answers.

`static_url("atlas.css")` gives `/static/atlas.css?v=<content hash>`. The /static route answers
through `server.http.respond` (gzip or br when asked, an ETag per coding, 304); when the URL's
`v` is the file's current hash the answer is `Cache-Control: public, max-age=31536000,
immutable` (a new file has a new URL), otherwise a short max-age. Each file is read and hashed
once per modification time and its compressed variants are made once, on first demand;
files larger than `MAX_IN_MEMORY` are sent from disk as they are.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import abort, request, send_file, url_for
from werkzeug.security import safe_join

from server import http

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
MAX_IN_MEMORY = 8 * 1024 * 1024
TYPES = {".geojson": "application/geo+json", ".js": "text/javascript", ".css": "text/css",
         ".json": "application/json", ".svg": "image/svg+xml", ".txt": "text/plain"}


@dataclass
class Asset:
    stamp: tuple[int, int]
    digest: str
    media_type: str
    body: http.Body | None  # None: too large, sent from disk


_ASSETS: dict[str, Asset] = {}
_LOCK = threading.Lock()


def _media_type(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    media = TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    return media + ("; charset=utf-8" if media.startswith("text/") else "")


def asset(filename: str) -> tuple[str, Asset] | None:
    """(file path, its current Asset), or None when there is no such file under static/."""
    path = safe_join(str(STATIC_DIR), filename)
    if path is None:
        return None
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not os.path.isfile(path):
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    found = _ASSETS.get(path)
    if found is not None and found.stamp == stamp:
        return path, found
    media = _media_type(path)
    sha = hashlib.sha256()
    data = b""
    with open(path, "rb") as f:
        if st.st_size <= MAX_IN_MEMORY:
            data = f.read()
            sha.update(data)
        else:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                sha.update(chunk)
    body = http.Body(data, media) if st.st_size <= MAX_IN_MEMORY else None
    found = Asset(stamp, sha.hexdigest()[:16], media, body)
    with _LOCK:
        _ASSETS[path] = found
    return path, found


def static_url(filename: str) -> str:
    """The asset's URL with its content hash, so it can be cached for good."""
    url = url_for("static", filename=filename)
    found = asset(filename)
    return f"{url}?v={found[1].digest}" if found else url


def serve(filename: str):
    found = asset(filename)
    if found is None:
        abort(404, description="no such file")
    path, item = found
    control = IMMUTABLE if request.args.get("v") == item.digest else SHORT
    if item.body is None:
        response = send_file(path, mimetype=item.media_type, etag=item.digest, conditional=True)
        response.headers["Cache-Control"] = control
        return response
    headers = {"Content-Type": item.media_type}
    return http.respond(200, headers, item.body, f'"{item.digest}"', cache_control=control)
