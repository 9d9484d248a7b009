"""What a view may choose: the base maps, the measures a map is shaded by, the layers shown
when none are named. Read by the parameter table (server/view/params.py) and the view model."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_VISIBLE = ["provinces", "cities", "cluster_lines", "parks", "projects"]
MEASURES = ("none", "n_parks", "n_projects", "sector")


@dataclass(frozen=True)
class BaseMap:
    id: str
    title_zh: str
    title_en: str
    url: str
    hosts: tuple[str, ...]  # for img-src, only when this base map is selected
    attribution: str
    datum: str = "wgs84"
    subdomains: str = ""
    needs_key: bool = False
    overlay_url: str = ""  # a label layer drawn above the base (Tianditu)


BASEMAPS: dict[str, BaseMap] = {b.id: b for b in (
    BaseMap("none", "无底图（河流湖泊）", "None (rivers and lakes)", "", (),
            "Rivers and lakes: Natural Earth (public domain) via mapeo-offline-map"),
    BaseMap("osm", "OpenStreetMap", "OpenStreetMap",
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png", ("https://tile.openstreetmap.org",),
            "© OpenStreetMap contributors"),
    BaseMap("tianditu", "天地图", "Tianditu",
            "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
            "&TILECOL={x}&tk={key}", ("https://*.tianditu.gov.cn",), "© 天地图 Tianditu",
            subdomains="01234567", needs_key=True,
            overlay_url="https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            "&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}"
            "&TILEROW={y}&TILECOL={x}&tk={key}"),
    BaseMap("gaode", "高德地图", "Gaode (Amap)",
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}", ("https://*.is.autonavi.com",), "© 高德地图 AutoNavi",
            datum="gcj02", subdomains="1234"),
)}
