"""Datum transforms between WGS84, GCJ-02 (Amap, Tencent) and BD-09 (Baidu).

GCJ-02 is WGS84 plus a published, deliberately non-linear offset that applies only inside
mainland China; outside it the coordinates are plain WGS84. The forward formula is public;
the inverse has no closed form and is solved by fixed-point iteration. Everything works on
numpy arrays so whole geometries and GeoDataFrames convert in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0  # BD-09 constant

DATUMS = ("wgs84", "gcj02", "bd09")
Array = np.ndarray


def in_china(lon: Array, lat: Array) -> Array:
    """The rough rectangle the offset is applied in (the convention all implementations share)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def _delta(lon: Array, lat: Array) -> tuple[Array, Array]:
    x, y = lon - 105.0, lat - 35.0
    sq = np.sqrt(np.abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: Array, lat: Array) -> tuple[Array, Array]:
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _delta(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon: Array, lat: Array, iterations: int = 4) -> tuple[Array, Array]:
    """Invert by fixed-point iteration: each step cuts the error by about three orders."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(iterations):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon - (glon - lon), wlat - (glat - lat)
    inside = in_china(lon, lat)
    return np.where(inside, wlon, lon), np.where(inside, wlat, lat)


def gcj02_to_bd09(lon: Array, lat: Array) -> tuple[Array, Array]:
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: Array, lat: Array) -> tuple[Array, Array]:
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _compose(*steps: Callable) -> Callable:
    def run(lon: Array, lat: Array) -> tuple[Array, Array]:
        for step in steps:
            lon, lat = step(lon, lat)
        return lon, lat

    return run


_PAIRS: dict[tuple[str, str], Callable] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): _compose(wgs84_to_gcj02, gcj02_to_bd09),
    ("bd09", "wgs84"): _compose(bd09_to_gcj02, gcj02_to_wgs84),
}


def converter(source: str, target: str) -> Callable[[Array, Array], tuple[Array, Array]]:
    """The function converting (lon, lat) arrays from one datum to another."""
    if source not in DATUMS or target not in DATUMS:
        raise ValueError(f"unknown datum {source!r} or {target!r}; expected one of {DATUMS}")
    if source == target:
        return lambda lon, lat: (np.asarray(lon, float), np.asarray(lat, float))
    return _PAIRS[(source, target)]


def transform_geometries(
    geoms: Sequence[shapely.Geometry] | np.ndarray, source: str, target: str
) -> np.ndarray:
    """Convert an array of shapely geometries in one vectorised call over all coordinates."""
    convert = converter(source, target)

    def on_coords(xy: np.ndarray) -> np.ndarray:
        lon, lat = convert(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), on_coords)


def transform_frame(frame, source: str, target: str):
    """A copy of a GeoDataFrame (lon/lat in `source` datum) with geometries in `target`."""
    out = frame.copy()
    out[out.geometry.name] = transform_geometries(frame.geometry.values, source, target)
    return out
