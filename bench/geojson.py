"""Benchmark: serialising the full counties layer as a GeoJSON FeatureCollection.

Side by side in the same process, on the same Python document (225 multipolygons, all
vertices, properties with Chinese text):

- Flask's default JSON provider as Flask ships it (ensure_ascii, sort_keys),
- Flask's default provider as this app configures it (ensure_ascii off),
- orjson on the same document,
- what the API does: orjson with each geometry pre-serialised once per build by GEOS
  (`orjson.Fragment`), so a request only joins bytes.

Reports medians, the ratios to Flask's default and the body sizes (Chinese escaped as \\uXXXX
grows the text). Absolute times on these machines are noisy, the ratios much less so.

    .venv/bin/python bench/geojson.py [--data data/build/atlas.gpkg]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import orjson
import shapely
from flask import Flask

from layers.build import DEFAULT_OUT, build
from layers.registry import LAYERS
from server.store import read_atlas
from server.store.memory import prepare


def _time(fn, repeats: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        size = len(fn())
        times.append(time.perf_counter() - t)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    data = args.data
    if not data.exists():
        data = Path(tempfile.mkdtemp()) / "atlas.gpkg"
        build(data)
    layers, meta = read_atlas(data)
    prep = prepare(LAYERS["counties"], layers["counties"], meta)
    plain = {"type": "FeatureCollection", "features": [
        {**f, "geometry": shapely.geometry.mapping(g)} for f, g in zip(prep.features, prep.geometries)]}
    # the same document the API serves, geometries as GEOS-written fragments
    fragments = {"type": "FeatureCollection", "features": prep.features}
    shipped, configured = Flask("shipped"), Flask("configured")
    configured.json.ensure_ascii = False
    runs = {
        "flask default (as shipped)": lambda: shipped.json.dumps(plain).encode(),
        "flask default (ensure_ascii off)": lambda: configured.json.dumps(plain).encode(),
        "orjson": lambda: orjson.dumps(plain),
        "orjson + GEOS fragments (the API)": lambda: orjson.dumps(fragments),
    }
    n = sum(int(shapely.get_num_coordinates(g)) for g in prep.geometries)
    print(f"counties: {len(prep)} features, {n} vertices; median of {args.repeats} runs")
    results = {name: _time(fn, args.repeats) for name, fn in runs.items()}
    base = results["flask default (as shipped)"][0]
    for name, (seconds, size) in results.items():
        print(f"  {name:36s} {seconds * 1000:8.1f} ms  {size / 1e6:6.2f} MB  ×{base / seconds:5.1f}")


if __name__ == "__main__":
    main()
