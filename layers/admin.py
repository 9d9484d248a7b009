"""Administrative layers (provinces, cities, counties) from the boundary package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.boundaries import PROVINCES, load_units
from geo.names import english_name
from geo.validate import area_km2
from layers.registry import ADMIN_LAYERS, records

PROVINCE_NAMES = {code: name for name, code in PROVINCES.items()}


def admin_layer(level: str) -> gpd.GeoDataFrame:
    """One level of units for Hubei and Hunan in WGS84, with the registry's base fields."""
    frame = load_units(level)
    frame["name_en"] = [english_name(n, level) for n in frame.name_zh]
    frame["province"] = frame.province_adcode.map(PROVINCE_NAMES)
    frame["area_km2"] = area_km2(frame)
    frame = frame.drop(columns=["province_adcode"])
    return frame.sort_values("adcode").reset_index(drop=True)


def province_administered(adcode: int) -> bool:
    """Hubei's county-level cities under the province itself (仙桃, 潜江, 天门, 神农架林区:
    4290xx): each stands as its own city wherever units are grouped by city."""
    return str(adcode).startswith("4290")


def city_of(adcode: int, level: str, parent: int | None) -> int:
    """The city a unit belongs to: a county's parent (a province-administered one is its own),
    a city itself, a province itself."""
    if level == "county" and parent and not province_administered(adcode):
        return int(parent)
    return adcode


class Units:
    """The administrative units of a build by adcode (every surface that names a unit or
    groups units by city reads them here)."""

    def __init__(self, frames: Mapping[str, Any]):
        """`frames`: each of ADMIN_LAYERS' frames by layer id."""
        self.rows: dict[int, dict] = {int(r["adcode"]): r for lid in ADMIN_LAYERS
                                      for r in records(frames[lid])}

    def get(self, adcode: int | None) -> dict | None:
        return self.rows.get(adcode) if adcode else None

    def city_of(self, adcode: int | None) -> int | None:
        """The city of a unit of the build; None for an adcode the build does not have."""
        row = self.get(adcode)
        if row is None or adcode is None:
            return None
        parent = row.get("parent_adcode")
        return city_of(adcode, row["level"], None if parent is None or pd.isna(parent) else int(parent))
