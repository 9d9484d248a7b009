"""Which features of a layer meet a box: a shapely STRtree per prepared layer (per build).

`BoxIndex.query` answers `bbox=` in the API and picks a vector tile's features; `scan` is the
full scan the API used before (every feature's bounds, then an exact test on the candidates),
kept as the reference the tests and `bench/bbox.py` compare the index against. Both return
the indices of the features whose geometry intersects the box, in layer order, and both
treat a box with x0 > x1 as crossing the antimeridian.

Why STRtree (measured in `bench/bbox.py`, numbers in docs/benchmarks.md): the layers are read once
per build and never change, which is what a bulk-loaded, immutable STRtree is for; it is
built over the geometries already in memory in one call, and its query runs the exact
`intersects` test in GEOS over all candidates at once. `rtree` (libspatialindex) answers
per box with a Python list of candidates and still needs that exact test; the GeoPackage's
own R-tree is a SQLite query per request against a file the server has already read into
memory. `rtree` does the work it is best at elsewhere: an index that grows as it is queried
(the print map's label placement, server/exports/labels.py).
"""

from __future__ import annotations

import numpy as np
import shapely

Box = tuple[float, float, float, float]


def boxes(bbox: Box) -> list[shapely.Geometry]:
    """The box as one or two rectangles (two when it crosses the antimeridian)."""
    x0, y0, x1, y1 = bbox
    if x0 <= x1:
        return [shapely.box(x0, y0, x1, y1)]
    return [shapely.box(x0, y0, 180, y1), shapely.box(-180, y0, x1, y1)]


class BoxIndex:
    """An STRtree over a layer's geometries (None and empty geometries are never found).

    The tree gives the features whose envelope meets the box; those whose envelope lies
    inside the box are hits without further ado (every point, most polygons of a large
    box), and only the rest get GEOS's exact `intersects`."""

    def __init__(self, geometries: np.ndarray):
        self.geometries = geometries
        self.bounds = shapely.bounds(geometries) if len(geometries) else np.empty((0, 4))
        self.tree = shapely.STRtree(geometries)

    def query(self, bbox: Box) -> np.ndarray:
        """Sorted indices (layer order) of the features that intersect the box."""
        found = [self._one(part, shapely.bounds(part)) for part in boxes(bbox)]
        if len(found) == 1:
            return found[0]
        return np.unique(np.concatenate(found))

    def _one(self, box: shapely.Geometry, b: np.ndarray) -> np.ndarray:
        if not len(self.geometries):
            return np.empty(0, dtype=np.intp)
        candidates = np.sort(self.tree.query(box)).astype(np.intp)
        cb = self.bounds[candidates]
        inside = (cb[:, 0] >= b[0]) & (cb[:, 1] >= b[1]) & (cb[:, 2] <= b[2]) & (cb[:, 3] <= b[3])
        rest = candidates[~inside]
        keep = inside
        if len(rest):
            keep = inside.copy()
            keep[~inside] = shapely.intersects(self.geometries[rest], box)
        return candidates[keep]


def scan(geometries: np.ndarray, bounds: np.ndarray, bbox: Box) -> np.ndarray:
    """The full scan: every feature's bounds against the box, then `intersects` on those that
    overlap it. `bounds` is `shapely.bounds(geometries)` (NaN for empty geometries)."""
    if not len(geometries):
        return np.empty(0, dtype=np.intp)
    x0, y0, x1, y1 = bbox
    b = bounds
    with np.errstate(invalid="ignore"):
        in_y = (b[:, 3] >= y0) & (b[:, 1] <= y1)
        in_x = ((b[:, 2] >= x0) & (b[:, 0] <= x1) if x0 <= x1  # else it crosses the antimeridian
                else (b[:, 2] >= x0) | (b[:, 0] <= x1))
    candidates = np.flatnonzero(in_x & in_y)
    hit = np.zeros(len(candidates), dtype=bool)
    for box in boxes(bbox):
        hit |= shapely.intersects(geometries[candidates], box)
    return candidates[hit]
