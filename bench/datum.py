"""Benchmark: GCJ-02 → WGS84 over every Hubei county vertex.

Compares geo/datum.py (numpy, one call over all coordinates) with its peer run side by side
in the same process: the same formula applied point by point in a Python loop, the way most
published implementations do it. Reports the ratio; absolute times on these machines are
noisy, the ratio much less so.

    .venv/bin/python bench/datum.py
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np
import shapely

from geo import datum
from geo.boundaries import _read_geometry, admin_index

A, EE = 6378245.0, 0.00669342162296594323


def _scalar_delta(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    sq = math.sqrt(abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    radlat = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlon, dlat


def scalar_gcj02_to_wgs84(lon: float, lat: float, iterations: int = 4) -> tuple[float, float]:
    wlon, wlat = lon, lat
    for _ in range(iterations):
        dlon, dlat = _scalar_delta(wlon, wlat)
        wlon, wlat = wlon - (wlon + dlon - lon), wlat - (wlat + dlat - lat)
    return wlon, wlat


def main(repeats: int = 5) -> None:
    geoms = [_read_geometry(u.path) for u in admin_index(("湖北省",)) if u.level == "county"]
    coords = shapely.get_coordinates(np.array(geoms, dtype=object))
    vector, loop = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        datum.transform_geometries(geoms, "gcj02", "wgs84")
        vector.append(time.perf_counter() - t)
        t = time.perf_counter()
        out = [scalar_gcj02_to_wgs84(x, y) for x, y in coords]
        loop.append(time.perf_counter() - t)
    v, p = statistics.median(vector), statistics.median(loop)
    # same answer, or the comparison means nothing
    lon, lat = datum.gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    assert np.allclose(np.column_stack([lon, lat]), np.array(out), atol=1e-9)
    print(f"{len(geoms)} Hubei counties, {len(coords):,} vertices, median of {repeats} runs")
    print(f"geo.datum (numpy, whole geometries): {v * 1000:8.1f} ms")
    print(f"peer: per-point Python loop         : {p * 1000:8.1f} ms")
    print(f"ratio: {p / v:.1f}x faster")


if __name__ == "__main__":
    main()
