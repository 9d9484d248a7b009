"""Seed-derived layers: parks, clusters, corridor lines, projects, and the facts joined
onto the administrative layers. Inputs are validated source records and admin frames;
outputs are GeoDataFrames in EPSG:4326 with exactly the registry's fields.
"""

from __future__ import annotations

from collections import defaultdict

import geopandas as gpd
import shapely
from shapely.geometry import LineString

from layers.catalogue import Catalogue, Zone
from layers.registry import Layer
from layers.sources import Record, Sources


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
    rows = []
    for rec in sources.of("parks"):
        d = rec.data
        where = d.get("county_adcode") or d["city_adcode"]
        row = {**{k: d.get(k) for k in layer.field_names}, **_provenance(rec),
               "figures": figures.get(d["id"]) or None, "named_in_documents": True,
               "geometry": placer.point(where)}
        zone = zone_of.get(d["id"])
        if zone:
            link = catalogue.places[zone.code]
            inferred = {k: v for k, v in rec.inferred.items() if k != "level"}  # level now stated
            inferred["catalogue_code"] = link.inferred["park"]
            row.update(_catalogue_fields(catalogue, zone), inferred=inferred,
                       status=d.get("status") or "existing",
                       sectors=list(dict.fromkeys(d["sectors"] + catalogue.sectors(zone))))
        rows.append(row)
    for zone in catalogue.zones if catalogue else []:
        rec = catalogue.places[zone.code]
        d = rec.data
        if d.get("park"):
            continue
        rows.append({
            **dict.fromkeys(layer.field_names),  # absent, not NaN: JSON fields stay null
            "id": zone.feature_id, "name_zh": zone.name_zh, "name_en": d["name_en"],
            "kind": zone.kind, "status": "existing", "city_adcode": d["city_adcode"],
            "county_adcode": d.get("county_adcode"), "precision": d["precision"],
            "sectors": catalogue.sectors(zone), "note": d.get("note"), "sources": None,
            "inferred": dict(rec.inferred), "named_in_documents": False,
            **_catalogue_fields(catalogue, zone),
            "geometry": placer.point(d.get("county_adcode") or d["city_adcode"]),
        })
    return _frame(rows, layer)


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
    park_points = dict(zip(parks.id, parks.geometry))
    park_records = sources.by_id("parks")
    rows = []
    for rec in sources.of("projects"):
        d = dict(rec.data)
        if d.get("park"):
            point = park_points[d["park"]]
            # A project placed at its park inherits the park's county when it gives none.
            park_county = park_records[d["park"]].data.get("county_adcode")
            if not d.get("county_adcode") and park_county:
                d["county_adcode"] = park_county
        else:
            point = placer.point(d.get("county_adcode") or d["city_adcode"])
        rows.append({**{k: d.get(k) for k in layer.field_names}, **_provenance(rec),
                     "geometry": point})
    return _frame(rows, layer)


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
