"""server.http without an app: the response cache's byte count and the content negotiation
(Accept-Encoding q-values, If-None-Match) as pure functions (tests/web/test_http.py holds the
HTTP behaviour of the app to them)."""

from __future__ import annotations

import pytest


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
    each = cache.cost(("k", 99), (200, {}, bodies[99]))  # the body, its headers and its key
    assert each > 300 and len(kept) == limit // each and kept[-1] == ("k", 99)  # the newest stay
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


@pytest.mark.parametrize("header, coding", [
    ("gzip;q=0", "identity"), ("gzip; q=0.000, identity", "identity"), ("*;q=0, identity;q=1", "identity"),
    ("gzip, deflate", "gzip"), ("GZIP", "gzip"), ("br;q=0.5, gzip", "gzip"), ("gzip;q=0, *", "br"),
    ("gzip;q=x", "identity"), (None, "identity"), ("", "identity")])
def test_the_coding_follows_the_q_values_and_a_named_coding_outranks_the_star(header, coding):
    from server.http import negotiation

    if negotiation.brotli is None and coding == "br":
        coding = "identity"
    assert negotiation.choose_coding(header) == coding


@pytest.mark.parametrize("header, held", [
    ('"abc"', '"abc"'), ('W/"abc"', 'W/"abc"'), ('"other", W/"abc"', 'W/"abc"'), ("*", '"abc"'),
    ('"abc-br", "abc-gzip"', '"abc-gzip"'), ('"a,b", "abc-br"', '"abc-br"'), ('"abcd"', None),
    ("", None), (None, None)])
def test_if_none_match_names_any_representation_and_the_304_repeats_the_clients_tag(header, held):
    from server.http import negotiation

    assert negotiation.held_tag(header, '"abc"', "gzip") == held
