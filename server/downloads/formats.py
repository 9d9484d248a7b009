"""Download formats, datasette-style: a registry where a new format is one function.

Each renderer takes a `Selection` (a prepared layer, the chosen rows, the query) and returns
the file's bytes. Framework-free; `server/downloads/routes.py` adapts it to Flask. File-based
formats (GeoPackage, KML) are written by GDAL into a private temporary directory under a
name taken from the registry, read back and deleted: nothing from the URL reaches a path.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from server.store.memory import Prepared
from server.store.query import DECIMALS, Query, dumps


@dataclass(frozen=True)
class Selection:
    prep: Prepared
    indices: np.ndarray
    query: Query
    headers: str = "codes"  # CSV column names: field codes, or "zh" (the registry's Chinese titles)

    @property
    def layer(self):
        return self.prep.layer

    def column(self, name: str) -> list:
        values = self.prep.columns[name]
        return [values[i] for i in self.indices]

    @property
    def geometries(self) -> np.ndarray:
        return self.prep.geometries[self.indices]

    def provenance(self) -> dict:
        return {**self.prep.provenance, "layer": self.layer.id, "query": self.query.describe()}


@dataclass(frozen=True)
class Format:
    name: str  # the file extension in /download/<layer>.<name>
    media_type: str
    title: str
    render: Callable[[Selection], bytes]


FORMATS: dict[str, Format] = {}


def register(name: str, media_type: str, title: str):
    def decorate(render: Callable[[Selection], bytes]):
        FORMATS[name] = Format(name, media_type, title, render)
        return render
    return decorate


def _text(value, ftype: str) -> str:
    """A value as one CSV/KML cell: JSON fields as JSON text (Chinese kept), None empty."""
    if value is None:
        return ""
    if ftype == "json":
        return json.dumps(value, ensure_ascii=False)
    if ftype == "bool":
        return "true" if value else "false"
    return str(value)


@register("geojson", "application/geo+json", "GeoJSON (RFC 7946)")
def geojson(sel: Selection) -> bytes:
    doc = {"type": "FeatureCollection", "name": sel.layer.id,
           "title": f"{sel.layer.title_en} · {sel.layer.title_zh}",
           "provenance": sel.provenance(),
           "features": [sel.prep.features[i] for i in sel.indices]}
    return dumps(doc)


@register("csv", "text/csv; charset=utf-8", "CSV for Excel (UTF-8 with BOM, WKT geometry)")
def csv_(sel: Selection) -> bytes:
    fields = sel.layer.fields
    points = sel.layer.geometry_type == "Point"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if sel.headers == "zh":  # for Excel users: 名称, 行业, 来源 …
        writer.writerow([f.title_zh for f in fields] + (["经度", "纬度"] if points else []) + ["几何（WKT）"])
    else:
        writer.writerow([f.name for f in fields] + (["lon", "lat"] if points else []) + ["wkt"])
    columns = [sel.column(f.name) for f in fields]
    geoms = sel.geometries
    wkt = shapely.to_wkt(geoms, rounding_precision=DECIMALS, trim=True) if len(geoms) else []
    for row in range(len(sel.indices)):
        cells = [_text(col[row], f.type) for col, f in zip(columns, fields)]
        if points:
            g = geoms[row]
            ok = g is not None and not g.is_empty
            cells += [f"{g.x:.6f}" if ok else "", f"{g.y:.6f}" if ok else ""]
        cells.append(wkt[row] or "")
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _frame(sel: Selection, kml: bool = False) -> gpd.GeoDataFrame:
    data: dict[str, object] = {}
    if kml:  # LIBKML takes each placemark's label from a field called `name`
        data["name"] = [v or "" for v in sel.column("name_zh")]
    for f in sel.layer.fields:
        values = sel.column(f.name)
        if f.type == "json" or kml:
            data[f.name] = pd.array([_text(v, f.type) if v is not None else None for v in values],
                                    dtype="object")
        elif f.type == "int":
            data[f.name] = pd.array(values, dtype="Int64")
        elif f.type == "float":
            data[f.name] = pd.array(values, dtype="Float64")
        elif f.type == "bool":
            data[f.name] = pd.array(values, dtype="boolean")
        else:
            data[f.name] = pd.array(values, dtype="object")
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(sel.geometries, crs="EPSG:4326"))


def _via_gdal(sel: Selection, driver: str, suffix: str, **options) -> bytes:
    with tempfile.TemporaryDirectory(prefix="atlas-download-") as tmp:
        path = Path(tmp) / f"{sel.layer.id}{suffix}"
        geometry_type = {"Polygon": "MultiPolygon"}.get(sel.layer.geometry_type,
                                                         sel.layer.geometry_type)
        pyogrio.write_dataframe(_frame(sel, kml=driver == "LIBKML"), path, layer=sel.layer.id,
                                driver=driver, geometry_type=geometry_type,
                                promote_to_multi=sel.layer.geometry_type == "Polygon", **options)
        return path.read_bytes()


@register("gpkg", "application/geopackage+sqlite3", "GeoPackage (QGIS)")
def gpkg(sel: Selection) -> bytes:
    prov = sel.provenance()
    meta = {"ATLAS_BUILT_AT": str(prov.get("built_at")),
            "ATLAS_PROVENANCE": json.dumps(prov, ensure_ascii=False),
            "DESCRIPTION": f"{sel.layer.title_en} · {sel.layer.title_zh}: {sel.layer.description_en}"}
    return _via_gdal(sel, "GPKG", ".gpkg", metadata=meta, dataset_metadata=meta)


@register("kml", "application/vnd.google-earth.kml+xml", "KML (Google Earth)")
def kml(sel: Selection) -> bytes:
    prov = sel.provenance()
    docs = "; ".join(f"{d.get('code')} {d.get('title_zh')}" for d in prov["documents"])
    description = (f"Hubei Cluster Atlas, built {prov.get('built_at')}. Sources: {docs or 'none'}. "
                   f"Boundaries: {(prov.get('boundaries') or {}).get('package')}.")
    return _via_gdal(sel, "LIBKML", ".kml", dataset_options={
        "NAME": f"{sel.layer.title_zh} · {sel.layer.title_en}", "DESCRIPTION": description})
