"""Where an exported map looks: the extent of a view (server.view.params.View) on paper.

One rule for the print maps, the deck's map slides and the offline page: an extent the
request chose (`bbox`, or the live map's `c`/`z`) wins; else the view's own selection decides —
a cluster's member units, whether cities or counties, then a city, then all of Hubei. The
Share panel sends `c`/`z` only when the user asks for the area on screen, so an export of a
city's or a cluster's view frames that city or cluster, wherever the screen was.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import shapely

from server.view.params import View

FORMATS = ("png", "svg", "pdf")
HUBEI_ADCODE = 420000
NOMINAL_VIEWPORT_PX = 1280  # `c`/`z` are the interactive map's centre and zoom at this width
UNIT_LAYERS = ("cities", "counties", "provinces")  # where an adcode is looked up, in this order
CITY_PAD = 0.08  # a city's view: its bounds and this fraction around them


def zoom_extent(center: tuple[float, float], zoom: float,
                aspect: float) -> tuple[float, float, float, float]:
    """The lon/lat box the interactive map shows at this centre and zoom, for a viewport
    NOMINAL_VIEWPORT_PX wide with the paper's aspect (width / height)."""
    lon, lat = center
    deg_per_px = 360.0 / (256 * 2 ** zoom)
    half_w = NOMINAL_VIEWPORT_PX / 2 * deg_per_px
    half_h = half_w / aspect * math.cos(math.radians(lat))
    return (lon - half_w, lat - half_h, lon + half_w, lat + half_h)


def pad(bounds: tuple[float, ...], frac: float) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = bounds
    dx, dy = (x1 - x0) * frac or 0.2, (y1 - y0) * frac or 0.2
    return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)


def unit_geometries(frames: Mapping[str, Any], adcodes: Iterable[int]) -> dict[int, Any]:
    """Each unit's geometry by adcode: a city's from the cities, a county's from the counties
    (a county-level city under the province, e.g. Tianmen, is in both: its city entry)."""
    wanted = {int(a) for a in adcodes}
    out: dict[int, Any] = {}
    for lid in UNIT_LAYERS:
        f = frames[lid]
        for a, g in zip(f.adcode, f.geometry.values):
            if int(a) in wanted and int(a) not in out and g is not None and not g.is_empty:
                out[int(a)] = g
    return out


def view_extent(view: View, frames: Mapping[str, Any],
                members: Iterable[int] = ()) -> tuple[float, float, float, float]:
    """The lon/lat box an export of `view` shows; `members`: the view's cluster's member units."""
    if view.bbox:
        return view.bbox
    if view.center is not None and view.zoom is not None:  # given together (parse_view)
        w_in, h_in = view.size_inches
        return zoom_extent(view.center, view.zoom, w_in / h_in)
    geoms = list(unit_geometries(frames, members).values())
    if geoms:
        return pad(shapely.union_all(geoms).bounds, 0.06)
    if view.city is not None:
        g = unit_geometries(frames, [view.city]).get(view.city)
        if g is not None:
            return pad(g.bounds, CITY_PAD)
    hubei = unit_geometries(frames, [HUBEI_ADCODE]).get(HUBEI_ADCODE)
    return pad(hubei.bounds if hubei is not None else (108.3, 29.0, 116.2, 33.3), 0.03)


def city_extents(frames: Mapping[str, Any],
                 adcodes: Iterable[int]) -> dict[int, tuple[float, float, float, float]]:
    """Each city's extent as `view_extent` gives it for a view of that city (no cluster, no
    chosen extent), found in one pass: the live map carries every city's for its city filter."""
    return {a: pad(g.bounds, CITY_PAD) for a, g in unit_geometries(frames, adcodes).items()}
