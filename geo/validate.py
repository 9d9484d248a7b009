"""Checks a built layer must pass: valid geometries, lon/lat bounds, counties inside cities."""

from __future__ import annotations

import geopandas as gpd
import shapely

# Generous box around Hubei and Hunan; anything outside is a datum or axis-order mistake.
REGION_BOUNDS = (107.0, 24.0, 117.0, 34.0)
EQUAL_AREA_CRS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +datum=WGS84 +units=m +no_defs"


class ValidationError(ValueError):
    """A layer broke an invariant; the message names the layer and the offending features."""


def _ids(frame: gpd.GeoDataFrame, mask, key: str) -> str:
    values = frame.loc[mask, key].astype(str).tolist() if key in frame else []
    return ", ".join(values[:10]) + (" …" if len(values) > 10 else "")


def check_valid(frame: gpd.GeoDataFrame, name: str, key: str = "adcode") -> None:
    bad = ~shapely.is_valid(frame.geometry.values) | frame.geometry.is_empty
    if bad.any():
        raise ValidationError(f"{name}: invalid or empty geometries: {_ids(frame, bad, key)}")


def check_bounds(frame: gpd.GeoDataFrame, name: str, key: str = "adcode",
                 bounds: tuple[float, float, float, float] = REGION_BOUNDS) -> None:
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ValidationError(f"{name}: CRS is {frame.crs}, expected EPSG:4326")
    b = frame.geometry.bounds
    out = (b.minx < bounds[0]) | (b.miny < bounds[1]) | (b.maxx > bounds[2]) | (b.maxy > bounds[3])
    if out.any():
        raise ValidationError(f"{name}: features outside lon/lat {bounds}: {_ids(frame, out, key)}")


def check_nesting(counties: gpd.GeoDataFrame, cities: gpd.GeoDataFrame,
                  min_share: float = 0.98) -> None:
    """Each county must lie (by area) inside the city its code says is its parent."""
    parents = cities.set_index("adcode").geometry
    ea_counties = counties.to_crs(EQUAL_AREA_CRS)
    ea_parents = gpd.GeoSeries(parents, crs=cities.crs).to_crs(EQUAL_AREA_CRS)
    bad = []
    for adcode, parent, geom in zip(counties.adcode, counties.parent_adcode, ea_counties.geometry):
        if parent not in ea_parents.index:
            bad.append(f"{adcode} (no parent {parent})")
            continue
        share = geom.intersection(ea_parents[parent]).area / geom.area
        if share < min_share:
            bad.append(f"{adcode} ({share:.1%} inside {parent})")
    if bad:
        raise ValidationError("counties not inside their cities: " + ", ".join(bad[:10]))


def area_km2(frame: gpd.GeoDataFrame) -> list[float]:
    return (frame.to_crs(EQUAL_AREA_CRS).geometry.area / 1e6).round(1).tolist()
