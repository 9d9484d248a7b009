"""What a map view shows, as data: made once per build and view, drawn by static/atlas/*.js.

A view is the atlas (`atlas`), one layer (`layer`) or one cluster or corridor (`cluster`).
`page_data()` turns the built layers into the JSON the browser script draws from:
per-feature properties with popups and tooltips already rendered to HTML (server.popups),
point geometries, filters, search terms (made by the build, shared with the API's `q`), the
legend's sectors. Polygon geometries are not in the page: the browser fetches them per layer
and zoom tier (`geometry_payload()`), rounded, and shifted to GCJ-02 only when the Gaode base
map is chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import shapely

from geo.datum import transform_frame
from layers import search, style
from layers.admin import Units
from layers.registry import ADMIN_LAYERS, LAYERS, records
from layers.words import KINDS, LEVELS, PRECISIONS, label, say, ui_strings
from server.view import rules as viewrules
from server.view.choices import BASEMAPS, DEFAULT_VISIBLE, MEASURES
from server.view.export import city_extents, view_extent
from server.view.popups import APPROX_PRECISIONS, Popups, _int, _str
from server.view.sourceline import source_line

if TYPE_CHECKING:  # server.view.params parses a view from this module's tables
    from server.view.params import View

GROUPS = [  # the layer control's groups, in order: id, title (layers.words), layers
    ("boundaries", "group_boundaries", list(ADMIN_LAYERS)),
    ("parks", "group_parks", ["parks"]),
    ("clusters", "group_clusters", ["clusters", "cluster_lines"]),
    ("projects", "projects", ["projects"]),
]
POINT_LAYERS = ("parks", "projects")
TIER_PRECISION = {"lo": 3, "mid": 4, "full": 5}  # decimals kept per geometry tier
TIER_MIN_ZOOM = {"lo": 0, "mid": 9}  # the browser swaps to `mid` from this zoom on
POINT_DECIMALS = 5
HOME = {"center": [31.15, 112.3], "zoom": 7}
# what a layer drawn from vector tiles still gets from the page, per feature: the values made
# from other layers (shading, the city filter, labels); the rest comes from the tiles' attributes
TILE_EXTRA = {"cities": ("city", "sx", "name", "lxy"), "counties": ("city", "sx"),
              "clusters": ("cities", "color"), "cluster_lines": ("cities", "color")}


# ---------------------------------------------------------------- the data for a view

def _round(geom, decimals: int):
    return shapely.set_precision(geom, 10 ** -decimals) if geom is not None else None


def _geojson_geom(geom, decimals: int) -> dict | None:
    if geom is None or geom.is_empty:
        return None
    g = shapely.geometry.mapping(geom)
    def rnd(c):
        if isinstance(c, (int, float)):
            return round(c, decimals)
        return [rnd(x) for x in c]
    return {"type": g["type"], "coordinates": rnd(g["coordinates"])}


def fid_of(layer_id: str, row: dict) -> Any:
    return LAYERS[layer_id].feature_id(row)


def geometry_payload(store, layer_id: str, tier: str, datum: str = "wgs84") -> dict:
    """Polygon or line geometries of one layer at one tier, keyed by feature id, rounded."""
    frame = store.layer(layer_id, None if tier == "full" else tier)
    if datum != "wgs84" and len(frame):
        frame = transform_frame(frame, "wgs84", datum)
    decimals = TIER_PRECISION.get(tier, 4)
    keys = [fid_of(layer_id, r) for r in frame.drop(columns="geometry").to_dict("records")]
    geoms = [_geojson_geom(_round(g, decimals), decimals) for g in frame.geometry.values]
    return {"layer": layer_id, "tier": tier, "datum": datum, "keys": keys, "geoms": geoms}


@dataclass
class FeatureContext:
    """What one feature's view-model entry is made from, in one language and datum: the names
    of every unit and park (popups name them), the popup maker, the sector colours."""

    lang: str
    datum: str
    popups: Popups
    units: Units
    sector_index: dict[str, int]
    label_points: dict[int, list[float]]

    def city_of(self, adcode: int | None) -> int | None:
        return self.units.city_of(adcode)


def feature_context(store, frames: dict, lang: str, datum: str, *, urls: dict,
                    download: Callable) -> FeatureContext:
    units = Units(frames)
    park_names = {r["id"]: r for r in records(frames["parks"])}
    meta = store.meta
    popups = Popups(meta, lang, download, units.rows, park_names, root=urls.get("root", ""))
    sector_index = {s["code"]: i for i, s in enumerate(meta.get("sectors", []))}
    label_points = unit_points(frames, [{"adcode": int(a)} for a in frames["cities"].adcode], datum)
    return FeatureContext(lang, datum, popups, units, sector_index, label_points)


def feature_props(ctx: FeatureContext, lid: str, rec: dict, geom, html: bool = True) -> dict[str, Any]:
    """One feature as the map draws it: ids, filter keys, colour, tooltip and popup HTML
    (`geom` already in the view's datum; `html=False` leaves out the tooltip and popup). The
    page carries these for a GeoJSON layer; for a layer drawn from vector tiles the browser
    fetches them by id (/map/feature/...)."""
    popups, lang = ctx.popups, ctx.lang
    fid = fid_of(lid, rec)
    p: dict[str, Any] = {"id": fid}
    precision = _str(rec.get("precision")) or None
    extra = ""
    if lid in POINT_LAYERS:
        p["name"] = popups.name(rec.get("name_zh"), rec.get("name_en"))[0]
        p["prec"] = precision
        p["approx"] = precision in APPROX_PRECISIONS
        p["city"] = _int(rec.get("city_adcode"))
        p["county"] = _int(rec.get("county_adcode"))
        p["xy"] = [round(geom.y, POINT_DECIMALS), round(geom.x, POINT_DECIMALS)] \
            if geom is not None else None
        extra = label(PRECISIONS, precision, lang).split("：")[0].split(":")[0] if p["approx"] else ""
    if lid == "parks":
        p["kind"] = _str(rec.get("kind"))
        p["level"] = _str(rec.get("level"))
        p["doc"] = rec.get("named_in_documents") is not False  # False: catalogue only
    if lid in ("clusters", "cluster_lines"):
        p["name"] = popups.name(rec.get("name_zh"), rec.get("name_en"))[0]
        p["kind"] = _str(rec.get("kind"))
        members = [int(a) for a in rec.get("members") or []]
        p["members"] = members
        p["cities"] = sorted({c for c in (ctx.city_of(a) for a in members) if c})
    if lid == "cities":  # where the city's name label goes
        p["name"] = popups.unit_name(int(rec["adcode"]))
        p["lxy"] = ctx.label_points.get(int(rec["adcode"]))
    if lid in ("cities", "counties"):
        p["np"] = int(rec.get("n_parks") or 0)
        p["nj"] = int(rec.get("n_projects") or 0)
        p["city"] = ctx.city_of(int(rec["adcode"]))
    if lid == "provinces":
        p["city"] = None
    sectors = [s for s in (rec.get("sectors") or [])]
    p["sec"] = sectors
    p["color"] = style.line_colour(sectors, ctx.sector_index) if lid == "cluster_lines" \
        else style.lead_colour(sectors, ctx.sector_index)
    if html:
        p["tip"] = popups.tooltip(rec.get("name_zh"), rec.get("name_en"), extra)
        p["pop"] = popups.popup(lid, rec, fid, precision)
    return p


def feature_entry(store, lid: str, fid: str, lang: str, datum: str, *, urls: dict,
                  download: Callable) -> dict[str, Any]:
    """One feature's view-model entry by its API id (`adcode` or `id`), as `page_data` makes it,
    with `at` ([lat, lon], where its popup opens) and, for an area, `bounds` ([[s, w], [n, e]]).
    Raises KeyError for an unknown layer or id."""
    if lid not in LAYERS:
        raise KeyError(lid)
    frames = {k: store.layer(k) for k in LAYERS}
    frame = frames[lid]
    key = LAYERS[lid].id_field
    rows = frame[frame[key].astype(str) == str(fid)]
    if not len(rows):
        raise KeyError(fid)
    if datum != "wgs84":
        rows = transform_frame(rows, "wgs84", datum)
    rec, geom = records(rows)[0], rows.geometry.values[0]
    ctx = feature_context(store, frames, lang, datum, urls=urls, download=download)
    p = feature_props(ctx, lid, rec, geom)
    if geom is not None and not geom.is_empty:
        at = geom.representative_point()
        p["at"] = [round(at.y, POINT_DECIMALS), round(at.x, POINT_DECIMALS)]
        if lid not in POINT_LAYERS:
            x0, y0, x1, y1 = geom.bounds
            p["bounds"] = [[round(y0, POINT_DECIMALS), round(x0, POINT_DECIMALS)],
                           [round(y1, POINT_DECIMALS), round(x1, POINT_DECIMALS)]]
    return p


def page_data(store, opts: View, *, urls: dict, download: Callable,
              tianditu_key: str = "", tiles: dict | None = None) -> dict:
    """Everything the browser draws from, as JSON-ready data. Raises KeyError for an unknown
    layer or cluster (the view turns it into a 404).

    `tiles` — {"threshold", "url", "minzoom", "maxzoom"}: a layer with more features than the
    threshold is drawn from vector tiles (`url` + `<layer>/{z}/{x}/{y}.mvt`): its entry then
    carries `tiles` instead of `features`, and `extra`, the few per-feature values the tiles'
    attributes cannot give (made from other layers); see static/atlas/tiles.js."""
    lang = opts.lang
    meta = store.meta
    base = BASEMAPS[opts.base]
    if opts.page == "layer" and opts.layer not in LAYERS:
        raise KeyError(opts.layer)
    frames = {lid: store.layer(lid) for lid in LAYERS}
    if opts.page == "cluster" and opts.cluster not in set(frames["clusters"].id):
        raise KeyError(opts.cluster)

    ctx = feature_context(store, frames, lang, base.datum, urls=urls, download=download)
    popups, city_of = ctx.popups, ctx.city_of
    tiled = {lid for lid in LAYERS
             if tiles is not None and len(frames[lid]) > int(tiles["threshold"])}
    shift = base.datum != "wgs84"
    layers_out: list[dict[str, Any]] = []
    city_sectors: dict[int, set[str]] = {}
    for lid, layer in LAYERS.items():
        frame = frames[lid]
        if shift and lid in POINT_LAYERS and len(frame):
            frame = transform_frame(frame, "wgs84", base.datum)
        feats = []
        for rec, geom in zip(records(frame), frame.geometry.values):
            p = feature_props(ctx, lid, rec, geom, html=lid not in tiled)
            if lid in POINT_LAYERS:
                for s in rec.get("sectors") or []:
                    if p["city"]:  # a record with no city shades none
                        city_sectors.setdefault(p["city"], set()).add(s)
                    if p["county"]:
                        city_sectors.setdefault(p["county"], set()).add(s)
            if lid in ("cities", "counties"):
                for s in rec.get("sectors") or []:
                    city_sectors.setdefault(int(rec["adcode"]), set()).add(s)
            feats.append(p)
        entry = {
            "id": lid, "title": layer.title_zh if lang == "zh" else layer.title_en,
            "group": layer.group, "geom": "point" if lid in POINT_LAYERS else
            ("line" if lid == "cluster_lines" else "polygon"),
            "style": layer.style, "count": len(feats), "features": feats,
            "tiers": (["lo", "mid"] if layer.simplified else ["full"]) if lid not in POINT_LAYERS else [],
        }
        if lid in POINT_LAYERS:  # for the legend, which draws no features of its own
            entry["lead"] = sorted({p["sec"][0] for p in feats if p["sec"]})
            entry["sited"] = any(p["xy"] and not p["approx"] for p in feats)
        if lid in tiled and tiles is not None:
            shifted = "" if base.datum == "wgs84" else f"?datum={base.datum}"  # over Gaode's tiles
            entry["tiles"] = {"url": f"{tiles['url']}{lid}/{{z}}/{{x}}/{{y}}.mvt{shifted}",
                              "minzoom": int(tiles["minzoom"]), "maxzoom": int(tiles["maxzoom"])}
        layers_out.append(entry)
    # city shading by industry: a city has a sector if it, one of its counties, or a park or
    # project in it is given that sector
    for lay in layers_out:
        if lay["id"] in ("cities", "counties"):
            for p in lay["features"]:
                own = set(city_sectors.get(p["id"], set()))
                if lay["id"] == "cities":
                    for code, secs in city_sectors.items():
                        if code and city_of(code) == p["id"]:
                            own |= secs
                p["sx"] = sorted(own)

    # the extent of the view as the exports frame it (server/view/export.py): the browser fits
    # it to a printed page and to an embed's frame; the city filter is read by the browser,
    # so each city carries its own (WGS84: on the GCJ-02 base a few hundred metres off, inside
    # the padding)
    selected = replace(opts, center=None, zoom=None, bbox=None, city=None)
    city_ids = [p["id"] for p in next(lay for lay in layers_out if lay["id"] == "cities")["features"]]
    extents = city_extents(frames, city_ids)
    cities = [{"id": a, "name": popups.unit_name(a),
               "bounds": _latlng_bounds(extents[a]) if a in extents else None} for a in city_ids]
    used = {s for lay in layers_out for p in lay["features"] for s in p["sec"]}
    sectors = [{"code": s["code"], "name": popups.sector_name(s["code"]),
                "color": style.sector_colour(s["code"], ctx.sector_index), "used": s["code"] in used}
               for s in meta.get("sectors", [])]
    search_rows = []  # [layer, id, label, subtitle, terms]: the build's terms, the API's too
    for lid in ("parks", "projects", "clusters", "cities", "counties"):
        terms = store.search_terms(lid)
        for rec in records(frames[lid]):
            first, second = popups.name(rec.get("name_zh"), rec.get("name_en"))
            title = LAYERS[lid].title_zh if lang == "zh" else LAYERS[lid].title_en
            city = _int(rec.get("city_adcode"))
            if lid == "counties":
                city = city_of(_int(rec.get("adcode")))
            sub = title + (f" · {popups.unit_name(city)}" if city and lid != "cities" else "")
            search_rows.append([lid, fid_of(lid, rec), first, sub,
                           terms.get(str(fid_of(lid, rec))) or search.terms(rec.get("name_zh"),
                                                                            rec.get("name_en"))])

    cluster = None
    if opts.page == "cluster":
        rec = next(r for r in records(frames["clusters"]) if r["id"] == opts.cluster)
        cluster = cluster_focus(rec, popups, layers_out, city_of)
        points = unit_points(frames, cluster["members"], base.datum)
        for m in cluster["members"]:
            m["xy"] = points.get(m["adcode"])

    extent = view_extent(selected, frames, [m["adcode"] for m in cluster["members"]] if cluster else [])
    parks_out = next(lay for lay in layers_out if lay["id"] == "parks")
    kinds = sorted({p["kind"] for p in parks_out["features"] if p["kind"]})
    bases = [{"id": b.id, "title": b.title_zh if lang == "zh" else b.title_en,
              "url": b.url.replace("{key}", tianditu_key) if b.url else "",
              "overlay": b.overlay_url.replace("{key}", tianditu_key) if b.overlay_url else "",
              "subdomains": b.subdomains, "attribution": b.attribution,
              "available": not (b.needs_key and not tianditu_key)} for b in BASEMAPS.values()]
    if opts.page == "layer" and opts.layer:  # a known layer (checked above)
        visible = [opts.layer]
    elif opts.page == "cluster":
        visible = ["provinces", "cities", "clusters", "cluster_lines", "parks", "projects"]
    else:
        visible = DEFAULT_VISIBLE
    for lay in layers_out:  # a tiled layer's features come from its tiles, not the page
        if "tiles" in lay:
            keys = TILE_EXTRA.get(lay["id"], ())
            lay["extra"] = {str(p["id"]): {k: p.get(k) for k in keys} for p in lay["features"]} \
                if keys else {}
            lay["features"] = []
    return {
        "lang": lang, "view": opts.page, "layer": opts.layer, "cluster_id": opts.cluster,
        "embed": opts.embed, "base": opts.base, "datum": base.datum, "bases": bases,
        "home": {**HOME, "bounds": hubei_bounds(frames["provinces"])},
        "extent": _latlng_bounds(extent),
        "visible": visible, "tierMinZoom": TIER_MIN_ZOOM, "approx": list(APPROX_PRECISIONS),
        "groups": [{"id": g, "title": say(word, lang), "layers": ids} for g, word, ids in GROUPS],
        "layers": layers_out, "sectors": sectors, "cities": cities,
        "kinds": [{"id": k, "name": label(KINDS, k, lang)} for k in kinds],
        "levels": [{"id": k, "name": label(LEVELS, k, lang)}
                   for k in ("national", "provincial", "municipal")],
        "measures": list(MEASURES), "search": search_rows, "cluster": cluster, "urls": urls,
        "built_at": meta.get("built_at"), "ui": {**ui_strings(lang), "north": say("north", lang)},
        # the shading classes from every city's count, as print draws them
        "style": style.page_style({m: [int(v or 0) for v in frames["cities"][m]]
                                   for m in ("n_parks", "n_projects")}),
        "print_sources": source_line(meta, meta.get("documents", []), lang),
    }


def _latlng_bounds(box: tuple[float, float, float, float]) -> list[list[float]]:
    """A lon/lat box as Leaflet's [[south, west], [north, east]]."""
    x0, y0, x1, y1 = box
    return [[round(y0, 3), round(x0, 3)], [round(y1, 3), round(x1, 3)]]


def hubei_bounds(provinces) -> list[list[float]]:
    """[[south, west], [north, east]] of Hubei, for a default view that must show all of it."""
    hubei = provinces[provinces.adcode.astype(int) == 420000]
    x0, y0, x1, y1 = hubei.total_bounds if len(hubei) else (108.3, 29.0, 116.2, 33.3)
    return [[round(float(y0), 3), round(float(x0), 3)], [round(float(y1), 3), round(float(x1), 3)]]


def unit_points(frames: dict, members: list[dict], datum: str) -> dict[int, list[float]]:
    """Each unit's representative point, [lat, lon]: where a corridor line passes through a
    member, where a city's label goes."""
    import geopandas as gpd

    wanted = {m["adcode"] for m in members}
    rows: list[tuple[int, Any]] = []
    for lid in ("cities", "counties", "provinces"):
        f = frames[lid]
        sel = f[f.adcode.astype(int).isin(wanted - {r[0] for r in rows})]
        rows += [(int(a), g.representative_point()) for a, g in zip(sel.adcode, sel.geometry.values)]
    if not rows:
        return {}
    pts = gpd.GeoDataFrame({"adcode": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=4326)
    if datum != "wgs84":
        pts = transform_frame(pts, "wgs84", datum)
    return {int(a): [round(g.y, POINT_DECIMALS), round(g.x, POINT_DECIMALS)]
            for a, g in zip(pts.adcode, pts.geometry.values)}


def cluster_focus(rec: dict, popups: Popups, layers_out: list[dict], city_of: Callable) -> dict:
    """The corridor view: members in order with their stated roles, and the parks and projects
    in them that share the cluster's industries."""
    members = [int(a) for a in rec.get("members") or []]
    roles = {m["adcode"]: m for m in (rec.get("member_roles") or [])}
    out_members = []
    for i, a in enumerate(members, 1):
        r = roles.get(a) or {}
        role = (r.get("role_zh") if popups.lang == "zh" else (r.get("role_en") or r.get("role_zh"))) or ""
        cite = (r.get("sources") or [{}])[0] if r else {}
        url = popups.root + cite["url"] if cite.get("url") else ""
        out_members.append({"n": i, "adcode": a, "name": popups.unit_name(a), "role": role,
                            "quote": cite.get("quote", ""), "cite_url": url})
    along = {}
    for lay in layers_out:
        if lay["id"] in POINT_LAYERS:  # in a member unit and in one of the cluster's industries
            along[lay["id"]] = [p["id"] for p in lay["features"] if viewrules.along_cluster(
                {"city_adcode": p.get("city"), "county_adcode": p.get("county"), "sectors": p["sec"]}, rec)]
    first, second = popups.name(rec.get("name_zh"), rec.get("name_en"))
    return {"id": rec["id"], "name": first, "name2": second,
            "kind": label(KINDS, rec.get("kind"), popups.lang), "ordered": bool(rec.get("ordered")),
            "members": out_members, "parks": along.get("parks", []), "projects": along.get("projects", []),
            "sectors": [popups.sector_name(s) for s in rec.get("sectors") or []]}
