"""A map file that travels: one self-contained HTML page of a view, built with folium.

Leaflet's script and styles are inlined from the vendored copy and every other asset folium
would fetch from a CDN (jQuery, Bootstrap, icon fonts) is left out: the page uses only
Leaflet, so it opens from an e-mail attachment or a USB stick with no network. The features
are the same selection as the print maps (`printmap.scene`), with the interactive map's
popups — escaped HTML from `server.view.popups.Popups` (templates in server/templates/popups/),
including each quote's document and line.
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
from layers.words import say
from server.exports import printmap
from server.view import templates
from server.view.model import fid_of
from server.view.params import View
from server.view.popups import Popups

REPO = Path(__file__).resolve().parents[2]
LEAFLET = REPO / "static" / "vendor" / "leaflet"
DECIMALS = 4  # about 10 m: enough for a briefing map, and it keeps the file small

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


def _points(frame, layer_id: str, popups: Popups, sector_index: dict) -> folium.GeoJson:
    feats = []
    for rec, geom in zip(frame.drop(columns="geometry").to_dict("records"), frame.geometry):
        if geom is None:
            continue
        precision = rec.get("precision") or ""
        approx = precision in printmap.APPROX
        sectors = rec.get("sectors") or []
        fid = fid_of(layer_id, rec)
        feats.append({"type": "Feature", "properties": {
            "tip": popups.tooltip(rec.get("name_zh"), rec.get("name_en")),
            "pop": popups.popup(layer_id, rec, fid, precision),
            "color": style.lead_colour(sectors, sector_index), "approx": approx,
            "symbol": style.symbol(layer_id, rec.get("level")).key,
            "faded": rec.get("named_in_documents") is False},
            "geometry": orjson.loads(shapely.to_geojson(_round(geom)))})
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": feats}, marker=folium.CircleMarker(),
        style_function=marker_style, tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        popup=folium.GeoJsonPopup(["pop"], labels=False, max_width=380))


def marker_style(feature: dict) -> dict:
    """A point as a circle as wide as its symbol on the live map (layers.style.SYMBOLS), in
    its industry's colour; hollow and dashed when only its town, district, county or city
    is known."""
    p = feature["properties"]
    st = style.stroke(p["approx"])
    opacity = style.CATALOGUE_OPACITY if p["faded"] else 1.0
    out = {"radius": style.SYMBOLS[p["symbol"]].size / 2, "color": st.colour or p["color"],
           "weight": st.width, "opacity": opacity, "fillOpacity": 0.9 * opacity,
           "fillColor": style.HOLLOW_FILL if p["approx"] else p["color"]}
    if st.dash:
        # butt ends, as the live map's SVG: Leaflet's round caps would close gaps this short
        out.update(dashArray=" ".join(f"{d:g}" for d in st.dash), lineCap="butt")
    return out


def _overlay_html(sc: printmap.Scene, lang: str, sector_index: dict) -> str:
    """The page's title and legend (server/templates/offline/overlay.html): the industries
    drawn, the precision symbols, the cluster's members, the cited documents."""
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
    words = {key: say(key, lang) for key in ("legend", "approx", "solid", "doc_sources", "offline")}
    words["built"] = say("built", lang, date=built)
    return templates.render("offline/overlay.html", title=sc.title, subtitle=sc.subtitle, sectors=sectors,
                  members=sc.members, docs=docs, words=words)


# the precision keys (hollow, solid) in the live legend's colours (layers.style)
CSS = """
.atlx-title{position:absolute;z-index:1000;top:10px;left:56px;background:#fff;padding:6px 10px;
 font:bold 18px/1.3 'Noto Sans SC','Microsoft YaHei',sans-serif;border-radius:4px;box-shadow:0 1px 4px #0004}
.atlx-title small{display:block;font-weight:normal;font-size:12px;color:#555}
.atlx-legend{position:absolute;z-index:1000;bottom:24px;right:10px;max-width:300px;max-height:60vh;
 overflow:auto;background:#fffe;padding:8px 10px;font:12px/1.5 'Noto Sans SC','Microsoft YaHei',sans-serif;
 border-radius:4px;box-shadow:0 1px 4px #0004}
.atlx-legend i{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px;
 border:1px solid #333;border-radius:50%}
.atlx-legend i.hollow{background:HOLLOW_FILL;border:2px dashed KEY}.atlx-legend i.solid{background:KEY}
.atlx-legend .src{color:#555;font-size:11px;margin:6px 0 0}
.atl-muted{color:#666}.atl-en{color:#555}.atl-src{padding-left:1.1em;margin:.2em 0}
.leaflet-popup-content{max-height:60vh;overflow:auto}
@media (max-width:600px){.atlx-legend{max-width:60vw;max-height:35vh}}
""".replace("HOLLOW_FILL", style.HOLLOW_FILL).replace("KEY", style.LEGEND_PRECISION)


class _PlainAttribution(MacroElement):
    """A plain "Leaflet" prefix: the default one carries a national flag into every briefing."""
    _template = Template("{% macro script(this, kwargs) %}"
                         "{{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');"
                         "{% endmacro %}")


def build_map(store, view: View) -> tuple[folium.Map, printmap.Scene]:
    sc = printmap.scene(store, view)
    lang = view.lang
    meta = sc.meta
    names = Units({lid: store.layer(lid) for lid in ADMIN_LAYERS}).rows
    parks_all = records(store.layer("parks"))
    park_names = {r["id"]: r for r in parks_all}
    # no download links or reader links: the file must not point at a server it cannot reach
    popups = Popups(meta, lang, lambda *_: [], names, park_names, root=None)
    sector_index = {s["code"]: i for i, s in enumerate(meta.get("sectors", []))}
    x0, y0, x1, y1 = sc.extent
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=7, tiles=None,
                   control_scale=True, max_zoom=13, attribution_control=True)
    m.fit_bounds([[y0, x0], [y1, x1]])
    ground = folium.FeatureGroup(say("group_boundaries", lang), control=True)
    _polygons(sc.polygons["provinces"], lang, {"color": "#555", "weight": 2, "fillColor": "#fbfaf6",
                                               "fillOpacity": 1}, tooltip=False).add_to(ground)
    if "cities" in sc.polygons:
        _polygons(sc.polygons["cities"], lang,
                  {"color": "#7a7a7a", "weight": 1, "fillOpacity": 0}).add_to(ground)
    if "counties" in sc.polygons:
        _polygons(sc.polygons["counties"], lang, {"color": "#b5b5b5", "weight": 0.5,
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
    for lid in ("parks", "projects"):
        frame = sc.points.get(lid)
        if frame is not None and len(frame):
            group = folium.FeatureGroup(f"{say(GROUP_WORD[lid], lang)} ({len(frame)})")
            _points(frame, lid, popups, sector_index).add_to(group)
            group.add_to(m)
    if sc.members:
        group = folium.FeatureGroup(say("cluster_members", lang))
        for mem in sc.members:
            if mem["lon"] is None:
                continue
            html = (f"<div style='background:{style.MEMBER};color:#fff;border:2px solid #fff;"
                    f"border-radius:50%;width:22px;height:22px;text-align:center;"
                    f"font:bold 13px/22px sans-serif;"
                    f"transform:translate(-16px,-16px)'>{int(mem['n'])}</div>")
            folium.Marker([mem["lat"], mem["lon"]], icon=folium.DivIcon(html=html, icon_size=(0, 0)),
                          tooltip=str(escape(mem["name"]))).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    root = cast(Figure, m.get_root())  # a Map's root is its Figure (typed as any Element)
    _PlainAttribution().add_to(m)
    root.html.add_child(folium.Element(_overlay_html(sc, lang, sector_index)))
    root.header.add_child(folium.Element(f"<style>{CSS}</style>"))
    root.header.add_child(folium.Element(f"<title>{escape(sc.title)}</title>"))
    return m, sc


_SCRIPT = re.compile(r'<script src="([^"]+)"></script>')
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"/?>')


def inline_assets(html: str) -> str:
    """Leaflet inlined from the vendored files; every other external asset removed."""
    leaflet_js = (LEAFLET / "leaflet.js").read_text(encoding="utf-8")
    leaflet_css = (LEAFLET / "leaflet.css").read_text(encoding="utf-8")
    # the images Leaflet's CSS refers to are for default markers and the layer icon, unused here
    leaflet_css = re.sub(r"url\(images/[^)]+\)", "none", leaflet_css)

    def script(m: re.Match) -> str:
        if m.group(1).endswith("/leaflet.js"):
            return "<script>" + leaflet_js.replace("</script", "<\\/script") + "</script>"
        return ""

    def sheet(m: re.Match) -> str:
        return f"<style>{leaflet_css}</style>" if m.group(1).endswith("/leaflet.css") else ""

    html = _SCRIPT.sub(script, html)
    return _STYLESHEET.sub(sheet, html)


def render(store, view: View) -> bytes:
    """The view as one HTML file that needs nothing else."""
    m, _sc = build_map(store, view)
    html = inline_assets(m.get_root().render())
    return html.encode("utf-8")
