"""The RFC 7946 check the download and API tests use (tests/rfc7946.py) catches what it
should."""

from __future__ import annotations

from tests.rfc7946 import problems


def test_the_rfc7946_check_catches_what_it_should():
    ring_cw = [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]
    bad = {"type": "FeatureCollection", "crs": {"type": "name"}, "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring_cw]}},
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Point", "coordinates": [30.5, 114.3, 1, 2]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [200, 95]}},
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}},
        {"type": "Feature", "geometry": None},
    ]}
    found = " | ".join(problems(bad))
    for words in ("crs member", "clockwise", "2 or 3 numbers", "in range", "not closed",
                  "properties member"):
        assert words in found, words
    assert problems({"type": "Feature", "properties": None, "geometry": {
        "type": "Polygon", "coordinates": [ring_cw[::-1]]}}) == []
