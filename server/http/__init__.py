"""HTTP behaviour shared by every route and the static assets; below every web surface, above
storage. By purpose: `negotiation` (codings, ETags, 304s, `respond`), `cache` (answers per
build, `cached`), `fastpath` (replays of cached answers before Flask), `cors`, `app` (how the
app takes them), `assets` (/static)."""

from server.http.app import install_app
from server.http.cache import CACHE, ResponseCache, cached
from server.http.cors import install
from server.http.fastpath import FastPath
from server.http.negotiation import Body, etag, matches, respond

__all__ = ["CACHE", "Body", "FastPath", "ResponseCache", "cached", "etag", "install", "install_app",
           "matches", "respond"]
