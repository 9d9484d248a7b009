"""The interactive maps, framework-free: what a view shows, as data, popups and a folium page.

A view is the atlas (`atlas`), one layer (`layer`) or one cluster or corridor (`cluster`).
`page_data()` turns the built layers into the JSON the browser script (static/atlas.js)
draws from: per-feature properties with popups and tooltips already rendered to HTML,
point geometries, filters, search terms, the legend's sectors. Polygon geometries are
not in the page: the browser fetches them per layer and zoom tier (`geometry_payload()`),
rounded, and shifted to GCJ-02 only when the Gaode base map is chosen.

Safety: every attribute value is escaped here (markupsafe) before it goes into popup or
tooltip HTML; everything else reaches the browser as JSON inside a non-executing script
element (`json_for_script`: `<`, `>`, `&` as \\u escapes) and is written with textContent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import folium
import orjson
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template
from markupsafe import Markup, escape

from geo.datum import transform_frame
from layers import search
from layers.registry import LAYERS
from server import viewrules
from server.sourceline import source_line

LANGS = ("zh", "en")
GROUPS = [  # the layer control's groups, in order
    ("boundaries", "行政区划", "Boundaries", ["provinces", "cities", "counties"]),
    ("parks", "园区与基地", "Parks and zones", ["parks"]),
    ("clusters", "集群与走廊", "Clusters and corridors", ["clusters", "cluster_lines"]),
    ("projects", "重点项目", "Projects", ["projects"]),
]
DEFAULT_VISIBLE = ["provinces", "cities", "cluster_lines", "parks", "projects"]
POINT_LAYERS = ("parks", "projects")
POLYGON_LAYERS = ("provinces", "cities", "counties", "clusters")
TIER_PRECISION = {"lo": 3, "mid": 4, "full": 5}  # decimals kept per geometry tier
TIER_MIN_ZOOM = {"lo": 0, "mid": 9}  # the browser swaps to `mid` from this zoom on
POINT_DECIMALS = 5
HOME = {"center": [31.15, 112.3], "zoom": 7}
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

T = {  # interface words used in popups (the rest of the interface is in static/atlas.js)
    "kind": ("类型", "Kind"), "level": ("级别", "Level"), "status": ("状态", "Status"),
    "sectors": ("行业", "Industries"), "industries": ("原文产业表述", "In the document's words"),
    "roles": ("定位", "Roles"), "figures": ("目标与数据", "Targets and figures"),
    "sources": ("来源", "Sources"), "precision": ("定位精度", "Location precision"),
    "download": ("下载", "Download"), "members": ("成员（按原文顺序）", "Members (in the document's order)"),
    "inferred": ("推断（原文未明说）", "Inferred (not stated in the source)"),
    "designations": ("称号", "Designations"), "note": ("说明", "Note"),
    "aliases": ("别称", "Also called"), "park": ("所在园区", "Park"),
    "enterprise": ("企业", "Enterprise"), "n_parks": ("园区", "Parks"), "n_projects": ("项目", "Projects"),
    "more": ("另有 {n} 条", "{n} more"), "line": ("第 {n} 行", "line {n}"),
    "groups": ("所属集群", "Clusters"),
    "as_projects": ("文件也将其列为重点项目", "Also listed as a project in the documents"),
    "open_cluster": ("打开集群视图（成员、定位、园区与项目）",
                     "Open the cluster view (members, roles, parks, projects)"),
    "catalogue_code": ("开发区目录代码", "Catalogue code"), "approved": ("批准时间", "Approved"),
    "area_ha": ("核准面积", "Approved area"), "zone_type": ("目录类型", "Catalogue type"),
    "leading": ("主导产业（目录）", "Leading industries (catalogue)"),
    "catalogue": ("来源：国家开发区目录", "Source: national catalogue of development zones"),
    "catalogue_only": ("仅见于开发区目录，政策文件未提及",
                       "In the catalogue only; not named in the documents"),
    "seq": ("序号 {n}", "entry {n}"),
    "zones": ("成员内主导产业相符的开发区", "Zones in the members with matching industries"),
}
UI = {  # interface words for the page chrome and static/atlas.js
    "title": ("湖北产业集群地图", "Hubei Cluster Atlas"),
    "search": ("搜索名称、简称或拼音", "Search: name, abbreviation or pinyin"),
    "no_match": ("没有匹配项", "No matches"),
    "layers": ("图层", "Layers"), "filters": ("筛选", "Filters"), "all": ("全部", "All"),
    "industry": ("行业", "Industry"), "city": ("城市", "City"), "kind": ("类型", "Kind"),
    "level": ("级别", "Level"), "reset": ("清除筛选", "Clear filters"),
    "shading": ("城市着色", "Shade cities by"), "m_none": ("不着色", "Nothing"),
    "m_n_parks": ("园区数量", "Number of parks"), "m_n_projects": ("项目数量", "Number of projects"),
    "m_sector": ("有该行业：", "Has industry: "),
    "base": ("底图", "Base map"), "legend": ("图例", "Legend"), "share": ("分享与导出", "Share and export"),
    "export": ("导出当前视图（含图例、比例尺、来源）", "Export this view (with legend, scale and sources)"),
    "dl_png": ("图片 PNG", "Image (PNG)"), "dl_pdf": ("PDF", "PDF"),
    "dl_pptx": ("幻灯片 PPTX", "Slides (PPTX)"),
    "dl_html": ("离线地图 HTML", "Offline map (HTML)"),
    "embed_legend": ("嵌入时展开图例", "Embed with the legend open"),
    "embed_filters": ("嵌入时显示当前筛选", "Embed with the active filters shown"),
    "embed_any": ("嵌入代码可用于任何网站。", "The embed code works on any website."),
    "embed_some": ("管理员已限制可嵌入的网站：", "The administrator allows embedding only on:"),
    "no_filters": ("未筛选", "No filters"),
    "here": ("此处 {n} 个园区与项目", "{n} parks and projects at this point"),
    "here_note": ("它们只知道所在县/市，共用其代表点；点击名称查看详情。",
                  "Only their county or city is known, so they share its point; pick one to open it."),
    "kind_park": ("园区", "Park"), "kind_project": ("项目", "Project"),
    "prec_town": ("乡镇点", "town point"), "prec_district": ("区代表点", "district point"),
    "prec_county": ("县代表点", "county point"), "prec_city": ("市代表点", "city point"),
    "prec_province": ("省代表点", "province point"), "prec_site": ("场址", "site"),
    "data_links": ("下载当前数据（可见图层与筛选）",
                   "Download what you see (visible layers, active filters)"),
    "fetch_failed": ("以下图层的边界未能加载", "Could not load the outlines of"),
    "retry": ("重试", "Retry"),
    "link": ("本视图链接", "Link to this view"), "iframe": ("嵌入代码（iframe）", "Embed code (iframe)"),
    "copy": ("复制", "Copy"), "copied": ("已复制", "Copied"),
    "sym_national": ("国家级园区", "National-level park"),
    "sym_provincial": ("省级园区", "Provincial-level park"),
    "sym_other": ("市级或级别未明的园区", "Municipal park or level not stated"),
    "sym_project": ("重点项目", "Project"),
    "named": ("来源", "Source"), "named_doc": ("文件提及", "Named in the documents"),
    "named_cat": ("仅目录", "Catalogue only"),
    "sym_catalogue": ("淡色：仅见于国家开发区目录（2018），政策文件未提及",
                      "Faded: only in the national catalogue of development zones (2018), "
                      "not named in the documents"),
    "solid": ("实心：位置到园区或场址", "Solid: placed at a park or site"),
    "hollow": ("空心虚线：仅知所在县或市，画在其代表点（非实际位置，多个要素可能重叠）",
               "Hollow, dashed: only the county or city is known; drawn at its representative point "
               "(not the real site; several features may share it)"),
    "corridor": ("走廊与产业链示意线（按原文顺序）", "Corridor line (schematic, in the document's order)"),
    "cluster_area": ("集群成员范围", "Cluster members' area"),
    "rivers": ("河流与湖泊（Natural Earth）", "Rivers and lakes (Natural Earth)"),
    "sectors_legend": ("园区与项目颜色：行业", "Colour of parks and projects: industry"),
    "lang_switch": ("English", "中文"), "about": ("数据来源与说明", "Sources and notes"),
    "downloads": ("下载数据", "Download data"), "open_full": ("打开完整地图", "Open the full map"),
    "members": ("成员（按原文顺序）与定位", "Members (in the document's order) and their roles"),
    "no_role": ("原文未给出定位", "no role stated in the documents"),
    "along_parks": ("沿线园区", "Parks along it"), "along_projects": ("沿线项目", "Projects along it"),
    "none_listed": ("暂无", "none yet"),
    "gcj_note": ("高德底图采用GCJ-02坐标，图层已相应偏移；下载数据仍为WGS84。",
                 "Gaode tiles are in GCJ-02: overlays are shifted to match; downloads stay WGS84."),
    "no_key": ("（未配置密钥）", " (no key configured)"),
    "features": ("个", " features"), "atlas": ("全部图层", "All layers"),
}


def ui_strings(lang: str) -> dict[str, str]:
    return {k: (zh if lang == "zh" else en) for k, (zh, en) in UI.items()}


KINDS = {
    "high_tech_zone": ("高新区", "High-tech zone"), "economic_zone": ("经济开发区", "Economic zone"),
    "industrial_park": ("产业园区", "Industrial park"), "base": ("基地", "Base"),
    "demonstration_zone": ("示范区", "Demonstration zone"), "chemical_zone": ("化工园区", "Chemical zone"),
    "town": ("特色小镇", "Town"), "other": ("其他", "Other"),
    "customs_zone": ("海关特殊监管区域", "Customs special supervision zone"),
    "corridor": ("走廊", "Corridor"), "cluster": ("集群", "Cluster"), "chain": ("产业链", "Chain"),
    "city_group": ("城市群", "City group"), "belt": ("产业带", "Belt"),
    "province": ("省", "Province"), "city": ("市（州）", "City"), "county": ("县（市、区）", "County"),
}
LEVELS = {"national": ("国家级", "National"), "provincial": ("省级", "Provincial"),
          "municipal": ("市级", "Municipal"), "": ("级别未明", "Level not stated")}
STATUSES = {"existing": ("已有", "existing"), "planned": ("规划", "planned"),
            "applying": ("申报中", "applying"), "suggested": ("建议", "suggested")}
PRECISIONS = {
    "site": ("实测位置", "surveyed site"),
    "town": ("仅到乡镇：GeoNames 地名点，非实际位置",
             "town only: drawn at the town's GeoNames point, not the real site"),
    "district": ("仅到区级：区代表点，非实际位置",
                 "district only: drawn at the district's representative point, not the real site"),
    "county": ("仅到县级：县（市、区）代表点，非实际位置",
               "county only: drawn at the county's representative point, not the real site"),
    "city": ("仅到市级：市（州）代表点，非实际位置",
             "city only: drawn at the city's representative point, not the real site"),
    "province": ("仅到省级：省代表点，非实际位置",
                 "province only: drawn at the province's representative point, not the real site"),
}
ROLE_TYPES = {"role": ("定位", "role"), "leading_industry": ("主导产业", "leading industry"),
              "resource": ("资源", "resource"), "brand": ("品牌", "brand"),
              "designation": ("称号", "designation")}
FIGURE_STATUS = {"target": ("目标", "target"), "achieved": ("实绩", "achieved"),
                 "baseline": ("基数", "baseline")}
# qualitative, in sectors.yaml order; grey for anything past the list. Metallurgy (15th) is
# near-black: the blue it had could not be told from automotive's.
SECTOR_COLOURS = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#252525", "#e6550d",
    "#31a354", "#756bb1", "#636363", "#9c9ede", "#cedb9c", "#e7ba52", "#ad494a", "#de9ed6",
    "#6baed6",
]


def tr(table: dict, key: Any, lang: str) -> str:
    pair = table.get(key if key is not None else "")
    if pair is None:
        return str(key)
    return pair[0] if lang == "zh" else pair[1]


def present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, (list, dict, str)) and len(value) == 0)


def _int(value: Any) -> int | None:
    return int(value) if present(value) else None


def _str(value: Any) -> str:
    return str(value) if present(value) else ""


def json_for_script(data: Any) -> str:
    """JSON safe inside a <script type="application/json"> element: the only sequences that
    can end or re-enter script data there are `</` and `<!--`; both are written as JSON
    escapes, so the parser sees one inert text node whatever the strings contain."""
    raw = orjson.dumps(data).decode()
    return raw.replace("</", "<\\/").replace("<!--", "<\\u0021--")


# ---------------------------------------------------------------- popups (escaped HTML)

class Popups:
    """Popup and tooltip HTML for one language. Every value passes through escape()."""

    def __init__(self, meta: dict, lang: str, download: Callable[[str, Any], list[tuple[str, str]]],
                 names: dict[int, dict], park_names: dict[str, dict], root: str | None = ""):
        self.lang = lang
        self.root = root  # the app's script root (citation URLs are root-relative); None: no links
        self.sectors = {s["code"]: s for s in meta.get("sectors", [])}
        self.docs = {d["doc"]: d for d in meta.get("documents", [])}
        self.download = download
        self.names = names  # adcode -> {name_zh, name_en}
        self.park_names = park_names

    def w(self, key: str) -> str:
        return tr(T, key, self.lang)

    def name(self, zh: Any, en: Any) -> tuple[str, str]:
        zh, en = _str(zh), _str(en)
        return (zh, en) if self.lang == "zh" else (en or zh, zh)

    def unit_name(self, adcode: Any) -> str:
        a = _int(adcode)
        n = self.names.get(a) if a else None
        if not n:
            return str(a or "")
        return n["name_zh"] if self.lang == "zh" else (n["name_en"] or n["name_zh"])

    def sector_name(self, code: str) -> str:
        s = self.sectors.get(code)
        if not s:
            return code
        return s["name_zh"] if self.lang == "zh" else s["name_en"].split(" (")[0]

    def tooltip(self, zh: Any, en: Any, extra: str = "") -> str:
        first, second = self.name(zh, en)
        out = f"<b>{escape(first)}</b>"
        if second and second != first:
            out += f"<br><span class='atl-en'>{escape(second)}</span>"
        if extra:
            out += f"<br><span class='atl-muted'>{escape(extra)}</span>"
        return out

    def _row(self, key: str, value_html: str) -> str:
        return f"<tr><th>{escape(self.w(key))}</th><td>{value_html}</td></tr>"

    def _list(self, items: Iterable[str]) -> str:
        return "、".join(escape(i) for i in items) if self.lang == "zh" else \
            ", ".join(escape(i) for i in items)

    def sources(self, sources: list | None, limit: int = 4) -> str:
        if not sources:
            return ""
        items = []
        for s in sources[:limit]:
            doc = self.docs.get(s.get("doc"), {})
            title = doc.get("title_zh" if self.lang == "zh" else "title_en") or s.get("doc", "")
            year = f" ({doc['year']})" if doc.get("year") else ""
            line = s.get("line", "?")
            line = f"{line}–{s['to']}" if s.get("to") else line
            where = escape(self.w('line').format(n=line))
            if s.get("url") and self.root is not None:
                where = f"<a href='{escape(self.root + s['url'])}' target='_blank' rel='noopener'>{where}</a>"
            items.append(
                f"<li><q>{escape(s.get('quote', ''))}</q><br><span class='atl-muted'>"
                f"{escape(doc.get('code', ''))} {escape(title)}{escape(year)} · {where}</span></li>")
        more = len(sources) - limit
        if more > 0:
            items.append(f"<li class='atl-muted'>{escape(self.w('more').format(n=more))}</li>")
        head = f"<div class='atl-h'>{escape(self.w('sources'))}</div>"
        return f"{head}<ul class='atl-src'>{''.join(items)}</ul>"

    def as_projects(self, projects: list | None) -> str:
        """A park that a document also lists as a project: drawn once, the project named here."""
        if not projects:
            return ""
        items = "".join(f"<li>{escape(self.name(p.get('name_zh'), p.get('name_en'))[0])}"
                        f"{' (' + escape(str(p['year'])) + ')' if p.get('year') else ''}</li>"
                        for p in projects)
        return f"<div class='atl-h'>{escape(self.w('as_projects'))}</div><ul>{items}</ul>"

    def figures(self, figures: list | None) -> str:
        """One line per figure: the value with its unit once. A damaged value (`defect`) is
        shown as read, with the seed's own words and the reading's note beside it."""
        if not figures:
            return ""

        def visible(text: str) -> str:  # private-use characters (000:279's U+E010) made visible
            return re.sub(r"[\ue000-\uf8ff]", lambda m: f"<U+{ord(m.group()):04X}>", text)

        items = []
        for f in figures:
            metric = f.get("metric_zh") if self.lang == "zh" else \
                (f.get("metric_en") or f.get("metric_zh"))
            written = _str(f.get("value_text")) or _str(f.get("value"))
            unit = _str(f.get("unit"))
            defect = f.get("defect") if isinstance(f.get("defect"), dict) else {}
            value = written
            if defect.get("reading"):
                damaged = _str(defect.get("text"))
                value = written.replace(damaged, defect["reading"]) if damaged and damaged in written \
                    else defect["reading"]
            if unit and re.search(r"\d$", value.strip()):  # the unit only after a bare number
                value = f"{value.strip()}{unit}"
            year = f.get("year")
            status = tr(FIGURE_STATUS, f.get("status"), self.lang) if f.get("status") else ""
            when = ", ".join(str(x) for x in (year, status) if x)
            text = f"{escape(metric)}: <b>{escape(value)}</b>" + (f" ({escape(when)})" if when else "")
            if defect.get("reading"):
                label = "原文" if self.lang == "zh" else "the document has"
                note = _str(defect.get("note"))
                text += (f"<br><span class='atl-muted'>{escape(label)} 「{escape(visible(written))}」"
                         + (f": {escape(note)}" if note else "") + "</span>")
            items.append(f"<li>{text}</li>")
        return f"<div class='atl-h'>{escape(self.w('figures'))}</div><ul>{''.join(items)}</ul>"

    def roles(self, roles: list | None) -> str:
        if not roles:
            return ""
        items = []
        for r in roles:
            text = r.get("text_zh") if self.lang == "zh" else (r.get("text_en") or r.get("text_zh"))
            typ = tr(ROLE_TYPES, r.get("type"), self.lang) if r.get("type") else ""
            year = f" ({r['year']})" if r.get("year") else ""
            items.append(f"<li><span class='atl-tag'>{escape(typ)}</span> {escape(text)}"
                         f"<span class='atl-muted'>{escape(year)}</span></li>")
        return f"<div class='atl-h'>{escape(self.w('roles'))}</div><ul>{''.join(items)}</ul>"

    def inferred(self, inferred: dict | None) -> str:
        if not inferred:
            return ""
        items = "".join(f"<li><code>{escape(k)}</code>: {escape(v)}</li>" for k, v in inferred.items())
        return (f"<details><summary>{escape(self.w('inferred'))}</summary>"
                f"<ul class='atl-src'>{items}</ul></details>")

    def catalogue_rows(self, row: dict) -> list[str]:
        rows = [self._row("catalogue_code", escape(row["catalogue_code"]))]
        for key, fld in (("zone_type", "zone_type_zh"), ("approved", "approved")):
            if present(row.get(fld)):
                rows.append(self._row(key, escape(row[fld])))
        if present(row.get("area_ha")):
            rows.append(self._row("area_ha", escape(f"{float(row['area_ha']):,.2f} ha")))
        if present(row.get("leading_industries_zh")):
            rows.append(self._row("leading", self._list(row["leading_industries_zh"])))
        return rows

    def catalogue(self, cat: dict | None) -> str:
        """The catalogue entry a zone comes from (title, code, running number)."""
        if not cat:
            return ""
        doc = self.docs.get(cat.get("doc"), {})
        title = doc.get("title_zh" if self.lang == "zh" else "title_en") or cat.get("doc", "")
        line = (f"<q>{escape(cat.get('name_zh', ''))}</q><br><span class='atl-muted'>{escape(title)} · "
                f"{escape(cat.get('code', ''))} · {escape(self.w('seq').format(n=cat.get('seq', '?')))}"
                "</span>")
        head = f"<div class='atl-h'>{escape(self.w('catalogue'))}</div>"
        return f"{head}<ul class='atl-src'><li>{line}</li></ul>"

    def downloads(self, layer_id: str, fid: Any) -> str:
        links = self.download(layer_id, fid)
        if not links:
            return ""
        a = " · ".join(f"<a href='{escape(url)}' download>{escape(label)}</a>" for label, url in links)
        return f"<div class='atl-dl'>{escape(self.w('download'))}: {a}</div>"

    def popup(self, layer_id: str, row: dict, fid: Any, precision: str | None = None) -> str:
        first, second = self.name(row.get("name_zh"), row.get("name_en"))
        head = f"<div class='atl-title'>{escape(first)}</div>"
        if second and second != first:
            head += f"<div class='atl-en'>{escape(second)}</div>"
        if layer_id == "parks" and row.get("named_in_documents") is False:
            head += f"<div class='atl-muted'>{escape(self.w('catalogue_only'))}</div>"
        rows = []
        kind = row.get("kind") or (row.get("level") if layer_id in ("provinces", "cities", "counties")
                                   else None)
        if present(kind):
            rows.append(self._row("kind", escape(tr(KINDS, kind, self.lang))))
        if layer_id == "parks":
            rows.append(self._row("level", escape(tr(LEVELS, _str(row.get("level")), self.lang))))
        if present(row.get("status")):
            rows.append(self._row("status", escape(tr(STATUSES, row["status"], self.lang))))
        if present(row.get("aliases")):
            rows.append(self._row("aliases", self._list(row["aliases"])))
        if present(row.get("designations")):
            rows.append(self._row("designations", self._list(row["designations"])))
        if present(row.get("enterprise")):
            rows.append(self._row("enterprise", escape(row["enterprise"])))
        if present(row.get("park")):
            p = self.park_names.get(row["park"], {})
            rows.append(self._row("park", escape(self.name(p.get("name_zh") or row["park"],
                                                             p.get("name_en"))[0])))
        if present(row.get("sectors")):
            rows.append(self._row("sectors", self._list(self.sector_name(s) for s in row["sectors"])))
        if present(row.get("industries_zh")):
            rows.append(self._row("industries", self._list(row["industries_zh"])))
        if layer_id == "parks" and present(row.get("catalogue_code")):
            rows += self.catalogue_rows(row)
        if layer_id == "clusters" and present(row.get("zones")):
            names = [self.name(self.park_names.get(z, {}).get("name_zh") or z,
                               self.park_names.get(z, {}).get("name_en"))[0] for z in row["zones"]]
            rows.append(self._row("zones", self._list(names)))
        if layer_id in ("cities", "counties"):
            rows.append(self._row("n_parks", escape(str(row.get("n_parks", 0)))))
            rows.append(self._row("n_projects", escape(str(row.get("n_projects", 0)))))
        if precision:
            cls = "atl-approx" if precision in ("town", "district", "county", "city", "province") else ""
            rows.append(self._row("precision", f"<span class='{cls}'>"
                                  f"{escape(tr(PRECISIONS, precision, self.lang))}</span>"))
        members = ""
        if layer_id in ("clusters", "cluster_lines") and present(row.get("members")):
            roles = {m["adcode"]: m for m in (row.get("member_roles") or [])}
            items = []
            for a in row["members"]:
                r = roles.get(a)
                role = ""
                if r:
                    role = r.get("role_zh") if self.lang == "zh" else (r.get("role_en") or r.get("role_zh"))
                    role = f" — {escape(role)}"
                items.append(f"<li>{escape(self.unit_name(a))}{role}</li>")
            tag = "ol" if row.get("ordered") else "ul"
            members = f"<div class='atl-h'>{escape(self.w('members'))}</div><{tag}>{''.join(items)}</{tag}>"
            if self.root is not None:  # the cluster's own view: members, roles, its parks and projects
                href = f"{self.root}/cluster/{quote(str(row.get('id', '')))}"
                href += "?lang=en" if self.lang == "en" else ""
                members += (f"<div class='atl-dl'><a class='atl-open-cluster' href='{escape(href)}'>"
                            f"{escape(self.w('open_cluster'))} →</a></div>")
        note = f"<div class='atl-note'>{escape(row['note'])}</div>" if present(row.get("note")) else ""
        table = f"<table class='atl-t'>{''.join(rows)}</table>" if rows else ""
        body = (head + table + members + self.as_projects(row.get("projects"))
                + self.roles(row.get("roles")) + self.figures(row.get("figures"))
                + self.sources(row.get("sources")) + self.catalogue(row.get("catalogue"))
                + self.inferred(row.get("inferred")) + note
                + self.downloads(layer_id, fid))
        return f"<div class='atl-pop'>{body}</div>"


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
    return _int(row.get("adcode")) if layer_id in ("provinces", "cities", "counties") else row.get("id")


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
class ViewOptions:
    view: str = "atlas"  # atlas | layer | cluster
    layer: str | None = None
    cluster: str | None = None
    lang: str = "zh"
    base: str = "none"
    embed: bool = False


def parse_options(args: dict, *, view: str = "atlas", layer: str | None = None,
                  cluster: str | None = None, embed: bool = False, tianditu_key: str = "") -> ViewOptions:
    """Options from query arguments; unknown values fall back to the defaults."""
    lang = args.get("lang") if args.get("lang") in LANGS else "zh"
    base = args.get("base") if args.get("base") in BASEMAPS else "none"
    if BASEMAPS[base].needs_key and not tianditu_key:
        base = "none"
    if embed and view == "atlas":  # /embed?layer=... and /embed?cluster=... name the view
        if args.get("cluster"):
            view, cluster = "cluster", args["cluster"]
        elif args.get("layer"):
            view, layer = "layer", args["layer"]
    return ViewOptions(view=view, layer=layer, cluster=cluster, lang=lang, base=base, embed=embed)


def _records(frame) -> list[dict]:
    return frame.drop(columns="geometry").to_dict("records")


def page_data(store, opts: ViewOptions, *, urls: dict, download: Callable,
              tianditu_key: str = "") -> dict:
    """Everything the browser draws from, as JSON-ready data. Raises KeyError for an unknown
    layer or cluster (the view turns it into a 404)."""
    lang = opts.lang
    meta = store.meta
    base = BASEMAPS[opts.base]
    if opts.view == "layer" and opts.layer not in LAYERS:
        raise KeyError(opts.layer)
    frames = {lid: store.layer(lid) for lid in LAYERS}
    if opts.view == "cluster" and opts.cluster not in set(frames["clusters"].id):
        raise KeyError(opts.cluster)

    names = {}
    for lid in ("provinces", "cities", "counties"):
        for r in _records(frames[lid]):
            names[int(r["adcode"])] = {"name_zh": r["name_zh"], "name_en": r["name_en"],
                                       "parent": _int(r.get("parent_adcode")), "level": r["level"]}
    parks_rec = _records(frames["parks"])
    park_names = {r["id"]: r for r in parks_rec}
    popups = Popups(meta, lang, download, names, park_names, root=urls.get("root", ""))
    sector_index = {s["code"]: i for i, s in enumerate(meta.get("sectors", []))}

    def city_of(adcode: int | None) -> int | None:
        if not adcode:
            return None
        n = names.get(adcode)
        if n and n["level"] == "county" and str(adcode).startswith("4290"):
            return adcode
        return n["parent"] if n and n["level"] == "county" else adcode

    shift = base.datum != "wgs84"
    label_points = unit_points(frames, [{"adcode": int(a)} for a in frames["cities"].adcode], base.datum)
    layers_out = []
    city_sectors: dict[int, set] = {}
    for lid, layer in LAYERS.items():
        frame = frames[lid]
        if shift and lid in POINT_LAYERS and len(frame):
            frame = transform_frame(frame, "wgs84", base.datum)
        feats = []
        for rec, geom in zip(_records(frame), frame.geometry.values):
            fid = fid_of(lid, rec)
            p: dict[str, Any] = {"id": fid}
            precision = _str(rec.get("precision")) or None
            extra = ""
            if lid in POINT_LAYERS:
                p["name"] = popups.name(rec.get("name_zh"), rec.get("name_en"))[0]
                p["prec"] = precision
                p["approx"] = precision in ("town", "district", "county", "city", "province")
                city = _int(rec.get("city_adcode"))
                p["city"] = city
                p["county"] = _int(rec.get("county_adcode"))
                p["xy"] = [round(geom.y, POINT_DECIMALS), round(geom.x, POINT_DECIMALS)] \
                    if geom is not None else None
                extra = tr(PRECISIONS, precision, lang).split("：")[0].split(":")[0] if p["approx"] else ""
                for s in rec.get("sectors") or []:
                    city_sectors.setdefault(city, set()).add(s)
                    if p["county"]:
                        city_sectors.setdefault(p["county"], set()).add(s)
            if lid == "parks":
                p["kind"] = _str(rec.get("kind"))
                p["level"] = _str(rec.get("level"))
                p["doc"] = rec.get("named_in_documents") is not False  # False: catalogue only
            if lid in ("clusters", "cluster_lines"):
                p["name"] = popups.name(rec.get("name_zh"), rec.get("name_en"))[0]
                p["kind"] = _str(rec.get("kind"))
                members = [int(a) for a in rec.get("members") or []]
                p["members"] = members
                p["cities"] = sorted({c for c in (city_of(a) for a in members) if c})
            if lid == "cities":  # where the city's name label goes
                p["name"] = popups.unit_name(int(rec["adcode"]))
                p["lxy"] = label_points.get(int(rec["adcode"]))
            if lid in ("cities", "counties"):
                p["np"] = int(rec.get("n_parks") or 0)
                p["nj"] = int(rec.get("n_projects") or 0)
                p["city"] = city_of(int(rec["adcode"]))
                for s in rec.get("sectors") or []:
                    city_sectors.setdefault(int(rec["adcode"]), set()).add(s)
            if lid == "provinces":
                p["city"] = None
            sectors = [s for s in (rec.get("sectors") or [])]
            p["sec"] = sectors
            p["color"] = sector_colour(sectors[0], sector_index) if sectors else "#777777"
            p["tip"] = popups.tooltip(rec.get("name_zh"), rec.get("name_en"), extra)
            p["pop"] = popups.popup(lid, rec, fid, precision)
            feats.append(p)
        layers_out.append({
            "id": lid, "title": layer.title_zh if lang == "zh" else layer.title_en,
            "group": layer.group, "geom": "point" if lid in POINT_LAYERS else
            ("line" if lid == "cluster_lines" else "polygon"),
            "style": layer.style, "count": len(feats), "features": feats,
            "tiers": (["lo", "mid"] if layer.simplified else ["full"]) if lid not in POINT_LAYERS else [],
        })
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

    cities = [{"id": p["id"], "name": popups.unit_name(p["id"])}
              for p in next(lay for lay in layers_out if lay["id"] == "cities")["features"]]
    used = {s for lay in layers_out for p in lay["features"] for s in p["sec"]}
    sectors = [{"code": s["code"], "name": popups.sector_name(s["code"]),
                "color": sector_colour(s["code"], sector_index), "used": s["code"] in used}
               for s in meta.get("sectors", [])]
    search_rows = []  # [layer, id, label, subtitle, terms]: the build's terms, the API's too
    for lid in ("parks", "projects", "clusters", "cities", "counties"):
        terms = store.search_terms(lid)
        for rec in _records(frames[lid]):
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
    if opts.view == "cluster":
        rec = next(r for r in _records(frames["clusters"]) if r["id"] == opts.cluster)
        cluster = cluster_focus(rec, popups, layers_out, city_of)
        points = unit_points(frames, cluster["members"], base.datum)
        for m in cluster["members"]:
            m["xy"] = points.get(m["adcode"])

    parks_out = next(lay for lay in layers_out if lay["id"] == "parks")
    kinds = sorted({p["kind"] for p in parks_out["features"] if p["kind"]})
    bases = [{"id": b.id, "title": b.title_zh if lang == "zh" else b.title_en,
              "url": b.url.replace("{key}", tianditu_key) if b.url else "",
              "overlay": b.overlay_url.replace("{key}", tianditu_key) if b.overlay_url else "",
              "subdomains": b.subdomains, "attribution": b.attribution,
              "available": not (b.needs_key and not tianditu_key)} for b in BASEMAPS.values()]
    if opts.view == "layer":
        visible = [opts.layer]
    elif opts.view == "cluster":
        visible = ["provinces", "cities", "clusters", "cluster_lines", "parks", "projects"]
    else:
        visible = DEFAULT_VISIBLE
    return {
        "lang": lang, "view": opts.view, "layer": opts.layer, "cluster_id": opts.cluster,
        "embed": opts.embed, "base": opts.base, "datum": base.datum, "bases": bases,
        "home": {**HOME, "bounds": hubei_bounds(frames["provinces"])},
        "visible": visible, "tierMinZoom": TIER_MIN_ZOOM,
        "groups": [{"id": g, "title": zh if lang == "zh" else en, "layers": ids}
                   for g, zh, en, ids in GROUPS],
        "layers": layers_out, "sectors": sectors, "cities": cities,
        "kinds": [{"id": k, "name": tr(KINDS, k, lang)} for k in kinds],
        "levels": [{"id": k, "name": tr(LEVELS, k, lang)} for k in ("national", "provincial", "municipal")],
        "measures": list(MEASURES), "search": search_rows, "cluster": cluster, "urls": urls,
        "built_at": meta.get("built_at"), "ui": ui_strings(lang),
        "print_sources": source_line(meta, meta.get("documents", []), lang),
    }


def hubei_bounds(provinces) -> list[list[float]]:
    """[[south, west], [north, east]] of Hubei, for a default view that must show all of it."""
    hubei = provinces[provinces.adcode.astype(int) == 420000]
    x0, y0, x1, y1 = hubei.total_bounds if len(hubei) else (108.3, 29.0, 116.2, 33.3)
    return [[round(float(y0), 3), round(float(x0), 3)], [round(float(y1), 3), round(float(x1), 3)]]


def sector_colour(code: str, index: dict[str, int]) -> str:
    i = index.get(code)
    return SECTOR_COLOURS[i] if i is not None and i < len(SECTOR_COLOURS) else "#777777"


def unit_points(frames: dict, members: list[dict], datum: str) -> dict[int, list[float]]:
    """Each unit's representative point, [lat, lon]: where a corridor line passes through a
    member, where a city's label goes."""
    import geopandas as gpd

    wanted = {m["adcode"] for m in members}
    rows = []
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
            "kind": tr(KINDS, rec.get("kind"), popups.lang), "ordered": bool(rec.get("ordered")),
            "members": out_members, "parks": along.get("parks", []), "projects": along.get("projects", []),
            "sectors": [popups.sector_name(s) for s in rec.get("sectors") or []]}


# ---------------------------------------------------------------- the folium page

class AtlasInit(MacroElement):
    """Hands the folium map to static/atlas.js with the view's data."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        AtlasMap.init({{ this._parent.get_name() }},
            JSON.parse(document.getElementById("atlas-data").textContent));
        {% endmacro %}
    """)


@dataclass
class MapPage:
    header: str
    body: str
    script: str
    data_json: str
    data: dict


def render_map(data: dict, static: Callable[[str], str]) -> MapPage:
    """The folium map with every asset served by the app (`static(path)` gives its URL)."""
    m = folium.Map(location=data["home"]["center"], zoom_start=data["home"]["zoom"], tiles=None,
                   control_scale=True, min_zoom=4, max_zoom=17, zoom_control=True)
    m.default_js = [
        ("leaflet", static("vendor/leaflet/leaflet.js")),
        ("markercluster", static("vendor/leaflet.markercluster/leaflet.markercluster.js")),
        ("atlas", static("atlas.js")),
    ]
    m.default_css = [
        ("leaflet_css", static("vendor/leaflet/leaflet.css")),
        ("markercluster_css", static("vendor/leaflet.markercluster/MarkerCluster.css")),
        ("atlas_css", static("atlas.css")),
    ]
    m.add_child(AtlasInit())
    root = m.get_root()
    root.header.add_child(Element('<meta name="referrer" content="same-origin">'))
    root.render()
    return MapPage(header=root.header.render(), body=root.html.render(), script=root.script.render(),
                   data_json=json_for_script(data), data=data)


_SCRIPT_TAG = re.compile(r"<script(?=[\s>])")


def add_nonce(html: str, nonce: str) -> str:
    """Mark the page's own script elements with the CSP nonce. Attribute text can never
    contain a raw `<script`: it is escaped (HTML) or \\u-escaped (JSON) before it gets here."""
    return Markup(_SCRIPT_TAG.sub(f'<script nonce="{nonce}"', str(html)))


def content_security_policy(nonce: str, base: str, frame_ancestors: str) -> str:
    img = " ".join(("'self'", "data:", *BASEMAPS[base].hosts))
    return (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
            f"base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}")
