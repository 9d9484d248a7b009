"""A strict RFC 7946 check for GeoJSON documents: a public assertion helper for the tests.

`problems(doc)` lists every violation (empty when the document conforms); `assert_rfc7946`
fails with the first few. Checked: object structure and member types, no `crs` member
(§4), positions of two or three finite numbers within longitude/latitude ranges (§3.1.1,
§4), LineStrings of two or more positions, closed linear rings of four or more positions,
exterior rings counter-clockwise and holes clockwise by the right-hand rule (§3.1.6), bbox
arrays of 2×n numbers (§5), feature ids that are strings or numbers (§3.2).
"""

from __future__ import annotations

import math
from numbers import Real

GEOMETRIES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
              "GeometryCollection"}


def _signed_area(ring: list) -> float:
    """Shoelace formula: positive for counter-clockwise rings (lon = x, lat = y)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:])) / 2


def _position(pos, where: str, out: list[str]) -> None:
    if not isinstance(pos, list) or len(pos) not in (2, 3):
        out.append(f"{where}: a position is an array of 2 or 3 numbers, got {pos!r}")
        return
    if not all(isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) for v in pos):
        out.append(f"{where}: position {pos!r} has a non-number")
        return
    lon, lat = pos[0], pos[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        out.append(f"{where}: position {pos!r} is not longitude, latitude in range")


def _ring(ring, where: str, exterior: bool, out: list[str]) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        out.append(f"{where}: a linear ring has 4 or more positions")
        return
    for i, pos in enumerate(ring):
        _position(pos, f"{where}[{i}]", out)
    if ring[0] != ring[-1]:
        out.append(f"{where}: the ring is not closed (first {ring[0]} ≠ last {ring[-1]})")
        return
    area = _signed_area(ring)
    if exterior and area < 0:
        out.append(f"{where}: the exterior ring is clockwise (RFC 7946 wants counter-clockwise)")
    if not exterior and area > 0:
        out.append(f"{where}: a hole is counter-clockwise (RFC 7946 wants clockwise)")


def _polygon(rings, where: str, out: list[str]) -> None:
    if not isinstance(rings, list) or not rings:
        out.append(f"{where}: a polygon is a non-empty array of rings")
        return
    for i, ring in enumerate(rings):
        _ring(ring, f"{where}[{i}]", i == 0, out)


def _bbox(doc: dict, where: str, out: list[str]) -> None:
    if "bbox" in doc:
        b = doc["bbox"]
        if not (isinstance(b, list) and len(b) in (4, 6) and all(isinstance(v, Real) for v in b)):
            out.append(f"{where}: bbox is an array of 2×n numbers")


def geometry_problems(geom, where: str, out: list[str]) -> None:
    if geom is None:
        return
    if not isinstance(geom, dict) or geom.get("type") not in GEOMETRIES:
        out.append(f"{where}: not a geometry object: {str(geom)[:80]}")
        return
    if "crs" in geom:
        out.append(f"{where}: has a crs member")
    _bbox(geom, where, out)
    kind = geom["type"]
    if kind == "GeometryCollection":
        for i, g in enumerate(geom.get("geometries", [])):
            geometry_problems(g, f"{where}.geometries[{i}]", out)
        return
    coords = geom.get("coordinates")
    if not isinstance(coords, list):
        out.append(f"{where}: coordinates missing")
        return
    if kind == "Point":
        _position(coords, where, out)
    elif kind in ("MultiPoint", "LineString"):
        if kind == "LineString" and len(coords) < 2:
            out.append(f"{where}: a LineString has 2 or more positions")
        for i, pos in enumerate(coords):
            _position(pos, f"{where}[{i}]", out)
    elif kind == "MultiLineString":
        for i, line in enumerate(coords):
            geometry_problems({"type": "LineString", "coordinates": line}, f"{where}[{i}]", out)
    elif kind == "Polygon":
        _polygon(coords, where, out)
    elif kind == "MultiPolygon":
        for i, poly in enumerate(coords):
            _polygon(poly, f"{where}[{i}]", out)


def feature_problems(feat, where: str, out: list[str]) -> None:
    if not isinstance(feat, dict) or feat.get("type") != "Feature":
        out.append(f"{where}: not a Feature")
        return
    for member in ("geometry", "properties"):
        if member not in feat:
            out.append(f"{where}: a Feature has a {member} member (null allowed)")
    if feat.get("properties") is not None and not isinstance(feat["properties"], dict):
        out.append(f"{where}: properties is an object or null")
    if "id" in feat and (isinstance(feat["id"], bool) or not isinstance(feat["id"], str | Real)):
        out.append(f"{where}: id is a string or a number")
    if "crs" in feat:
        out.append(f"{where}: has a crs member")
    _bbox(feat, where, out)
    geometry_problems(feat.get("geometry"), f"{where}.geometry", out)


def problems(doc) -> list[str]:
    out: list[str] = []
    if not isinstance(doc, dict):
        return ["the document is not a JSON object"]
    if "crs" in doc:
        out.append("the document has a crs member (removed by RFC 7946)")
    if doc.get("type") == "FeatureCollection":
        if not isinstance(doc.get("features"), list):
            out.append("a FeatureCollection has a features array")
            return out
        _bbox(doc, "collection", out)
        for i, feat in enumerate(doc["features"]):
            feature_problems(feat, f"features[{i}]", out)
    elif doc.get("type") == "Feature":
        feature_problems(doc, "feature", out)
    else:
        geometry_problems(doc, "geometry", out)
    return out


def assert_rfc7946(doc) -> None:
    found = problems(doc)
    assert not found, f"{len(found)} RFC 7946 problems, e.g. " + "; ".join(found[:5])
