"""Administrative layers (provinces, cities, counties) from the boundary package."""

from __future__ import annotations

import geopandas as gpd

from geo.boundaries import PROVINCES, load_units
from geo.names import english_name
from geo.validate import area_km2

PROVINCE_NAMES = {code: name for name, code in PROVINCES.items()}


def admin_layer(level: str) -> gpd.GeoDataFrame:
    """One level of units for Hubei and Hunan in WGS84, with the registry's base fields."""
    frame = load_units(level)
    frame["name_en"] = [english_name(n, level) for n in frame.name_zh]
    frame["province"] = frame.province_adcode.map(PROVINCE_NAMES)
    frame["area_km2"] = area_km2(frame)
    frame = frame.drop(columns=["province_adcode"])
    return frame.sort_values("adcode").reset_index(drop=True)
