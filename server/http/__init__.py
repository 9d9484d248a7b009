"""HTTP behaviour shared by every route (negotiation, ETag/304, caching, the fast path) and the
static assets; below every web surface, above storage."""

from server.http.behaviour import (
    CACHE,
    Body,
    FastPath,
    ResponseCache,
    cached,
    etag,
    install,
    install_app,
    matches,
    respond,
)

__all__ = ["CACHE", "Body", "FastPath", "ResponseCache", "cached", "etag", "install", "install_app",
           "matches", "respond"]
