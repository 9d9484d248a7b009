#!/usr/bin/env python3
"""Copy the browser assets installed by `npm ci` into static/vendor/, where the app serves them.

Nothing here reaches the network: the npm registry is used by `npm ci` (pinned by
package-lock.json); this script only copies files out of node_modules/ and cuts the
Natural Earth rivers and lakes shipped by `mapeo-offline-map` down to the atlas's area.
Standard library only, so it runs before the virtualenv exists.

    python3 tools/vendor_assets.py [--node-modules node_modules] [--out static/vendor]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Hubei and Hunan with a margin (lon_min, lat_min, lon_max, lat_max), WGS84.
HYDRO_BBOX = (107.5, 24.0, 117.5, 34.0)

COPIES = {  # npm package -> files (relative to the package) copied to vendor/<package>/
    "leaflet": ["dist/leaflet.js", "dist/leaflet.css", "dist/images/layers.png",
                "dist/images/layers-2x.png", "dist/images/marker-icon.png",
                "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png", "LICENSE"],
    "leaflet.markercluster": ["dist/leaflet.markercluster.js", "dist/MarkerCluster.css",
                              "dist/MarkerCluster.Default.css", "MIT-LICENCE.txt"],
    # vector tiles on the map (a layer past MAP_TILES_THRESHOLD): the build with pbf and
    # vector-tile inside; the Beerware licence is the README's last section
    "leaflet.vectorgrid": ["dist/Leaflet.VectorGrid.bundled.min.js", "README.md"],
}
HYDRO = {"rivers": "dist/rivers.json", "lakes": "dist/lakes.json"}
# Noto Sans SC (SIL OFL 1.1) for the server-rendered maps and slides: every CJK glyph, TTF,
# which matplotlib and PowerPoint viewers read (the web font packages ship only WOFF2 subsets).
FONT_PACKAGE = "@expo-google-fonts/noto-sans-sc"
FONTS = {"400Regular/NotoSansSC_400Regular.ttf": "NotoSansSC-Regular.ttf",
         "700Bold/NotoSansSC_700Bold.ttf": "NotoSansSC-Bold.ttf", "LICENSE_FONT": "OFL.txt"}


def _coords(geometry: dict):
    def walk(c):
        if c and isinstance(c[0], (int, float)):
            yield c
        else:
            for part in c:
                yield from walk(part)
    yield from walk(geometry["coordinates"])


def _touches_bbox(geometry: dict, bbox=HYDRO_BBOX) -> bool:
    x0, y0, x1, y1 = bbox
    return any(x0 <= x <= x1 and y0 <= y <= y1 for x, y, *_ in _coords(geometry))


def subset(collection: dict, bbox=HYDRO_BBOX) -> dict:
    """The features with at least one vertex in bbox (whole features, not clipped)."""
    feats = []
    for f in collection["features"]:
        if f.get("geometry") and _touches_bbox(f["geometry"], bbox):
            props = {k: v for k, v in (f.get("properties") or {}).items() if k in ("name",)}
            feats.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    return {"type": "FeatureCollection", "features": feats}


def vendor(node_modules: Path, out: Path) -> list[str]:
    done = []
    provenance = {}
    for package, files in COPIES.items():
        pkg = node_modules / package
        meta = json.loads((pkg / "package.json").read_text())
        for rel in files:
            src = pkg / rel
            if not src.exists():
                continue  # a licence file renamed upstream must not break setup
            dest = out / package / Path(rel).relative_to("dist") if rel.startswith("dist/") \
                else out / package / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            done.append(str(dest.relative_to(out)))
        provenance[package] = {"version": meta["version"], "license": meta.get("license")}
    pkg = node_modules / "mapeo-offline-map"
    meta = json.loads((pkg / "package.json").read_text())
    (out / "hydro").mkdir(parents=True, exist_ok=True)
    for name, rel in HYDRO.items():
        data = subset(json.loads((pkg / rel).read_text()))
        dest = out / "hydro" / f"{name}.geojson"
        dest.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        done.append(f"{dest.relative_to(out)} ({len(data['features'])} features)")
    provenance["mapeo-offline-map"] = {
        "version": meta["version"], "license": meta.get("license"),
        "data": "Natural Earth rivers and lake centerlines, lakes (public domain)",
        "bbox": HYDRO_BBOX,
    }
    pkg = node_modules / FONT_PACKAGE
    meta = json.loads((pkg / "package.json").read_text())
    (out / "fonts").mkdir(parents=True, exist_ok=True)
    for rel, name in FONTS.items():
        shutil.copyfile(pkg / rel, out / "fonts" / name)
        done.append(f"fonts/{name}")
    provenance[FONT_PACKAGE] = {"version": meta["version"], "license": "SIL OFL 1.1 (fonts/OFL.txt)",
                                "font": "Noto Sans SC, Regular and Bold"}
    (out / "PROVENANCE.json").write_text(json.dumps(provenance, indent=2))
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--node-modules", type=Path, default=REPO / "node_modules")
    ap.add_argument("--out", type=Path, default=REPO / "static" / "vendor")
    args = ap.parse_args(argv)
    if not (args.node_modules / "leaflet").is_dir():
        print(f"{args.node_modules.name}/leaflet missing: run `npm ci` first", file=sys.stderr)
        return 1
    for line in vendor(args.node_modules, args.out):
        print("vendored", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
