"""Which features a view shows: the filter rules shared by the map pages and the exports.

The interactive map applies the same rules in the browser (static/atlas/core.js `pointVisible`,
`areaVisible`); the exports and the cluster view's lists apply them here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def _ints(values: Iterable[Any]) -> set[int]:
    return {int(v) for v in values if v is not None and v == v}


def point_visible(layer_id: str, rec: dict, *, sector: str = "", city: int | None = None,
                  kind: str = "", level: str = "", named: str = "") -> bool:
    """A park or project under the industry, city, kind, level and named-in filters
    (`named`: "doc" zones the documents name, "cat" zones only in the national catalogue)."""
    if sector and sector not in (rec.get("sectors") or []):
        return False
    if city is not None and rec.get("city_adcode") != city:
        return False
    if layer_id == "parks":
        if kind and rec.get("kind") != kind:
            return False
        if level and (rec.get("level") or "") != level:
            return False
        if named and (named == "doc") != (rec.get("named_in_documents") is not False):
            return False
    return True


def area_visible(rec: dict, member_cities: set[int], *, sector: str = "",
                 city: int | None = None) -> bool:
    """A cluster or corridor under the industry and city filters."""
    if sector and sector not in (rec.get("sectors") or []):
        return False
    return not (city is not None and city not in member_cities)


def along_cluster(rec: dict, cluster: dict) -> bool:
    """A park or project belongs to a cluster's view when it lies in one of the member units
    and shares one of the cluster's industries: the automobile corridor lists automotive
    parks in its cities, not every park there."""
    members = _ints(cluster.get("members") or [])
    where = _ints([rec.get("city_adcode"), rec.get("county_adcode")])
    if not members & where:
        return False
    wanted = set(cluster.get("sectors") or [])
    return not wanted or bool(wanted & set(rec.get("sectors") or []))


def member_cities(members: Iterable[Any], city_of: Callable[[int], int | None]) -> set[int]:
    return {c for c in (city_of(int(a)) for a in members) if c}
