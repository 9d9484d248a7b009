"""A map file that travels: one self-contained HTML page of a view, built with folium.

Leaflet, Leaflet.markercluster and the live map's own scripts for points (static/atlas/core.js,
points.js, areas.js, started by offline.js) and styles are inlined from the vendored copies;
every other asset folium would fetch from a CDN (jQuery, Bootstrap, icon fonts) is left out, so
the page opens from an e-mail attachment or a USB stick with no network. The features are the
same selection as the print maps (`printmap.scene`); each park and project is the live map's
view-model entry (`server.view.model.feature_props`), with its popup — escaped HTML from
`server.view.popups.Popups` (templates in server/templates/popups/), including each quote's
document and line — and drawn by the live map's code: its symbol, and for points that share a
town's … city's point one circle with their count, whose click lists them (name, kind,
industry, precision), each opening its popup. City labels are the print map's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import folium
import orjson
import shapely
from branca.element import Figure, MacroElement
from jinja2 import Template
from markupsafe import escape

from layers import style
from layers.admin import Units
from layers.registry import ADMIN_LAYERS, records
from layers.words import say, ui_strings
from server.exports import printmap
from server.view import templates
from server.view.model import POINT_LAYERS, FeatureContext, feature_props
from server.view.params import View
from server.view.popups import Popups
from server.view.templates import json_for_script

STATIC = Path(__file__).resolve().parents[2] / "static"
DECIMALS = 4  # about 10 m: enough for a briefing map, and it keeps the file small
MAX_ZOOM = 13  # past it nothing gets sharper: the points' groups open as lists there
# what the file inlines, in order: Leaflet, its marker clustering, and the live map's own parts
# for points, their lists and the labels (static/atlas/), started by offline.js
SCRIPTS = ("vendor/leaflet/leaflet.js", "vendor/leaflet.markercluster/leaflet.markercluster.js",
           "atlas/core.js", "atlas/points.js", "atlas/areas.js", "atlas/offline.js")
STYLES = ("vendor/leaflet/leaflet.css", "vendor/leaflet.markercluster/MarkerCluster.css", "atlas.css")

# a point layer's group in the layer control
GROUP_WORD = {"parks": "group_parks", "projects": "projects"}


def _round(geom: Any) -> Any:
    return shapely.transform(geom, lambda c: c.round(DECIMALS))


def _polygons(frame, lang: str, paint: dict, tooltip: bool = True) -> folium.GeoJson:
    feats = []
    for rec, geom in zip(frame.drop(columns="geometry").to_dict("records"), frame.geometry):
        name = (rec.get("name_zh") if lang == "zh" else rec.get("name_en") or rec.get("name_zh")) or ""
        feats.append({"type": "Feature", "properties": {"tip": str(escape(name))},
                      "geometry": orjson.loads(shapely.to_geojson(_round(geom)))})
    data = {"type": "FeatureCollection", "features": feats}
    return folium.GeoJson(data, style_function=lambda _f, s=paint: s,
                          tooltip=folium.GeoJsonTooltip(["tip"], labels=False) if tooltip else None)


def _near(frame, extent: tuple[float, float, float, float]):
    """The features of `frame` within the view's extent grown by its own size each way: county
    outlines are most of a city's file, and those far off the view's city only add weight."""
    x0, y0, x1, y1 = extent
    w, h = x1 - x0, y1 - y0
    return frame[frame.intersects(shapely.box(x0 - w, y0 - h, x1 + w, y1 + h))]


def _point_data(sc: printmap.Scene, ctx: FeatureContext) -> dict[str, Any]:
    """What static/atlas/offline.js draws the points and labels from: each park and project of
    the view as the live map's page has it (`feature_props`: symbol keys, colour, precision,
    tooltip and popup HTML), the print map's labels (cities; a city's counties on its map) as
    the live map's "cities" layer, the members' badges, the live map's style table and words."""
    x0, y0, x1, y1 = sc.extent
    layers: list[dict[str, Any]] = []
    for lid in POINT_LAYERS:
        frame = sc.points.get(lid)
        feats = [] if frame is None else [
            feature_props(ctx, lid, rec, geom) for rec, geom in zip(records(frame), frame.geometry.values)
            if geom is not None and not geom.is_empty]
        layers.append({"id": lid, "features": feats})
    labels = [{"name": name, "lxy": [round(lat, DECIMALS), round(lon, DECIMALS)]}
              for lon, lat, name, _city in sc.labels]
    layers.append({"id": "cities", "features": labels})
    # a city member's name is its city label already (as on print): its badge has the number only
    cities = {int(a) for a in sc.polygons["cities"].adcode} if "cities" in sc.polygons else set()
    members = [{"n": m["n"], "name": "" if m["adcode"] in cities else m["name"],
                "xy": [round(m["lat"], DECIMALS), round(m["lon"], DECIMALS)]}
               for m in sc.members if m["lon"] is not None]
    sectors = [{"code": s["code"], "name": ctx.popups.sector_name(s["code"]),
                "color": style.sector_colour(s["code"], ctx.sector_index)}
               for s in sc.meta.get("sectors", [])]
    return {"layers": layers, "members": members, "sectors": sectors, "ui": ui_strings(ctx.lang),
            "style": style.page_style({}), "max_zoom": MAX_ZOOM,
            "bounds": [[y0, x0], [y1, x1]]}


def _keys(data: dict, lang: str) -> list[dict[str, str]]:
    """The legend's symbol keys for what the page draws, each a point for offline.js to draw
    with the map's own symbol maker (static/atlas/points.js) in the legend's neutral colours."""
    feats = [(lay["id"], p) for lay in data["layers"][:len(POINT_LAYERS)] for p in lay["features"]]
    grey, key = style.LEGEND_SYMBOL, style.LEGEND_PRECISION
    levels = {style.symbol(lid, p.get("level")).key for lid, p in feats}
    out: list[dict[str, Any]] = [
        {"point": {"layer": "parks", "level": level, "color": grey, "approx": False}, "word": word}
        for level, word in (("national", "sym_national"), ("provincial", "sym_provincial"),
                           ("", "sym_other")) if style.symbol("parks", level).key in levels]
    if any(lid == "parks" and p.get("doc") is False for lid, p in feats):
        out.append({"point": {"layer": "parks", "level": "provincial", "color": grey, "approx": False,
                              "doc": False}, "word": "sym_catalogue"})
    if "project" in levels:
        out.append({"point": {"layer": "projects", "color": grey, "approx": False}, "word": "sym_project"})
    if any(not p["approx"] for _lid, p in feats):
        out.append({"point": {"layer": "parks", "level": "", "color": key, "approx": False}, "word": "solid"})
    if any(p["approx"] for _lid, p in feats):
        out.append({"point": {"layer": "parks", "level": "", "color": key, "approx": True}, "word": "hollow"})
    return [{"point": orjson.dumps(k["point"]).decode(), "word": say(k["word"], lang)} for k in out]


def _overlay_html(sc: printmap.Scene, data: dict, lang: str, sector_index: dict) -> str:
    """The page's title and legend (server/templates/offline/overlay.html): the industries
    drawn, the symbols and precision keys, the count circle, the cluster's members, the cited
    documents."""
    used: dict[str, int] = {}
    for frame in sc.points.values():
        for sectors in frame.sectors:
            if sectors:
                used[sectors[0]] = used.get(sectors[0], 0) + 1
    sectors = [{"colour": style.sector_colour(code, sector_index),
                "name": printmap.sector_name(sc.meta, code, lang)}
               for code in sorted(used, key=lambda c: sector_index.get(c, 99))]
    docs = "；".join(f"{d['code']} {d['title_zh' if lang == 'zh' else 'title_en']}" for d in sc.docs)
    built = str(sc.meta.get("built_at") or "")[:10]
    words = {key: say(key, lang) for key in ("legend", "stack", "nearby", "industry_key", "doc_sources",
                                          "offline")}
    words["built"] = say("built", lang, date=built)
    points = sum(len(lay["features"]) for lay in data["layers"][:len(POINT_LAYERS)])
    return templates.render("offline/overlay.html", title=sc.title, subtitle=sc.subtitle, sectors=sectors,
                            keys=_keys(data, lang), stack=points > 1, members=sc.members, docs=docs,
                            words=words)


# the title, the legend and the count circles (layers.style STACK; offline.js sizes them)
CSS = """
.atlx-title{position:absolute;z-index:1000;top:10px;left:56px;background:#fff;padding:6px 10px;
 font:bold 18px/1.3 'Noto Sans SC','Microsoft YaHei',sans-serif;border-radius:4px;box-shadow:0 1px 4px #0004}
.atlx-title small{display:block;font-weight:normal;font-size:12px;color:#555}
.atlx-legend{position:absolute;z-index:1000;bottom:24px;right:10px;max-width:300px;max-height:60vh;
 overflow:auto;background:#fffe;padding:8px 10px;font:12px/1.5 'Noto Sans SC','Microsoft YaHei',sans-serif;
 border-radius:4px;box-shadow:0 1px 4px #0004}
.atlx-legend i{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px;
 border:1px solid #333;border-radius:50%}
.atlx-legend .atlx-key{display:flex;align-items:center;gap:6px}
.atlx-legend .atlx-key>span:first-child{flex:none;width:26px;display:flex;justify-content:center}
.atlx-legend .atlx-key .atlx-stack{position:static;width:22px;height:22px;border:2px dashed KEY}
.atlx-legend .atlx-key .atlx-near{border-style:solid}
.atlx-legend h4{margin:6px 0 2px;font-size:12px}
.atlx-legend .src{color:#555;font-size:11px;margin:6px 0 0}
.atlx-stack{box-sizing:border-box;border-radius:50%;background:#fffe;color:#222;display:flex;
 align-items:center;justify-content:center;font:bold 11px/1 sans-serif;box-shadow:0 0 2px #0008;
 cursor:pointer}
.atl-muted{color:#666}.atl-en{color:#555}.atl-src{padding-left:1.1em;margin:.2em 0}
.leaflet-popup-content{max-height:60vh;overflow:auto}
@media (max-width:600px){.atlx-legend{max-width:60vw;max-height:35vh}}
""".replace("KEY", style.LEGEND_PRECISION)


class _OfflineInit(MacroElement):
    """Hands the folium map, the page's data and the layer control's stand-ins to offline.js."""
    _template = Template("{% macro script(this, kwargs) %}"
                         "AtlasMap.offline({{ this._parent.get_name() }}, JSON.parse("
                         "document.getElementById('atlx-data').textContent), {{ this.switches }});"
                         "{% endmacro %}")

    def __init__(self, switches: dict[str, str]):
        super().__init__()
        # JavaScript variable names folium made, not data: {"parks": feature_group_parks, ...}
        self.switches = "{" + ", ".join(f'"{k}": {v}' for k, v in switches.items()) + "}"


class _PlainAttribution(MacroElement):
    """A plain "Leaflet" prefix: the default one carries a national flag into every briefing."""
    _template = Template("{% macro script(this, kwargs) %}"
                         "{{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');"
                         "{% endmacro %}")


def build_map(store, view: View) -> tuple[folium.Map, printmap.Scene]:
    sc = printmap.scene(store, view)
    lang = view.lang
    meta = sc.meta
    units = Units({lid: store.layer(lid) for lid in ADMIN_LAYERS})
    park_names = {r["id"]: r for r in records(store.layer("parks"))}
    # no download links or reader links: the file must not point at a server it cannot reach
    popups = Popups(meta, lang, lambda *_: [], units.rows, park_names, root=None)
    sector_index = {s["code"]: i for i, s in enumerate(meta.get("sectors", []))}
    ctx = FeatureContext(lang, "wgs84", popups, units, sector_index, label_points={})
    x0, y0, x1, y1 = sc.extent
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=7, tiles=None,
                   control_scale=True, max_zoom=MAX_ZOOM, attribution_control=True)
    ground = folium.FeatureGroup(say("group_boundaries", lang), control=True)
    _polygons(sc.polygons["provinces"], lang, {"color": "#555", "weight": 2, "fillColor": "#fbfaf6",
                                               "fillOpacity": 1}, tooltip=False).add_to(ground)
    if "cities" in sc.polygons:
        _polygons(sc.polygons["cities"], lang,
                  {"color": "#7a7a7a", "weight": 1, "fillOpacity": 0}).add_to(ground)
    if "counties" in sc.polygons:
        _polygons(_near(sc.polygons["counties"], sc.extent), lang, {"color": "#b5b5b5", "weight": 0.5,
                                                  "fillOpacity": 0}).add_to(ground)
    ground.add_to(m)
    if "clusters" in sc.polygons and len(sc.polygons["clusters"]):
        group = folium.FeatureGroup(say("cluster_areas", lang))
        _polygons(sc.polygons["clusters"], lang, {"color": style.MEMBER if sc.members else style.CLUSTER_AREA,
                                                  "weight": 2, "fillColor": style.MEMBER_FILL,
                                                  "fillOpacity": 0.35, "dashArray": "6 4"}).add_to(group)
        group.add_to(m)
    if sc.lines is not None and len(sc.lines):
        group = folium.FeatureGroup(say("corridors_chains", lang))
        for rec, geom in zip(records(sc.lines), sc.lines.geometry):
            colour = style.line_colour(rec.get("sectors"), sector_index)
            folium.PolyLine([(y, x) for x, y in geom.coords], color=colour, weight=4, opacity=0.85,
                            tooltip=str(escape(printmap.feature_name(rec, lang)))).add_to(group)
        group.add_to(m)
    # parks and projects are drawn by static/atlas/offline.js in one group; the layer control
    # switches them through these empty stand-ins (named so the script can be handed them)
    data = _point_data(sc, ctx)
    switches = {}
    for lay in data["layers"][:len(POINT_LAYERS)]:
        if lay["features"]:
            lid = lay["id"]
            group = folium.FeatureGroup(f"{say(GROUP_WORD[lid], lang)} ({len(lay['features'])})")
            group._id = lid  # a fixed name (folium draws a random one)
            group.add_to(m)
            switches[lid] = group.get_name()
    if sc.members:
        group = folium.FeatureGroup(say("cluster_members", lang))
        group._id = "members"
        group.add_to(m)
        switches["members"] = group.get_name()
    folium.LayerControl(collapsed=False).add_to(m)
    root = cast(Figure, m.get_root())  # a Map's root is its Figure (typed as any Element)
    _PlainAttribution().add_to(m)
    root.html.add_child(folium.Element(_overlay_html(sc, data, lang, sector_index)))
    root.header.add_child(folium.Element(f"<style>{CSS}</style>"))
    root.header.add_child(folium.Element(f"<title>{escape(sc.title)}</title>"))
    root.html.add_child(folium.Element(
        f'<script type="application/json" id="atlx-data">{json_for_script(data)}</script>'))
    _OfflineInit(switches).add_to(m)  # last: after the layer control and every group exists
    return m, sc


_SCRIPT = re.compile(r'<script src="([^"]+)"></script>')
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"/?>')
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.M)


def _asset(path: str) -> str:
    """One static file as it goes into the page: without source-map references (a browser's
    tools would fetch them) or comments in CSS, and unable to end its element early."""
    text = (STATIC / path).read_text(encoding="utf-8")
    if path.endswith(".css"):
        # the images Leaflet's CSS refers to are for default markers and the layer icon, unused here
        text = re.sub(r"url\(images/[^)]+\)", "none", _CSS_COMMENT.sub("", text))
        return text.replace("</style", "<\\/style")
    return _SOURCE_MAP.sub("", text).replace("</script", "<\\/script")


def inline_assets(html: str) -> str:
    """Leaflet, markercluster and the map's own scripts and styles inlined where folium linked
    Leaflet; every other external asset folium links (jQuery, Bootstrap, icon fonts) removed."""
    def script(m: re.Match) -> str:
        if m.group(1).endswith("/leaflet.js"):
            return "".join(f"<script>{_asset(p)}</script>" for p in SCRIPTS)
        return ""

    def sheet(m: re.Match) -> str:
        if m.group(1).endswith("/leaflet.css"):
            return "".join(f"<style>{_asset(p)}</style>" for p in STYLES)
        return ""

    html = _SCRIPT.sub(script, html)
    return _STYLESHEET.sub(sheet, html)


def render(store, view: View) -> bytes:
    """The view as one HTML file that needs nothing else."""
    m, _sc = build_map(store, view)
    html = inline_assets(m.get_root().render())
    return html.encode("utf-8")
