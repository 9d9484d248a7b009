"""Benchmark: `bbox=` selection, the full scan against spatial indexes, side by side.

In one process, on the same in-memory geometries, for a small box (0.1° around Wuhan's
centre) and a large one (most of Hubei):

- the full scan the API used before (`server.store.spatial.scan`: every feature's bounds, then
  `intersects` on the candidates),
- shapely's STRtree (`server.store.spatial.BoxIndex`, what the API and the tiles use),
- rtree (libspatialindex, bulk-loaded),
- the GeoPackage's own R-tree (`rtree_<table>_geom`, one SQLite query per box),

each index's candidates then treated alike: a candidate whose envelope lies inside the box
is a hit, the others get GEOS's exact `intersects` (on the geometries in memory),

on the counties layer (225 multipolygons) and on a synthetic layer of 100,000 random points
in Hubei's box, made here (seeded) and written to a temporary GeoPackage for the last case.
Every method must return the same indices; the script checks that before timing. Reports
the median time per query (and the time to build each index) and writes
bench/results/bbox.json.

    .venv/bin/python bench/bbox.py [--data data/build/atlas.gpkg] [--points 100000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import rtree
import shapely

from layers.build import DEFAULT_OUT, build
from server.store.spatial import BoxIndex, boxes, scan

HUBEI = (108.35, 29.03, 116.13, 33.28)
BOXES = {"small": (114.25, 30.55, 114.35, 30.65), "large": (109.5, 29.5, 115.5, 32.5)}
RESULTS = Path(__file__).resolve().parent / "results" / "bbox.json"


def per_query(fn: Callable[[], object], budget: float = 0.2, repeats: int = 7) -> float:
    """Median seconds per call over `repeats` rounds of as many calls as fit in `budget`."""
    t = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t, 1e-7)
    n = max(1, int(budget / repeats / once))
    rounds = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - t) / n)
    return statistics.median(rounds)


def timed(make: Callable[[], object]) -> tuple[object, float]:
    t = time.perf_counter()
    out = make()
    return out, time.perf_counter() - t


def exact(geoms: np.ndarray, bounds: np.ndarray, candidates, bbox) -> np.ndarray:
    """The candidates that intersect the box: those whose envelope lies inside it at once
    (as `BoxIndex` does), the rest by GEOS's exact test."""
    idx = np.unique(np.fromiter(candidates, dtype=np.intp))
    cb, (x0, y0, x1, y1) = bounds[idx], bbox
    hit = (cb[:, 0] >= x0) & (cb[:, 1] >= y0) & (cb[:, 2] <= x1) & (cb[:, 3] <= y1)
    rest = ~hit
    for box in boxes(bbox):
        hit[rest] |= shapely.intersects(geoms[idx[rest]], box)
    return idx[hit]


def methods(geoms: np.ndarray, gpkg: Path, table: str) -> tuple[dict, dict]:
    """name -> query(bbox) and name -> seconds to build its index."""
    bounds = shapely.bounds(geoms)
    strtree, t_str = timed(lambda: BoxIndex(geoms))

    def load_rtree():
        ok = np.flatnonzero(np.isfinite(bounds).all(axis=1))
        return rtree.index.Index((int(i), tuple(bounds[i]), None) for i in ok)

    rt, t_rt = timed(load_rtree)
    con = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    sql = (f'SELECT id - 1 FROM "rtree_{table}_geom" '
           "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?")

    def gpkg_query(b):
        rows = con.execute(sql, (b[0], b[2], b[1], b[3])).fetchall()
        return exact(geoms, bounds, (r[0] for r in rows), b)

    queries = {
        "full scan": lambda b: scan(geoms, bounds, b),
        "STRtree": strtree.query,  # type: ignore[attr-defined]
        "rtree": lambda b: exact(geoms, bounds, rt.intersection(b), b),  # type: ignore[attr-defined]
        "GeoPackage R-tree": gpkg_query,
    }
    return queries, {"full scan": 0.0, "STRtree": t_str, "rtree": t_rt, "GeoPackage R-tree": 0.0}


def synthetic(n: int, folder: Path) -> tuple[np.ndarray, Path]:
    rng = np.random.default_rng(12)
    x = rng.uniform(HUBEI[0], HUBEI[2], n)
    y = rng.uniform(HUBEI[1], HUBEI[3], n)
    geoms = shapely.points(x, y)
    path = folder / "points.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"i": np.arange(n)}, geometry=geoms, crs=4326), path,
                            layer="points", layer_options={"SPATIAL_INDEX": "YES"})
    return geoms, path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--points", type=int, default=100_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    data = args.data
    if not data.exists():
        data = tmp / "atlas.gpkg"
        build(data)
    counties = np.asarray(pyogrio.read_dataframe(data, layer="counties").geometry.values, dtype=object)
    points, points_gpkg = synthetic(args.points, tmp)
    cases = {"counties": (counties, data, "counties"),
             f"{args.points:,} points": (points, points_gpkg, "points")}
    report: dict = {}
    for case, (geoms, gpkg, table) in cases.items():
        queries, build_s = methods(geoms, gpkg, table)
        print(f"{case}: {len(geoms):,} features; index built in "
              + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in build_s.items() if v))
        report[case] = {"features": len(geoms), "build_ms": {k: round(v * 1000, 2) for k, v in
                                                             build_s.items() if v}}
        for size, bbox in BOXES.items():
            reference = queries["full scan"](bbox)
            for name, query in queries.items():
                got = query(bbox)
                assert np.array_equal(np.sort(got), reference), (case, size, name)
            times = {name: per_query(lambda q=query, b=bbox: q(b)) for name, query in queries.items()}
            base = times["full scan"]
            print(f"  {size} box, {len(reference):,} hits: " + "; ".join(
                f"{name} {t * 1e6:,.0f} µs (×{base / t:.1f})" for name, t in times.items()))
            report[case][size] = {"box": bbox, "hits": len(reference),
                                  "us": {k: round(v * 1e6, 1) for k, v in times.items()}}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
