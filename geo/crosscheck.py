"""Compare two outlines of the same area: the median distance between their boundaries.

Used to prove a datum conversion: two independent sources of one boundary agree to within
their generalisation error only when both are in the same datum.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer

METRIC_CRS = "EPSG:32649"  # UTM zone 49N covers Hubei and Hunan


def to_metric(geom: shapely.Geometry) -> shapely.Geometry:
    transformer = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(*xy.T)))


def median_boundary_distance(a: shapely.Geometry, b: shapely.Geometry,
                             step_m: float = 500.0) -> float:
    """Median distance in metres from points sampled every `step_m` along `a`'s boundary
    to `b`'s boundary. Both inputs are lon/lat (EPSG:4326 or a datum of the same shape)."""
    ma, mb = (to_metric(g).boundary for g in (a, b))
    distances = np.arange(0.0, ma.length, step_m)
    samples = shapely.line_interpolate_point(ma, distances)
    return float(np.median(shapely.distance(samples, mb)))
