"""server.http without an app: the response cache's byte count (tests/web/test_http.py holds
the HTTP behaviour of the app to it)."""

from __future__ import annotations


def test_the_response_cache_counts_bytes_as_it_goes():
    """A running total (each entry as last counted, variants included once `grew` is told),
    the same as counting every entry, without counting every entry per answer."""
    from server import http

    cache = http.ResponseCache()
    limit = 10_000
    bodies = [http.Body(bytes([i % 256]) * 300, "application/json") for i in range(100)]
    for i, body in enumerate(bodies):
        cache.put(("k", i), (200, {}, body), limit)
        assert cache._total == cache.nbytes <= limit
    kept = [k for k in cache._items]
    assert len(kept) == limit // 300 and kept[-1] == ("k", 99)  # the newest stay
    body = cache.get(kept[-1])[2]
    body.coded("gzip")  # a variant made after the entry was kept
    assert cache._total < cache.nbytes
    cache.grew(kept[-1], limit)
    assert cache._total == cache.nbytes <= limit
    cache.put(("k", 99), (200, {}, http.Body(b"x" * 50, "application/json")), limit)  # replaced
    assert cache._total == cache.nbytes
    cache.trim(600)
    assert cache._total == cache.nbytes <= 600
    cache.clear()
    assert cache._total == cache.nbytes == 0
